/** The interpreter comes from the Python extension; a too old one is said where the user looks. */
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { openFileAt, openWorkbench, pageLifecycle, runCommand } from './workbench';

const PY38 = join(process.env.HOME ?? '/root', '.pyenv', 'versions', '3.8.18', 'bin', 'python');

describe('Python interpreter problems (Playwright on code-server)', function () {
	this.timeout(180_000);
	let page: Page | undefined;
	pageLifecycle(() => page);

	it('Python 3.8 picked in the Python extension: a notification names it, says where it came from, and offers to pick another', async function () {
		if (!existsSync(PY38)) {
			console.log(`      skipped: ${PY38} is not on this machine`);
			this.skip();
		}
		page = await openWorkbench();
		// The user picks an interpreter in the Python extension (its stand-in in these tests).
		await runCommand(page, 'Python: Select Interpreter');
		const box = page.locator('.quick-input-widget', { hasText: 'interpreter path' });
		await box.waitFor({ state: 'visible', timeout: 15_000 });
		await page.locator('.quick-input-widget input').fill(PY38);
		await page.keyboard.press('Enter');
		await box.waitFor({ state: 'hidden' });
		await openFileAt(page, 'python/cpu_bound.py', 9);
		await runCommand(page, 'Poolscope: Run Function in Thread Pool');
		// The panel shows the failed run; the notification is read in the notification centre,
		// wherever it landed (as the trust test does).
		await page.locator('.tab', { hasText: 'Poolscope' }).first().waitFor({ state: 'visible', timeout: 60_000 });
		await runCommand(page, 'Notifications: Show Notifications');
		const toast = page.locator('.notifications-center .notification-list-item', { hasText: 'Poolscope needs Python 3.9 or newer' });
		await toast.first().waitFor({ state: 'visible', timeout: 60_000 });
		const text = await toast.textContent() ?? '';
		assert.ok(text.includes(`${PY38} is Python 3.8`), text);
		assert.match(text, /interpreter from the Python extension's active environment/);
		await toast.locator('.monaco-button', { hasText: 'Select Python Interpreter' }).click();
		// Poolscope's own picker opens, offering the interpreters on PATH.
		await page.locator('.quick-input-widget', { hasText: 'Enter interpreter path' }).waitFor({ state: 'visible', timeout: 15_000 });
		await page.keyboard.press('Escape');
	});
});
