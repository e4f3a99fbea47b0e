/** Shared by the suites that run inside the extension host. */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { PoolscopeApi } from '../../extension/extension';

export const EXTENSION_ID = 'poolscope.poolscope';

export async function api(): Promise<PoolscopeApi> {
	const ext = vscode.extensions.getExtension<PoolscopeApi>(EXTENSION_ID);
	assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
	return ext.activate();
}

/** Polls: the workbench follows the extension host's calls asynchronously. */
export async function until(predicate: () => boolean, timeoutMs = 10_000): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (!predicate()) {
		if (Date.now() > deadline) {
			return false;
		}
		await new Promise((r) => setTimeout(r, 50));
	}
	return true;
}

/** An untitled document a test made, closed unsaved: no dirty tab left in later tests' screenshots. */
export async function discard(doc: vscode.TextDocument): Promise<void> {
	await vscode.window.showTextDocument(doc);
	await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
}

/** Runs `body` with one of the window's message functions recording instead of showing: what it showed. */
export async function recordingMessages<T>(kind: 'showErrorMessage' | 'showWarningMessage', body: () => Promise<T>, onShown?: (message: string) => void): Promise<{ value: T; shown: string[] }> {
	const shown: string[] = [];
	const window = vscode.window as unknown as Record<typeof kind, unknown>;
	const real = window[kind];
	window[kind] = (message: string) => {
		shown.push(message);
		onShown?.(message);
		return Promise.resolve(undefined);
	};
	try {
		return { value: await body(), shown };
	} finally {
		window[kind] = real;
	}
}
