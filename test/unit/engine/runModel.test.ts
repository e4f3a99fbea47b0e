import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { applyEvents, createRunModel, looksText, stateCounts, taskLooks, workerCpuShares, workerLooks } from '../../../engine/protocol/runModel';
import { appendTerminal } from '../../../engine/protocol/terminalText';

const runId = 'r';
const base: PoolEvent[] = [
	{ type: 'run.started', runId, t: 0, fn: 'f', file: '/a.py', language: 'python', pool: 'process', workers: 1, options: { workers: 1 }, inputCount: 3, cores: 2, runtime: 'CPython', stages: ['pending', 'callQueue', 'executing', 'resultQueue'] },
	{ type: 'worker.started', runId, t: 1, workerId: 0, pid: 10 },
	{ type: 'task.submitted', runId, t: 1, taskId: 0, input: '0' },
	{ type: 'task.submitted', runId, t: 1, taskId: 1, input: '1' },
	{ type: 'task.submitted', runId, t: 1, taskId: 2, input: '2' },
	{ type: 'task.queued', runId, t: 1, taskId: 0, stage: 'pending' },
	{ type: 'task.queued', runId, t: 2, taskId: 1, stage: 'callQueue' },
];

describe('runModel (the reducer every view shares)', () => {
	it('tracks states, stages and terminal counts; the first terminal event wins', () => {
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			{ type: 'task.started', runId, t: 3, taskId: 0, workerId: 0 },
			{ type: 'task.finished', runId, t: 13, taskId: 0, workerId: 0, durationMs: 10, result: '0' },
			{ type: 'task.cancelled', runId, t: 14, taskId: 0, reason: 'late duplicate' },
			{ type: 'task.failed', runId, t: 15, taskId: 2, error: { kind: 'timeout', name: 'TimeoutError', message: 'x' } },
		]);
		assert.equal(m.tasks.get(1)!.stage, 'callQueue');
		assert.deepEqual(m.counts, { submitted: 3, finished: 1, failed: 0, cancelled: 0, timedOut: 1, rejected: 0 });
		const live = stateCounts(m);
		assert.equal(live.queued, 1);
		assert.equal(live.finished, 1);
		assert.equal(m.workers.get(0)!.state, 'idle');
		assert.equal(m.workers.get(0)!.busyMs, 10);
	});

	it('a stall names the workers it saw waiting (stuckWorkers) until a task moves again', () => {
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			{ type: 'task.started', runId, t: 3, taskId: 0, workerId: 0 },
			{ type: 'run.warning', runId, t: 20, kind: 'stalled', message: 'No task has started ...', waitingWorkers: [0] },
		]);
		assert.deepEqual([...m.stuckWorkers!], [[0, { t: 20, gone: false }]]);
		applyEvents(m, [{ type: 'run.warning', runId, t: 21, kind: 'stallEnded', message: 'No longer stalled: task 0 ended ...' }]);
		assert.equal(m.stuckWorkers, undefined);
		// A later stall replaces the names; one in which every task computes names nobody.
		applyEvents(m, [{ type: 'run.warning', runId, t: 25, kind: 'stalled', message: 'No task has started ...', goneWorkers: [0] }]);
		assert.deepEqual([...m.stuckWorkers!], [[0, { t: 25, gone: true }]]);
		applyEvents(m, [{ type: 'run.warning', runId, t: 30, kind: 'stalled', message: 'No task has started ...' }]);
		assert.equal(m.stuckWorkers, undefined);
	});

	it('memory: each worker\'s latest and peak, the main process\'s, and the run\'s peak over time', () => {
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			{ type: 'worker.started', runId, t: 1, workerId: 1, pid: 11 },
			{ type: 'memory.sample', runId, t: 5, main: 30, workers: [{ workerId: 0, rss: 100 }, { workerId: 1, rss: 10 }] },
			{ type: 'memory.sample', runId, t: 6, main: 20, workers: [{ workerId: 0, rss: 50 }, { workerId: 1, rss: 70 }] },
			{ type: 'memory.sample', runId, t: 7, workers: [{ workerId: 7, rss: 5 }] }, // no such worker: counted in the total only
		]);
		assert.equal(m.workers.get(0)!.rss, 50);
		assert.equal(m.workers.get(0)!.peakRss, 100);
		assert.equal(m.workers.get(1)!.peakRss, 70);
		assert.equal(m.mainRss, 20);
		assert.equal(m.peakMainRss, 30);
		assert.equal(m.peakRss, 140);
		assert.deepEqual(m.memory, [{ t: 5, total: 140 }, { t: 6, total: 140 }, { t: 7, total: 5 }]);
		// JS worker threads: their heaps, kept apart from the run's processes.
		applyEvents(m, [{ type: 'memory.sample', runId, t: 8, workers: [], threads: [{ workerId: 1, heap: 9 }] }, { type: 'memory.sample', runId, t: 9, workers: [], threads: [{ workerId: 1, heap: 4 }] }]);
		assert.deepEqual([m.workers.get(1)!.heap, m.workers.get(1)!.peakHeap], [4, 9]);
		assert.equal(m.memory.length, 3, 'thread heaps are not the run\'s process memory');
		assert.equal(m.peakRss, 140);
	});

	it('a worker that starts not ready is "starting" until worker.ready (or its first task, whichever comes first); one started ready is ready then', () => {
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			{ type: 'worker.started', runId, t: 2, workerId: 1, pid: 11, ready: false },
			{ type: 'worker.started', runId, t: 2, workerId: 2, pid: 12, ready: false },
		]);
		assert.deepEqual([...m.workers.values()].map((w) => [w.state, w.readyAt]), [['idle', 1], ['starting', undefined], ['starting', undefined]]);
		applyEvents(m, [
			{ type: 'worker.ready', runId, t: 40, workerId: 1 },
			{ type: 'task.started', runId, t: 45, taskId: 1, workerId: 2 },
			{ type: 'worker.ready', runId, t: 44, workerId: 2 }, // came later than the task's start
		]);
		assert.deepEqual([m.workers.get(1)!.state, m.workers.get(1)!.readyAt], ['idle', 40]);
		assert.deepEqual([m.workers.get(2)!.state, m.workers.get(2)!.readyAt], ['busy', 45]);
	});

	it('a result that arrives after its worker started the next task still counts for that worker', () => {
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			{ type: 'task.started', runId, t: 3, taskId: 0, workerId: 0 },
			{ type: 'task.started', runId, t: 13, taskId: 1, workerId: 0 },
			{ type: 'task.finished', runId, t: 14, taskId: 0, workerId: 0, durationMs: 10, result: '0' },
			{ type: 'task.finished', runId, t: 23, taskId: 1, workerId: 0, durationMs: 10, result: '1' },
		]);
		const w = m.workers.get(0)!;
		assert.equal(w.tasksDone, 2);
		assert.equal(w.busyMs, 20);
		assert.equal(w.state, 'idle');
	});

	it('caps captured output per task and says so', () => {
		const m = createRunModel(runId);
		const big = 'x'.repeat(40_000);
		applyEvents(m, [...base,
			{ type: 'task.output', runId, t: 5, taskId: 0, stream: 'stdout', text: big },
			{ type: 'task.output', runId, t: 6, taskId: 0, stream: 'stdout', text: big },
			{ type: 'task.output', runId, t: 7, taskId: 0, stream: 'stderr', text: 'lost' },
		]);
		const t = m.tasks.get(0)!;
		assert.equal(t.outputChars, 64 * 1024);
		assert.equal(t.outputTruncated, true);
	});

	it('output outside tasks: joined per process and stream, in order, capped and said so', () => {
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			{ type: 'run.output', runId, t: 2, stream: 'stdout', text: 'loading\n' },
			{ type: 'run.output', runId, t: 2, stream: 'stdout', text: 'ready\n' },
			{ type: 'run.output', runId, t: 3, stream: 'stdout', text: 'loading\n', workerId: 0 },
			{ type: 'run.output', runId, t: 3, stream: 'stderr', text: 'warned\n', workerId: 0 },
			{ type: 'run.output', runId, t: 4, stream: 'stdout', text: 'late\n' },
		]);
		assert.deepEqual(m.output, [
			{ stream: 'stdout', text: 'loading\nready\n' },
			{ workerId: 0, stream: 'stdout', text: 'loading\n' },
			{ workerId: 0, stream: 'stderr', text: 'warned\n' },
			{ stream: 'stdout', text: 'late\n' },
		]);
		assert.equal(m.outputTruncated, false);
		const big = 'x'.repeat(200_000);
		applyEvents(m, [{ type: 'run.output', runId, t: 5, stream: 'stdout', text: big }, { type: 'run.output', runId, t: 6, stream: 'stdout', text: big }]);
		assert.equal(m.outputChars, 256 * 1024);
		assert.equal(m.outputTruncated, true);
	});

	it('output is kept as a terminal leaves it: a \\r redraw replaces its line, \\r\\n ends one, colour codes go', () => {
		const fold = (...chunks: string[]) => chunks.reduce((text, c) => appendTerminal(text, c), '');
		assert.equal(fold('a\n', '\r 10%', '\r 20%', '\r 30%\n', 'b\n'), 'a\n 30%\nb\n');
		assert.equal(fold('win\r\n', 'dows\r', '\n'), 'win\ndows\n', 'CRLF line ends, also split across writes');
		assert.equal(fold('50%\r'), '50%\r', 'an open line keeps its \\r until the next write replaces it');
		assert.equal(fold('50%\r', '60%'), '60%');
		assert.equal(fold('\u001b[32mgreen\u001b[0m \u001b]0;title\u0007x\n'), 'green x\n');
		assert.equal(fold('one\ntwo\rTWO\nthree'), 'one\nTWO\nthree', 'only lines with a \\r change');
		// In the model: the limit counts what is kept, and a redraw of the same length is a new text.
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			...Array.from({ length: 2000 }, (_, i): PoolEvent => ({ type: 'task.output', runId, t: 5, taskId: 0, stream: 'stderr', text: `\rprogress ${String(i % 100).padStart(2, '0')}% ${'#'.repeat(60)}` })),
			{ type: 'task.output', runId, t: 6, taskId: 0, stream: 'stderr', text: '\n' },
			{ type: 'run.output', runId, t: 7, stream: 'stdout', text: 'load 1/2\r' },
			{ type: 'run.output', runId, t: 8, stream: 'stdout', text: 'load 2/2\r\n' },
		]);
		assert.deepEqual(m.tasks.get(0)!.output, [{ stream: 'stderr', text: `progress 99% ${'#'.repeat(60)}\n` }]);
		assert.equal(m.tasks.get(0)!.outputChars, 74);
		assert.equal(m.tasks.get(0)!.outputTruncated, false, '2,000 redraws of 74 characters are not 148 KB of output');
		assert.deepEqual(m.output, [{ stream: 'stdout', text: 'load 2/2\n' }]);
	});

	it('output goes to the task that printed it, in order, streams apart; a silent task has none', () => {
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			{ type: 'task.submitted', runId, t: 2, taskId: 9, input: '9' },
			{ type: 'task.output', runId, t: 5, taskId: 0, stream: 'stdout', text: 'a\n' },
			{ type: 'task.output', runId, t: 6, taskId: 0, stream: 'stdout', text: 'b\n' },
			{ type: 'task.output', runId, t: 7, taskId: 0, stream: 'stderr', text: 'c\n' },
		]);
		assert.deepEqual(m.tasks.get(0)!.output, [{ stream: 'stdout', text: 'a\nb\n' }, { stream: 'stderr', text: 'c\n' }]);
		assert.deepEqual(m.tasks.get(9)!.output, []);
		assert.equal(m.tasks.get(9)!.outputChars, 0);
		// A second model's tasks start silent too (the empty list is shared, never written to).
		const other = createRunModel('other');
		applyEvents(other, [{ type: 'task.submitted', runId: 'other', t: 1, taskId: 0, input: '0' }]);
		assert.deepEqual(other.tasks.get(0)!.output, []);
	});

	it('workerCpuShares: each worker\'s tasks\' CPU time over their wall time, only where read for half its busy time; JS tasks under 50 ms are not read', () => {
		const run = (language: 'python' | 'javascript', tasks: { worker: number; wall: number; cpu?: number }[], utilization: number[]): Map<number, number> => {
			const m = createRunModel(runId);
			const events: PoolEvent[] = [{ ...base[0]!, language, workers: 3 } as PoolEvent];
			tasks.forEach((t, i) => {
				events.push({ type: 'task.submitted', runId, t: 1, taskId: i, input: String(i) });
				events.push({ type: 'task.started', runId, t: 2, taskId: i, workerId: t.worker });
				events.push({ type: 'task.finished', runId, t: 2 + t.wall, taskId: i, workerId: t.worker, durationMs: t.wall, ...(t.cpu !== undefined ? { cpuMs: t.cpu } : {}), result: '' });
			});
			events.push({ type: 'run.finished', runId, t: 1000, outcome: 'completed', wallMs: 1000, counts: { submitted: tasks.length, finished: tasks.length, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 1, workers: utilization.map((u, w) => ({ workerId: w, tasks: 1, busyMs: u * 1000, utilization: u })) });
			applyEvents(m, events);
			return workerCpuShares(m);
		};
		// Worker 0: a quarter on a CPU; worker 1: CPU read (clamped to the wall) for 400 of its 900 ms busy, under half: none; worker 2: CPU-bound.
		const py = run('python', [{ worker: 0, wall: 400, cpu: 100 }, { worker: 0, wall: 400, cpu: 100 }, { worker: 1, wall: 400, cpu: 500 }, { worker: 1, wall: 500 }, { worker: 2, wall: 600, cpu: 570 }], [0.8, 0.9, 0.6]);
		assert.deepEqual([...py.entries()], [[0, 0.25], [2, 0.95]]);
		// The same on JS: 40 ms tasks read no CPU worth showing (the clock's tick), 60 ms ones do.
		const js = run('javascript', [{ worker: 0, wall: 40, cpu: 40 }, { worker: 1, wall: 60, cpu: 15 }], [0.04, 0.06]);
		assert.deepEqual([...js.entries()], [[1, 0.25]]);
		assert.equal(workerCpuShares(createRunModel(runId)).size, 0, 'a run not ended yet has none');
	});

	it('a task that ends without its CPU time, after running a second or more, keeps its worker\'s last share (a deadlock reads ~0); one read partly before it began does not', () => {
		const m = createRunModel(runId);
		applyEvents(m, [...base,
			{ type: 'worker.started', runId, t: 1, workerId: 1, pid: 11 },
			{ type: 'task.started', runId, t: 100, taskId: 0, workerId: 0 },
			{ type: 'task.started', runId, t: 1000, taskId: 1, workerId: 1 },
			{ type: 'worker.cpu', runId, t: 1500, workers: [{ workerId: 0, share: 0.01 }, { workerId: 1, share: 0.4 }] },
			{ type: 'task.failed', runId, t: 2100, taskId: 0, workerId: 0, durationMs: 2000, error: { kind: 'timeout', name: 'TimeoutError', message: 'x' } },
			{ type: 'task.failed', runId, t: 2100, taskId: 1, workerId: 1, durationMs: 1100, error: { kind: 'timeout', name: 'TimeoutError', message: 'x' } },
		]);
		assert.equal(m.tasks.get(0)!.lastCpuShare, 0.01);
		assert.equal(m.tasks.get(1)!.lastCpuShare, undefined, 'its worker\'s share covers 500-1500, half of it before the task began');
		applyEvents(m, [{ type: 'run.finished', runId, t: 2200, outcome: 'completed', wallMs: 2200, counts: { submitted: 3, finished: 0, failed: 0, cancelled: 0, timedOut: 2, rejected: 0 }, throughput: 1, workers: [{ workerId: 0, tasks: 1, busyMs: 2000, utilization: 0.9 }, { workerId: 1, tasks: 1, busyMs: 1100, utilization: 0.5 }] }]);
		assert.deepEqual([...workerCpuShares(m).entries()], [[0, 0.01]], 'the summary counts the timed-out task by it too');
		const read = createRunModel(runId);
		applyEvents(read, [...base,
			{ type: 'task.started', runId, t: 100, taskId: 0, workerId: 0 },
			{ type: 'worker.cpu', runId, t: 1500, workers: [{ workerId: 0, share: 0.01 }] },
			{ type: 'task.finished', runId, t: 2100, taskId: 0, workerId: 0, durationMs: 2000, cpuMs: 30, result: '' },
		]);
		assert.equal(read.tasks.get(0)!.lastCpuShare, undefined, 'a task with its own CPU time needs no stand-in');
	});

	it('what a worker was seen doing (worker.waits) counts per task by time: an ended task over its span, a running one over its last second', () => {
		const m = createRunModel(runId);
		const t = Array.from({ length: 30 }, (_, i) => 95 + i * 100); // 95, 195, ... 2995
		applyEvents(m, [...base,
			{ type: 'task.started', runId, t: 100, taskId: 0, workerId: 0 },
			// Looks come in pieces: what they saw at 95 ms (before the task) is not the task's.
			{ type: 'worker.waits', runId, t: 1000, workers: [{ workerId: 0, t: t.slice(0, 10), seen: 'l' + 'cg'.repeat(4) + 'i' }] },
			{ type: 'task.finished', runId, t: 1000, taskId: 0, workerId: 0, durationMs: 900, cpuMs: 450, result: '' },
			{ type: 'task.started', runId, t: 1000, taskId: 1, workerId: 0 },
			{ type: 'worker.waits', runId, t: 3000, workers: [{ workerId: 0, t: t.slice(10), seen: 'c'.repeat(10) + 'l'.repeat(10) }, { workerId: 7, t: [1], seen: 'c' }] },
		]);
		const w = m.workers.get(0)!;
		assert.deepEqual(taskLooks(m.tasks.get(0)!, w, 3000), [4, 4, 0, 0, 1], 'looks at 195-995 ms: c g c g ... i');
		assert.equal(looksText([4, 4, 0, 0, 1]), 'seen 9 times (every 10 ms): on a CPU 44%, waiting for the GIL 44%, in I/O or asleep 11%');
		// Running since 1000 ms: at 3000 ms, the last second's looks (2095-2995) only.
		assert.deepEqual(taskLooks(m.tasks.get(1)!, w, 3000), [0, 0, 10, 0, 0]);
		assert.equal(taskLooks(m.tasks.get(2)!, w, 3000), undefined, 'a task not started has none');
		assert.equal(m.workers.has(7), false, 'looks at a worker the run does not know are dropped');
	});

	it('workerLooks: per worker, the looks inside its ended tasks, not between them; a result that ends after the next task began counts in start order', () => {
		const m = createRunModel(runId);
		const events: PoolEvent[] = [...base, { type: 'worker.started', runId, t: 1, workerId: 1, pid: 11 }];
		// Worker 0: tasks 10-20, 20-30 (touching) and 50-60; looks every 5 ms from 0 to 70.
		const spans0 = [[10, 20], [20, 30], [50, 60]];
		spans0.forEach(([a, b], i) => events.push(
			{ type: 'task.started', runId, t: a!, taskId: 10 + i, workerId: 0 },
			{ type: 'task.finished', runId, t: b!, taskId: 10 + i, workerId: 0, durationMs: b! - a!, result: '' },
		));
		// Worker 1 (a process pool's): task 20 runs 10-40 but its result comes at 60, after task 21 (40-50) ended.
		events.push(
			{ type: 'task.started', runId, t: 10, taskId: 20, workerId: 1 },
			{ type: 'task.started', runId, t: 40, taskId: 21, workerId: 1 },
			{ type: 'task.finished', runId, t: 50, taskId: 21, workerId: 1, durationMs: 10, result: '' },
			{ type: 'task.finished', runId, t: 60, taskId: 20, workerId: 1, durationMs: 30, result: '' },
		);
		const t = Array.from({ length: 15 }, (_, i) => i * 5);
		events.push({ type: 'worker.waits', runId, t: 70, workers: [{ workerId: 0, t, seen: 'iiccccciiicccii' }, { workerId: 1, t, seen: 'lllllllllllllll' }] });
		applyEvents(m, events);
		// Worker 0's looks at 10-30 (5 of them) and 50-60 (3): 'ccccc' and 'ccc'; those at 35-45 and 65-70 were between tasks.
		assert.deepEqual(workerLooks(m).get(0), [8, 0, 0, 0, 0]);
		// Worker 1's at 10-50: nine.
		assert.deepEqual(workerLooks(m).get(1), [0, 0, 9, 0, 0]);
		// The same as counting task by task (what the panel's details say).
		const perTask = (w: number) => [...m.tasks.values()].filter((k) => k.workerId === w).reduce((sum, k) => sum + (taskLooks(k, m.workers.get(w), 70)?.reduce((a, b) => a + b, 0) ?? 0), 0);
		assert.equal(perTask(0), 8 + 1, 'task by task, the look at 20 ms counts in both touching tasks');
		assert.equal(perTask(1), 9 + 1);
		assert.equal(workerLooks(createRunModel(runId)).size, 0);
	});
});

