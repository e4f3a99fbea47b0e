/** Shared by the suites that run inside the extension host. */
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
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

/**
 * Writes a file and waits until VS Code's copy of it, when it holds one, has the same text: it
 * reloads from disk a moment later, and a run started before then read the old text (a CI run
 * under load ran a file's previous poolscope comment).
 */
export async function writeSource(file: string, content: string): Promise<void> {
	writeFileSync(file, content);
	const current = () => vscode.workspace.textDocuments.find((d) => d.uri.fsPath === file);
	assert.ok(await until(() => (current()?.getText() ?? content) === content), `VS Code kept the old text of ${file}`);
}

/**
 * A new untitled document with this text. VS Code reuses the name Untitled-N as soon as one
 * closes, and an extension host that has not yet heard of the close hands the closing document
 * back (its old text): a CI run under load saw lenses of the previous test's document.
 */
export async function untitledDocument(language: string, content: string): Promise<vscode.TextDocument> {
	for (let attempt = 0; ; attempt++) {
		const doc = await vscode.workspace.openTextDocument({ language, content });
		if (doc.getText() === content && !doc.isClosed) {
			return doc;
		}
		assert.ok(attempt < 3, `openTextDocument kept returning ${doc.uri.toString()} with other text: ${JSON.stringify(doc.getText().slice(0, 80))}`);
		await until(() => doc.isClosed, 5_000);
	}
}

/** An untitled document a test made, closed unsaved: no dirty tab left in later tests' screenshots. */
export async function discard(doc: vscode.TextDocument): Promise<void> {
	await vscode.window.showTextDocument(doc);
	await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
	// Its name is free for the next test's document once the extension host has let it go.
	assert.ok(await until(() => doc.isClosed, 5_000), `${doc.uri.toString()} is still open after revert and close`);
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
