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
	it('says what ended a task and a worker: a timeout, a crash, what the task printed', () => {
		const runId = 'r3';
		const trace = toChromeTrace([
			{ type: 'run.started', runId, t: 1000, fn: 'f', file: '/w/a.py', language: 'python', pool: 'process', workers: 2, options: { workers: 2 }, inputCount: 2, cores: 2, runtime: 'CPython 3.11', stages: ['pending', 'executing'] },
			{ type: 'worker.started', runId, t: 1000, workerId: 0, pid: 7 },
			{ type: 'worker.started', runId, t: 1000, workerId: 1, pid: 8 },
			{ type: 'task.submitted', runId, t: 1001, taskId: 0, input: '0' },
			{ type: 'task.submitted', runId, t: 1001, taskId: 1, input: '1' },
			{ type: 'task.started', runId, t: 1010, taskId: 0, workerId: 0 },
			// As a JS thread pool sends them: the output channel is faster than the start poll.
			{ type: 'task.output', runId, t: 1020, taskId: 1, stream: 'stdout', text: 'about to go\n' },
			{ type: 'task.started', runId, t: 1010, taskId: 1, workerId: 1 },
			{ type: 'worker.exited', runId, t: 1030, workerId: 1, code: 3, signal: null, reason: 'crash' },
			{ type: 'task.failed', runId, t: 1031, taskId: 1, workerId: 1, error: { kind: 'brokenPool', name: 'BrokenProcessPool', message: 'gone' } },
			{ type: 'task.failed', runId, t: 2510, taskId: 0, workerId: 0, durationMs: 1500, error: { kind: 'timeout', name: 'TimeoutError', message: 'ran past 1500 ms' } },
			{ type: 'worker.exited', runId, t: 2600, workerId: 0, code: 0, signal: null, reason: 'shutdown' },
			{ type: 'run.finished', runId, t: 2600, outcome: 'completed', wallMs: 1600, counts: { submitted: 2, finished: 0, failed: 1, cancelled: 0, timedOut: 1, rejected: 0 }, throughput: 1, workers: [] },
		]);
		const names = trace.traceEvents.filter((e) => e.ph === 'X').map((e) => e.name);
		assert.deepEqual(names, ['task 1 (failed)', 'task 0 (timed out)']);
		const instants = trace.traceEvents.filter((e) => e.ph === 'i');
		assert.deepEqual(instants.map((e) => [e.name, e.s, e.tid, e.ts]), [
			['output (stdout)', 't', 1, 20_000],
			['worker 1 exited: crash (code 3)', 't', 1, 30_000],
		], 'an orderly shutdown is no event; a crash is, on its lane');
		assert.deepEqual(instants[0]!.args, { taskId: 1, text: 'about to go\n' });
	});

	it('a task that failed on a worker before its start was seen is a mark on that lane, not left out', () => {
		const runId = 'r4';
		const trace = toChromeTrace([
			{ type: 'run.started', runId, t: 1000, fn: 'f', file: '/w/a.js', language: 'javascript', pool: 'process', workers: 1, options: { workers: 1 }, inputCount: 1, cores: 2, runtime: 'node', stages: ['pending', 'executing'] },
			{ type: 'task.submitted', runId, t: 1001, taskId: 2, input: '2' },
			{ type: 'worker.exited', runId, t: 1100, workerId: 1, code: 3, signal: null, reason: 'crash' },
			{ type: 'task.failed', runId, t: 1100, taskId: 2, workerId: 1, error: { kind: 'workerExited', name: 'WorkerExited', message: 'worker exited with code 3' } },
		]);
		const mark = trace.traceEvents.find((e) => e.name === 'task 2 (failed)');
		assert.deepEqual(mark && [mark.ph, mark.s, mark.tid, mark.ts, mark.args?.error], ['i', 't', 1, 100_000, 'WorkerExited: worker exited with code 3']);
	});

	it('nests inside each task what its thread was seen waiting on (worker.waits), one slice per stretch; on a CPU and idle time are not slices', () => {
		const runId = 'r9';
		const trace = toChromeTrace([
			{ type: 'run.started', runId, t: 1000, fn: 'f', file: '/w/a.py', language: 'python', pool: 'thread', workers: 1, options: { workers: 1 }, inputCount: 1, cores: 2, runtime: 'CPython 3.11', stages: ['pending', 'executing'] },
			{ type: 'worker.started', runId, t: 1000, workerId: 0, threadId: 77 },
			{ type: 'task.submitted', runId, t: 1001, taskId: 0, input: '0' },
			{ type: 'task.started', runId, t: 1100, taskId: 0, workerId: 0 },
			// Looks at 1090 (idle, on the queue's lock), then in the task: c g g c l i, then idle again.
			{ type: 'worker.waits', runId, t: 1200, workers: [{ workerId: 0, t: [1090, 1100, 1110, 1120, 1130, 1140, 1150], seen: 'lcggcli' }] },
			{ type: 'task.finished', runId, t: 1160, taskId: 0, workerId: 0, durationMs: 60, result: '' },
			{ type: 'worker.waits', runId, t: 1300, workers: [{ workerId: 0, t: [1170], seen: 'l' }] },
		]);
		const waits = trace.traceEvents.filter((e) => e.cat === 'wait');
		assert.deepEqual(waits.map((w) => [w.name, w.ts, w.dur, w.tid]), [
			['waiting for the GIL', 110_000, 20_000, 0],
			['waiting on a lock, queue or event', 140_000, 10_000, 0],
			['in I/O or asleep', 150_000, 10_000, 0],
		]);
	});
});

