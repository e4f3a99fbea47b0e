/** A run's kept events: packed in message-sized batches, given back exactly, in order. */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { EventLog } from '../../../extension/runs/eventLog';
import { MAX_MESSAGE_EVENTS } from '../../../engine/eventCoalescer';
import { packedLength, PackedReader, packEvents } from '../../../engine/protocol/eventPacking';

function run(tasks: number): PoolEvent[] {
	const runId = 'r';
	const ev: PoolEvent[] = [{ type: 'run.started', runId, t: 0, fn: 'f', file: '/f.js', language: 'javascript', pool: 'thread', workers: 2, options: { workers: 2 }, inputCount: tasks, cores: 2, runtime: 'node', stages: ['pending', 'executing'] }];
	for (let i = 0; i < tasks; i++) {
		ev.push({ type: 'task.submitted', runId, t: 1, taskId: i, input: `"t${i}"` }, { type: 'task.queued', runId, t: 1, taskId: i, stage: 'pending' });
	}
	for (let i = 0; i < tasks; i++) {
		ev.push({ type: 'task.started', runId, t: 2 + i, taskId: i, workerId: i % 2 });
		if (i % 5 === 0) {
			ev.push({ type: 'task.output', runId, t: 2.5 + i, taskId: i, stream: 'stdout', text: `line ${i}\n` });
		}
		ev.push(i % 7 === 3
			? { type: 'task.failed', runId, t: 3 + i, taskId: i, workerId: i % 2, error: { kind: 'exception', name: 'Error', message: `no ${i}` } }
			: { type: 'task.finished', runId, t: 3 + i, taskId: i, workerId: i % 2, durationMs: 1, cpuMs: i % 3 ? 0.5 : undefined, result: `"T${i}" ✓` });
	}
	return ev.map((e) => JSON.parse(JSON.stringify(e)) as PoolEvent); // no undefined fields, as events arrive
}

describe('EventLog (a run\'s events as the extension keeps them)', () => {
	for (const tasks of [0, 1, 1333, 4000, 5001]) {
		it(`${tasks} tasks, appended in uneven batches: every event back, in order, whole or as messages`, () => {
			const events = run(tasks);
			const log = new EventLog('r');
			for (let i = 0, step = 1; i < events.length; i += step, step = (step * 7 + 3) % 2900 + 1) {
				log.append(events.slice(i, i + step));
			}
			assert.equal(log.length, events.length);
			assert.deepEqual(log.events(), events);
			const batches = log.batches();
			assert.ok(batches.every((b) => packedLength(b) <= MAX_MESSAGE_EVENTS), 'no message over the coalescer\'s size');
			const replayed: PoolEvent[] = [];
			for (const b of batches) {
				const reader = new PackedReader('r', structuredClone(b));
				while (!reader.done) {
					replayed.push(...reader.next(1500));
				}
			}
			assert.deepEqual(replayed, events);
		});
	}

	it('events appended as objects are kept packed, in batches of the message size', () => {
		const events = run(5001);
		const log = new EventLog('r', events);
		const batches = log.batches();
		assert.equal(batches.length, Math.ceil(events.length / MAX_MESSAGE_EVENTS));
		assert.deepEqual(batches.slice(0, -1).map(packedLength), batches.slice(0, -1).map(() => MAX_MESSAGE_EVENTS));
	});

	it('messages from the engine thread: big ones kept as they came, small ones merged; every event back in order, by message or by slice', () => {
		const events = run(3000);
		const log = new EventLog('r');
		const sent = [];
		for (let i = 0, step = 7; i < events.length; i += step, step = step === 7 ? 3500 : step === 3500 ? 400 : 7) {
			const packed = packEvents(events.slice(i, i + step));
			sent.push(packed);
			log.appendPacked(packed);
		}
		assert.equal(log.length, events.length);
		assert.deepEqual(log.events(), events);
		assert.deepEqual([...log.slices()].flat(), events);
		const batches = log.batches();
		assert.ok(batches.length < sent.length, `${batches.length} batches kept for ${sent.length} messages`);
		assert.ok(sent.filter((p) => packedLength(p) >= MAX_MESSAGE_EVENTS / 4).every((p) => batches.includes(p)), 'a big message is kept as it came, not packed again');
		const replayed: PoolEvent[] = [];
		for (const b of batches) {
			const reader = new PackedReader('r', b);
			replayed.push(...reader.next(reader.length));
		}
		assert.deepEqual(replayed, events);
	});
});
