import * as vscode from 'vscode';
import { CommandId, PANEL_VIEW_TYPE } from './commandIds';
import { PoolPanel } from './panel/PoolPanel';

/** Exposed for the integration tests (they run in the same extension host). */
export interface PoolscopeApi {
	readonly panel: () => PoolPanel | undefined;
}

export function activate(context: vscode.ExtensionContext): PoolscopeApi {
	context.subscriptions.push(
		vscode.commands.registerCommand(CommandId.ShowPanel, () => {
			PoolPanel.createOrShow(context.extensionUri);
		}),
		vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
			deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => {
				PoolPanel.revive(panel, context.extensionUri);
			},
		}),
		{ dispose: () => PoolPanel.current?.dispose() },
	);
	return { panel: () => PoolPanel.current };
}

export function deactivate(): void {
	// Everything is in context.subscriptions.
}
