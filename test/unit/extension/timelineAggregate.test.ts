/** The live timeline's buckets: what ended is folded in once, what runs is handed back. */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { applyEvents, createRunModel } from '../../../engine/protocol/runModel';
import { TimelineAggregate } from '../../../webview/views/timelineAggregate';

function run(n: number, endedUpTo: number, taskMs: number): PoolEvent[] {
	const runId = 'r';
	const events: PoolEvent[] = [{ type: 'run.started', runId, t: 0, fn: 'f', file: '/f.js', language: 'javascript', pool: 'thread', workers: 2, options: { workers: 2 }, inputCount: n, cores: 2, runtime: 'node', stages: ['pending', 'executing'] }];
	for (let w = 0; w < 2; w++) {
		events.push({ type: 'worker.started', runId, t: 0, workerId: w });
	}
	for (let i = 0; i < n; i++) {
		events.push({ type: 'task.submitted', runId, t: 0, taskId: i, input: String(i) });
	}
	// Two lanes, back to back: task i on worker i % 2 from (i >> 1) * taskMs.
	for (let i = 0; i < n; i++) {
		const start = (i >> 1) * taskMs;
		if (i < endedUpTo + 2) {
			events.push({ type: 'task.started', runId, t: start, taskId: i, workerId: i % 2 });
		}
		if (i < endedUpTo) {
			events.push(i % 10 === 9
				? { type: 'task.failed', runId, t: start + taskMs, taskId: i, workerId: i % 2, durationMs: taskMs, error: { kind: 'exception', name: 'E', message: 'x' } }
				: { type: 'task.finished', runId, t: start + taskMs, taskId: i, workerId: i % 2, durationMs: taskMs, result: '' });
		}
	}
	return events;
}

describe('timeline buckets for live runs', () => {
	it('folds each ended task once, hands back the running ones, and keeps up as more end', () => {
		const events = run(6000, 3000, 1);
		const model = createRunModel('r');
		applyEvents(model, events.slice(0, events.length));
		const agg = new TimelineAggregate('r', 0);
		assert.deepEqual(agg.update(model), [3000, 3001]);
		assert.equal(agg.folded, 3000);
		assert.deepEqual(agg.update(model), [3000, 3001], 'nothing is folded twice');
		assert.equal(agg.folded, 3000);
		const more = run(6000, 5000, 1).filter((e) => 'taskId' in e && e.taskId >= 3000 && e.type !== 'task.submitted');
		applyEvents(model, more);
		assert.deepEqual(agg.update(model), [5000, 5001]);
		assert.equal(agg.folded, 5000);
	});

	it('paints busy lanes across the whole run in the colour of the state that dominates, widening its buckets as the run grows', () => {
		// 5000 tasks of 1 ms on 2 lanes: 2.5 s, past the first 2,048 one-ms buckets.
		const model = createRunModel('r');
		applyEvents(model, run(5000, 5000, 1));
		const agg = new TimelineAggregate('r', 0);
		agg.update(model);
		const rects: { x: number; y: number; w: number; color: string }[] = [];
		let fill = '';
		const ctx = { set fillStyle(c: string) { fill = c; }, fillRect: (x: number, y: number, w: number) => rects.push({ x, y, w, color: fill }) } as unknown as CanvasRenderingContext2D;
		const colors = { finished: 'green', failed: 'red', cancelled: 'purple', timedOut: 'orange', rejected: 'pink', submitted: '', queued: '', running: '' };
		agg.paint(ctx, [[0], [1]], (i) => i * 20, 10, 0, 2500, 500, colors);
		for (const y of [0, 20]) {
			const covered = rects.filter((r) => r.y === y).reduce((n, r) => n + r.w, 0);
			assert.ok(covered >= 495, `lane at ${y}: ${covered} of 500 px painted`);
		}
		// Lane 1 runs the odd tasks; every fifth of them fails (i % 10 === 9), so it is mostly green.
		assert.ok(rects.filter((r) => r.y === 20 && r.color === 'green').reduce((n, r) => n + r.w, 0) > 350);
	});
});
