/**
 * A worker the stall watch saw waiting reads "stuck" in the workers table, with no timeout set
 * (real Chromium, the panel's CSP, protocol events as the engine sends them).
 */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../engine/protocol/events';
import { feed, panelPerTest, text, type PanelPage } from './page';

describe('Pool panel: a stalled worker reads "stuck" (Chromium)', function () {
	this.timeout(120_000);
	let p!: PanelPage;
	panelPerTest((opened) => {
		p = opened;
	});

	it('two deadlocked threads and one computing: the waiting two read "stuck" (saying why) until a task moves, the computing one "busy"', async () => {
		const runId = 'deadlock';
		const t0 = 7_000;
		const states = async () => p.page.evaluate(() => [...document.querySelectorAll('[data-testid="workers"] tbody tr')].map((tr) => tr.children[1]?.textContent ?? ''));
		const start: PoolEvent[] = [
			{ type: 'run.started', runId, t: t0, fn: 'deadlock', file: '/w/faults.py', language: 'python', pool: 'thread', workers: 3, options: { workers: 3 }, inputCount: 3, cores: 2, runtime: 'CPython 3.11.7', stages: ['pending', 'executing'] },
			...[0, 1, 2].map((workerId): PoolEvent => ({ type: 'worker.started', runId, t: t0 + 1, workerId, threadId: 70 + workerId })),
			...[0, 1, 2].map((taskId): PoolEvent => ({ type: 'task.submitted', runId, t: t0 + 1, taskId, input: String(taskId) })),
			...[0, 1, 2].map((taskId): PoolEvent => ({ type: 'task.started', runId, t: t0 + 2, taskId, workerId: taskId })),
		];
		await feed(p, runId, start);
		assert.deepEqual(await states(), ['busy', 'busy', 'busy'], 'no timeout and no stall yet: busy');
		await feed(p, runId, [{ type: 'run.warning', runId, t: t0 + 10_000, kind: 'stalled', message: 'No task has started, ended or printed for 10.0 s: ...', waitingWorkers: [0, 1] }]);
		assert.deepEqual(await states(), ['stuck', 'stuck', 'busy']);
		const tip = await p.page.locator('[data-testid="workers"] tbody tr[data-worker="0"] td').nth(1).getAttribute('title');
		assert.match(tip ?? '', /used no CPU while no task started, ended or printed/);
		await feed(p, runId, [
			{ type: 'task.finished', runId, t: t0 + 11_000, taskId: 2, workerId: 2, durationMs: 10_998, result: 'None' },
			{ type: 'run.warning', runId, t: t0 + 11_000, kind: 'stallEnded', message: 'No longer stalled: task 2 ended after 10.0 s ...' },
		]);
		assert.deepEqual(await states(), ['busy', 'busy', 'idle'], 'the stall is over: busy again until the next one is seen');
		assert.match(await text(p.page, 'workers'), /busy/);
	});
});
