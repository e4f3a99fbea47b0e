/** The stall watch (engine/stall): its window, its verdict, once per stall, and real JS pools. */
import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolEvent, RunWarningEvent } from '../../../engine/protocol/events';
import { DEFAULT_STALL_MS } from '../../../engine/runTypes';
import { readCpuMs } from '../../../engine/cpu/workerCpu';
import { classify, StallWatch, stallMessage, stallWindowMs, type BusyTask } from '../../../engine/stall/stallWatch';
import { waitFor } from '../../harness/processes';
import { childProcesses, JS_FIXTURES, ofType, run as startRun, type CollectedRun } from './jsHelpers';

const stalled = (events: PoolEvent[]): RunWarningEvent[] => ofType(events, 'run.warning').filter((w) => w.kind === 'stalled');
const stallEnds = (events: PoolEvent[]): RunWarningEvent[] => ofType(events, 'run.warning').filter((w) => w.kind === 'stallEnded');
const task = (taskId: number, where: string, cpuMs?: number): BusyTask => ({ taskId, workerId: taskId, where, ...(cpuMs !== undefined ? { cpuMs } : {}) });

describe('stall watch: the window and the verdict', () => {
	it('the window is 10 s, or 5x the longest task seen so far', () => {
		assert.equal(stallWindowMs(DEFAULT_STALL_MS, 0), 10_000);
		assert.equal(stallWindowMs(DEFAULT_STALL_MS, 1_500), 10_000);
		assert.equal(stallWindowMs(DEFAULT_STALL_MS, 4_000), 20_000);
	});

	it('no CPU in the window is waiting, CPU is computing, some of each is mixed, unread is unknown', () => {
		assert.equal(classify([task(0, 'thread 1', 0), task(1, 'thread 2', 10)], 5000), 'waiting');
		assert.equal(classify([task(0, 'thread 1', 4900)], 5000), 'computing');
		assert.equal(classify([task(0, 'thread 1', 0), task(1, 'thread 2', 2500)], 5000), 'mixed');
		assert.equal(classify([task(0, 'worker thread 1')], 5000), 'unknown');
	});

	it('says who waits, names computing ones apart, and nothing when all compute', () => {
		const waiting = stallMessage({ quietMs: 10_000, spanMs: 5000, tasks: [task(0, 'thread 4412', 0), task(1, 'thread 4413', 0)], stacks: true });
		assert.equal(waiting, 'No task has started, ended or printed for 10 s: tasks 0 and 1 are running on threads 4412 and 4413, which used no CPU in the last 5.0 s: they are waiting, on each other (a deadlock), on a lock, a queue, a sleep or I/O that does not come. The stacks taken then (the details) show where each one is. Cancel the run, or give tasks a timeout to have such ones stopped.');
		const mixed = stallMessage({ quietMs: 12_000, spanMs: 5000, tasks: [task(0, 'process 10', 0), task(1, 'process 11', 4950)], stacks: false });
		assert.equal(mixed, 'No task has started, ended or printed for 12 s: task 0 is running on process 10 and used no CPU in the last 5.0 s: it is waiting (on another task, a lock, a queue, a sleep or I/O); task 1 is running on process 11 and is computing (99% of a core). Cancel the run, or give tasks a timeout to have such ones stopped.');
		assert.equal(stallMessage({ quietMs: 12_000, spanMs: 5000, tasks: [task(0, 'process 10', 5000)], stacks: false }), undefined);
		assert.match(stallMessage({ quietMs: 10_000, spanMs: 5000, tasks: [task(0, 'worker thread 0')], stacks: false, unknownWhy: 'why' })!, /task 0 is running on worker thread 0; Poolscope could not tell whether it computes or waits \(why\)/);
		const gone = stallMessage({ quietMs: 10_000, spanMs: 5000, tasks: [{ ...task(0, 'process 10'), gone: true }, task(1, 'process 11', 5000)], stacks: false });
		assert.equal(gone, 'No task has started, ended or printed for 10 s: task 0 is still running, the pool says, on process 10, which has exited: the pool has not noticed (an executor that no longer answers); task 1 is running on process 11 and is computing. Cancel the run, or give tasks a timeout to have such ones stopped.');
	});
});

describe('stall watch: following events, reading /proc', function () {
	this.timeout(30_000);
	const children: ChildProcess[] = [];
	before(function () {
		if (process.platform !== 'linux') {
			this.skip();
		}
	});
	afterEach(() => {
		for (const c of children.splice(0)) {
			c.kill('SIGKILL');
		}
	});

	async function child(code: string): Promise<ChildProcess> {
		const p = spawn(process.execPath, ['-e', `console.log('ready'); ${code}`], { stdio: ['ignore', 'pipe', 'inherit'] });
		children.push(p);
		await once(p.stdout!, 'data');
		return p;
	}

	it('reads a process\'s CPU time, and a busy one\'s grows', async () => {
		const busy = await child('for (;;) {}');
		const a = await readCpuMs({ pid: busy.pid! });
		await new Promise((r) => setTimeout(r, 300));
		const b = await readCpuMs({ pid: busy.pid! });
		assert.ok(a !== undefined && b !== undefined && b - a >= 100, `${a} -> ${b}`);
		assert.equal(await readCpuMs({ pid: 0x7ffffff0 }), undefined);
	});

	it('one warning per stall, and again only after a task moved and a new stall began', async () => {
		const idle = await child('setInterval(() => {}, 1000)');
		const runId = 'stall';
		const out: PoolEvent[] = [];
		const watch = new StallWatch((b) => out.push(...b), { stallMs: 300 });
		watch.observe([
			{ type: 'run.started', runId, t: 0, fn: 'f', file: '/a.js', language: 'javascript', pool: 'process', workers: 1, options: { workers: 1 }, inputCount: 3, cores: 2, runtime: 'node', stages: ['pending', 'executing'] },
			{ type: 'worker.started', runId, t: 0, workerId: 0, pid: idle.pid! },
			{ type: 'task.started', runId, t: 0, taskId: 0, workerId: 0 },
		]);
		assert.ok(await waitFor(() => stalled(out).length === 1, 5000));
		await new Promise((r) => setTimeout(r, 800));
		assert.equal(stalled(out).length, 1, 'once per stall');
		assert.match(stalled(out)[0]!.message, new RegExp(`task 0 is running on process ${idle.pid}, which used no CPU`));
		assert.deepEqual(stalled(out)[0]!.waitingWorkers, [0], 'the panel shows that worker stuck');
		assert.deepEqual(stallEnds(out), []);
		const moved: PoolEvent[] = [{ type: 'task.finished', runId, t: 1, taskId: 0, workerId: 0, durationMs: 10, result: '0' }, { type: 'task.started', runId, t: 1, taskId: 1, workerId: 0 }];
		const passed = watch.observe(moved);
		out.push(...passed); // as startRun passes it on
		assert.equal(stallEnds(out).length, 1, 'the stall is said to be over');
		assert.match(stallEnds(out)[0]!.message, /^No longer stalled: task 0 ended after \d+\.\d s in which no task started, ended or printed\.$/);
		assert.deepEqual(passed.map((e) => e.type), ['task.finished', 'run.warning', 'task.started'], 'right after the event that moved');
		assert.equal(passed[1]!.t, 1);
		assert.ok(await waitFor(() => stalled(out).length === 2, 5000), 'a new stall, a new warning');
		assert.match(stalled(out)[1]!.message, /task 1 is running/);
		const cancel: PoolEvent[] = [{ type: 'task.cancelled', runId, t: 2, taskId: 1, reason: 'cancelled by user', wasRunning: true }];
		assert.equal(watch.observe(cancel), cancel, 'a cancel ends no stall: the user stopped it');
		watch.dispose();
	});

	it('a worker process gone under its running task is named apart from those waiting (goneWorkers, waitingWorkers)', async () => {
		const idle = await child('setInterval(() => {}, 1000)');
		const dead = await child('setInterval(() => {}, 1000)');
		dead.kill('SIGKILL');
		await once(dead, 'exit');
		const runId = 'gone';
		const out: PoolEvent[] = [];
		const watch = new StallWatch((b) => out.push(...b), { stallMs: 300 });
		watch.observe([
			{ type: 'run.started', runId, t: 0, fn: 'f', file: '/a.py', language: 'python', pool: 'process', workers: 2, options: { workers: 2 }, inputCount: 2, cores: 2, runtime: 'CPython', stages: ['pending', 'callQueue', 'executing', 'resultQueue'] },
			{ type: 'worker.started', runId, t: 0, workerId: 0, pid: idle.pid! },
			{ type: 'worker.started', runId, t: 0, workerId: 1, pid: dead.pid! },
			{ type: 'task.started', runId, t: 0, taskId: 0, workerId: 0 },
			{ type: 'task.started', runId, t: 0, taskId: 1, workerId: 1 },
		]);
		try {
			assert.ok(await waitFor(() => stalled(out).length === 1, 5000));
			assert.match(stalled(out)[0]!.message, new RegExp(`task 1 is still running, the pool says, on process ${dead.pid}, which has exited`));
			assert.deepEqual(stalled(out)[0]!.waitingWorkers, [0]);
			assert.deepEqual(stalled(out)[0]!.goneWorkers, [1]);
		} finally {
			watch.dispose();
		}
	});

	it('a task that moves while the stacks are taken ends the stall before it is told: no warning that nothing would end', async () => {
		const idle = await child('setInterval(() => {}, 1000)');
		const runId = 'moved-during-snapshot';
		const out: PoolEvent[] = [];
		let asked = false;
		const watch = new StallWatch((b) => out.push(...b), { stallMs: 300, snapshot: () => { asked = true; return new Promise((r) => setTimeout(() => r('Worker 0 running task 0:\n  File "x.py", line 1'), 600)); } });
		watch.observe([
			{ type: 'run.started', runId, t: 0, fn: 'f', file: '/a.py', language: 'python', pool: 'process', workers: 1, options: { workers: 1 }, inputCount: 2, cores: 2, runtime: 'python', stages: ['pending', 'executing'] },
			{ type: 'worker.started', runId, t: 0, workerId: 0, pid: idle.pid! },
			{ type: 'task.started', runId, t: 0, taskId: 0, workerId: 0 },
		]);
		assert.ok(await waitFor(() => asked, 5000), 'the stall was seen and its stacks asked for');
		const moved = watch.observe([{ type: 'task.finished', runId, t: 1, taskId: 0, workerId: 0, durationMs: 10, result: '0' }]);
		assert.equal(moved.length, 1, 'no stall told yet, so none to end');
		await new Promise((r) => setTimeout(r, 900));
		watch.dispose();
		assert.deepEqual(ofType(out, 'run.warning'), []);
	});
});

describe('stall watch on real JS pools', function () {
	this.timeout(60_000);
	const file = join(JS_FIXTURES, 'stall.js');
	before(function () {
		if (process.platform !== 'linux') {
			this.skip();
		}
	});
	// A run a failed assertion left hanging is cancelled, or it would keep mocha alive.
	let open: CollectedRun | undefined;
	const run = (...a: Parameters<typeof startRun>): CollectedRun => (open = startRun(...a));
	afterEach(async () => {
		await open?.handle.cancel();
		open = undefined;
		assert.ok(await waitFor(() => childProcesses().length === 0, 8_000), `left behind: ${childProcesses().join(' | ')}`);
	});

	describe('a module its workers never finish loading (the workers read "starting" and nothing said why)', () => {
		let dir = '';
		before(() => {
			dir = mkdtempSync(join(tmpdir(), 'poolscope-jsload-'));
		});
		after(() => rmSync(dir, { recursive: true, force: true }));
		const module = (name: string, top: string): string => {
			const path = join(dir, name);
			writeFileSync(path, `${top}\nexport function f(x) { return x; }\n`);
			return path;
		};

		for (const pool of ['thread', 'process'] as const) {
			it(`${pool} pool: a top-level await that never settles: "no task can start", told once; cancel ends it, nothing left`, async () => {
				const r = run({ file: module(`never_${pool}.mjs`, 'await new Promise(() => {});'), fn: 'f', inputs: '[1, 2]', pool, workers: 2, memorySampleMs: 250, stallMs: 1000 });
				assert.ok(await waitFor(() => stalled(r.events).length > 0, 15_000), `no warning: ${JSON.stringify(ofType(r.events, 'run.warning'))}`);
				assert.match(stalled(r.events)[0]!.message, new RegExp(`^No task can start: none of the 2 workers has finished loading never_${pool}\\.mjs in \\d+\\.\\d s, and they used no CPU in the last \\d+\\.\\d s: code at the top level of the file is waiting`));
				assert.match(stalled(r.events)[0]!.message, /import\.meta\.url === pathToFileURL/);
				await new Promise((res) => setTimeout(res, 1500));
				assert.equal(stalled(r.events).length, 1, 'once');
				await r.handle.cancel();
				assert.equal((await r.done).outcome, 'cancelled');
			});
		}

		it('a module that computes for 3 s as it loads is not a stall: no warning', async () => {
			const r = run({ file: module('computes.mjs', 'const end = Date.now() + 3000; while (Date.now() < end) {}'), fn: 'f', inputs: '[1, 2]', pool: 'process', workers: 1, memorySampleMs: 250, stallMs: 1000 });
			assert.equal((await r.done).counts.finished, 2);
			assert.deepEqual(ofType(r.events, 'run.warning'), []);
		});

		it('a module that takes 2.5 s to load, then runs: the warning, "no longer stalled" as the first task starts, and every task ends', async () => {
			const r = run({ file: module('slow_load.mjs', 'await new Promise((r) => setTimeout(r, 2500));'), fn: 'f', inputs: '[1, 2, 3]', pool: 'thread', workers: 1, memorySampleMs: 250, stallMs: 1000 });
			const end = await r.done;
			assert.equal(end.counts.finished, 3);
			assert.deepEqual(ofType(r.events, 'run.warning').map((w) => w.kind), ['stalled', 'stallEnded']);
			assert.match(stallEnds(r.events)[0]!.message, /^No longer stalled: task 0 started after [\d.]+ s/);
		});
	});

	it('process pool: a task blocked in Atomics.wait gets a warning naming its worker process and no CPU', async () => {
		const r = run({ file, fn: 'blocked', inputs: '[30000]', pool: 'process', workers: 1, memorySampleMs: 250, stallMs: 1000 });
		assert.ok(await waitFor(() => stalled(r.events).length > 0, 20_000), `no stall warning: ${JSON.stringify(ofType(r.events, 'run.warning'))}`);
		const pid = ofType(r.events, 'worker.started')[0]!.pid;
		assert.match(stalled(r.events)[0]!.message, new RegExp(`task 0 is running on process ${pid}, which used no CPU in the last .*: it is waiting`));
		await r.handle.cancel();
		assert.equal((await r.done).outcome, 'cancelled');
	});

	it('thread pool: a task that was blocked and then returns ends the stall, and the run says so', async () => {
		const r = run({ file, fn: 'blocked', inputs: '[3000]', pool: 'thread', workers: 1, memorySampleMs: 250, stallMs: 1000 });
		const end = await r.done;
		assert.equal(end.counts.finished, 1);
		assert.equal(stalled(r.events).length, 1, JSON.stringify(ofType(r.events, 'run.warning')));
		assert.equal(stallEnds(r.events).length, 1, JSON.stringify(ofType(r.events, 'run.warning')));
		assert.match(stallEnds(r.events)[0]!.message, /^No longer stalled: task 0 ended after [\d.]+ s/);
		const at = (e: PoolEvent): number => r.events.indexOf(e);
		assert.ok(at(stallEnds(r.events)[0]!) > at(ofType(r.events, 'task.finished')[0]!), 'told after the task ended');
		assert.ok(at(stallEnds(r.events)[0]!) < at(ofType(r.events, 'run.finished')[0]!), 'and before the run ended');
	});

	it('thread pool: with the window at 0 (the setting at 0, --stall 0), a task blocked for 1.5 s is not told', async () => {
		const r = run({ file, fn: 'blocked', inputs: '[1500]', pool: 'thread', workers: 1, cpuSampleMs: 250, memorySampleMs: 250, stallMs: 0 });
		assert.equal((await r.done).counts.finished, 1);
		assert.ok(ofType(r.events, 'cpu.sample').length > 0, 'sampling was on: the watch would have run');
		assert.deepEqual(ofType(r.events, 'run.warning'), []);
	});

	it('process pool: a busy task of 3 s past a 1 s window is computing: no warning', async () => {
		const r = run({ file, fn: 'busy', inputs: '[3000]', pool: 'process', workers: 1, memorySampleMs: 250, stallMs: 1000 });
		assert.equal((await r.done).counts.finished, 1);
		assert.deepEqual(stalled(r.events), []);
	});

	it('thread pool: a task blocked in Atomics.wait gets a warning naming its OS thread and no CPU', async () => {
		const r = run({ file, fn: 'blocked', inputs: '[30000]', pool: 'thread', workers: 1, memorySampleMs: 250, stallMs: 1000 });
		assert.ok(await waitFor(() => stalled(r.events).length > 0, 20_000), `no stall warning: ${JSON.stringify(ofType(r.events, 'run.warning'))}`);
		const tids = r.events.flatMap((e) => (e.type === 'worker.started' || e.type === 'worker.ready') && e.tid !== undefined ? [e.tid] : []);
		assert.equal(tids.length, 1, 'the worker said its OS thread id');
		assert.match(stalled(r.events)[0]!.message, new RegExp(`task 0 is running on thread ${tids[0]} \\(worker 0\\), which used no CPU in the last .*: it is waiting`));
		await r.handle.cancel();
		assert.equal((await r.done).outcome, 'cancelled');
	});

	it('thread pool: one task blocked and one computing are told apart', async () => {
		const r = run({ file, fn: 'blockedOrBusy', inputs: '[["blocked", 30000], ["busy", 30000]]', pool: 'thread', workers: 2, memorySampleMs: 250, stallMs: 1000 });
		assert.ok(await waitFor(() => stalled(r.events).length > 0, 20_000), `no stall warning: ${JSON.stringify(ofType(r.events, 'run.warning'))}`);
		const m = stalled(r.events)[0]!.message;
		assert.match(m, /task 0 is running on thread \d+ \(worker \d\) and used no CPU in the last .*: it is waiting/);
		assert.match(m, /task 1 is running on thread \d+ \(worker \d\) and is computing \(\d+% of a core\)/);
		// Only the waiting one is shown stuck; the computing one is busy.
		const waitingOn = Number(/task 0 is running on thread \d+ \(worker (\d)\)/.exec(m)![1]);
		assert.deepEqual(stalled(r.events)[0]!.waitingWorkers, [waitingOn]);
		await r.handle.cancel();
		assert.equal((await r.done).outcome, 'cancelled');
	});
});
