import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { closeWindow, openWorkbench, runCommand, webviewFrame } from './workbench';

describe('Pool panel in the workbench (Playwright)', () => {
	let page: Page | undefined;
	after(async () => {
		await closeWindow(page);
	});

	it('"Poolscope: Show Pool Panel" from the command palette opens a webview whose DOM is readable', async () => {
		page = await openWorkbench();
		await runCommand(page, 'Poolscope: Show Pool Panel');
		const tab = page.locator('.tab', { hasText: 'Poolscope' });
		await tab.first().waitFor({ state: 'visible', timeout: 30_000 });
		const frame = await webviewFrame(page, '[data-testid="app"]');
		// The element is in the HTML; its content comes from the bundle, so wait for the script to run.
		await frame.waitForFunction(() => (document.querySelector('[data-testid="app"]')?.childElementCount ?? 0) > 0, undefined, { timeout: 15_000 });
		const text = await frame.evaluate(() => document.querySelector('[data-testid="app"]')?.textContent ?? '');
		assert.match(text, /Poolscope/);
	});
});
