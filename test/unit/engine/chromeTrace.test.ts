import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { toChromeTrace } from '../../../engine/trace/chromeTrace';

describe('toChromeTrace', () => {
	it('turns tasks into slices on worker lanes, queue depths and memory into counters', () => {
		const runId = 'r1';
		const events: PoolEvent[] = [
			{ type: 'run.started', runId, t: 1000, fn: 'f', file: '/w/a.py', language: 'python', pool: 'process', workers: 2, options: { workers: 2 }, inputCount: 2, cores: 2, runtime: 'CPython 3.11', stages: ['pending', 'executing'] },
			{ type: 'worker.started', runId, t: 1001, workerId: 0, pid: 4242 },
			{ type: 'task.submitted', runId, t: 1002, taskId: 0, input: '(1,)' },
			{ type: 'task.submitted', runId, t: 1002, taskId: 1, input: '(2,)' },
			{ type: 'queue.depth', runId, t: 1003, depths: { pending: 2, executing: 0 } },
			{ type: 'memory.sample', runId, t: 1004, main: 20 * 1048576, workers: [{ workerId: 0, rss: 150.25 * 1048576 }] },
			{ type: 'task.started', runId, t: 1010, taskId: 0, workerId: 0 },
			{ type: 'task.finished', runId, t: 1030, taskId: 0, workerId: 0, durationMs: 20, result: '1' },
			{ type: 'task.started', runId, t: 1031, taskId: 1, workerId: 0 },
			{ type: 'task.failed', runId, t: 1040, taskId: 1, workerId: 0, error: { kind: 'exception', name: 'ValueError', message: 'bad' } },
			{ type: 'run.finished', runId, t: 1050, outcome: 'completed', wallMs: 50, counts: { submitted: 2, finished: 1, failed: 1, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 40, workers: [] },
		];
		const trace = toChromeTrace(events);
		const slices = trace.traceEvents.filter((e) => e.ph === 'X');
		assert.deepEqual(slices.map((s) => [s.name, s.ts, s.dur, s.tid]), [['task 0', 10_000, 20_000, 0], ['task 1 (failed)', 31_000, 9_000, 0]]);
		assert.equal(slices[1]!.args?.error, 'ValueError: bad');
		assert.equal(slices[0]!.args?.input, '(1,)');
		const lane = trace.traceEvents.find((e) => e.name === 'thread_name');
		assert.deepEqual(lane?.args, { name: 'worker 0 (pid 4242)' });
		assert.deepEqual(trace.traceEvents.find((e) => e.ph === 'C')?.args, { pending: 2, executing: 0 });
		assert.deepEqual(trace.traceEvents.find((e) => e.name === 'memory MB')?.args, { main: 20, 'worker 0': 150.3 });
		assert.equal(trace.metadata.outcome, 'completed');
		// What Perfetto needs: serializable, with the traceEvents array at the top.
		assert.ok(Array.isArray(JSON.parse(JSON.stringify(trace)).traceEvents));
	});

	it('a worker that started not ready gets a "starting" slice up to its ready', () => {
		const runId = 'r2';
		const trace = toChromeTrace([
			{ type: 'worker.started', runId, t: 1000, workerId: 3, pid: 7, ready: false },
			{ type: 'worker.started', runId, t: 1000, workerId: 4, pid: 8 },
			{ type: 'worker.ready', runId, t: 1250, workerId: 3 },
			{ type: 'worker.ready', runId, t: 1260, workerId: 4 },
		]);
		assert.deepEqual(trace.traceEvents.filter((e) => e.ph === 'X').map((s) => [s.name, s.ts, s.dur, s.tid]), [['starting', 0, 250_000, 3]]);
	});
});
