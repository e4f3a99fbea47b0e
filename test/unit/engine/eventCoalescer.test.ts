import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { EventCoalescer, MAX_MESSAGE_EVENTS } from '../../../engine/eventCoalescer';

const submitted = (runId: string, taskId: number): PoolEvent => ({ type: 'task.submitted', runId, t: taskId, taskId, input: String(taskId) });

describe('EventCoalescer', () => {
	it('delivers a flood of small batches as at most ~1 message per interval, in order, nothing lost', async () => {
		const delivered: { runId: string; n: number; at: number }[] = [];
		const got: number[] = [];
		const c = new EventCoalescer((runId, events) => {
			delivered.push({ runId, n: events.length, at: Date.now() });
			for (const e of events) {
				got.push((e as { taskId: number }).taskId);
			}
		}, 30);
		const started = Date.now();
		let id = 0;
		// 300 ms of engine flushes every ms, 20 events each.
		while (Date.now() - started < 300) {
			c.push('r', Array.from({ length: 20 }, () => submitted('r', id++)));
			await new Promise((r) => setImmediate(r));
		}
		await new Promise((r) => setTimeout(r, 60));
		c.dispose();
		assert.deepEqual(got, Array.from({ length: id }, (_, i) => i), 'events lost or reordered');
		const elapsed = Date.now() - started;
		// One flush per interval; a flush of more than MAX_MESSAGE_EVENTS is several full messages
		// and a last, shorter one, so the shorter ones count the flushes.
		const flushes = delivered.filter((d) => d.n < MAX_MESSAGE_EVENTS).length;
		assert.ok(flushes <= Math.ceil(elapsed / 30) + 2, `${flushes} flushes in ${elapsed} ms`);
		assert.ok(delivered.every((d) => d.n <= MAX_MESSAGE_EVENTS));
		assert.ok(delivered.length >= 3, 'it should still deliver while the flood goes on');
	});

	it('flushes run.finished immediately and keeps runs apart', () => {
		const seen: [string, string[]][] = [];
		const c = new EventCoalescer((runId, events) => seen.push([runId, events.map((e) => e.type)]), 1000);
		c.push('a', [submitted('a', 1)]);
		c.push('b', [submitted('b', 1)]);
		c.push('a', [{ type: 'run.finished', runId: 'a', t: 2, outcome: 'completed', wallMs: 1, counts: { submitted: 1, finished: 1, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 1, workers: [] }]);
		assert.deepEqual(seen, [['a', ['task.submitted', 'run.finished']], ['b', ['task.submitted']]]);
		c.dispose();
	});

	it('splits a burst into messages the webview can take between frames, in order', () => {
		const sizes: number[] = [];
		const got: number[] = [];
		const c = new EventCoalescer((_runId, events) => {
			sizes.push(events.length);
			for (const e of events) {
				got.push((e as { taskId: number }).taskId);
			}
		}, 1000);
		const n = 2 * MAX_MESSAGE_EVENTS + 17;
		c.push('r', Array.from({ length: n }, (_, i) => submitted('r', i)));
		c.flush();
		assert.deepEqual(sizes, [MAX_MESSAGE_EVENTS, MAX_MESSAGE_EVENTS, 17]);
		assert.deepEqual(got, Array.from({ length: n }, (_, i) => i));
		c.dispose();
	});
});

