/** Compare, Sweep and the history, from the palette to the panel (Playwright on code-server). */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { answerQuickInput, openFileAt, openWorkbench, pageLifecycle, runCommand, webviewFrame } from './workbench';

const count = (frame: Frame, selector: string) => frame.evaluate((s) => document.querySelectorAll(s).length, selector);
const attr = (frame: Frame, selector: string, name: string) => frame.evaluate(([s, n]) => document.querySelector(s!)?.getAttribute(n!) ?? null, [selector, name]);
const textOf = (frame: Frame, selector: string) => frame.evaluate((s) => document.querySelector(s)?.textContent ?? '', selector);

/** Until the comparison on show is `title` and has ended (its Cancel button hidden). */
async function comparisonDone(page: Page, title: RegExp): Promise<Frame> {
	const frame = await webviewFrame(page, '[data-testid="comparison"]', 60_000);
	await frame.waitForFunction((src) => {
		const el = document.querySelector('[data-testid="comparison"]');
		const cancel = el?.querySelector('[data-testid="cancel-comparison"]') as HTMLElement | null;
		return Boolean(el && !el.hasAttribute('hidden') && new RegExp(src).test(el.querySelector('h2')?.textContent ?? '') && cancel?.hidden);
	}, title.source, { timeout: 120_000 });
	return frame;
}

describe('Compare, Sweep and History in the panel (Playwright on code-server)', function () {
	this.timeout(240_000);
	let page: Page | undefined;
	pageLifecycle(() => page);

	it('"Compare" shows serial, threads and processes side by side: rows, bars, advice and stacked timelines', async () => {
		page = await openWorkbench();
		await openFileAt(page, 'js/cpu.js', 6);
		await runCommand(page, 'Poolscope: Compare Serial, Threads and Processes');
		const frame = await comparisonDone(page, /^Compare: fib$/);
		assert.equal(await count(frame, '[data-testid="comparison-row"]'), 3);
		assert.equal(await attr(frame, '[data-testid="comparison-chart"]', 'data-points'), '3');
		assert.match(await textOf(frame, '[data-testid="comparison-advice"]'), /\d\.\d\dx/);
		// What each configuration's workers were seen in inside their tasks: fib computes (Linux looks).
		if (process.platform === 'linux') {
			for (const config of ['serial-1', 'thread-2', 'process-2']) {
				assert.match(await textOf(frame, `[data-testid="seen-${config}"]`), /^CPU \d+%$/, config);
			}
		}
		// The timelines follow the runs' events (redrawn a couple of times a second).
		await frame.waitForFunction(() => [...document.querySelectorAll('[data-testid="comparison-timeline"]')].map((c) => (c as HTMLElement).dataset.bars).join() === '4,4,4', undefined, { timeout: 30_000 });
		// Each with the machine's CPU under its lanes (the runs of a comparison sample it too).
		const samples = await frame.locator('[data-testid="comparison-timeline"]').evaluateAll((cs) => cs.map((c) => Number((c as HTMLElement).dataset.cpuSamples)));
		assert.ok(samples.length === 3 && samples.every((n) => n > 0), `CPU samples per timeline: ${samples.join(', ')}`);
		await frame.locator('[data-testid="comparison"]').screenshot({ path: join(__dirname, '..', 'compare-vscode.png') });
	});

	it('"Sweep Worker Counts" draws the speedup curve with the Amdahl fit', async () => {
		const p = page!;
		await p.locator('.tab', { hasText: 'cpu.js' }).first().click();
		await openFileAt(p, 'js/cpu.js', 6);
		await runCommand(p, 'Poolscope: Sweep Worker Counts');
		await answerQuickInput(p, 'which pool?', 'thread');
		const frame = await comparisonDone(p, /^Sweep: fib$/);
		const workers = await count(frame, '[data-testid="comparison-row"]') - 1; // minus the serial baseline
		assert.ok(workers >= 2, `${workers} worker counts swept`);
		assert.equal(await attr(frame, '[data-testid="comparison-chart"]', 'data-points'), String(workers));
		assert.match(await textOf(frame, '[data-testid="amdahl"]'), /^Amdahl fit: serial fraction \d+\.\d%/);
	});

	it('the history lists what ran; two ticked runs open as "Two runs"; a run from it opens on its own', async () => {
		const p = page!;
		const frame = await webviewFrame(p, '[data-testid="history"]', 30_000);
		await frame.waitForFunction(() => document.querySelectorAll('[data-testid="history-entry"][data-kind="comparison"]').length >= 2, undefined, { timeout: 30_000 });
		await frame.click('[data-testid="history"] summary');
		const runs = frame.locator('[data-testid="history-entry"][data-kind="run"]');
		assert.ok(await runs.count() >= 4, `${await runs.count()} runs in the history`);
		await runs.nth(0).locator('[data-testid="history-tick"]').check();
		await runs.nth(1).locator('[data-testid="history-tick"]').check();
		await frame.click('[data-testid="history-compare"]');
		await comparisonDone(p, /^Two runs: fib$/);
		assert.match(await textOf(frame, '[data-testid="comparison-advice"]'), /^B \(.*\) is \d+\.\d\dx (faster|slower) than A \(/);
		await runs.nth(2).locator('[data-testid="history-open"]').click();
		const id = await runs.nth(2).getAttribute('data-id');
		await frame.waitForFunction((runId) => document.querySelector(`[data-testid="runs"] [data-run="${runId}"]`)?.getAttribute('aria-selected') === 'true', id, { timeout: 30_000 });
		assert.equal(await textOf(frame, '[data-testid="run-title"]'), 'fib');
	});
});
