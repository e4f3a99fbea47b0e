/** Compare and sweep with real pools and real Python: the textbook shapes, asserted as ratios. */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPython, interpreterToStart } from '../../../engine/python/interpreter';
import { advise, adviseChunksize, amdahlSerialFraction, CLEAR_GAIN, speedups } from '../../../engine/compare/advice';
import { chunksizeConfigs, comparableStartMethods, compareConfigs, runConfigs, sweepConfigs, type Measurement } from '../../../engine/compare/compare';
import { seenLabel, type Config } from '../../../engine/compare/measurement';
import type { RunStartedEvent } from '../../../engine/protocol/events';
import { startRun } from '../../../engine/startRun';
import { waitFor } from '../../harness/processes';
import { childProcesses } from './jsHelpers';
import { parallelCapacity } from './machine';

const ROOT = join(__dirname, '..', '..', '..', '..');
const samples = (p: string) => join(ROOT, 'samples', p);

describe('compare and sweep (real pools, shapes not times)', function () {
	this.timeout(120_000);

	/** Skips a ratio test, saying why, when the machine cannot give 2 cores at the moment. */
	async function needTwoCores(ctx: Mocha.Context): Promise<void> {
		const capacity = await parallelCapacity();
		if (capacity < 1.6) {
			console.log(`      skipped: two plain processes only reach ${capacity.toFixed(2)}x together on this machine right now (busy VM)`);
			ctx.skip();
		}
	}

	/**
	 * After failed attempts: skips, with the figures, if in every attempt the machine had lost its
	 * second core (two plain processes under 1.6x right after), or its cores ran slower with both
	 * busy: the pool's calls took 1.25x as long as the same calls alone, with their CPU busy (one
	 * of this VM's vCPUs ran a loop 1.65x slower than the other at times). Either way the pool
	 * could not have scaled, and a failure would say nothing about Poolscope.
	 */
	function skipIfMachineSlow(ctx: Mocha.Context, attempts: { capacity: number; callSlowdown: number; text: string }[]): void {
		if (attempts.every((a) => a.capacity < 1.6 || a.callSlowdown >= 1.25)) {
			console.log(`      skipped: the machine's second core was missing or slower in every attempt: ${attempts.map((a) => a.text).join('; ')}`);
			ctx.skip();
		}
	}

	/** Mean time of one call in `pool` against the same call alone (serial). */
	const callSlowdown = (ms: Measurement[], pool: string) => (ms.find((m) => m.config.pool === pool)?.taskMs ?? NaN) / (ms.find((m) => m.config.pool === 'serial')?.taskMs ?? NaN);

	it('CPU-bound Python on 2 workers: threads no faster than serial, processes clearly faster; advice says processes', async function () {
		await needTwoCores(this);
		// A shared VM steals CPU now and then: the shape must show in one of three attempts
		// (each the median of three runs per configuration), and every attempt is reported.
		// The shape, within one attempt: threads within 1.35x of serial, processes 1.25x ahead
		// of threads and ahead of serial by the advice's own margin (CLEAR_GAIN: at 1.07x it
		// rightly says no pool was clearly faster). Not "processes near 2x": this VM's two vCPUs are
		// not equal at times (a process pool's two workers ran the same task in 285 and 427 ms,
		// CPU = wall on both), and fresh-clone CI runs read processes 1.04-1.36x serial while
		// threads read 0.80-1.08x: the lead over threads held every time, the absolute figure not.
		// If the machine had lost its second core by the end of every attempt, the test says so
		// and skips.
		const attempts: { capacity: number; callSlowdown: number; text: string }[] = [];
		for (let attempt = 0; attempt < 3; attempt++) {
			const ms = await runConfigs({ file: samples('python/cpu_bound.py'), fn: 'countdown', inputs: '[(12_000_000,)] * 4', language: 'python' }, compareConfigs(2), 3).done;
			const s = speedups(ms);
			const by = (pool: string) => s.get(ms.find((m) => m.config.pool === pool)!)!;
			const capacity = await parallelCapacity();
			const slower = callSlowdown(ms, 'process');
			attempts.push({ capacity, callSlowdown: slower, text: `threads ${by('thread').toFixed(2)}x, processes ${by('process').toFixed(2)}x, a call in the process pool ${slower.toFixed(2)}x as long as alone (two plain processes then: ${capacity.toFixed(2)}x)` });
			if (by('thread') <= 1.35 && by('process') >= CLEAR_GAIN && by('process') / by('thread') >= 1.25) {
				assert.match(advise(ms, 2, 'python'), /^CPU-bound .*use a process pool with 2 workers/);
				// What each configuration's workers were seen in inside their tasks (Linux looks):
				// the serial call computing, the threads waiting for the GIL a good part of it.
				if (process.platform === 'linux') {
					const seen = (pool: string) => seenLabel(ms.find((m) => m.config.pool === pool)!).text;
					assert.match(seen('serial'), /^CPU (9\d|100)%$/, JSON.stringify(ms.map((m) => m.seen)));
					assert.match(seen('thread'), /^GIL \d+%$/, JSON.stringify(ms.map((m) => m.seen)));
				}
				return;
			}
		}
		skipIfMachineSlow(this, attempts);
		assert.fail(`the textbook shape did not show: ${attempts.map((a) => a.text).join('; ')}`);
	});

	it('calls that await (a JS promise, a Python coroutine) are counted as such, and the advice names one event loop, not a thread per call; JS calls that block their thread keep "use threads"', async () => {
		const fixtures = join(ROOT, 'test', 'unit');
		// JS: the sample's download awaits a timer. A process pool too: JS thread tasks carry no CPU
		// time before Node 23.9, and the advice's CPU share then comes from the processes.
		const jsConfigs: Config[] = [{ pool: 'serial', workers: 1 }, { pool: 'thread', workers: 8 }, { pool: 'process', workers: 2 }];
		const js = await runConfigs({ file: samples('js/io.js'), fn: 'download', inputs: 'Array.from({ length: 8 }, (_, i) => [i, 100])', language: 'javascript' }, jsConfigs).done;
		assert.deepEqual(js.map((m) => m.awaitedShare), [1, 1, 1]);
		const jsAdvice = advise(js, 2, 'javascript');
		assert.match(jsAdvice, /^Waits dominate .*The calls return promises, .*start them together \(Promise\.all\) on the main thread\. Threads \(8 threads \d+\.\d\dx\) only give each call an event loop of its own\.$/);
		assert.doesNotMatch(jsAdvice, /use threads/);
		// JS: the same wait, blocking the thread (Atomics.wait): a thread per call is the way.
		const blocked = await runConfigs({ file: join(fixtures, 'engine', 'fixtures', 'js', 'stall.js'), fn: 'blocked', inputs: 'Array.from({ length: 8 }, () => [100])', language: 'javascript' }, jsConfigs).done;
		assert.deepEqual(blocked.map((m) => m.awaitedShare), [undefined, undefined, undefined]);
		assert.match(advise(blocked, 2, 'javascript'), /^Waits dominate .*; use threads: they scale past the core count for waiting work \(8 threads \d+\.\d\dx\)\.$/);
		// Python: a coroutine function (each call run by asyncio.run in its worker), with and without a
		// timeout (a thread pool then calls a wrapper of it, which must not hide what it is).
		const py = await runConfigs({ file: join(fixtures, 'python', 'fixtures', 'tasks.py'), fn: 'fetch_async', inputs: 'range(8)', language: 'python' }, [{ pool: 'serial', workers: 1 }, { pool: 'thread', workers: 8 }]).done;
		assert.deepEqual(py.map((m) => m.awaitedShare), [1, 1]);
		assert.match(advise(py, 2, 'python'), /^Waits dominate .*The calls are coroutines \(async def\), .*asyncio\.gather in a single thread\. Threads \(8 threads \d+\.\d\dx\) only give each call a loop of its own\.$/);
		const timed = await runConfigs({ file: join(fixtures, 'python', 'fixtures', 'tasks.py'), fn: 'fetch_async', inputs: 'range(4)', language: 'python', timeoutMs: 5000 }, [{ pool: 'thread', workers: 4 }]).done;
		assert.equal(timed[0]!.awaitedShare, 1);
	});

	it('sleep-bound Python: 8 threads beat 2 threads by 3x or more; advice says threads', async () => {
		const ms = await runConfigs({ file: samples('python/io_bound.py'), fn: 'download', inputs: '[(i, 0.1) for i in range(16)]', language: 'python' }, [{ pool: 'serial', workers: 1 }, ...sweepConfigs('thread', [2, 8])]).done;
		const [two, eight] = ms.filter((m) => m.config.pool === 'thread');
		assert.ok(two!.wallMs / eight!.wallMs >= 3, `8 threads vs 2: ${two!.wallMs / eight!.wallMs}x`);
		// Each configuration's memory: one interpreter (the runner) whatever the thread count.
		assert.ok(ms.every((m) => m.peakRss !== undefined && m.peakRss > 5 * 1048576), JSON.stringify(ms.map((m) => m.peakRss)));
		assert.match(advise(ms, 2, 'python'), /^Waits dominate .*use threads/);
		if (process.platform === 'linux') {
			// Asleep inside their tasks, serial and threaded alike (8 threads: too short a run to look).
			assert.deepEqual(ms.slice(0, 2).map((m) => seenLabel(m).text.split(' ')[0]), ['I/O', 'I/O'], JSON.stringify(ms.map((m) => m.seen)));
		}
	});

	it('CPU-bound JS: the thread pool scales (no GIL)', async function () {
		await needTwoCores(this);
		// As above: the shape must show in one of three attempts (each a median of three runs).
		// Two readings, either one enough: the wall time vs serial (1.3x), or the calls' own
		// throughput while they ran (4 calls' serial time / first start to last end in the pool,
		// 1.4x), which leaves out the two workers' start. A pool serialized as by a GIL reads
		// ~1.0x on both (Python's threads above: 0.80-1.08x). Why both: fresh-clone CI read
		// 1.23-1.25x wall three times in a row with calls only 1.19-1.23x slower than alone,
		// their two workers' start and end weighing on four ~150 ms calls. Speed goals live in
		// `npm run bench`.
		const attempts: { capacity: number; callSlowdown: number; text: string }[] = [];
		for (let attempt = 0; attempt < 3; attempt++) {
			const ms = await runConfigs({ file: samples('js/cpu.js'), fn: 'fib', inputs: '[[36], [36], [36], [36]]', language: 'javascript' }, [{ pool: 'serial', workers: 1 }, { pool: 'thread', workers: 2 }], 3).done;
			const speedup = speedups(ms).get(ms[1]!)!;
			const whileRunning = (4 * ms[0]!.taskMs!) / ms[1]!.taskSpanMs!;
			const capacity = await parallelCapacity();
			const slower = callSlowdown(ms, 'thread');
			attempts.push({ capacity, callSlowdown: slower, text: `${speedup.toFixed(2)}x wall, ${whileRunning.toFixed(2)}x while the calls ran, a call in the pool ${slower.toFixed(2)}x as long as alone (two plain processes then: ${capacity.toFixed(2)}x)` });
			if (speedup >= 1.3 || whileRunning >= 1.4) {
				return;
			}
		}
		skipIfMachineSlow(this, attempts);
		assert.fail(`2 threads never reached 1.3x serial (wall) nor 1.4x (while the calls ran): ${attempts.map((a) => a.text).join('; ')}`);
	});

	it('a cancelled comparison stops at once and leaves no process', async () => {
		const h = runConfigs({ file: samples('python/cpu_bound.py'), fn: 'countdown', inputs: '[(50_000_000,)] * 4', language: 'python' }, [{ pool: 'process', workers: 2 }, { pool: 'serial', workers: 1 }]);
		await new Promise((r) => setTimeout(r, 1500));
		const t0 = Date.now();
		await h.cancel();
		const ms = await h.done;
		assert.ok(Date.now() - t0 < 8000, 'cancel took too long');
		assert.ok(ms.length <= 1, 'no configuration ran after the cancel');
		assert.ok(await waitFor(() => childProcesses().length === 0, 5000), childProcesses().join(' | '));
	});

	it('a run of the comparison cancelled from outside (Cancel Run) cancels the comparison: nothing more runs, no measurement of the cancelled run', async () => {
		const started: string[] = [];
		const h = runConfigs({ file: samples('js/cpu.js'), fn: 'countdown', inputs: '[[2_000_000_000], [2_000_000_000]]', language: 'javascript' }, compareConfigs(2), 1, undefined, (request, sink) => {
			const run = startRun(request, sink);
			started.push(request.pool);
			// As "Poolscope: Cancel Run" does: the run, not the comparison.
			setTimeout(() => void run.cancel('cancelled by user'), 500);
			return run;
		});
		const ms = await h.done;
		assert.deepEqual(started, ['serial'], 'no configuration ran after the cancel');
		assert.deepEqual(ms, []);
		assert.equal(h.interrupted, true);
	});

	it('a comparison that ran to its end is not interrupted', async () => {
		const h = runConfigs({ file: samples('js/cpu.js'), fn: 'fib', inputs: '[[5], [5]]', language: 'javascript' }, compareConfigs(2));
		assert.equal((await h.done).length, 3);
		assert.equal(h.interrupted, false);
	});

	it('chunksize sweep, JS process pool, tiny tasks: chunks of 100 beat one task per message, and the advice says so', async () => {
		// Chunksize 1 already keeps up to 4 tiny tasks ahead in each worker and sends what one turn
		// dispatches in one message, so chunks save the rest of the messages, not the waits:
		// 1.15-1.57x on this VM (2.5-3x before both), and the advice speaks from 1.1x. One full
		// CI run read 1.07x (the VM busy): like the compare tests above, the shape must show in
		// one of three attempts, and every attempt is reported.
		const gains: string[] = [];
		for (let attempt = 0; attempt < 3; attempt++) {
			const ms = await runConfigs({ file: samples('js/cpu.js'), fn: 'countdown', inputs: '4000', language: 'javascript' }, chunksizeConfigs('process', 2, [1, 100], 'javascript')).done;
			const gain = speedups(ms, 'first').get(ms[1]!)!;
			assert.deepEqual(childProcesses(), []);
			gains.push(`${gain.toFixed(2)}x`);
			if (gain >= 1.1) {
				assert.match(adviseChunksize(ms, 'javascript'), /^Tiny tasks: .*chunksize 100 is \d+\.\d\dx faster than chunksize 1 .*use chunksize 100\.$/);
				return;
			}
		}
		assert.fail(`chunksize 100 vs 1 never reached 1.1x: ${gains.join(', ')}`);
	});

	it('chunksize sweep, Python map on a process pool: chunks of 100 beat chunks of 1', async () => {
		const ms = await runConfigs({ file: samples('python/cpu_bound.py'), fn: 'countdown', inputs: '[(10,)] * 3000', language: 'python' }, chunksizeConfigs('process', 2, [1, 100], 'python')).done;
		const gain = speedups(ms, 'first').get(ms[1]!)!;
		assert.ok(gain >= 1.5, `chunksize 100 vs 1: ${gain.toFixed(2)}x`);
		assert.match(adviseChunksize(ms, 'python'), /use executor\.map\(fn, items, chunksize=100\)\.$/);
	});

	it('Compare with start methods runs one process pool per method, each really on that method', async () => {
		const seen: RunStartedEvent[] = [];
		const ms = await runConfigs({ file: samples('python/cpu_bound.py'), fn: 'countdown', inputs: '[(1000,)] * 4', language: 'python', startMethod: 'fork' }, compareConfigs(2, ['spawn', 'forkserver']), 1, undefined, (request, sink) => startRun(request, (batch) => {
			for (const e of batch) {
				if (e.type === 'run.started') {
					seen.push(e);
				}
			}
			sink(batch);
		})).done;
		assert.deepEqual(ms.map((m) => m.config.startMethod), [undefined, undefined, 'spawn', 'forkserver']);
		assert.deepEqual(seen.filter((e) => e.pool === 'process').map((e) => e.startMethod), ['spawn', 'forkserver']);
		assert.ok(ms.every((m) => m.outcome === 'completed' && m.failed === 0));
	});

	it('Amdahl: recovers the serial fraction of ideal curves', () => {
		const curve = (sf: number) => [1, 2, 4, 8].map((n) => ({ workers: n, speedup: 1 / (sf + (1 - sf) / n) }));
		assert.equal(amdahlSerialFraction(curve(0.1)), 0.1);
		assert.equal(amdahlSerialFraction(curve(0)), 0);
	});

	it('Python behind a launcher (a pyenv shim) is resolved before the first configuration runs, so serial does not pay the launcher and the pools not', async function () {
		const py = findPython();
		if (!py.ok || !/^#!/.test(readFileSync(py.path, 'utf8').slice(0, 2))) {
			this.skip(); // python3 is a binary here: nothing to resolve
		}
		let startedWith: string | undefined;
		// A folder of its own: what a launcher picked is remembered per folder, and no other test may have asked here.
		const folder = mkdtempSync(join(tmpdir(), 'poolscope-launcher-'));
		after(() => rmSync(folder, { recursive: true, force: true }));
		const handle = runConfigs({ file: samples('python/cpu_bound.py'), fn: 'countdown', language: 'python', inputs: '[(10,)]', workspaceRoot: folder }, [{ pool: 'serial', workers: 1 }], 1, undefined, (request, sink) => {
			startedWith ??= interpreterToStart(py.path, request.workspaceRoot);
			return startRun(request, sink);
		});
		const [serial] = await handle.done;
		assert.equal(serial?.outcome, 'completed');
		assert.notEqual(startedWith, py.path, 'the first run started the interpreter itself, not its launcher');
		assert.match(readFileSync(startedWith!).subarray(0, 4).toString('latin1'), /^\x7fELF/, `${startedWith} is a binary`);
	});

	it('the CLI prints the table and the advice', async () => {
		const out = await new Promise<string>((resolve) => {
			const c = spawn(process.execPath, [join(ROOT, 'out', 'cli.js'), 'compare', samples('python/cpu_bound.py'), 'countdown', '--inputs', '[(1_000_000,)] * 2', '--workers', '2'], { stdio: ['ignore', 'pipe', 'ignore'] });
			let s = '';
			c.stdout.setEncoding('utf8').on('data', (d: string) => { s += d; });
			c.on('close', () => resolve(s));
		});
		assert.match(out, /^pool +workers +wall \(median\) .* one call .* peak memory$/m);
		assert.match(out, /^process +2 .* \d+(\.\d)? MB$/m, 'the process pool\'s peak memory: runner and workers');
		assert.match(out, /^serial +1 .* \d\.\d{3} s /m, 'the mean time of one call');
		assert.match(out, /^process +2 /m);
		assert.match(out, /use a (process|thread) pool|Mixed|Waits|no pool was clearly faster than serial/);
	});

	it('the CLI sweeps chunksizes and checks its start methods', async () => {
		const cli = (args: string[]) => new Promise<{ out: string; err: string; code: number | null }>((resolve) => {
			const c = spawn(process.execPath, [join(ROOT, 'out', 'cli.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
			let out = '';
			let err = '';
			c.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
			c.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
			c.on('close', (code) => resolve({ out, err, code }));
		});
		const sweep = await cli(['sweep', samples('js/cpu.js'), 'countdown', '--inputs', '600', '--pool', 'process', '--workers', '2', '--chunksizes', '1,50']);
		assert.equal(sweep.code, 0, sweep.err);
		assert.match(sweep.out, /^pool +workers +chunksize +wall \(median\) +min-max +vs chunksize 1/m);
		assert.match(sweep.out, /^process +2 +50 /m);
		assert.match(sweep.out, /Tiny tasks|Chunks do not pay/);
		const bad = await cli(['compare', samples('python/cpu_bound.py'), 'countdown', '--inputs', '2', '--start-methods', 'fork,teleport']);
		assert.equal(bad.code, 2);
		assert.match(bad.err, /--start-methods takes fork, spawn and forkserver \(got "teleport"\)/);
		const notProcess = await cli(['sweep', samples('js/cpu.js'), 'countdown', '--inputs', '2', '--pool', 'thread', '--chunksizes', '1,10']);
		assert.equal(notProcess.code, 2);
		assert.match(notProcess.err, /a chunksize sweep needs --pool process/);
		// A function whose comment asks for max tasks per child: fork cannot take it, so it is left
		// out with the reason, and the comparison runs (it failed whole at the fork row).
		const recycled = await cli(['compare', samples('python/memory.py'), 'recycled', '--inputs', '[(1,)] * 4', '--workers', '2', '--start-methods', 'fork,spawn']);
		assert.equal(recycled.code, 0, recycled.err);
		assert.match(recycled.err, /fork is left out of the comparison: the function runs with max tasks per child 2, which CPython refuses with the fork start method/);
		assert.match(recycled.out, /^process \(spawn\) +2 /m);
		assert.doesNotMatch(recycled.out, /^process \(fork\)/m);
	});

	it('comparableStartMethods: fork goes only when max tasks per child is asked', () => {
		assert.deepEqual(comparableStartMethods(['fork', 'spawn'], undefined), { methods: ['fork', 'spawn'] });
		assert.deepEqual(comparableStartMethods(['fork', 'spawn'], 3).methods, ['spawn']);
		assert.deepEqual(comparableStartMethods(['spawn'], 3), { methods: ['spawn'] });
	});
});
