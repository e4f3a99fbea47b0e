/** The smaller ways in: long-run progress with Cancel, the interpreter picker, the walkthrough. */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { answerQuickInput, closeWindow, openFileAt, openWorkbench, runCommand, webviewFrame } from './workbench';

describe('Progress, interpreter picker and walkthrough (Playwright on code-server)', function () {
	this.timeout(180_000);
	let page: Page | undefined;
	before(async () => {
		page = await openWorkbench();
	});
	after(async () => {
		await closeWindow(page);
	});

	it('a run still going after 3 s gets a progress notification whose Cancel stops it', async () => {
		const p = page!;
		await openFileAt(p, 'python/io_bound.py', 14);
		// 60 x 0.3 s, about 18 s: the sample's 16 (5 s) left a loaded CI ~1 s to find the
		// notification and click Cancel, and once it missed (nothing pending any more).
		await runCommand(p, 'Poolscope: Set Inputs for Function');
		await answerQuickInput(p, 'inputs for download', '[(i, 0.3) for i in range(60)]');
		await runCommand(p, 'Poolscope: Run Function Serially');
		await p.waitForTimeout(3500);
		await runCommand(p, 'Notifications: Show Notifications');
		const progress = p.locator('.notifications-center .notification-list-item', { hasText: 'Poolscope: download' });
		await progress.first().waitFor({ state: 'visible', timeout: 10_000 });
		assert.match(await progress.first().textContent() ?? '', /tasks done/);
		await progress.first().getByRole('button', { name: 'Cancel' }).click();
		const frame = await webviewFrame(p, '[data-testid="run-live"]', 30_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'cancelled', undefined, { timeout: 20_000 });
		const cancelled = Number(await frame.evaluate(() => document.querySelector('[data-testid="count-cancelled"]')?.textContent));
		assert.ok(cancelled > 0, 'pending futures were cancelled');
		await p.keyboard.press('Escape');
		// Later tests run the sample as it comes.
		await p.locator('.tab', { hasText: 'io_bound.py' }).first().click();
		await runCommand(p, 'Poolscope: Set Inputs for Function');
		await answerQuickInput(p, 'inputs for download', '[(i, 0.3) for i in range(16)]');
	});

	it('"Select Python Interpreter" offers the interpreters on PATH', async () => {
		const p = page!;
		await runCommand(p, 'Poolscope: Select Python Interpreter');
		const list = p.locator('.quick-input-list');
		await list.locator('.monaco-list-row', { hasText: 'Enter interpreter path' }).waitFor({ state: 'visible', timeout: 10_000 });
		assert.ok(await list.locator('.monaco-list-row', { hasText: /python3$/ }).count() >= 1, 'python3 from PATH is offered');
		await p.keyboard.press('Escape');
	});

	it('"Open Samples" opens the bundled samples folder in a new window', async () => {
		const p = page!;
		const popup = p.context().waitForEvent('page', { timeout: 30_000 });
		await runCommand(p, 'Poolscope: Open Samples');
		const win = await popup;
		await win.waitForLoadState();
		assert.match(decodeURIComponent(win.url()), /folder=.*\/samples/);
		await win.close();
	});
	it('the Getting Started walkthrough is there', async () => {
		const p = page!;
		await runCommand(p, 'Welcome: Open Walkthrough...');
		const row = p.locator('.quick-input-list .monaco-list-row', { hasText: 'Get started with Poolscope' });
		await row.waitFor({ state: 'visible', timeout: 10_000 });
		await row.click();
		await p.locator('.gettingStartedContainer', { hasText: 'Open the samples' }).waitFor({ state: 'visible', timeout: 20_000 });
		assert.ok(await p.locator('.gettingStartedContainer', { hasText: 'Run a function in parallel' }).isVisible());
	});

});
