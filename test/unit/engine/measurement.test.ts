/** Pure pieces of compare: labels, one run as a row, the advice for chunks and for two runs. */
import * as assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { advise, adviseChunksize, adviseRuns, speedups } from '../../../engine/compare/advice';
import { machineCpu } from '../../../engine/cpu/cpuSampler';
import { chunksizeConfigs, compareConfigs } from '../../../engine/compare/compare';
import { amdahlSentence, configLabel, measureRun, seenLabel, type Measurement } from '../../../engine/compare/measurement';
import type { PoolEvent } from '../../../engine/protocol/events';
import { isWebviewMessage } from '../../../webview/messages';

const row = (config: Measurement['config'], wallMs: number, failed = 0): Measurement => ({ config, wallMs, minMs: wallMs, maxMs: wallMs, outcome: 'completed', failed });

describe('compare: configurations, measurements and advice (pure)', () => {
	it('names configurations the same way everywhere', () => {
		assert.equal(configLabel({ pool: 'thread', workers: 4 }), 'thread ×4');
		assert.equal(configLabel({ pool: 'process', workers: 2, startMethod: 'spawn', chunksize: 10 }), 'process ×2 (spawn, chunksize 10)');
	});

	it('an Amdahl fit in words: a serial fraction\'s limit, and none for a fit of 0 (it read "at most 1000.0x")', () => {
		assert.equal(amdahlSentence(0.2), 'Amdahl fit: serial fraction 20.0%, so at most 5.0x however many workers');
		assert.equal(amdahlSentence(0.001), 'Amdahl fit: serial fraction 0.1%, so at most 1000.0x however many workers');
		assert.equal(amdahlSentence(0), 'Amdahl fit: serial fraction 0.0%, no serial part measured, so no limit in sight');
	});

	it('Compare gets one process pool per start method; a chunksize sweep uses map for Python only', () => {
		assert.deepEqual(compareConfigs(2).map(configLabel), ['serial ×1', 'thread ×2', 'process ×2']);
		assert.deepEqual(compareConfigs(2, ['fork', 'spawn']).map(configLabel), ['serial ×1', 'thread ×2', 'process ×2 (fork)', 'process ×2 (spawn)']);
		assert.deepEqual(chunksizeConfigs('process', 2, [1, 100], 'python').map((c) => c.mode), ['map', 'map']);
		assert.deepEqual(chunksizeConfigs('process', 2, [1, 100], 'javascript').map((c) => c.mode), [undefined, undefined]);
	});

	it('measures one finished run: wall, CPU share, failures, its configuration', () => {
		const events: PoolEvent[] = [
			{ type: 'run.started', runId: 'r', t: 0, fn: 'f', file: '/f.py', language: 'python', pool: 'process', workers: 2, options: { workers: 2, chunksize: 5 }, inputCount: 2, cores: 2, runtime: 'CPython', startMethod: 'forkserver', stages: [] },
			{ type: 'task.finished', runId: 'r', t: 1, taskId: 0, workerId: 0, durationMs: 100, cpuMs: 90, result: '' },
			{ type: 'task.finished', runId: 'r', t: 2, taskId: 1, workerId: 1, durationMs: 100, cpuMs: 70, result: '' },
			{ type: 'cpu.sample', runId: 'r', t: 2, total: 0.5, perCore: [0.5, 0.5] },
			{ type: 'cpu.sample', runId: 'r', t: 2.5, total: 1, perCore: [1, 1] },
			{ type: 'run.finished', runId: 'r', t: 3, outcome: 'completed', wallMs: 250, counts: { submitted: 3, finished: 2, failed: 1, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 8, workers: [] },
		];
		const m = measureRun(events)!;
		assert.deepEqual(m.config, { pool: 'process', workers: 2, chunksize: 5, startMethod: 'forkserver' });
		assert.equal(m.wallMs, 250);
		assert.equal(m.cpuShare, 0.8);
		assert.equal(m.failed, 1);
		assert.equal(m.runId, 'r');
		assert.equal(m.machineCpu, 0.75);
		assert.equal(m.taskMs, 100);
		assert.equal(m.taskSpanMs, 101, 'from the first start (t 1 - 100 ms) to the last end (t 2)');
		assert.equal(measureRun(events.slice(0, 3)), undefined, 'a run that has not ended has no figures');
	});

	it('what the workers were seen in counts only the looks inside their tasks, and the cell names the wait seen most (a fifth or more) or else the CPU', () => {
		const started: PoolEvent = { type: 'run.started', runId: 'r', t: 0, fn: 'f', file: '/f.py', language: 'python', pool: 'thread', workers: 2, options: { workers: 2 }, inputCount: 2, cores: 2, runtime: 'CPython', stages: [] };
		const finished: PoolEvent = { type: 'run.finished', runId: 'r', t: 400, outcome: 'completed', wallMs: 400, counts: { submitted: 2, finished: 2, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 5, workers: [] };
		// Worker 0's task 100-200 ms, worker 1's 100-300 ms; looks every 10 ms from 0 to 390, in two events.
		const looks = (from: number, to: number) => Array.from({ length: (to - from) / 10 }, (_, i) => from + i * 10);
		const events: PoolEvent[] = [
			started,
			{ type: 'worker.waits', runId: 'r', t: 200, workers: [{ workerId: 0, t: looks(0, 200), seen: 'i'.repeat(10) + 'cccccgggggg'.slice(0, 10) }, { workerId: 1, t: looks(0, 200), seen: 'i'.repeat(10) + 'l'.repeat(10) }] },
			{ type: 'task.finished', runId: 'r', t: 200, taskId: 0, workerId: 0, durationMs: 100, result: '' },
			{ type: 'worker.waits', runId: 'r', t: 400, workers: [{ workerId: 0, t: looks(200, 400), seen: 'i'.repeat(20) }, { workerId: 1, t: looks(200, 400), seen: 'l'.repeat(10) + 'i'.repeat(10) }] },
			{ type: 'task.finished', runId: 'r', t: 300, taskId: 1, workerId: 1, durationMs: 200, result: '' },
			finished,
		];
		const m = measureRun(events)!;
		// Inside: worker 0 at 100-200 (11 looks: 5 c, 5 g, then the i at 200), worker 1 at 100-300 (21: 20 l, 1 i).
		assert.deepEqual(m.seen, [5, 5, 20, 0, 2]);
		assert.deepEqual(seenLabel(m), { text: 'lock 63%', title: 'inside their tasks the workers were seen 32 times (every 10 ms): waiting on a lock, queue or event 63%, on a CPU 16%, waiting for the GIL 16%, in I/O or asleep 6%' });
		assert.equal(seenLabel({ ...m, seen: [30, 5, 0, 0, 5] }).text, 'CPU 75%', 'no wait a fifth of the looks: the CPU share');
		assert.equal(seenLabel({ ...m, seen: [5, 5, 5, 0, 0] }).text, '', 'fewer than 20 looks say nothing');
		assert.equal(measureRun([started, finished])!.seen, undefined, 'no looks (a measured run, not Linux)');
	});

	it('the machine\'s CPU over an interval: one busy core shows', () => {
		const end = machineCpu();
		const until = Date.now() + 300;
		while (Date.now() < until) {
			// one core busy
		}
		const busy = end();
		assert.ok(busy >= 0.6 / cpus().length && busy <= 1, `machine CPU ${busy} with one of ${cpus().length} cores spinning`);
	});

	it('the GIL advice says how busy threads kept the machine', () => {
		const ms = [{ ...row({ pool: 'serial', workers: 1 }, 1000), cpuShare: 0.99 }, { ...row({ pool: 'thread', workers: 2 }, 1020), machineCpu: 0.51 }, row({ pool: 'process', workers: 2 }, 520)];
		assert.match(advise(ms, 2, 'python'), /\(the GIL lets one thread run Python at a time: the machine was 51% busy with threads\); use a process pool with 2 workers\.$/);
	});

	it('CPU-bound Python threads that waited for the GIL are never recommended: a lead they show is the noise of a short run', () => {
		// compare on countdown(3_000_000) x 4 said "use a thread pool with 2 workers" on serial 0.299 s,
		// threads 0.261 s (GIL wait 46%), processes 0.264 s.
		const serial = { ...row({ pool: 'serial', workers: 1 }, 299), cpuShare: 0.99, taskMs: 73 };
		const threads = { ...row({ pool: 'thread', workers: 2 }, 261), cpuShare: 0.53, gilWaitShare: 0.46, taskMs: 118, taskSpanMs: 230 };
		const seen = advise([serial, threads, { ...row({ pool: 'process', workers: 2 }, 264), cpuShare: 0.92, taskMs: 72, taskSpanMs: 150 }], 2, 'python');
		assert.equal(seen, "CPU-bound (CPU time / wall time 0.99 per task): 2 threads 1.15x, 2 processes 1.13x on 2 cores; use a process pool with 2 workers. The threads' 1.15x is noise: they waited 46% of their time for the GIL, running Python one at a time.");
		// Processes no clearer than serial either: no pool is.
		const neither = advise([serial, threads, { ...row({ pool: 'process', workers: 2 }, 285), cpuShare: 0.92, taskMs: 72, taskSpanMs: 150 }], 2, 'python');
		assert.doesNotMatch(neither, /use a/);
		assert.match(neither, /no pool was clearly faster than serial \(the best, process ×2, 1\.05x\).*The threads' 1\.15x is noise: they waited 46% of their time for the GIL, running Python one at a time\.$/);
		// Threads that did not wait for the GIL (C code that releases it) do scale, and can be the advice.
		const released = advise([serial, { ...threads, wallMs: 160, gilWaitShare: 0.02, cpuShare: 0.97, taskMs: 75 }, { ...row({ pool: 'process', workers: 2 }, 264), cpuShare: 0.92 }], 2, 'python');
		assert.match(released, /use a thread pool with 2 workers\.$/);
		// No process pool measured: the GIL is the reason given.
		assert.match(advise([serial, threads], 2, 'python'), /no pool was clearly faster than serial \(the best, thread ×2, 1\.15x\): the GIL lets one thread run Python at a time\./);
	});

	it('CPU-bound calls that each took longer in the pool than alone: the advice says the cores ran slower together', () => {
		const serial = { ...row({ pool: 'serial', workers: 1 }, 920), cpuShare: 0.99, taskMs: 230 };
		const threads = { ...row({ pool: 'thread', workers: 2 }, 960), cpuShare: 0.5, taskMs: 470 };
		const slowCores = [serial, threads, { ...row({ pool: 'process', workers: 2 }, 760), cpuShare: 0.98, taskMs: 300 }];
		assert.match(advise(slowCores, 2, 'python'), /use a process pool with 2 workers\. Each call took 1\.30x as long in the pool as alone \(0\.30 s vs 0\.23 s\) with its CPU busy throughout: this machine's cores ran slower with 2 busy at once .*so 2 workers cannot reach 2x here\.$/);
		// Equal cores: no such sentence.
		assert.match(advise([serial, threads, { ...row({ pool: 'process', workers: 2 }, 480), cpuShare: 0.98, taskMs: 235 }], 2, 'python'), /use a process pool with 2 workers\.$/);
		// Calls that waited (their CPU share is low) or more workers than cores: slower for other reasons.
		assert.match(advise([serial, threads, { ...row({ pool: 'process', workers: 2 }, 760), cpuShare: 0.6, taskMs: 300 }], 2, 'python'), /workers\.$/);
		assert.match(advise([serial, threads, { ...row({ pool: 'process', workers: 4 }, 760), cpuShare: 0.98, taskMs: 460 }], 2, 'python'), /workers\.$/);
	});

	it('waiting work where threads lost: the advice reports the winner instead of recommending threads', () => {
		const ms = [{ ...row({ pool: 'serial', workers: 1 }, 650), cpuShare: 0.27 }, row({ pool: 'thread', workers: 2 }, 940), row({ pool: 'process', workers: 2 }, 500)];
		const advice = advise(ms, 2, 'javascript');
		assert.match(advice, /^Waits dominate \(CPU 27% of wall\), yet threads did not come out ahead here: 2 threads 0\.69x, 2 processes 1\.30x on 2 cores; the process pool was fastest at 1\.30x/);
		assert.doesNotMatch(advice, /use threads/);
		const threadsWin = [{ ...row({ pool: 'serial', workers: 1 }, 3200), cpuShare: 0.01 }, row({ pool: 'thread', workers: 8 }, 400), row({ pool: 'process', workers: 2 }, 1700)];
		assert.match(advise(threadsWin, 2, 'python'), /use threads: they scale past the core count for waiting work \(8 threads 8\.00x\)\.$/);
		// A comparison's threads are as many as the cores: the advice says where to look next.
		const compared = [{ ...row({ pool: 'serial', workers: 1 }, 3200), cpuShare: 0.01 }, row({ pool: 'thread', workers: 2 }, 1600), row({ pool: 'process', workers: 2 }, 1700)];
		assert.match(advise(compared, 2, 'python'), /use threads: they scale past the core count for waiting work \(2 threads 2\.00x\)\. A sweep of thread counts shows how far\.$/);
	});

	it('without task CPU times (JS threads before Node 23.9) the serial run\'s looks give the CPU share, said as such; with neither, it says the share is unknown', () => {
		const runs = (seen: number[] | undefined) => [{ ...row({ pool: 'serial', workers: 1 }, 3200), seen }, row({ pool: 'thread', workers: 8 }, 400)];
		assert.match(advise(runs([0, 0, 0, 0, 40]), 2, 'javascript'), /^Waits dominate \(seen on a CPU 0% of the time\): 8 threads 8\.00x on 2 cores; use threads/);
		assert.match(advise(runs([38, 0, 0, 0, 2]), 2, 'javascript'), /^CPU-bound \(seen on a CPU 95% of the time\): 8 threads 8\.00x on 2 cores; use a thread pool with 2 workers\./);
		assert.match(advise(runs([20, 0, 0, 0, 20]), 2, 'javascript'), /^Mixed CPU and waiting \(seen on a CPU 50% of the time\): 8 threads 8\.00x; the thread pool was fastest at 8\.00x\.$/);
		// Too few looks (a run under ~0.2 s) or none: no figure is made up.
		assert.match(advise(runs([5, 0, 0, 0, 0]), 2, 'javascript'), /^CPU share unknown \(no task CPU times, and too few looks at the serial run\): 8 threads 8\.00x; the thread pool was fastest at 8\.00x\.$/);
		assert.match(advise(runs(undefined), 2, 'javascript'), /^CPU share unknown/);
	});

	it('waiting work whose calls were awaited: the advice names one event loop (Promise.all, asyncio.gather), not a thread per call; under half awaited it says threads', () => {
		const awaited = (share: number | undefined) => [{ ...row({ pool: 'serial', workers: 1 }, 3200), cpuShare: 0.01, awaitedShare: share }, { ...row({ pool: 'thread', workers: 8 }, 400), awaitedShare: share }];
		const js = advise(awaited(1), 2, 'javascript');
		assert.equal(js, 'Waits dominate (CPU 1% of wall): 8 threads 8.00x on 2 cores. The calls return promises, each awaited on its own by a worker: if they wait by awaiting (not a *Sync call or Atomics.wait), one event loop awaits them all at once, with no pool: start them together (Promise.all) on the main thread. Threads (8 threads 8.00x) only give each call an event loop of its own.');
		assert.match(advise(awaited(1), 2, 'python'), /^Waits dominate \(CPU 1% of wall\): 8 threads 8\.00x on 2 cores\. The calls are coroutines \(async def\), each run by an asyncio\.run of its own in a worker: .*asyncio\.gather in a single thread\. Threads \(8 threads 8\.00x\) only give each call a loop of its own\.$/);
		assert.match(advise(awaited(0.4), 2, 'javascript'), /; use threads: they scale past the core count/);
		assert.match(advise(awaited(undefined), 2, 'javascript'), /; use threads: they scale past the core count/);
	});

	it('no pool is recommended that lost to serial or beat it by less than the noise; why is said; one call, two workers read in the singular where they are one', () => {
		const tiny = [{ ...row({ pool: 'serial', workers: 1 }, 40), cpuShare: 1, taskMs: 0.01 }, { ...row({ pool: 'thread', workers: 2 }, 93), cpuShare: 1 }, { ...row({ pool: 'process', workers: 2 }, 220), cpuShare: 1 }];
		const a = advise(tiny, 2, 'python');
		assert.match(a, /^CPU-bound \(CPU time \/ wall time 1\.00 per task\): 2 threads 0\.43x, 2 processes 0\.18x on 2 cores: no pool was clearly faster than serial \(the best, thread ×2, 0\.43x\): each call takes under a millisecond/);
		assert.doesNotMatch(a, /use a|Each call took/);
		const gil = [{ ...row({ pool: 'serial', workers: 1 }, 4000), cpuShare: 0.99, taskMs: 1000 }, { ...row({ pool: 'thread', workers: 1 }, 3900), cpuShare: 0.99 }];
		assert.match(advise(gil, 2, 'python'), /1 thread 1\.03x on 2 cores: no pool was clearly faster than serial .*the GIL lets one thread run Python at a time\. Keep it serial/);
		const slightly = [{ ...row({ pool: 'serial', workers: 1 }, 650), cpuShare: 0.27 }, row({ pool: 'thread', workers: 2 }, 940), row({ pool: 'process', workers: 2 }, 600)];
		assert.match(advise(slightly, 2, 'javascript'), /no pool was clearly faster than serial \(the best, process ×2, 1\.08x\): the whole serial run took 0\.65 s, not much more than starting a pool costs/);
	});

	it('a machine crowded by other processes: a low CPU share is said to be partly waits for a core, and no pool winning is put down to it', () => {
		// fib(36) on a machine kept busy by others: the serial run's CPU read 28% of its wall, the
		// machine 100%; the advice said "Waits dominate" and blamed the pool's start-up.
		const serial = { ...row({ pool: 'serial', workers: 1 }, 1050), cpuShare: 0.28, taskMs: 260, machineCpu: 1 };
		const crowded = [serial, { ...row({ pool: 'thread', workers: 2 }, 1000), taskSpanMs: 850 }, { ...row({ pool: 'process', workers: 2 }, 1020), taskSpanMs: 830 }];
		const a = advise(crowded, 2, 'javascript');
		assert.match(a, /^Waits dominate \(CPU 28% of wall, while other processes kept the machine 86% busy: part of that wait was for a core\)/);
		assert.match(a, /no pool was clearly faster than serial \(the best, thread ×2, 1\.05x\): other processes kept the machine 86% busy, so the workers had little CPU to share: compare again on a quieter machine\./);
		assert.doesNotMatch(a, /starting a pool/);
		// Others came and went between the machine's two reads (it read 40%), but the looks saw the
		// serial call on a CPU or runnable 96% of the time: a wait for a core, not I/O.
		const seenRunnable = advise([{ ...serial, machineCpu: 0.4, seen: [96, 0, 2, 0, 2] }, ...crowded.slice(1)], 2, 'javascript');
		assert.match(seenRunnable, /^Waits dominate \(CPU 28% of wall, yet it was seen on a CPU or waiting for one 96% of the time: the rest was a wait for a core, not I\/O or a lock\)/);
		assert.doesNotMatch(advise([{ ...serial, machineCpu: 0.4, seen: [20, 0, 0, 0, 80] }, ...crowded.slice(1)], 2, 'javascript'), /seen on a CPU/, 'asleep: the waits were I/O');
		// The serial run's own core is not "other processes" (1 of 2 cores busy = 50%).
		const quiet = advise([{ ...serial, cpuShare: 0.99, machineCpu: 0.55 }, ...crowded.slice(1)], 2, 'javascript');
		assert.doesNotMatch(quiet, /other processes/);
		// The pool's start and end as measured (wall outside the tasks' span), not a fixed 2 s bar:
		// a 1.05 s serial run is not "not much more than starting a pool" that took 0.15 s.
		assert.match(quiet, /: the work did not spread over the workers\./);
		const short = advise([{ ...serial, wallMs: 400, cpuShare: 0.99, machineCpu: 0.5 }, { ...row({ pool: 'thread', workers: 2 }, 390), taskSpanMs: 200 }], 2, 'javascript');
		assert.match(short, /the whole serial run took 0\.40 s, not much more than the pool's own start and end \(0\.19 s\)/);
	});

	it('a configuration whose tasks failed (more than serial\'s) is left out of the advice and named; equal failures everywhere are named only', () => {
		const unpicklable = [{ ...row({ pool: 'serial', workers: 1 }, 400), cpuShare: 0.02, taskMs: 50 }, row({ pool: 'thread', workers: 2 }, 210), row({ pool: 'process', workers: 2 }, 260, 8)];
		const a = advise(unpicklable, 2, 'python');
		assert.match(a, /^Waits dominate .*2 threads 1\.90x on 2 cores; use threads.*\. Tasks that failed or timed out: process ×2 8 \(a configuration with more than serial's did other work, and is left out\)\.$/);
		assert.doesNotMatch(a, /processes/);
		const everywhere = [{ ...row({ pool: 'serial', workers: 1 }, 4000, 2), cpuShare: 0.99, taskMs: 600 }, { ...row({ pool: 'process', workers: 2 }, 2100, 2), cpuShare: 0.99, taskMs: 610 }];
		assert.match(advise(everywhere, 2, 'python'), /use a process pool with 2 workers\. Tasks that failed or timed out: serial ×1 2, process ×2 2\.$/);
	});

	it('chunksize advice names the gain and the call, or says chunks do not pay', () => {
		const ms = [row({ pool: 'process', workers: 2, chunksize: 1 }, 3000), row({ pool: 'process', workers: 2, chunksize: 10 }, 1200), row({ pool: 'process', workers: 2, chunksize: 100 }, 1000)];
		assert.equal(adviseChunksize(ms, 'python'), 'Tiny tasks: per-task messages dominate; chunksize 100 is 3.00x faster than chunksize 1 on process ×2 (1.00 s vs 3.00 s); use executor.map(fn, items, chunksize=100).');
		assert.equal(speedups(ms, 'first').get(ms[2]!), 3);
		const flat = [row({ pool: 'process', workers: 2, chunksize: 1 }, 1000), row({ pool: 'process', workers: 2, chunksize: 100 }, 980)];
		assert.match(adviseChunksize(flat, 'javascript'), /^Chunks do not pay here: chunksize 1 is within 1\.02x/);
	});

	it('two runs: B against A, with a caveat when they did different work', () => {
		const a = row({ pool: 'thread', workers: 2 }, 2000);
		const b = row({ pool: 'process', workers: 2 }, 1000, 1);
		assert.equal(adviseRuns(a, b, true), 'B (process ×2, 1.00 s) is 2.00x faster than A (thread ×2, 2.00 s). Failed or timed-out tasks: 0 in A, 1 in B.');
		assert.match(adviseRuns(b, a, false), /^B \(thread ×2, 2\.00 s\) is 2\.00x slower than A .*different work/);
	});

	it('the webview may ask for history actions, and nothing malformed gets through', () => {
		assert.ok(isWebviewMessage({ type: 'openHistory', id: 'fib-1' }));
		assert.ok(isWebviewMessage({ type: 'deleteHistory', id: 'fib-1' }));
		assert.ok(isWebviewMessage({ type: 'compareRuns', runIds: ['a', 'b'] }));
		assert.ok(!isWebviewMessage({ type: 'compareRuns', runIds: ['a', 'a'] }));
		assert.ok(!isWebviewMessage({ type: 'compareRuns', runIds: ['a'] }));
		assert.ok(!isWebviewMessage({ type: 'compareRuns', runIds: 'a,b' }));
		assert.ok(!isWebviewMessage({ type: 'openHistory', id: '' }));
		assert.ok(!isWebviewMessage({ type: 'openHistory' }));
	});
});
