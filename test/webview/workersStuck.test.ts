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
		// A new stall; a cancel (the user's act) ends it without a stallEnded, and worker 0's task
		// then returns: its next task is not the one that waited.
		await feed(p, runId, [{ type: 'run.warning', runId, t: t0 + 22_000, kind: 'stalled', message: 'No task has started ...', waitingWorkers: [0, 1], goneWorkers: [2] }]);
		assert.deepEqual(await states(), ['stuck', 'stuck', 'idle'], 'an idle worker is not gone');
		await feed(p, runId, [
			{ type: 'task.submitted', runId, t: t0 + 22_500, taskId: 3, input: '3' },
			{ type: 'task.cancelled', runId, t: t0 + 23_000, taskId: 3, reason: 'cancelled by user' },
			{ type: 'task.finished', runId, t: t0 + 24_000, taskId: 0, workerId: 0, durationMs: 23_998, result: 'None' },
			{ type: 'task.submitted', runId, t: t0 + 24_000, taskId: 4, input: '4' },
			{ type: 'task.started', runId, t: t0 + 24_001, taskId: 4, workerId: 0 },
		]);
		assert.deepEqual(await states(), ['busy', 'stuck', 'idle']);
	});

	it('a worker whose process exited under its task, unnoticed by the pool, reads "gone", saying so', async () => {
		const runId = 'gone';
		const t0 = 3_000;
		await feed(p, runId, [
			{ type: 'run.started', runId, t: t0, fn: 'f', file: '/w/f.py', language: 'python', pool: 'process', workers: 1, options: { workers: 1 }, inputCount: 1, cores: 2, runtime: 'CPython 3.11.7', stages: ['pending', 'callQueue', 'executing', 'resultQueue'] },
			{ type: 'worker.started', runId, t: t0 + 1, workerId: 0, pid: 4242 },
			{ type: 'task.submitted', runId, t: t0 + 1, taskId: 0, input: '0' },
			{ type: 'task.started', runId, t: t0 + 2, taskId: 0, workerId: 0 },
			{ type: 'run.warning', runId, t: t0 + 10_000, kind: 'stalled', message: 'No task has started ...: task 0 is still running, the pool says, on process 4242, which has exited', goneWorkers: [0] },
		]);
		assert.equal(await p.page.locator('[data-testid="workers"] tbody tr td').nth(1).textContent(), 'gone');
		assert.match(await p.page.locator('[data-testid="workers"] tbody tr td').nth(1).getAttribute('title') ?? '', /process has exited, but the pool still counts its task as running/);
	});
});
