/** Export trace from the real panel: the save dialog, the file Perfetto opens, and a write that fails (Playwright on code-server). */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { uiContext } from '../harness/uiContext';
import type { Frame, Page } from 'playwright-core';
import { openFileAt, openWorkbench, pageLifecycle, runCommand, webviewFrame } from './workbench';

/** Clicks Export trace and answers VS Code's save dialog with `path` (or its proposal); returns the proposal. */
async function exportTo(page: Page, frame: Frame, path?: string): Promise<string> {
	await frame.click('[data-testid="export-trace"]');
	const input = page.locator('.quick-input-widget input');
	await input.waitFor({ state: 'visible', timeout: 15_000 });
	// The simple dialog fills in its proposal after it shows: wait for the file name.
	await page.waitForFunction(() => /\.trace\.json$/.test((document.querySelector('.quick-input-widget input') as HTMLInputElement | null)?.value ?? ''), undefined, { timeout: 15_000 });
	const proposed = await input.inputValue();
	if (path !== undefined) {
		await input.fill(path);
		await page.waitForTimeout(500); // the dialog reads the folder typed before it takes OK
	}
	await page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).click();
	// A file that exists: the dialog asks before replacing it, in the same box.
	const again = page.locator('.quick-input-widget', { hasText: 'already exists' });
	if (await again.waitFor({ state: 'visible', timeout: 3_000 }).then(() => true, () => false)) {
		await page.locator('.quick-input-widget .monaco-button', { hasText: 'OK' }).click();
	}
	await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
	return proposed;
}

/** The panel's notice once it says something matching `pattern`. */
async function notice(frame: Frame, pattern: RegExp): Promise<string> {
	await frame.waitForFunction((p) => new RegExp(p).test(document.querySelector('[data-testid="notice"]:not([hidden])')?.textContent ?? ''), pattern.source, { timeout: 20_000 });
	return await frame.textContent('[data-testid="notice"]') ?? '';
}

describe('Export trace in the real panel (Playwright on code-server)', function () {
	this.timeout(180_000);
	let page: Page | undefined;
	pageLifecycle(() => page);
	const written: string[] = [];
	let locked: string | undefined;
	after(() => {
		if (locked) {
			execFileSync('chattr', ['-i', locked], { stdio: 'ignore' });
			rmSync(join(locked, '..'), { recursive: true, force: true });
		}
		for (const f of written) {
			rmSync(f, { force: true });
		}
	});

	it('writes a Chrome trace where the dialog says; a write that fails says why', async () => {
		page = await openWorkbench();
		await openFileAt(page, 'js/faults.js', 5);
		await runCommand(page, 'Poolscope: Run Function in Thread Pool');
		const frame = await webviewFrame(page, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'completed', undefined, { timeout: 60_000 });

		// As proposed: in the workspace folder, named after the function, pool and run.
		const proposed = await exportTo(page, frame);
		written.push(proposed);
		assert.equal(join(proposed, '..'), uiContext().workspace);
		assert.match(basename(proposed), /^sometimesFails-thread-[\w-]{8}\.trace\.json$/);
		assert.match(await notice(frame, /Trace written/), new RegExp(`^Trace written to ${proposed.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\.`));
		assert.ok(existsSync(proposed));
		// What chrome://tracing and Perfetto read: a traceEvents array of events in microseconds, lanes named.
		const trace = JSON.parse(readFileSync(proposed, 'utf8')) as { traceEvents: { name: string; ph: string; ts: number; dur?: number; pid: number; tid?: number; s?: string; args?: Record<string, unknown> }[] };
		const events = trace.traceEvents;
		assert.ok(events.every((e) => ['X', 'M', 'C', 'i'].includes(e.ph) && Number.isInteger(e.ts) && e.ts >= 0 && Number.isInteger(e.pid) && (e.tid === undefined || Number.isInteger(e.tid))), 'phases, integer µs and ids');
		const slices = events.filter((e) => e.ph === 'X' && e.name.startsWith('task'));
		assert.equal(slices.length, 6);
		assert.ok(slices.every((e) => Number.isInteger(e.dur) && e.dur! >= 1));
		assert.deepEqual(slices.filter((e) => e.name.endsWith('(failed)')).map((e) => e.args?.error).sort(), ['RangeError: bad input 2', 'RangeError: bad input 5']);
		const named = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.tid));
		assert.ok(slices.every((e) => named.has(e.tid)), 'every lane with a slice has a thread_name');
		assert.equal(events.filter((e) => e.ph === 'M' && e.name === 'process_name').length, 1);
		const printed = events.filter((e) => e.ph === 'i' && e.name === 'output (stdout)');
		assert.equal(printed.length, 4, 'what the four tasks that did not throw printed');
		assert.ok(printed.every((e) => e.s === 't' && named.has(e.tid) && /^processing \d\n$/.test(String(e.args?.text))));

		// A file the system will not let anyone write (immutable, even for root).
		const dir = mkdtempSync(join(tmpdir(), 'poolscope-export-'));
		const target = join(dir, 'locked.trace.json');
		writeFileSync(target, '');
		try {
			execFileSync('chattr', ['+i', target], { stdio: 'ignore' });
			locked = target;
		} catch {
			rmSync(dir, { recursive: true, force: true });
		}
		if (locked) {
			await exportTo(page, frame, locked);
			const said = await notice(frame, /locked\.trace\.json/);
			assert.match(said, /^Cannot write the trace to .*locked\.trace\.json: .*(not permitted|EPERM)/i, said);
		}
	});
});
