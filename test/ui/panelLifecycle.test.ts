/** The panel is a view of extension-side state: hidden and shown again, or after a window reload. */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { openFileAt, openWorkbench, runCommand, webviewFrame } from './workbench';

describe('Panel lifecycle (Playwright on code-server)', function () {
	this.timeout(180_000);
	let page: Page | undefined;
	after(async () => {
		await page?.close();
	});

	it('hidden behind another tab and shown again, it redraws the same run from the extension\'s state', async () => {
		page = await openWorkbench();
		await openFileAt(page, 'js/cpu.js', 6);
		await runCommand(page, 'Poolscope: Run Function in Thread Pool');
		let frame = await webviewFrame(page, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'completed', undefined, { timeout: 60_000 });
		// Open a file in the panel's own editor group: the panel's tab goes to the background.
		await page.locator('.tab', { hasText: 'Poolscope' }).first().click();
		await openFileAt(page, 'python/printing.py', 1);
		await page.locator('.tab.active', { hasText: 'printing.py' }).waitFor({ state: 'visible' });
		await page.locator('.tab', { hasText: 'Poolscope' }).first().click();
		frame = await webviewFrame(page, '[data-testid="run-title"]', 30_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'fib', undefined, { timeout: 30_000 });
		assert.equal(await frame.textContent('[data-testid="count-finished"]'), '4');
	});

	it('after "Developer: Reload Window" the panel comes back with the run it showed, read from the workspace history', async () => {
		const p = page!;
		await runCommand(p, 'Developer: Reload Window');
		await p.waitForLoadState('domcontentloaded');
		await p.waitForSelector('.monaco-workbench', { timeout: 60_000 });
		await p.locator('.tab', { hasText: 'Poolscope' }).first().waitFor({ state: 'visible', timeout: 60_000 });
		await p.locator('.tab', { hasText: 'Poolscope' }).first().click();
		// A new extension host has no runs in memory: the restored webview asks the history for
		// the run it was showing (its id is in the webview state the serializer kept).
		const frame = await webviewFrame(p, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'fib', undefined, { timeout: 60_000 });
		await frame.waitForFunction(() => document.querySelector('[data-testid="count-finished"]')?.textContent === '4', undefined, { timeout: 30_000 });
		assert.equal(await frame.evaluate(() => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state')), 'completed');
		assert.equal(await frame.evaluate(() => document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-bars')), '4');
	});
});
