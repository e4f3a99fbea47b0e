/** The first run of a function without an inputs comment asks for them; the answer is remembered. */
import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { closeWindow, openFileAt, openWorkbench, runCommand, webviewFrame } from './workbench';

describe('Inputs are asked once and remembered (Playwright on code-server)', () => {
	let page: Page | undefined;
	after(async () => {
		await closeWindow(page);
	});

	it('asks with an example, runs with the answer, and offers it again', async function () {
		this.timeout(120_000);
		page = await openWorkbench();
		await openFileAt(page, 'js/io.js', 15);
		await runCommand(page, 'Poolscope: Run Function in Thread Pool');
		const input = page.locator('.quick-input-widget input');
		const box = page.locator('.quick-input-widget', { hasText: 'inputs for shout' });
		await box.waitFor({ state: 'visible', timeout: 20_000 });
		assert.equal(await input.inputValue(), '[[32], [32], [32], [32]]', 'the box starts from an example');
		await input.fill('["a", "b", "c"]');
		await page.keyboard.press('Enter');
		const frame = await webviewFrame(page, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'completed', undefined, { timeout: 60_000 });
		assert.equal(await frame.evaluate(() => document.querySelector('[data-testid="run-title"]')?.textContent), 'shout');
		assert.equal(await frame.evaluate(() => document.querySelector('[data-testid="count-finished"]')?.textContent), '3');
		// Back in the editor: "Set Inputs for Function" offers the remembered value.
		await page.locator('.tab', { hasText: 'io.js' }).first().click();
		await runCommand(page, 'Poolscope: Set Inputs for Function');
		await box.waitFor({ state: 'visible', timeout: 20_000 });
		assert.equal(await input.inputValue(), '["a", "b", "c"]');
		await page.keyboard.press('Escape');
	});
});
