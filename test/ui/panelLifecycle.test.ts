/** The panel is a view of extension-side state: hidden and shown again, or after a window reload. */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { uiContext } from '../harness/uiContext';
import { waitFor } from '../harness/processes';
import { closeAllEditors, closeWindow, openFileAt, openWorkbench, pageLifecycle, runCommand, webviewFrame, withPageState } from './workbench';

describe('Panel lifecycle (Playwright on code-server)', function () {
	this.timeout(180_000);
	let page: Page | undefined;
	pageLifecycle(() => page);
	afterEach(async function () {
		// Each later test starts from a fresh window rather than one a failure left in some state.
		if (this.currentTest?.state === 'failed' && page) {
			await closeWindow(page);
			page = undefined;
		}
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
		await reload(p);
		// A new extension host has no runs in memory: the restored webview asks the history for
		// the run it was showing (its id is in the webview state the serializer kept).
		const frame = await webviewFrame(p, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'fib', undefined, { timeout: 60_000 });
		await frame.waitForFunction(() => document.querySelector('[data-testid="count-finished"]')?.textContent === '4', undefined, { timeout: 30_000 });
		assert.equal(await frame.evaluate(() => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state')), 'completed');
		assert.equal(await frame.evaluate(() => document.querySelector('[data-testid="timeline-canvas"]')?.getAttribute('data-bars')), '4');
	});

	it('a run still going at "Developer: Reload Window" comes back cancelled, saying why, from the history', async () => {
		const p = page ??= await openWorkbench(); // runs alone too (--grep)
		await openFileAt(p, 'js/faults.js', 32);
		await runCommand(p, 'Poolscope: Run Function in Thread Pool');
		let frame = await webviewFrame(p, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'spinsUntilCancelled'
			&& document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'running'
			&& document.querySelector('[data-testid="count-running"]')?.textContent === '2', undefined, { timeout: 60_000 });
		await reload(p);
		// The old extension host ended the run as the window went and saved it; the new one reads it.
		frame = await webviewFrame(p, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'spinsUntilCancelled'
			&& document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'cancelled', undefined, { timeout: 60_000 });
		assert.equal(await frame.textContent('[data-testid="count-cancelled"]'), '2');
		await frame.click('.chip:has([data-testid="count-cancelled"])');
		await frame.waitForFunction(() => document.querySelector('[data-testid="futures-canvas"]')?.getAttribute('data-total') === '2', undefined, { timeout: 10_000 });
		await frame.focus('[data-testid="futures-grid"]');
		await frame.press('[data-testid="futures-grid"]', 'Home');
		await frame.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid="details"] dd[data-field="state"]')?.textContent ?? ''), undefined, { timeout: 10_000 });
		assert.equal(await frame.textContent('[data-testid="details"] dd[data-field="state"]'), 'cancelled (VS Code closed or reloaded the window)');
	});

	it('a comparison still going at "Developer: Reload Window" comes back cancelled, with no advice from it', async () => {
		const p = page ??= await openWorkbench();
		// After the reload above, faults.js sits behind the panel in the panel's group, where
		// quick open's "faults.js:32" does not bring it forward: start from no editors.
		await closeAllEditors(p);
		await openFileAt(p, 'js/faults.js', 32);
		await runCommand(p, 'Poolscope: Compare Serial, Threads and Processes');
		let frame = await webviewFrame(p, '[data-testid="comparison"]', 60_000);
		await frame.waitForFunction(() => {
			const el = document.querySelector('[data-testid="comparison"]');
			return el?.querySelector('h2')?.textContent === 'Compare: spinsUntilCancelled' && /· running \(3 to go\)$/.test(el.querySelector('.facts')?.textContent ?? '')
				&& document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'running';
		}, undefined, { timeout: 60_000 });
		await reload(p);
		frame = await webviewFrame(p, '[data-testid="comparison"]', 60_000);
		await frame.waitForFunction(() => {
			const el = document.querySelector('[data-testid="comparison"]');
			return el?.querySelector('h2')?.textContent === 'Compare: spinsUntilCancelled' && /· cancelled$/.test(el.querySelector('.facts')?.textContent ?? '');
		}, undefined, { timeout: 60_000 });
		assert.equal(await frame.textContent('[data-testid="comparison-advice"]'), 'Cancelled after 0 of 3 configurations: no advice from part of a comparison.');
		assert.equal(await frame.evaluate(() => document.querySelectorAll('[data-testid="comparison-row"]').length), 0);
	});

	it('a process pool still running at "Developer: Reload Window": none of its worker processes is left 5 s later', async () => {
		const p = page ??= await openWorkbench();
		await closeAllEditors(p);
		await openFileAt(p, 'js/faults.js', 32);
		await runCommand(p, 'Poolscope: Run Function in Process Pool');
		const frame = await webviewFrame(p, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'spinsUntilCancelled'
			&& document.querySelector('[data-testid="count-running"]')?.textContent === '2', undefined, { timeout: 60_000 });
		// This clone's worker script (other checkouts on the machine run their own).
		const script = join(uiContext().root, 'out', 'workers', 'processTask');
		const workers = () => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
			try {
				return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(script) && !/\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
			} catch {
				return false; // gone meanwhile
			}
		});
		assert.ok(workers().length >= 2, 'the pool\'s worker processes are running');
		// Counted from the restored tab, as a user would see the window back (not from the new extension host).
		await reload(p, { waitForExtensionHost: false });
		assert.ok(await waitFor(() => workers().length === 0, 5_000), `left after the reload: ${workers().join(', ')}`);
	});
});

/** "Developer: Reload Window", until the panel's tab is back and in front. */
async function reload(p: Page, { waitForExtensionHost = true } = {}): Promise<void> {
	await runCommand(p, 'Developer: Reload Window');
	await withPageState(p, async () => {
		await p.waitForLoadState('domcontentloaded');
		await p.waitForSelector('.monaco-workbench', { timeout: 60_000 });
		await p.locator('.tab', { hasText: 'Poolscope' }).first().waitFor({ state: 'visible', timeout: 60_000 });
		// The new extension host is up (it also answers quick open's file search here).
		if (waitForExtensionHost) {
			await p.locator('.statusbar-item', { hasText: /CPU \d+% of/ }).first().waitFor({ state: 'visible', timeout: 60_000 });
		}
		await p.locator('.tab', { hasText: 'Poolscope' }).first().click();
	});
}
