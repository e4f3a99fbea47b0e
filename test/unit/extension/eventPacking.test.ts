/** The extension -> webview columns give back exactly the events that went in, in order. */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { packEvents, PackedReader } from '../../../webview/eventPacking';

describe('event packing (extension -> webview)', () => {
	const runId = 'r1';
	const events: PoolEvent[] = [
		{ type: 'run.started', runId, t: 1, fn: 'f', file: '/f.js', language: 'javascript', pool: 'thread', workers: 2, options: { workers: 2 }, inputCount: 3, cores: 2, runtime: 'node', stages: ['pending', 'dispatched', 'executing'] },
		{ type: 'task.submitted', runId, t: 2, taskId: 0, input: '"<b>x</b>"' },
		{ type: 'task.queued', runId, t: 2, taskId: 0, stage: 'pending' },
		{ type: 'worker.started', runId, t: 2.5, workerId: 0, threadId: 7 },
		{ type: 'task.started', runId, t: 3, taskId: 0, workerId: 0 },
		{ type: 'task.finished', runId, t: 4, taskId: 0, workerId: 0, durationMs: 1, cpuMs: 0.5, result: 'ünïcode ✓' },
		{ type: 'task.finished', runId, t: 5, taskId: 1, workerId: 1, durationMs: 2, result: '' },
		{ type: 'task.failed', runId, t: 6, taskId: 2, workerId: 1, error: { kind: 'exception', name: 'Error', message: 'no' } },
		{ type: 'queue.depth', runId, t: 7, depths: { pending: 0, executing: 0 } },
	];

	it('round-trips every kind of event in order, read in slices of any size', () => {
		for (const slice of [1, 2, 3, 100]) {
			const reader = new PackedReader(runId, JSON.parse(JSON.stringify(packEvents(events))));
			const back: PoolEvent[] = [];
			while (!reader.done) {
				back.push(...reader.next(slice));
			}
			assert.deepEqual(back, events, `slices of ${slice}`);
			assert.equal(reader.length, events.length);
		}
	});

	it('is much smaller than the objects as JSON for a big batch', () => {
		const big: PoolEvent[] = [];
		for (let i = 0; i < 4000; i++) {
			big.push({ type: 'task.finished', runId: 'countdown-1a2b3c4d', t: 1_000_000 + i, taskId: i, workerId: i % 2, durationMs: 0.5, cpuMs: 0.4, result: `'r${i}'` });
		}
		const packed = JSON.stringify(packEvents(big)).length;
		const plain = JSON.stringify(big).length;
		assert.ok(packed < plain / 2.5, `packed ${packed} vs plain ${plain} bytes`);
	});
});
