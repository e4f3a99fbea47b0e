/**
 * The webview's one handle on VS Code. Outside VS Code (the browser tests, a plain page) it
 * falls back to recording posted messages and keeping state in sessionStorage.
 */
import type { WebviewToHost } from './messages';

export interface UiState {
	selectedRun?: string;
	selectedTask?: number;
	filter?: string;
	search?: string;
	/** Timeline view: visible window in ms since run start (undefined = fit). */
	zoom?: { from: number; to: number };
	historyOpen?: boolean;
	/** The comparison on show, to bring back after a reload. */
	comparison?: string;
	/** The host's newest run when this panel last heard of it: only another one takes the stage. */
	hostRun?: string;
}

interface Api {
	postMessage(message: WebviewToHost): void;
	getState(): UiState | undefined;
	setState(state: UiState): void;
}

declare global {
	interface Window {
		/** Messages posted while running outside VS Code (read by tests). */
		__poolscopePosted?: WebviewToHost[];
	}
}

function fallback(): Api {
	window.__poolscopePosted = window.__poolscopePosted ?? [];
	return {
		postMessage: (m) => window.__poolscopePosted!.push(m),
		getState: () => {
			const s = sessionStorage.getItem('poolscope-state');
			return s ? (JSON.parse(s) as UiState) : undefined;
		},
		setState: (s) => sessionStorage.setItem('poolscope-state', JSON.stringify(s)),
	};
}

export const vscode: Api = typeof acquireVsCodeApi === 'function' ? (acquireVsCodeApi() as unknown as Api) : fallback();

export function post(message: WebviewToHost): void {
	vscode.postMessage(message);
}
