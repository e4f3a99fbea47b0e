/** The interpreter comes from the Python extension; a too old one is said where the user looks. */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { answerQuickInput, openFileAt, openWorkbench, pageLifecycle, runCommand, webviewFrame } from './workbench';

const PY38 = join(process.env.HOME ?? '/root', '.pyenv', 'versions', '3.8.18', 'bin', 'python');
const SHIM = join(process.env.HOME ?? '/root', '.pyenv', 'shims', 'python3');

async function selectInterpreter(page: Page, path: string): Promise<void> {
	// The user picks an interpreter in the Python extension (its stand-in in these tests).
	await runCommand(page, 'Python: Select Interpreter');
	await answerQuickInput(page, 'interpreter path', path);
}

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
		await selectInterpreter(page, PY38);
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

	it('a launcher script picked (a pyenv shim): the run says on hover which interpreter binary ran it', async function () {
		if (!existsSync(SHIM)) {
			console.log(`      skipped: ${SHIM} is not on this machine`);
			this.skip();
		}
		const binary = execFileSync(SHIM, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
		assert.notEqual(binary, SHIM);
		page ??= await openWorkbench();
		await selectInterpreter(page, SHIM);
		await openFileAt(page, 'python/io_bound.py', 13);
		await runCommand(page, 'Poolscope: Run Function in Thread Pool');
		const frame = await webviewFrame(page, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'download'
			&& document.querySelector('[data-testid="run-facts"]')?.getAttribute('title'), undefined, { timeout: 60_000 });
		assert.equal(await frame.getAttribute('[data-testid="run-facts"]', 'title'), `Interpreter: ${binary}`);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'completed', undefined, { timeout: 60_000 });
	});
});
