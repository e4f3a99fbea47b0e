import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { isWebviewMessage, type HostToWebview, type WebviewToHost } from '../../webview/messages';
import { PANEL_VIEW_TYPE } from '../commandIds';
import { Disposable } from '../util/disposable';

/**
 * The one pool panel. It is a view of extension-side state: on every (re)load the webview
 * posts `ready` and gets a full `init`; after that only deltas. No retainContextWhenHidden:
 * a hidden panel is rebuilt from state when shown again (cheaper than keeping it alive).
 */
export class PoolPanel extends Disposable {
	public static current: PoolPanel | undefined;

	private readonly _onMessage = this._register(new vscode.EventEmitter<WebviewToHost>());
	/** Messages from the webview that passed the schema check. */
	public readonly onMessage = this._onMessage.event;
	private readonly _onReady = this._register(new vscode.EventEmitter<void>());
	/** The webview (re)loaded and wants a full state. */
	public readonly onReady = this._onReady.event;
	private readonly _onDidDispose = this._register(new vscode.EventEmitter<void>());
	public readonly onDidDispose = this._onDidDispose.event;
	private _ready = false;

	public static createOrShow(extensionUri: vscode.Uri, preserveFocus = false): PoolPanel {
		const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.One;
		if (PoolPanel.current) {
			// Where it already is: moving it to another column reloads the webview, and the
			// reload replays every event of every run.
			PoolPanel.current._panel.reveal(undefined, preserveFocus);
			return PoolPanel.current;
		}
		const panel = vscode.window.createWebviewPanel(
			PANEL_VIEW_TYPE,
			'Poolscope',
			{ viewColumn: column, preserveFocus },
			PoolPanel.webviewOptions(extensionUri),
		);
		return new PoolPanel(panel, extensionUri);
	}

	/** Called by the serializer after a window reload. */
	public static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri): PoolPanel {
		PoolPanel.current?.dispose();
		return new PoolPanel(panel, extensionUri);
	}

	public static webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
		return {
			enableScripts: true,
			enableFindWidget: true,
			localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'out', 'webview')],
		};
	}

	private constructor(
		private readonly _panel: vscode.WebviewPanel,
		private readonly _extensionUri: vscode.Uri,
	) {
		super();
		PoolPanel.current = this;
		// Options again on revive: a restored panel may come back with different ones (vscode#78203).
		this._panel.webview.options = PoolPanel.webviewOptions(_extensionUri);
		this._panel.iconPath = vscode.Uri.joinPath(_extensionUri, 'out', 'webview', 'icon.svg');
		this._panel.webview.html = this.html();
		this._register(this._panel.onDidDispose(() => this.dispose()));
		this._register(this._panel.onDidChangeViewState(() => {
			if (!this._panel.visible) {
				this._ready = false; // its content is destroyed while hidden; wait for the next `ready`
			}
		}));
		this._register(this._panel.webview.onDidReceiveMessage((m: unknown) => {
			if (!isWebviewMessage(m)) {
				return; // forged or malformed: dropped, never acted on
			}
			if (m.type === 'ready') {
				this._ready = true;
				this._onReady.fire();
			}
			this._onMessage.fire(m);
		}));
	}

	public get visible(): boolean {
		return this._panel.visible;
	}

	public get ready(): boolean {
		return this._ready;
	}

	public reveal(preserveFocus = true): void {
		this._panel.reveal(undefined, preserveFocus);
	}

	/** Posts only while the webview can receive; otherwise the next `ready` resends state. */
	public post(message: HostToWebview): void {
		if (this._ready && this._panel.visible) {
			void this._panel.webview.postMessage(message);
		}
	}

	public override dispose(): void {
		if (this.isDisposed) {
			return;
		}
		if (PoolPanel.current === this) {
			PoolPanel.current = undefined;
		}
		this._onDidDispose.fire();
		this._panel.dispose();
		super.dispose();
	}

	private html(): string {
		const webview = this._panel.webview;
		const media = (name: string) => webview.asWebviewUri(vscode.Uri.joinPath(this._extensionUri, 'out', 'webview', name));
		const nonce = randomBytes(16).toString('base64');
		const csp = [
			"default-src 'none'",
			`style-src ${webview.cspSource}`,
			`font-src ${webview.cspSource}`,
			`img-src ${webview.cspSource} data:`,
			`script-src 'nonce-${nonce}'`,
		].join('; ');
		return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${media('codicon.css')}" rel="stylesheet">
<link href="${media('main.css')}" rel="stylesheet">
<title>Poolscope</title>
</head>
<body>
<div id="app" data-testid="app"></div>
<script nonce="${nonce}" src="${media('main.js')}"></script>
</body>
</html>`;
	}
}
