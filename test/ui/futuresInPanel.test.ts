/** Failed and cancelled futures of real runs, read in the real panel (Playwright on code-server). */
import * as assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { closeWindow, openFileAt, openWorkbench, runCommand, webviewFrame } from './workbench';

async function finished(frame: Frame, state: string): Promise<void> {
	await frame.waitForFunction((s) => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === s, state, { timeout: 60_000 });
}

async function firstOf(frame: Frame, chip: string): Promise<void> {
	await frame.click(`.chip:has([data-testid="count-${chip}"])`);
	// The filter applies on the next frame: wait for the grid to show the filtered futures.
	await frame.waitForFunction((c) => {
		const total = Number(document.querySelector('[data-testid="futures-canvas"]')?.getAttribute('data-total'));
		return total > 0 && total === Number(document.querySelector(`[data-testid="count-${c}"]`)?.textContent);
	}, chip, { timeout: 10_000 });
	await frame.focus('[data-testid="futures-grid"]');
	await frame.press('[data-testid="futures-grid"]', 'Home');
}

describe('Failed and cancelled futures in the real panel (Playwright on code-server)', function () {
	this.timeout(180_000);
	let page: Page | undefined;
	after(async () => {
		await closeWindow(page);
	});

	it('a failed future shows its traceback, and its file:line opens the source there', async () => {
		page = await openWorkbench();
		await openFileAt(page, 'python/faults.py', 14);
		await runCommand(page, 'Poolscope: Run Function in Thread Pool');
		const frame = await webviewFrame(page, '[data-testid="run-title"]', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'sometimes_fails', undefined, { timeout: 60_000 });
		await finished(frame, 'completed');
		assert.equal(await frame.textContent('[data-testid="count-failed"]'), '2');
		await firstOf(frame, 'failed');
		await frame.waitForSelector('[data-testid="traceback"]');
		assert.match(await frame.textContent('[data-testid="error"]') ?? '', /ValueError: bad input 2/);
		assert.match(await frame.textContent('[data-testid="traceback"]') ?? '', /faults\.py", line 13, in sometimes_fails/);
		await frame.click('[data-testid="frame-link"]');
		await page.locator('.statusbar', { hasText: 'Ln 13,' }).waitFor({ state: 'visible', timeout: 15_000 });
	});

	it('what the module prints as it is imported shows under "Output outside tasks", named by the process', async () => {
		const p = page!;
		await openFileAt(p, 'python/printing.py', 14);
		await runCommand(p, 'Poolscope: Run Function in Process Pool');
		const frame = await webviewFrame(p, '[data-testid="runs"] [role="tab"]:nth-child(2)', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-title"]')?.textContent === 'chatty', undefined, { timeout: 60_000 });
		await finished(frame, 'completed');
		const output = '[data-testid="run-output"]';
		assert.equal(await frame.textContent(`${output} summary`), 'Output outside tasks: 1 line, from the main process', 'fork: the workers do not import the file again');
		await frame.click(`${output} summary`);
		assert.equal(await frame.textContent(`${output} .run-output-chunk .source`), 'runner (main process)');
		assert.match(await frame.textContent(`${output} .run-output-chunk pre`) ?? '', /^printing\.py imported in process \d+\n$/);
	});

	it('"Cancel run" in the panel cancels what is pending; a cancelled future says why', async () => {
		const p = page!;
		await openFileAt(p, 'python/io_bound.py', 14);
		await runCommand(p, 'Poolscope: Run Function Serially'); // 16 x 0.3 s
		const frame = await webviewFrame(p, '[data-testid="runs"] [role="tab"]:nth-child(3)', 60_000);
		await frame.waitForFunction(() => Number(document.querySelector('[data-testid="count-finished"]')?.textContent) >= 1, undefined, { timeout: 30_000 });
		await frame.click('[data-testid="cancel-run"]');
		await finished(frame, 'cancelled');
		// Every future not finished by then is cancelled. How many that is depends on how fast the
		// click travels here (CI once read 9 of 16 with the panel redrawing 4 times a second on a
		// full CPU): the contract is "all that was pending", with a run long enough that some were.
		const cancelled = Number(await frame.textContent('[data-testid="count-cancelled"]'));
		const done = Number(await frame.textContent('[data-testid="count-finished"]'));
		assert.equal(done + cancelled, 16, `${done} finished + ${cancelled} cancelled`);
		assert.ok(cancelled >= 5, `only ${cancelled} cancelled`);
		await firstOf(frame, 'cancelled');
		await frame.waitForFunction(() => /cancelled/.test(document.querySelector('[data-testid="details"] dd[data-field="state"]')?.textContent ?? ''), undefined, { timeout: 10_000 });
		assert.match(await frame.textContent('[data-testid="details"] dd[data-field="state"]') ?? '', /cancelled \(/);
	});

	it('"Cancel future" on one pending future of a real run cancels that one only; "Stacks" shows where the worker waits', async () => {
		const p = page!;
		// Its tab makes its editor group the active one (the panel's iframe has the focus now).
		await p.locator('.tab', { hasText: 'io_bound.py' }).first().click();
		await openFileAt(p, 'python/io_bound.py', 14);
		await runCommand(p, 'Poolscope: Run Function Serially'); // 16 x 0.3 s, one at a time
		const frame = await webviewFrame(p, '[data-testid="runs"] [role="tab"]:nth-child(4)', 60_000);
		await frame.waitForFunction(() => Number(document.querySelector('[data-testid="count-finished"]')?.textContent) >= 1, undefined, { timeout: 30_000 });
		// The last pending future: the filter, then End on the grid selects it and shows its details.
		await frame.click('.chip:has([data-testid="count-queued"])');
		await frame.focus('[data-testid="futures-grid"]');
		await frame.press('[data-testid="futures-grid"]', 'End');
		await frame.waitForFunction(() => document.querySelector('[data-testid="details"] h3')?.textContent === 'Future 15', undefined, { timeout: 10_000 });
		assert.equal(await frame.getAttribute('[data-testid="cancel-task"]', 'disabled'), null, 'Cancel future is enabled for a pending future');
		await frame.click('[data-testid="cancel-task"]');
		await frame.waitForFunction(() => /^cancelled \(cancelled by user\)$/.test(document.querySelector('[data-testid="details"] dd[data-field="state"]')?.textContent ?? ''), undefined, { timeout: 10_000 });
		assert.ok(await frame.isDisabled('[data-testid="cancel-task"]'), 'a cancelled future cannot be cancelled again');
		// While the run goes on, the serial worker's thread is seen in the user's function.
		await frame.click('[data-testid="snapshot-stacks"]');
		await frame.waitForSelector('[data-testid="stacks-text"]', { timeout: 15_000 });
		const stacks = await frame.textContent('[data-testid="stacks-text"]') ?? '';
		assert.match(stacks, /io_bound\.py", line 13,? in download/, stacks);
		await frame.click('[data-testid="stacks"] button');
		assert.ok(await frame.isHidden('[data-testid="stacks"]'), 'Close hides the snapshot');
		await finished(frame, 'completed');
		assert.equal(await frame.textContent('[data-testid="count-cancelled"]'), '1');
		assert.equal(await frame.textContent('[data-testid="count-finished"]'), '15');
	});
});
