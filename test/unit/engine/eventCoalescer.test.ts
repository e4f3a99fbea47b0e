import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { EventCoalescer, MAX_MESSAGE_EVENTS, MAX_MESSAGES_PER_INTERVAL } from '../../../engine/eventCoalescer';
import { packedLength, PackedReader, type PackedEvents } from '../../../engine/protocol/eventPacking';

/** A delivered message read back into events, as the panel reads it. */
const unpack = (runId: string, p: PackedEvents): PoolEvent[] => {
	const reader = new PackedReader(runId, structuredClone(p));
	return reader.next(reader.length);
};

const submitted = (runId: string, taskId: number): PoolEvent => ({ type: 'task.submitted', runId, t: taskId, taskId, input: String(taskId) });

describe('EventCoalescer', () => {
	it('delivers a flood of small batches as at most ~1 message per interval, in order, nothing lost', async () => {
		const delivered: { runId: string; n: number; at: number }[] = [];
		const got: number[] = [];
		const c = new EventCoalescer((runId, packed) => {
			const events = unpack(runId, packed);
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
		const c = new EventCoalescer((runId, packed) => seen.push([runId, unpack(runId, packed).map((e) => e.type)]), 1000);
		c.push('a', [submitted('a', 1)]);
		c.push('b', [submitted('b', 1)]);
		c.push('a', [{ type: 'run.finished', runId: 'a', t: 2, outcome: 'completed', wallMs: 1, counts: { submitted: 1, finished: 1, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 1, workers: [] }]);
		assert.deepEqual(seen, [['a', ['task.submitted', 'run.finished']], ['b', ['task.submitted']]]);
		c.dispose();
	});

	it('splits a burst into messages the webview can take between frames, in order', () => {
		const sizes: number[] = [];
		const got: number[] = [];
		const c = new EventCoalescer((runId, packed) => {
			const events = unpack(runId, packed);
			assert.equal(packedLength(packed), events.length);
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

	it('spreads a burst over intervals, a few messages each, in order; the run\'s end hands on the rest at once', async () => {
		// Messages handed on in one synchronous flush form one group.
		const groups: number[][] = [];
		let group: number[] | undefined;
		const got: number[] = [];
		const c = new EventCoalescer((runId, packed) => {
			const events = unpack(runId, packed);
			if (!group) {
				groups.push(group = []);
				queueMicrotask(() => {
					group = undefined;
				});
			}
			group.push(events.length);
			for (const e of events) {
				if (runId === 'r' && e.type === 'task.submitted') {
					got.push(e.taskId);
				}
			}
		}, 50);
		const n = 7 * MAX_MESSAGE_EVENTS + 5; // 8 messages
		c.push('r', Array.from({ length: n }, (_, i) => submitted('r', i)));
		c.push('q', [submitted('q', 0)]);
		const started = Date.now();
		while (groups.length < 3) {
			assert.ok(Date.now() - started < 5000, `only ${groups.length} flushes in 5 s`);
			await new Promise((r) => setTimeout(r, 1));
		}
		assert.equal(MAX_MESSAGES_PER_INTERVAL, 2);
		assert.deepEqual(groups, [[MAX_MESSAGE_EVENTS, MAX_MESSAGE_EVENTS, 1], [MAX_MESSAGE_EVENTS, MAX_MESSAGE_EVENTS], [MAX_MESSAGE_EVENTS, MAX_MESSAGE_EVENTS]]);
		// Two messages of the burst still wait; the run's end takes them with it, at once and in order.
		c.push('r', [{ type: 'run.finished', runId: 'r', t: n, outcome: 'completed', wallMs: 1, counts: { submitted: n, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 0, workers: [] }]);
		assert.deepEqual(groups[3], [MAX_MESSAGE_EVENTS, 6]);
		assert.deepEqual(got, Array.from({ length: n }, (_, i) => i), 'every event of the burst, in order');
		c.dispose();
	});

	it('packs each batch as it comes and joins them: every event back, in order, whatever the batches\' sizes, and none over the message size', () => {
		const runId = 'r';
		const all: PoolEvent[] = [];
		for (let i = 0; i < 3 * MAX_MESSAGE_EVENTS / 4; i++) {
			// Submitted and queued as pending together (one packed entry), then started and finished.
			all.push({ type: 'task.submitted', runId, t: i, taskId: i, input: `"t${i}"` }, { type: 'task.queued', runId, t: i, taskId: i, stage: 'pending' });
		}
		for (let i = 0; i < 3 * MAX_MESSAGE_EVENTS / 4; i++) {
			all.push({ type: 'task.started', runId, t: 1e5 + i, taskId: i, workerId: i % 3 });
			all.push(i % 1000 === 7
				? { type: 'task.failed', runId, t: 1e5 + i + 0.5, taskId: i, workerId: i % 3, error: { kind: 'exception', name: 'Error', message: `no ${i}` } }
				: { type: 'task.finished', runId, t: 1e5 + i + 0.5, taskId: i, workerId: i % 3, durationMs: 0.5, cpuMs: i % 2 ? 0.25 : undefined, result: `'T${i}'` });
			if (i % 5000 === 0) {
				all.push({ type: 'queue.depth', runId, t: 1e5 + i + 0.6, depths: { pending: i, executing: 2 } });
			}
		}
		for (const e of all.filter((x) => x.type === 'task.finished' && x.cpuMs === undefined)) {
			delete (e as { cpuMs?: number }).cpuMs; // as the engine sends it: no key, not an undefined one
		}
		for (const sizes of [[1], [7, 2000, 13], [MAX_MESSAGE_EVENTS - 1, 3], [5 * MAX_MESSAGE_EVENTS]]) {
			const messages: PackedEvents[] = [];
			const c = new EventCoalescer((_runId, packed) => messages.push(packed), 1000);
			for (let at = 0, k = 0; at < all.length; k++) {
				const n = sizes[k % sizes.length]!;
				c.push(runId, all.slice(at, at + n));
				at += n;
				if (k % 3 === 2) {
					c.flush(); // deliveries in between, as the timer makes them
				}
			}
			c.dispose();
			assert.ok(messages.every((m) => packedLength(m) <= MAX_MESSAGE_EVENTS), `a message over the size with batches of ${sizes}`);
			assert.deepEqual(messages.flatMap((m) => unpack(runId, m)), all, `batches of ${sizes}`);
		}
	});
});
