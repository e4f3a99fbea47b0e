/** Entry of the panel's webview bundle. */
import type { HostToWebview, WebviewToHost } from './messages';

const vscode = acquireVsCodeApi();

function post(message: WebviewToHost): void {
	vscode.postMessage(message);
}

const app = document.getElementById('app');
if (app) {
	const h = document.createElement('h1');
	h.textContent = 'Poolscope';
	h.dataset.testid = 'title';
	app.appendChild(h);
}

window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
	const m = event.data;
	if (m.type === 'init' && app) {
		app.dataset.cores = String(m.cores);
	}
});

post({ type: 'ready' });
