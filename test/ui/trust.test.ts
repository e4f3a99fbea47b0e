/** Restricted Mode: Poolscope refuses to run code and says why (a code-server with workspace trust on). */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { CodeServer } from '../harness/codeServer';
import { ensureCodeServer } from '../harness/environment';
import { uiContext } from '../harness/uiContext';
import { closeWindow, openFileAt, runCommand } from './workbench';

describe('Workspace trust (Playwright on code-server with trust enabled)', function () {
	this.timeout(180_000);
	let server: CodeServer | undefined;
	let page: Page | undefined;

	afterEach(async function () {
		if (this.currentTest?.state === 'failed' && page) {
			const file = join(__dirname, '..', 'ui-trust-failure.png');
			await page.screenshot({ path: file }).catch(() => undefined);
			process.stdout.write(`      screenshot of the failure: ${file}\n`);
		}
	});
	after(async () => {
		await closeWindow(page);
		await server?.stop();
	});

	it('in Restricted Mode the lenses say why, and a run command refuses with its message', async () => {
		const ctx = uiContext();
		server = await CodeServer.start(ensureCodeServer(), { workspace: ctx.workspace, trust: true });
		page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
		await page.goto(server.url([['extensionDevelopmentPath', ctx.root], ['skipWelcome', 'true']]));
		await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
		// A folder never trusted before opens in Restricted Mode (no dialog in this workbench).
		await page.locator('.statusbar', { hasText: 'Restricted Mode' }).waitFor({ state: 'visible', timeout: 60_000 });
		// The CPU status bar works in Restricted Mode: it runs no user code.
		await page.locator('.statusbar', { hasText: /CPU \d+% of \d+ cores/ }).waitFor({ state: 'visible', timeout: 20_000 });
		await openFileAt(page, 'python/cpu_bound.py', 9);
		await page.locator('.codelens-decoration', { hasText: 'Run in parallel (needs a trusted workspace)' }).first().waitFor({ state: 'visible', timeout: 30_000 });
		await page.locator('.codelens-decoration a', { hasText: 'Run in parallel (needs a trusted workspace)' }).first().click();
		// The warning is a notification; open the notification centre to read it wherever it landed.
		await runCommand(page, 'Notifications: Show Notifications');
		const message = page.locator('.notifications-center, .notifications-toasts', { hasText: 'Poolscope runs your code, so it needs a trusted workspace' });
		await message.first().waitFor({ state: 'visible', timeout: 20_000 });
		await page.screenshot({ path: join(__dirname, '..', 'ui-trust-after.png') });
		// Nothing ran: no Poolscope panel opened.
		assert.equal(await page.locator('.tab', { hasText: 'Poolscope' }).count(), 0);
	});
});
