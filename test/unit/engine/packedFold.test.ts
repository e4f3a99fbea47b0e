/**
 * The webview's live path folds packed columns straight into its model (PackedReader.visit,
 * PanelState.applyPacked): it must end in exactly the model that folding the events one object
 * at a time gives, whatever the slices.
 */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { packedLength, packEvents, PackedReader } from '../../../engine/protocol/eventPacking';
import { PanelState } from '../../../webview/panelState';

const runId = 'r';

/** A Python process pool's run, with every per-task event kind and the odd orders the engine can send. */
function stream(): PoolEvent[] {
	const events: PoolEvent[] = [
		{ type: 'run.started', runId, t: 0, fn: 'f', file: '/a.py', language: 'python', pool: 'process', workers: 2, options: { workers: 2 }, inputCount: 40, cores: 2, runtime: 'CPython', stages: ['pending', 'callQueue', 'executing', 'resultQueue'] },
		{ type: 'worker.started', runId, t: 1, workerId: 0, pid: 10 },
		{ type: 'worker.started', runId, t: 1, workerId: 1, pid: 11, ready: false },
	];
	for (let i = 0; i < 40; i++) {
		events.push({ type: 'task.submitted', runId, t: 2, taskId: i, input: `(${i},)` });
		if (i % 7 !== 3) {
			events.push({ type: 'task.queued', runId, t: 2, taskId: i, stage: 'pending' }); // packed as one S entry
		}
	}
	events.push({ type: 'worker.ready', runId, t: 3, workerId: 1 });
	for (let i = 0; i < 40; i++) {
		const t = 10 + i;
		const workerId = i % 2;
		events.push({ type: 'task.queued', runId, t, taskId: i, stage: 'callQueue' });
		if (i >= 37) {
			continue; // still in the call queue when the stream ends
		}
		if (i % 11 === 5) {
			events.push({ type: 'task.cancelled', runId, t: t + 0.1, taskId: i, reason: 'cancelled by the user' });
			continue;
		}
		if (i % 13 === 4) {
			// Its result came before its start was seen (a late start notice).
			events.push({ type: 'task.finished', runId, t: t + 0.5, taskId: i, workerId, durationMs: 0.25, result: `'late ${i}'` });
			events.push({ type: 'task.started', runId, t: t + 0.2, taskId: i, workerId });
			continue;
		}
		events.push({ type: 'task.started', runId, t: t + 0.1, taskId: i, workerId });
		if (i % 5 === 1) {
			events.push({ type: 'task.output', runId, t: t + 0.2, taskId: i, stream: 'stdout', text: `line ${i}\n` });
		}
		if (i % 9 === 2) {
			events.push({ type: 'task.failed', runId, t: t + 0.6, taskId: i, workerId, durationMs: 0.5, error: { kind: 'exception', name: 'ValueError', message: `bad ${i}` } });
		} else {
			events.push({ type: 'task.finished', runId, t: t + 0.6, taskId: i, workerId, durationMs: 0.5, ...(i % 3 ? { cpuMs: 0.4 } : {}), result: i % 4 ? `${i * i}` : '' });
		}
		if (i % 10 === 9) {
			events.push({ type: 'queue.depth', runId, t: t + 0.7, depths: { pending: 39 - i, callQueue: 1, executing: 2, resultQueue: 0 } });
		}
	}
	// A late duplicate ending and an event for a task never submitted.
	events.push({ type: 'task.finished', runId, t: 60, taskId: 0, workerId: 0, durationMs: 9, result: 'again' });
	events.push({ type: 'task.started', runId, t: 61, taskId: 99, workerId: 1 });
	events.push({ type: 'worker.exited', runId, t: 62, workerId: 0, code: 0, signal: null, reason: 'shutdown' });
	return events;
}

describe('packed events folded without an object per event (the webview\'s live path)', () => {
	const events = stream();

	it('visit hands over every event in order, an S entry never split, and counts what it took', () => {
		const packed = packEvents(events);
		for (const max of [1, 2, 3, 50, 10_000]) {
			const reader = new PackedReader(runId, structuredClone(packed));
			const back: PoolEvent[] = [];
			let taken = 0;
			while (!reader.done) {
				const before = back.length;
				const n = reader.visit(max, {
					submitted: (t, taskId, input) => back.push({ type: 'task.submitted', runId, t, taskId, input }),
					queued: (t, taskId, stage) => back.push({ type: 'task.queued', runId, t, taskId, stage }),
					started: (t, taskId, workerId) => back.push({ type: 'task.started', runId, t, taskId, workerId }),
					finished: (t, taskId, workerId, durationMs, cpuMs, result) => back.push({ type: 'task.finished', runId, t, taskId, workerId, durationMs, ...(cpuMs === undefined ? {} : { cpuMs }), result }),
					other: (e) => back.push(e),
				});
				assert.equal(n, back.length - before, 'the count is what it handed over');
				assert.ok(n <= max + 1 && n > 0, `a slice of ${n} for at most ${max}`);
				taken += n;
			}
			assert.deepEqual(back, events, `slices of ${max}`);
			assert.equal(taken, packedLength(packed));
		}
	});

	it('PanelState.applyPacked ends in the same model as applying the events, whatever the slices', () => {
		const expected = new PanelState();
		expected.apply(runId, events);
		const want = expected.runs.get(runId)!;
		assert.equal(want.tasks.size, 41);
		assert.equal(expected.inCallQueue(want), 3, 'the stream leaves three tasks in the call queue');
		for (const max of [1, 2, 7, 500]) {
			// Cut into messages too, as the coalescer delivers them.
			for (const cut of [events.length, 37]) {
				const state = new PanelState();
				const byObjects = new PanelState();
				for (let at = 0; at < events.length; at += cut) {
					const reader = new PackedReader(runId, structuredClone(packEvents(events.slice(at, at + cut))));
					while (!reader.done) {
						state.applyPacked(runId, reader, max);
					}
					byObjects.apply(runId, events.slice(at, at + cut));
					assert.equal(state.inCallQueue(state.runs.get(runId)!), byObjects.inCallQueue(byObjects.runs.get(runId)!), `the call queue's count after ${at + cut} events`);
				}
				const got = state.runs.get(runId)!;
				assert.deepEqual(got, want, `slices of ${max}, messages of ${cut} events`);
				assert.equal(state.inCallQueue(got), expected.inCallQueue(want), `the call queue's count, slices of ${max}`);
			}
		}
	});
});
