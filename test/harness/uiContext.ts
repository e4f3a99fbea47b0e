/**
 * What the harness shares with the Playwright UI tests, which run in its own process so they
 * can use the one code-server and the one Chromium of the run (a global, because each test
 * file is a separate bundle with its own copy of every module).
 */
import type { Browser } from 'playwright-core';

export interface UiContext {
	browser: Browser;
	port: number;
	/** The clone under test (its extension is loaded through extensionDevelopmentPath). */
	root: string;
	/** The workspace folder the workbench opens (samples/). */
	workspace: string;
	/** URL of a workbench window with the extension under development loaded. */
	workbenchUrl(extra?: [string, string][]): string;
	/** URL of a window that runs the VSIX installed into the server (no development path). */
	installedWorkbenchUrl(extra?: [string, string][]): string;
	/** The server's extensions folder, where the VSIX was installed. */
	installedExtensionsDir: string;
}

const KEY = '__poolscopeUiContext';

export function setUiContext(context: UiContext | undefined): void {
	(globalThis as Record<string, unknown>)[KEY] = context;
}

export function uiContext(): UiContext {
	const c = (globalThis as Record<string, unknown>)[KEY] as UiContext | undefined;
	if (!c) {
		throw new Error('UI tests run inside `npm test`, which provides code-server and Chromium');
	}
	return c;
}
