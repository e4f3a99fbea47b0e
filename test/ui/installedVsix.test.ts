/**
 * The extension as users get it: the VSIX that vsce made from this clone, installed into the
 * test run's code-server by `--install-extension`, runs real pools in a window that has no
 * development path. Catches what the clone has and the package lacks (a file .vscodeignore
 * leaves out, a dependency vsce does not pack, a path that only resolves inside the clone).
 */
import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { Frame, Page } from 'playwright-core';
import { uiContext } from '../harness/uiContext';
import { openFileAt, openWorkbench, pageLifecycle, runCommand, webviewFrame } from './workbench';

async function finishedRun(page: Page, frame: Frame, tab: number): Promise<{ title: string; live: string; finished: string; facts: string; error: string }> {
	try {
		await frame.waitForFunction((n) => document.querySelectorAll('[data-testid="runs"] [role="tab"]').length >= n, tab, { timeout: 60_000 });
		await frame.waitForFunction(() => /^(completed|cancelled|error)/.test(document.querySelector('[data-testid="run-live"]')?.textContent ?? ''), undefined, { timeout: 90_000 });
	} catch (e) {
		// A run that cannot start says why in a notification: name it instead of a bare timeout.
		const notes = await page.locator('.notification-toast').allTextContents().catch(() => []);
		throw new Error(`run ${tab} did not finish in the panel; notifications: ${notes.join(' | ') || '(none)'}\n${e instanceof Error ? e.message : String(e)}`);
	}
	return frame.evaluate(() => {
		const text = (id: string) => document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
		return { title: text('run-title'), live: text('run-live'), finished: text('count-finished'), facts: text('run-facts'), error: text('error') };
	});
}

describe('The installed VSIX (vsce package, code-server --install-extension)', () => {
	let page: Page | undefined;
	pageLifecycle(() => page);

	it('runs a JS thread pool and a Python process pool from the installed package', async function () {
		this.timeout(180_000);
		const ctx = uiContext();
		const installed = readdirSync(ctx.installedExtensionsDir).filter((n) => n.startsWith('poolscope.poolscope-'));
		assert.equal(installed.length, 1, `one installed Poolscope in ${ctx.installedExtensionsDir}: ${installed.join(', ')}`);
		page = await openWorkbench(ctx.installedWorkbenchUrl());
		await openFileAt(page, 'js/cpu.js', 5);
		await runCommand(page, 'Poolscope: Run Function in Thread Pool');
		const frame = await webviewFrame(page, '[data-testid="run-title"]', 60_000);
		// The panel's own script is served from the installed folder, not from the clone.
		const scripts = await frame.evaluate(() => [...document.scripts].map((s) => s.src));
		assert.ok(scripts.some((src) => decodeURIComponent(src).includes(`/${installed[0]}/out/webview/`)), `panel scripts: ${scripts.join(', ')}`);
		const js = await finishedRun(page, frame, 1);
		assert.deepEqual([js.title, js.finished], ['fib', '4'], JSON.stringify(js));
		assert.match(js.live, /^completed/);
		assert.match(js.facts, /thread pool × \d+/);
		await page.locator('.tab', { hasText: 'cpu.js' }).first().click();
		await openFileAt(page, 'python/cpu_bound.py', 9);
		await runCommand(page, 'Poolscope: Run Function in Process Pool');
		const py = await finishedRun(page, await webviewFrame(page, '[data-testid="runs"] [role="tab"]:nth-child(2)', 60_000), 2);
		assert.deepEqual([py.title, py.finished], ['countdown', '4'], JSON.stringify(py));
		assert.match(py.live, /^completed/);
		assert.match(py.facts, /process pool × \d+.*CPython/);
	});
});
