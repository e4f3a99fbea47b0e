/** The extension -> webview columns give back exactly the events that went in, in order. */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { concatPacked, packedLength, packEvents, PackedReader } from '../../../engine/protocol/eventPacking';

describe('event packing (extension -> webview)', () => {
	const runId = 'r1';
	const events: PoolEvent[] = [
		{ type: 'run.started', runId, t: 1, fn: 'f', file: '/f.js', language: 'javascript', pool: 'thread', workers: 2, options: { workers: 2 }, inputCount: 3, cores: 2, runtime: 'node', stages: ['pending', 'dispatched', 'executing'] },
		{ type: 'task.submitted', runId, t: 2, taskId: 0, input: '"<b>x</b>"' },
		{ type: 'task.queued', runId, t: 2, taskId: 0, stage: 'pending' },
		{ type: 'task.submitted', runId, t: 2.1, taskId: 1, input: '1' },
		{ type: 'task.submitted', runId, t: 2.1, taskId: 2, input: '2' },
		{ type: 'task.queued', runId, t: 2.2, taskId: 1, stage: 'pending' },
		{ type: 'task.queued', runId, t: 2.2, taskId: 2, stage: 'dispatched' },
		{ type: 'worker.started', runId, t: 2.5, workerId: 0, threadId: 7 },
		{ type: 'task.started', runId, t: 3, taskId: 0, workerId: 0 },
		{ type: 'task.finished', runId, t: 4, taskId: 0, workerId: 0, durationMs: 1, cpuMs: 0.5, result: 'ünïcode ✓' },
		{ type: 'task.finished', runId, t: 5, taskId: 1, workerId: 1, durationMs: 2, result: '' },
		{ type: 'task.failed', runId, t: 6, taskId: 2, workerId: 1, error: { kind: 'exception', name: 'Error', message: 'no' } },
		{ type: 'queue.depth', runId, t: 7, depths: { pending: 0, executing: 0 } },
	];

	it('round-trips every kind of event in order, read in slices of any size', () => {
		for (const slice of [1, 2, 3, 100]) {
			// postMessage hands the webview a structured clone (typed arrays stay typed arrays).
			const reader = new PackedReader(runId, structuredClone(packEvents(events)));
			const back: PoolEvent[] = [];
			while (!reader.done) {
				back.push(...reader.next(slice));
			}
			assert.deepEqual(back, events, `slices of ${slice}`);
			assert.equal(reader.length, events.length);
		}
	});

	it('messages joined as they are (concatPacked) read back as the events of each, in order, at every cut', () => {
		for (let a = 0; a <= events.length; a++) {
			for (let b = a; b <= events.length; b++) {
				const parts = [events.slice(0, a), events.slice(a, b), events.slice(b)].map(packEvents);
				const joined = structuredClone(concatPacked(parts));
				const reader = new PackedReader(runId, joined);
				assert.deepEqual(reader.next(reader.length), events, `cut at ${a} and ${b}`);
				assert.equal(packedLength(joined), events.length);
			}
		}
	});

	it('submitted and queued-as-pending of one task are one entry; numbers are typed arrays', () => {
		const p = packEvents(events);
		assert.equal(p.kinds, 'oSssqqobffoo');
		assert.ok(p.t instanceof Float64Array && p.id instanceof Int32Array && p.w instanceof Int32Array);
	});

	it('carries the strings as one string and their lengths (few JSON values, whatever the batch size)', () => {
		const p = packEvents(events);
		assert.equal(p.text, '"<b>x</b>"12pendingdispatchedünïcode ✓');
		assert.deepEqual([...p.len], [10, 1, 1, 7, 10, 9, 0]);
	});

	it('is much smaller than the objects as JSON for a big batch', () => {
		const big: PoolEvent[] = [];
		for (let i = 0; i < 4000; i++) {
			big.push({ type: 'task.finished', runId: 'countdown-1a2b3c4d', t: 1_000_000 + i + 0.123456, taskId: i, workerId: i % 2, durationMs: 0.5, cpuMs: 0.4, result: `'r${i}'` });
		}
		const p = packEvents(big);
		// What crosses the wire: the JSON part plus the typed arrays' bytes.
		const packed = JSON.stringify({ kinds: p.kinds, text: p.text, other: p.other }).length + p.len.byteLength + p.t.byteLength + p.id.byteLength + p.w.byteLength + p.d.byteLength + p.c.byteLength;
		const plain = JSON.stringify(big).length;
		assert.ok(packed < plain / 2.5, `packed ${packed} vs plain ${plain} bytes`);
	});
});
