/** The JS engine with real worker threads and real child processes (small inputs). */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Worker } from 'node:worker_threads';
import type { RunRequest } from '../../../engine/runTypes';
import type { PoolEvent } from '../../../engine/protocol/events';
import { applyEvents, createRunModel } from '../../../engine/protocol/runModel';
import { MAX_BATCH } from '../../../engine/js/batchLog';
import { SUBMIT_SLICE } from '../../../engine/js/jsBackend';
import { startRun } from '../../../engine/startRun';
import { ThreadPool } from '../../../engine/js/threadPool';
import { autogroupNiceOf, niceOf, processesWithEnv, threadsOf, waitFor } from '../../harness/processes';
import { childProcesses, JS_FIXTURES, ofType, run } from './jsHelpers';

const POOLS = ['thread', 'process', 'serial'] as const;

async function noChildrenLeft(): Promise<void> {
	const ok = await waitFor(() => childProcesses().length === 0, 5_000);
	assert.ok(ok, `processes left behind: ${childProcesses().join(' | ')}`);
}

function checkProtocol(events: PoolEvent[], pool: string): void {
	const started = ofType(events, 'run.started');
	assert.equal(started.length, 1);
	assert.equal(events[0]!.type, 'run.started');
	assert.equal(events[events.length - 1]!.type, 'run.finished', 'run.finished must be the last event');
	const workerIds = new Set(ofType(events, 'worker.started').map((w) => w.workerId));
	for (const w of ofType(events, 'worker.started')) {
		if (pool === 'process') {
			assert.ok(w.pid && w.pid > 0, 'process workers carry a pid');
		} else {
			assert.ok(typeof w.threadId === 'number', 'thread workers carry a threadId');
		}
	}
	for (const e of [...ofType(events, 'task.started'), ...ofType(events, 'task.finished')]) {
		assert.ok(workerIds.has(e.workerId), `task ${e.taskId} names unknown worker ${e.workerId}`);
	}
	assert.deepEqual(new Set(ofType(events, 'worker.exited').map((w) => w.workerId)), workerIds, 'every worker that started is reported ended');
	for (const o of ofType(events, 'run.output')) {
		assert.ok(o.workerId === undefined || workerIds.has(o.workerId), `output from unknown worker ${o.workerId}`);
	}
	const depths = ofType(events, 'queue.depth');
	const lastDepths = depths[depths.length - 1]?.depths;
	assert.deepEqual(lastDepths, { pending: 0, dispatched: 0, executing: 0 }, 'the queues are empty at the end');
	// A thread worker holds two batches (one running, one waiting in piscina; a batch is one call
	// unless calls are short); a process worker up to four batches of `chunksize` tasks.
	const run = started[0]!;
	const perWorker = pool === 'process' ? 4 * (run.options.chunksize ?? 1) : 2 * MAX_BATCH;
	assert.ok(depths.every((d) => (d.depths.dispatched ?? 0) <= perWorker * run.workers), JSON.stringify(depths.map((d) => d.depths)));
	const end = ofType(events, 'run.finished')[0]!;
	const c = end.counts;
	assert.equal(c.submitted, c.finished + c.failed + c.cancelled + c.timedOut + c.rejected, 'every submitted task ends in exactly one state');
	// The shared reducer agrees with the engine's own counts.
	const model = createRunModel(end.runId);
	applyEvents(model, events);
	assert.deepEqual(model.counts, c);
	// The summary's tasks per worker are the workers table's (the same panel shows both).
	assert.deepEqual(
		Object.fromEntries(end.workers.map((w) => [w.workerId, w.tasks])),
		Object.fromEntries([...model.workers.values()].map((w) => [w.workerId, w.tasksDone])),
		'tasks per worker: run.finished vs the reducer',
	);
	for (const e of events) {
		assert.ok(e.t >= started[0]!.t - 1, `${e.type} at ${e.t} is before the run started`);
	}
}

describe('JS engine: real pools', function () {
	this.timeout(60_000);
	afterEach(noChildrenLeft);

	for (const pool of POOLS) {
		it(`${pool}: runs every input and emits the protocol in order`, async () => {
			const r = run({ fn: 'square', inputs: '[1, 2, 3, 4, 5, 6]', pool });
			const end = await r.done;
			assert.equal(end.outcome, 'completed');
			assert.equal(end.counts.finished, 6);
			checkProtocol(r.events, pool);
			assert.deepEqual(ofType(r.events, 'task.finished').map((e) => Number(e.result)).sort((a, b) => a - b), [1, 4, 9, 16, 25, 36]);
			const s = ofType(r.events, 'run.started')[0]!;
			assert.equal(s.pool, pool);
			assert.equal(s.workers, pool === 'serial' ? 1 : 2);
			assert.equal(s.inputCount, 6);
			assert.deepEqual(s.stages, ['pending', 'dispatched', 'executing']);
			if (pool === 'serial') {
				assert.equal(new Set(ofType(r.events, 'task.started').map((e) => e.workerId)).size, 1);
			}
			assert.equal(end.workers.reduce((n, w) => n + w.tasks, 0), 6);
		});
	}

	for (const pool of POOLS) {
		it(`${pool}: a long task's start is seen while it runs (no message per start), at its start time`, async () => {
			// A process pool of one worker with both tasks in one message: the second one's start
			// is inferred from the first one's end.
			const r = run({ fn: 'slowEcho', inputs: '[[1, 600], [2, 600]]', pool, ...(pool === 'process' ? { workers: 1, chunksize: 2 } : {}) });
			await waitFor(() => r.events.some((e) => e.type === 'task.started' || e.type === 'task.finished'), 10_000, 10);
			assert.ok(ofType(r.events, 'task.started').length >= 1, 'no task.started');
			assert.equal(ofType(r.events, 'task.finished').length, 0, 'the start came with the result, not live');
			const end = await r.done;
			assert.equal(end.counts.finished, 2);
			for (const s of ofType(r.events, 'task.started')) {
				const f = ofType(r.events, 'task.finished').find((e) => e.taskId === s.taskId)!;
				// Threads: the worker's own clock reading from its slot, not the moment the host polled.
				// Processes: inferred from the order (sent to an idle worker, or the previous task's
				// end), so off by one IPC delivery at most: 6.3 ms once on a VM busy with another
				// pool; still well under the 20 ms poll a start seen late would show.
				const tolerance = pool === 'process' ? 10 : 1;
				assert.ok(Math.abs(f.t - f.durationMs - s.t) < tolerance, `task ${s.taskId}: start ${s.t}, end ${f.t}, duration ${f.durationMs}`);
			}
		});
	}

	it('submits at most a slice of tasks per turn of the event loop, however many batches end in that turn', async () => {
		// A turn counter: one increment per turn of the loop (its check phase). The sink is called
		// synchronously from the engine every 2,000 events, so a submission burst lands in the
		// turn it happened in. Before the budget was per turn, every finished batch submitted
		// another slice: 100k tasks went in a few turns (an 800 ms stall of the extension host).
		let turn = 0;
		let ticking = true;
		const tick = () => {
			turn++;
			if (ticking) {
				setImmediate(tick);
			}
		};
		setImmediate(tick);
		const perTurn = new Map<number, number>();
		const handle = startRun({ runId: `slices-${process.pid}`, file: join(JS_FIXTURES, 'tasks.js'), fn: 'square', inputs: '60000', language: 'javascript', pool: 'thread', workers: 2, cpuSampleMs: 0 }, (batch) => {
			const n = batch.filter((e) => e.type === 'task.submitted').length;
			perTurn.set(turn, (perTurn.get(turn) ?? 0) + n);
		});
		const end = await handle.done;
		ticking = false;
		assert.equal(end.counts.finished, 60_000);
		const most = Math.max(...perTurn.values());
		// The engine's next-turn refill and the counter share a check phase, in either order: one
		// window of the counter can hold two of the engine's turns.
		assert.ok(most <= 2 * SUBMIT_SLICE, `${most} tasks submitted in one turn (slice ${SUBMIT_SLICE}); turns with submissions: ${perTurn.size}`);
		assert.ok(perTurn.size >= 60_000 / (2 * SUBMIT_SLICE), `submissions spread over ${perTurn.size} turns`);
	});

	it('CPU time: a thread task counts its own thread only (or none before Node 23.9), a process task its process', async () => {
		const hasThreadClock = typeof (process as { threadCpuUsage?: unknown }).threadCpuUsage === 'function';
		for (const pool of ['thread', 'process'] as const) {
			const r = run({ fn: 'spin', inputs: '[200, 200]', pool });
			const end = await r.done;
			assert.equal(end.counts.finished, 2);
			for (const f of ofType(r.events, 'task.finished')) {
				if (pool === 'thread' && !hasThreadClock) {
					assert.equal(f.cpuMs, undefined, 'process.cpuUsage() in a thread counts every thread: no figure beats a wrong one');
				} else {
					assert.ok(f.cpuMs !== undefined, `${pool} task ${f.taskId} has no CPU time`);
					// Both spin at once: the process-wide clock would read about twice the wall time.
					assert.ok(f.cpuMs > f.durationMs * 0.3 && f.cpuMs <= f.durationMs * 1.1 + 1, `${pool} task ${f.taskId}: CPU ${f.cpuMs} ms, wall ${f.durationMs} ms`);
				}
			}
		}
	});

	it('memory: a process pool\'s workers each have theirs, sampled while the run lasts; a thread pool has no process of its own', async () => {
		const r = run({ fn: 'holdsMemory', inputs: '[[150, 1000], [1, 1000]]', pool: 'process', cpuSampleMs: 100 });
		assert.equal((await r.done).counts.finished, 2);
		const samples = ofType(r.events, 'memory.sample');
		assert.ok(samples.length >= 3, `${samples.length} samples in a ~1 s run at 100 ms`);
		assert.ok(samples.every((m) => m.main === undefined), 'the main process is the host: not the run\'s');
		const holder = ofType(r.events, 'task.finished').find((e) => e.taskId === 0)!.workerId;
		const peaks = new Map<number, number>();
		for (const { workerId, rss } of samples.flatMap((m) => m.workers)) {
			peaks.set(workerId, Math.max(peaks.get(workerId) ?? 0, rss));
		}
		const others = [...peaks].filter(([id]) => id !== holder).map(([, rss]) => rss);
		assert.ok(others.length > 0 && peaks.get(holder)! - Math.min(...others) > 100 * 1048576, `the worker that held 150 MB: ${inspect(peaks)}`);
		assert.ok(r.events.indexOf(samples[samples.length - 1]!) < r.events.findIndex((e) => e.type === 'run.finished'), 'no sample after the run ended');

		// A thread pool: no process of its own; each thread's heap where Node can read it (22.16+).
		const t = run({ fn: 'holdsMemory', inputs: '[[40, 600]]', pool: 'thread', workers: 1, cpuSampleMs: 100 });
		assert.equal((await t.done).counts.finished, 1);
		const ts = ofType(t.events, 'memory.sample');
		assert.ok(ts.every((m) => m.main === undefined && m.workers.length === 0), 'no process memory for threads');
		if (typeof (Worker.prototype as { getHeapStatistics?: unknown }).getHeapStatistics === 'function') {
			const peak = Math.max(0, ...ts.flatMap((m) => (m.threads ?? []).map((h) => h.heap)));
			assert.ok(peak > 40 * 1048576, `the thread held a 40 MB Buffer: heap peak ${peak}`);
		} else {
			assert.equal(ts.length, 0, `Node ${process.version} cannot read a thread's heap: nothing said`);
		}
	});

	it('priority low: worker threads (Linux) and worker processes run at nice 10, each worker process\'s session group too (autogroup); normal leaves them be', async function () {
		if (process.platform !== 'linux') {
			this.skip();
		}
		const niced = (pool: 'thread' | 'process') => pool === 'thread'
			? threadsOf(process.pid).filter((tid) => niceOf(process.pid, tid) === 10).length
			: childProcesses().map((p) => Number(p.split(' ')[0])).filter((pid) => niceOf(pid) === 10).length;
		const hostGroup = autogroupNiceOf(process.pid);
		for (const pool of ['thread', 'process'] as const) {
			for (const priority of ['low', 'normal'] as const) {
				const r = run({ fn: 'spin', inputs: '[400, 400]', pool, priority });
				await waitFor(() => ofType(r.events, 'task.started').length >= 2, 10_000, 10);
				const seen = niced(pool);
				// A worker process leads a session of its own (detached): under autogroup scheduling
				// its nice orders only its own threads, so the session's group is lowered too (async:
				// a user may change one a tenth of a second).
				const groups = async () => {
					const pids = childProcesses().map((p) => Number(p.split(' ')[0]));
					await waitFor(() => pids.every((pid) => autogroupNiceOf(pid) === (priority === 'low' ? 10 : 0)), 3_000, 20);
					return pids.map((pid) => autogroupNiceOf(pid));
				};
				const autogroups = pool === 'process' && autogroupNiceOf(process.pid) !== undefined ? await groups() : undefined;
				const end = await r.done;
				assert.equal(end.counts.finished, 2);
				assert.equal(seen, priority === 'low' ? 2 : 0, `${pool} ${priority}: ${seen} workers at nice 10`);
				if (autogroups) {
					assert.deepEqual(autogroups, [priority === 'low' ? 10 : 0, priority === 'low' ? 10 : 0], `${pool} ${priority}: the workers' sessions' autogroup nice`);
				}
				assert.equal(ofType(r.events, 'run.started')[0]!.options.priority, priority === 'low' ? 'low' : undefined);
			}
		}
		assert.equal(niceOf(process.pid, process.pid), 0, 'the host thread keeps its priority');
		assert.equal(autogroupNiceOf(process.pid), hostGroup, "the host's session keeps its priority");
	});

	it('spreads array items as arguments, a count N means 0..N-1, async functions are awaited', async () => {
		const a = run({ fn: 'add', inputs: '[[1, 2], [10, 20]]' });
		assert.deepEqual(ofType((await a.done, a.events), 'task.finished').map((e) => e.result).sort(), ['3', '30']);
		const b = run({ fn: 'square', inputs: '4', pool: 'process' });
		await b.done;
		assert.deepEqual(ofType(b.events, 'task.finished').map((e) => Number(e.result)).sort((x, y) => x - y), [0, 1, 4, 9]);
		const c = run({ fn: 'slowEcho', inputs: '[["a", 20], ["b", 10]]' });
		await c.done;
		assert.deepEqual(ofType(c.events, 'task.finished').map((e) => e.result).sort(), ["'a'", "'b'"]);
	});

	for (const pool of POOLS) {
		it(`${pool}: an Error returned (not thrown) is a result, its stack the user's alone (it showed Poolscope's worker frames)`, async () => {
			const r = run({ fn: 'returnsError', inputs: '1', pool });
			const end = await r.done;
			assert.equal(end.counts.finished, 1);
			const result = ofType(r.events, 'task.finished')[0]!.result ?? '';
			assert.match(result, /^Error: returned, not thrown 0\n {4}at returnsError \(.*tasks\.js:\d+:\d+\)/);
			assert.doesNotMatch(result, /out\/workers|taskExecution|async_hooks|piscina|node:internal/, result);
		});

		it(`${pool}: a generator function's calls are drained inside their task (sync and async), and the run says so`, async () => {
			const g = run({ fn: 'squaresGen', inputs: '[[2], [3]]', pool });
			await g.done;
			assert.deepEqual(ofType(g.events, 'task.finished').map((e) => e.result).sort(), ['[ 0, 1 ]', '[ 0, 1, 4 ]'], 'not "Object [Generator] {}"');
			assert.deepEqual(ofType(g.events, 'task.output').filter((e) => e.taskId === 1).map((e) => e.text).join(''), 'square 0\nsquare 1\nsquare 2\n', 'what it prints while iterated is its task\'s output');
			assert.deepEqual(ofType(g.events, 'run.warning').map((e) => e.message), ['squaresGen is a generator function: a call returns before its body has run, so each task collects what it yields into an array in its worker, and its time includes that']);
			const a = run({ fn: 'ticksGen', inputs: '[[3]]', pool });
			await a.done;
			const done = ofType(a.events, 'task.finished');
			assert.deepEqual(done.map((e) => e.result), ['[ 0, 1, 2 ]']);
			assert.ok(done[0]!.durationMs >= 25, `its time includes the awaits: ${done[0]!.durationMs} ms`);
			assert.match(ofType(a.events, 'run.warning')[0]?.message ?? '', /^ticksGen is an async generator function/);
		});
	}

	it('a generator that never ends fails its task at the collection limit, and the run goes on', async () => {
		const r = run({ fn: 'endlessGen', inputs: '[[1], [2]]', pool: 'thread' });
		const end = await r.done;
		assert.equal(end.counts.failed, 2);
		assert.match(ofType(r.events, 'task.failed')[0]!.error.message, /^the generator yielded more than 1,000,000 values: Poolscope stopped collecting them/);
	});

	it('TypeScript: named and default exports; a throw points at the .ts line', async () => {
		const file = join(JS_FIXTURES, 'typed.ts');
		const a = run({ fn: 'norm', inputs: '[{ x: 3, y: 4 }]', file, language: 'typescript' });
		await a.done;
		assert.equal(ofType(a.events, 'task.finished')[0]?.result, '5');
		const b = run({ fn: 'default', inputs: '[21]', file, language: 'typescript', pool: 'process' });
		await b.done;
		assert.equal(ofType(b.events, 'task.finished')[0]?.result, '42');
		const c = run({ fn: 'throwsHere', inputs: '1', file, language: 'typescript' });
		await c.done;
		const err = ofType(c.events, 'task.failed')[0]!.error;
		assert.equal(err.kind, 'exception');
		assert.equal(err.message, 'thrown at line 12');
		const frame = err.frames?.find((f) => f.user);
		assert.ok(frame, `no user frame in ${err.stack}`);
		assert.ok(frame.file.endsWith('typed.ts'), frame.file);
		assert.equal(frame.line, 12);
	});

	for (const pool of ['thread', 'process'] as const) {
		it(`${pool}: a thrown error fails only its task, with name, message and the user's line`, async () => {
			const r = run({ fn: 'failing', inputs: '[0, 1, 2, 3]', pool });
			const end = await r.done;
			assert.equal(end.outcome, 'completed');
			assert.equal(end.counts.finished, 2);
			assert.equal(end.counts.failed, 2);
			const failed = ofType(r.events, 'task.failed');
			assert.deepEqual(failed.map((f) => f.error.message).sort(), ['odd input 1', 'odd input 3']);
			assert.equal(failed[0]!.error.name, 'RangeError');
			const frame = failed[0]!.error.frames?.find((f) => f.user);
			assert.ok(frame?.file.endsWith('tasks.js') && frame.line === 30, `frame ${JSON.stringify(frame)} in ${failed[0]!.error.stack}`);
		});
	}

	for (const pool of ['process', 'thread'] as const) {
		it(`${pool}: a worker is "starting" from its start (fork, thread) until it has loaded the function, and takes no task before; one with no task gets ready all the same`, async () => {
			// Three workers for two tasks of 1.5 s: the third never runs one, and has loaded long
			// before the run ends (threads were "ready" only by a task; they were not announced
			// before it at all, their lanes blank meanwhile). 0.6 s was too short once in a loaded
			// CI run: a worker still loading when a run ends exits without being ready, rightly.
			const r = run({ fn: 'slowEcho', inputs: '[["a", 1500], ["b", 1500]]', pool, workers: 3 });
			const end = await r.done;
			assert.equal(end.counts.finished, 2);
			const started = ofType(r.events, 'worker.started');
			assert.equal(started.length, 3);
			for (const w of started) {
				assert.equal(w.ready, false, `worker ${w.workerId} announced as starting`);
				const ready = ofType(r.events, 'worker.ready').filter((e) => e.workerId === w.workerId);
				assert.equal(ready.length, 1, `worker ${w.workerId}: one worker.ready`);
				assert.ok(ready[0]!.t >= w.t, `worker ${w.workerId}: ready after it started`);
				const first = ofType(r.events, 'task.started').find((e) => e.workerId === w.workerId);
				if (first) {
					assert.ok(ready[0]!.t <= first.t, `worker ${w.workerId}: started ${w.t}, ready ${ready[0]!.t}, first task ${first.t}`);
				}
			}
		});
	}


	for (const busyHost of [false, true]) {
		it(`thread: two calls printing in a loop for 4 s${busyHost ? ', the host busy 80% of the time' : ''}: every line arrives, and the host's memory stays bounded (output has back-pressure)`, async () => {
			// Counted, not kept: the events of 4 s of printing would be the test's own memory.
			let lines = 0;
			let printed = 0;
			let peak = 0;
			let finished: PoolEvent | undefined;
			const base = process.memoryUsage().rss;
			const sampler = setInterval(() => {
				peak = Math.max(peak, process.memoryUsage().rss - base);
				// An extension host busy with other work reads the notices late.
				for (const until = performance.now() + (busyHost ? 40 : 0); performance.now() < until;) {
					// busy
				}
			}, 50);
			const handle = startRun({ runId: `print-thread-${busyHost}`, file: join(JS_FIXTURES, 'tasks.js'), language: 'javascript', fn: 'printsFor', inputs: '[[4000], [4000]]', pool: 'thread', workers: 2, cpuSampleMs: 0 }, (batch) => {
				for (const e of batch) {
					if (e.type === 'task.output') {
						for (let i = e.text.indexOf('\n'); i >= 0; i = e.text.indexOf('\n', i + 1)) {
							lines++;
						}
					} else if (e.type === 'task.finished') {
						finished = e;
						printed += Number(e.result);
					}
				}
			});
			const end = await handle.done;
			clearInterval(sampler);
			assert.equal(end.outcome, 'completed');
			assert.ok(finished && printed > 10_000, `printed ${printed} lines`);
			assert.equal(lines, printed, 'every line printed arrived');
			// Unbounded, two threads printing grew this process by ~100 MB a second (1.4 GB in 5 s).
			assert.ok(peak < 400 * 1024 * 1024, `the host grew ${Math.round(peak / 1048576)} MB for ${printed} lines`);
		});
	}

	/**
	 * Checks numbered lines (`printsNumbered`) as they arrive, without keeping them: each task's
	 * output must be its own lines, in order, all of them before its end event.
	 */
	function numberedLines(): { onEvent(e: PoolEvent): void; problems: string[]; lines: Map<number, number>; ended: Map<number, number> } {
		const problems: string[] = [];
		const lines = new Map<number, number>();
		const rest = new Map<number, string>();
		const tags = new Map<number, string>();
		const ended = new Map<number, number>();
		const say = (s: string) => {
			if (problems.length < 5) {
				problems.push(s);
			}
		};
		return {
			problems, lines, ended,
			onEvent(e: PoolEvent): void {
				if (e.type === 'task.output') {
					if (ended.has(e.taskId)) {
						say(`task ${e.taskId}: output after its end: ${JSON.stringify(e.text.slice(0, 40))}`);
					}
					const text = (rest.get(e.taskId) ?? '') + e.text;
					let from = 0;
					for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
						const line = text.slice(from, nl);
						from = nl + 1;
						const [tag, index] = line.split(' ', 2);
						const n = lines.get(e.taskId) ?? 0;
						if (!tags.has(e.taskId)) {
							tags.set(e.taskId, tag!);
						}
						if (tag !== tags.get(e.taskId) || Number(index) !== n) {
							say(`task ${e.taskId}: line ${n} read ${JSON.stringify(line.slice(0, 40))}`);
						}
						lines.set(e.taskId, n + 1);
					}
					rest.set(e.taskId, text.slice(from));
				} else if (e.type === 'task.finished') {
					ended.set(e.taskId, Number(e.result));
					if ((lines.get(e.taskId) ?? 0) !== Number(e.result) || rest.get(e.taskId)) {
						say(`task ${e.taskId} printed ${e.result} lines, ${lines.get(e.taskId) ?? 0} arrived before its end${rest.get(e.taskId) ? ' (and part of one)' : ''}`);
					}
				} else if (e.type === 'task.failed') {
					ended.set(e.taskId, -1);
				}
			},
		};
	}

	/** Resident memory of a process, in MB (Linux). */
	function rssMb(pid: number): number {
		try {
			const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
			return m ? Number(m[1]) / 1024 : 0;
		} catch {
			return 0; // gone
		}
	}

	it('process: two calls printing in a loop for 4 s, the host busy 80% of the time: every line arrives in order before its task ends, and the workers\' memory stays bounded (output has back-pressure)', async function () {
		if (process.platform !== 'linux') {
			this.skip();
		}
		const check = numberedLines();
		const pids = new Set<number>();
		let peak = 0;
		const sampler = setInterval(() => {
			for (const pid of pids) {
				peak = Math.max(peak, rssMb(pid));
			}
			// A host busy with other work reads the output late.
			for (const until = performance.now() + 40; performance.now() < until;) {
				// busy
			}
		}, 50);
		const handle = startRun({ runId: 'print-process', file: join(JS_FIXTURES, 'tasks.js'), language: 'javascript', fn: 'printsNumbered', inputs: '[["a", 4000], ["b", 4000]]', pool: 'process', workers: 2, cpuSampleMs: 0 }, (batch) => {
			for (const e of batch) {
				if (e.type === 'worker.started' && e.pid) {
					pids.add(e.pid);
				}
				check.onEvent(e);
			}
		});
		const end = await handle.done;
		clearInterval(sampler);
		assert.equal(end.outcome, 'completed');
		assert.deepEqual(check.problems, []);
		const printed = [...check.ended.values()].reduce((a, b) => a + b, 0);
		assert.ok(check.ended.size === 2 && printed > 10_000, `printed ${printed} lines`);
		// Unbounded, the IPC queue grew in each worker: 700-800 MB in these 4 s; a worker itself is ~50 MB.
		assert.ok(peak > 0 && peak < 150, `a worker reached ${Math.round(peak)} MB for ${printed} lines`);
		await noChildrenLeft();
	});

	it('process: a task\'s last line, printed right before it returns, is its own and arrives before its end (200 one-line tasks on 2 workers, 3 runs)', async () => {
		for (let round = 0; round < 3; round++) {
			const r = run({ fn: 'printsOneLine', inputs: '200', pool: 'process', workers: 2 });
			const end = await r.done;
			assert.equal(end.counts.finished, 200);
			const seen = new Map<number, string>();
			const ended = new Set<number>();
			const problems: string[] = [];
			for (const e of r.events) {
				if (e.type === 'task.output') {
					if (ended.has(e.taskId)) {
						problems.push(`task ${e.taskId}: output after its end`);
					}
					seen.set(e.taskId, (seen.get(e.taskId) ?? '') + e.text);
				} else if (e.type === 'task.finished') {
					ended.add(e.taskId);
					if (seen.get(e.taskId) !== `line of task ${e.taskId}\n`) {
						problems.push(`task ${e.taskId} ended with output ${JSON.stringify(seen.get(e.taskId))}`);
					}
				}
			}
			assert.deepEqual(problems.slice(0, 5), [], `round ${round}`);
		}
	});

	it('process: a worker killed mid-print (its task past its timeout, the host busy) leaves the run able to end, its lines up to the kill before its end, the next tasks\' output whole, and no process behind', async () => {
		const check = numberedLines();
		// The host reads late: the pipe is full when the kill comes.
		const busy = setInterval(() => {
			for (const until = performance.now() + 40; performance.now() < until;) {
				// busy
			}
		}, 50);
		const r = run({ fn: 'printsNumbered', inputs: '[["a", 10], ["b", 5000], ["c", 200], ["d", 10], ["e", 200]]', pool: 'process', workers: 1, timeoutMs: 700 });
		const end = await r.done;
		clearInterval(busy);
		for (const e of r.events) {
			check.onEvent(e);
		}
		assert.equal(end.counts.finished, 4);
		assert.equal(end.counts.timedOut, 1);
		assert.deepEqual(check.problems, []);
		assert.ok((check.lines.get(1) ?? 0) > 0, 'the killed task\'s lines up to its end arrived');
		for (const id of [0, 2, 3, 4]) {
			assert.ok((check.ended.get(id) ?? 0) > 0 && check.lines.get(id) === check.ended.get(id), `task ${id}: ${check.lines.get(id)} of ${check.ended.get(id)} lines`);
		}
		await noChildrenLeft();
	});

	for (const pool of ['thread', 'process'] as const) {
		it(`${pool}: console output is captured per task`, async () => {
			const r = run({ fn: 'chatty', inputs: '["a", "b"]', pool });
			await r.done;
			const out = ofType(r.events, 'task.output');
			const byTask = (id: number, stream: string) => out.filter((o) => o.taskId === id && o.stream === stream).map((o) => o.text).join('');
			assert.equal(byTask(0, 'stdout'), 'hello from a\n');
			assert.equal(byTask(1, 'stdout'), 'hello from b\n');
			assert.equal(byTask(1, 'stderr'), 'warning b\n');
		});
	}

	for (const pool of POOLS) {
		it(`${pool}: what a task writes below console (fs.writeSync(1), a child with stdio 'inherit') is that task's output`, async () => {
			const scratch = () => readdirSync(tmpdir()).filter((f) => f.startsWith('poolscope-child-output-'));
			const before = new Set(scratch());
			const r = run({ fn: 'writesBelowConsole', inputs: '3', pool, workers: 2 });
			const end = await r.done;
			assert.deepEqual(scratch().filter((f) => !before.has(f)), [], 'the files a synchronous child wrote to are gone');
			assert.equal(end.counts.finished, 3, JSON.stringify(ofType(r.events, 'task.failed').map((f) => f.error.message)));
			assert.deepEqual(ofType(r.events, 'task.finished').map((f) => f.result), ["'0 null'", "'0 null'", "'0 null'"], 'the child has no stdout to read, as with inherit');
			const out = ofType(r.events, 'task.output');
			const byTask = (id: number, stream: string) => out.filter((o) => o.taskId === id && o.stream === stream).map((o) => o.text).join('');
			for (const i of [0, 1, 2]) {
				assert.equal(byTask(i, 'stdout'), `fd 1 from ${i}\nshell ${i}\nspawned ${i}\n`, `task ${i}`);
				assert.equal(byTask(i, 'stderr'), `fd 2 from ${i}\nshell err ${i}\n`, `task ${i}`);
			}
			assert.doesNotMatch(ofType(r.events, 'run.output').map((o) => o.text).join(''), /fd \d from|shell|spawned/);
		});
	}

	it('process: a child a call left running prints into its worker\'s stdout while the next call runs: still the first call\'s output, not the running one\'s', async () => {
		// The worker's own stdout was read by the host apart from the tasks' output and given to
		// whichever task ran when it arrived: with stdio 'inherit', 1 line in 40 went to another task.
		const r = run({ fn: 'leavesChildPrinting', inputs: '2', pool: 'process', workers: 1 });
		const end = await r.done;
		assert.equal(end.counts.finished, 2);
		const of = (id: number) => ofType(r.events, 'task.output').filter((o) => o.taskId === id).map((o) => o.text).join('');
		assert.equal(of(0), 'late from 0\n');
		assert.equal(of(1), '', 'task 1 printed nothing');
	});

	for (const pool of POOLS) {
		it(`${pool}: a module with top-level await loads (as an ES module) and runs; one whose await rejects fails to load, at its line`, async () => {
			const r = run({ fn: 'addBase', inputs: '[[1], [2], [3]]', pool, file: join(JS_FIXTURES, 'topLevelAwait.mjs') });
			const end = await r.done;
			assert.equal(end.outcome, 'completed', JSON.stringify(end.error));
			assert.deepEqual(ofType(r.events, 'task.finished').map((e) => e.result).sort(), ['101', '102', '103']);
			const bad = run({ fn: 'useConfig', inputs: '[[1], [2]]', pool, file: join(JS_FIXTURES, 'topLevelAwaitFails.mjs') });
			const endBad = await bad.done;
			assert.equal(endBad.outcome, 'error');
			assert.equal(endBad.error?.message, 'config missing');
			assert.ok(endBad.error?.frames?.some((f) => f.file === join(JS_FIXTURES, 'topLevelAwaitFails.mjs') && f.line === 1 && f.user), JSON.stringify(endBad.error?.frames));
			assert.equal(endBad.counts.finished, 0);
		});
	}

	it('installed packages load from where they are: one that reads a file next to itself (CommonJS __dirname, ESM import.meta.url) finds it', async () => {
		const project = mkdtempSync(join(tmpdir(), 'poolscope-pkgs-'));
		try {
			const pkg = (name: string, files: Record<string, string>) => {
				mkdirSync(join(project, 'node_modules', name), { recursive: true });
				for (const [f, text] of Object.entries(files)) {
					writeFileSync(join(project, 'node_modules', name, f), text);
				}
			};
			pkg('cjs-data', {
				'package.json': '{"name":"cjs-data","version":"1.0.0","main":"index.js"}',
				'index.js': "const fs = require('fs'); exports.answer = () => JSON.parse(fs.readFileSync(require('path').join(__dirname, 'data.json'), 'utf8')).answer;",
				'data.json': '{"answer":42}',
			});
			pkg('esm-data', {
				'package.json': '{"name":"esm-data","version":"1.0.0","type":"module","exports":"./index.js"}',
				'index.js': "import { readFileSync } from 'node:fs'; export const word = () => readFileSync(new URL('./word.txt', import.meta.url), 'utf8').trim();",
				'word.txt': 'found\n',
			});
			writeFileSync(join(project, 'main.mjs'), "import { answer } from 'cjs-data';\nimport { word } from 'esm-data';\nexport function look(x) { return `${answer()} ${word()} ${x}`; }\n");
			for (const pool of ['thread', 'process'] as const) {
				const r = run({ fn: 'look', inputs: '["a"]', pool, file: join(project, 'main.mjs') });
				const end = await r.done;
				assert.equal(end.counts.finished, 1, `${pool}: ${JSON.stringify(ofType(r.events, 'task.failed').map((e) => e.error.message))} ${JSON.stringify(end.error)}`);
				assert.equal(ofType(r.events, 'task.finished')[0]?.result, "'42 found a'");
			}
		} finally {
			rmSync(project, { recursive: true, force: true });
		}
	});

	for (const pool of ['thread', 'process'] as const) {
		it(`${pool}: code that finds files next to itself (__dirname, import.meta.url) sees the user's file, not the bundle's folder`, async () => {
			for (const file of ['readsNeighbour.js', 'readsNeighbour.mjs']) {
				const r = run({ fn: 'readK', inputs: '2', pool, file: join(JS_FIXTURES, file) });
				const end = await r.done;
				assert.equal(end.counts.finished, 2, `${file}: ${JSON.stringify(ofType(r.events, 'task.failed').map((f) => f.error.message))}`);
				assert.deepEqual(ofType(r.events, 'task.finished').map((f) => f.result).sort(), ['41', '42']);
			}
			const where = run({ fn: 'whereAmI', inputs: '1', pool, file: join(JS_FIXTURES, 'readsNeighbour.mjs') });
			await where.done;
			assert.equal(ofType(where.events, 'task.finished')[0]?.result, inspect([join(JS_FIXTURES, 'readsNeighbour.mjs'), JS_FIXTURES], { breakLength: Infinity }));
		});
	}

	for (const pool of ['thread', 'process'] as const) {
		it(`${pool}: an error's cause and an AggregateError's errors are in its traceback, each with its own frames`, async () => {
			const tasksFile = join(JS_FIXTURES, 'tasks.js');
			const a = run({ fn: 'chained', inputs: '[1]', pool, workers: 1 });
			await a.done;
			const e = ofType(a.events, 'task.failed')[0]!.error;
			assert.equal(e.message, 'task 1 could not start');
			assert.match(e.stack ?? '', /\n {4}\[cause\]: Error: ENOENT: no such file, open '\/nope\/1\.json'\n {8}at readConfig \(/, e.stack);
			assert.deepEqual(e.frames?.filter((f) => f.user && f.file === tasksFile).map((f) => [f.function, f.line]).slice(0, 3), [['chained', 150], ['readConfig', 143], ['chained', 148]], 'the throw, then where the cause began');
			const b = run({ fn: 'allFail', inputs: '[2]', pool, workers: 1 });
			await b.done;
			const g = ofType(b.events, 'task.failed')[0]!.error;
			assert.equal(g.name, 'AggregateError');
			assert.match(g.stack ?? '', /\[errors 0\]: Error: first 2\n/);
			assert.match(g.stack ?? '', /\[errors 1\]: TypeError: second 2\n/);
		});
	}

	for (const pool of ['thread', 'process'] as const) {
		it(`${pool}: a task that reads process.stdin (readline's question) fails at once, saying a task has no standard input`, async () => {
			const r = run({ fn: 'asks', inputs: '2', pool, workers: 1 });
			const end = await r.done; // it waited forever for a line no one could type
			assert.equal(end.counts.failed, 2);
			const e = ofType(r.events, 'task.failed')[0]!.error;
			assert.equal(e.message, 'a task has no standard input (process.stdin): pass what it would read as an argument (the run\'s inputs)');
		});
	}

	it('an array input spread into more arguments than the function declares: its TypeError says how inputs become calls', async () => {
		const r = run({ fn: 'total', inputs: '[[1, 2, 3], [[4, 5]]]', workers: 1 });
		const end = await r.done;
		assert.equal(end.counts.failed, 1);
		assert.deepEqual(ofType(r.events, 'task.finished').map((f) => f.result), ['9'], 'an array wrapped in another is one argument');
		const e = ofType(r.events, 'task.failed')[0]!.error;
		assert.equal(e.name, 'TypeError');
		assert.equal(e.hint, 'total declares 1 parameter and was called with 3 arguments: an input item that is an array is spread into arguments. To pass an array as one argument, wrap it in another: [[[1, 2, 3]], [[4, 5]]].');
	});

	for (const pool of ['process', 'thread'] as const) {
		it(`${pool} pool: a call whose promise nothing can settle any more fails ${pool === 'process' ? 'at once' : 'within about a second'}, saying so; the worker goes on`, async () => {
			// Process workers learn it from 'beforeExit'; thread workers, kept awake by piscina's
			// ports, from a second with nothing but those ports keeping them alive.
			const r = run({ fn: 'neverSettles', inputs: '[1, 2]', pool, workers: 1 });
			const end = await r.done; // it showed "running" forever (or until a timeout)
			assert.equal(end.counts.failed, 2);
			const e = ofType(r.events, 'task.failed')[0]!.error;
			assert.equal(e.name, 'NeverSettles');
			assert.match(e.message, /^the call awaits something that can never happen: its promise is pending and nothing is left that could settle it/);
			assert.match(e.hint ?? '', /a callback that never calls resolve\(\)/);
			assert.deepEqual(ofType(r.events, 'worker.exited').map((w) => w.reason), ['shutdown'], 'one worker did both, and was not replaced');
			// Longer than the thread pool's quiet second: a timer is something that can settle it.
			for (const fn of ['slowEcho', 'waitsForChildProcess', 'waitsForWorkerThread']) {
				const waiting = run({ fn, inputs: fn === 'slowEcho' ? '[[1, 1500], [2, 300]]' : '[1500, 300]', pool, workers: 1 });
				const done = await waiting.done;
				assert.equal(done.counts.finished, 2, `${fn}: a call waiting on a timer, a process or a thread is not taken for one that cannot settle: ${JSON.stringify(ofType(waiting.events, 'task.failed').map((f) => f.error.message))}`);
			}
		});
	}

	describe('bad input gets a clear error', () => {
		const loadError = async (partial: Parameters<typeof run>[0]) => {
			const r = run(partial);
			const end = await r.done;
			assert.equal(end.outcome, 'error');
			assert.ok(end.error, 'run.finished carries the error');
			assert.equal(end.error.kind, 'load');
			checkProtocol(r.events, partial.pool ?? 'thread');
			return end.error;
		};
		it('missing file', async () => {
			const e = await loadError({ fn: 'f', inputs: '1', file: join(JS_FIXTURES, 'nope.js') });
			assert.match(e.message, /file not found: .*nope\.js/);
		});
		it('missing function, listing the ones that exist', async () => {
			const e = await loadError({ fn: 'sqare', inputs: '1' });
			assert.match(e.message, /no top-level function "sqare"/);
			assert.match(e.hint ?? '', /square, add, slowEcho, spin/);
		});
		it('syntax error with file:line:col', async () => {
			const e = await loadError({ fn: 'ok', inputs: '1', file: join(JS_FIXTURES, 'broken.js') });
			assert.equal(e.name, 'SyntaxError');
			assert.match(e.message, /fixtures\/js\/broken\.js:\d+:\d+: Expected/);
		});
		it('an import that does not resolve: named, with its line and how to install it; an error in an imported file points at that file', async () => {
			const e = await loadError({ fn: 'f', inputs: '1', file: join(JS_FIXTURES, 'importsMissing.js') });
			assert.equal(e.name, 'ModuleNotFound');
			assert.match(e.message, /fixtures\/js\/importsMissing\.js:2:23: cannot find module "not-installed-pkg"/);
			assert.match(e.hint ?? '', /npm install not-installed-pkg/);
			assert.deepEqual(e.frames, [{ file: join(JS_FIXTURES, 'importsMissing.js'), line: 2, column: 23, user: true }]);
			const syntax = await loadError({ fn: 'f', inputs: '1', file: join(JS_FIXTURES, 'importsBrokenSibling.js') });
			assert.equal(syntax.name, 'SyntaxError');
			assert.deepEqual(syntax.frames?.map((f) => [f.file, f.line]), [[join(JS_FIXTURES, 'importsBroken.js'), 3]], 'an absolute path the panel can open');
		});
		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: top-level code that throws when the module loads: the run's error points at the line; every task says it did not run`, async () => {
				const r = run({ fn: 'f', inputs: '3', pool, workers: 1, file: join(JS_FIXTURES, 'throwsAtLoad.js') });
				const end = await r.done;
				assert.equal(end.outcome, 'error');
				assert.equal(end.error?.kind, 'load');
				assert.match(end.error?.message ?? '', /JSON/);
				assert.deepEqual(end.error?.frames?.filter((f) => f.user).map((f) => [f.file, f.line]), [[join(JS_FIXTURES, 'throwsAtLoad.js'), 2]]);
				const reasons = ofType(r.events, 'task.cancelled').map((c) => c.reason);
				assert.deepEqual(reasons, Array(3).fill("not run: the module failed to load (the run's error says why)"));
			});
		}
		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: what the module prints as it loads is the run's output, once per worker that loaded it and named by it; a task's print stays the task's`, async () => {
				const r = run({ fn: 'square', inputs: '4', pool, workers: 2, file: join(JS_FIXTURES, 'printsAtLoad.js') });
				const end = await r.done;
				assert.equal(end.counts.finished, 4);
				checkProtocol(r.events, pool);
				const out = ofType(r.events, 'run.output');
				const loaders = new Set(out.map((o) => o.workerId));
				const ran = new Set<number | undefined>(ofType(r.events, 'task.started').map((s) => s.workerId));
				for (const w of ran) {
					assert.ok(loaders.has(w), `worker ${w} ran tasks, so it loaded the module, but its output is missing: ${JSON.stringify(out)}`);
				}
				for (const w of loaders) {
					assert.notEqual(w, undefined, 'the module loads in workers, not in the host');
					const text = (stream: string) => out.filter((o) => o.workerId === w && o.stream === stream).map((o) => o.text).join('');
					if (ran.has(w)) {
						assert.equal(text('stdout'), 'loading printsAtLoad\n');
						assert.equal(text('stderr'), 'a warning at load\n');
					} else {
						// A worker still loading when the last task ended is ended there: it may
						// have said only the first of its two lines (a CI run saw that), never a
						// garbled one.
						assert.ok(['', 'loading printsAtLoad\n'].includes(text('stdout')), JSON.stringify(out));
						assert.ok(['', 'a warning at load\n'].includes(text('stderr')), JSON.stringify(out));
					}
				}
				assert.deepEqual(ofType(r.events, 'task.output').map((o) => o.text).sort(), ['task 0\n', 'task 1\n', 'task 2\n', 'task 3\n']);
			});
			it(`${pool}: a module that fails to load: what it printed before the error is kept`, async () => {
				const r = run({ fn: 'f', inputs: '3', pool, workers: 1, file: join(JS_FIXTURES, 'printsThenThrows.js') });
				const end = await r.done;
				assert.equal(end.outcome, 'error');
				assert.match(end.error?.message ?? '', /JSON/);
				const said = ofType(r.events, 'run.output').filter((o) => o.stream === 'stdout').map((o) => o.text).join('');
				assert.equal(said, 'reading the config\n');
			});
		}
		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: a script that calls main() and process.exit() when loaded ends the run saying so, at its line, with the guard; guarded, it runs`, async () => {
				const file = join(JS_FIXTURES, 'exitsAtLoad.js');
				const r = run({ fn: 'work', inputs: '3', pool, workers: 2, file });
				const end = await r.done;
				checkProtocol(r.events, pool);
				assert.equal(end.outcome, 'error');
				assert.equal(end.error?.name, 'ModuleExited');
				assert.match(end.error?.message ?? '', /^the module called process\.exit\(0\) outside any task/);
				assert.match(end.error?.hint ?? '', /if \(require\.main === module\) main\(\);/);
				assert.deepEqual(end.error?.frames?.filter((f) => f.user).map((f) => [f.file, f.line]).slice(0, 1), [[file, 10]]);
				assert.deepEqual(ofType(r.events, 'task.failed'), [], 'no task is blamed: "worker exited with code 0" on each before');
				assert.match(ofType(r.events, 'run.output').map((o) => o.text).join(''), /main running/);
				const guarded = run({ fn: 'work', inputs: '3', pool, workers: 2, file: join(JS_FIXTURES, 'guardedScript.js') });
				const ok = await guarded.done;
				assert.equal(ok.counts.finished, 3);
				assert.deepEqual(ofType(guarded.events, 'run.output'), [], 'the guard keeps main() out of the workers');
			});
		}
		it('a function name that is in the file only as a word (a string, a property) is "no top-level function", with the list', async () => {
			for (const pool of ['thread', 'process'] as const) {
				const file = join(JS_FIXTURES, 'mentionsOnly.js');
				const e = await loadError({ fn: 'compute', inputs: '2', pool, file }); // was "TypeError: compute is not a function (it is undefined)"
				assert.equal(e.name, 'FunctionNotFound');
				assert.equal(e.message, `no top-level function "compute" in ${file}`);
				assert.equal(e.hint, 'Functions in this file: square');
			}
		});
		it('a method\'s name says whose method it is and what to write to run it (ES module and CommonJS)', async () => {
			const esm = join(mkdtempSync(join(tmpdir(), 'poolscope-method-')), 'resizer.mjs');
			writeFileSync(esm, 'export function helper(x) {\n  return x;\n}\nexport class Resizer {\n  resize(size) {\n    return size * 2;\n  }\n}\n');
			for (const [pool, file] of [['thread', join(JS_FIXTURES, 'classMethod.js')], ['process', esm]] as const) {
				const e = await loadError({ fn: 'resize', inputs: '2', pool, file });
				assert.equal(e.name, 'FunctionNotFound');
				assert.equal(e.message, `resize is a method of class Resizer, not a top-level function of ${file.split('/').pop()}`);
				assert.match(e.hint ?? '', /e\.g\. `function resizeTask\(x\) \{ return new Resizer\(\)\.resize\(x\); \}`, and run that\. Functions in this file: helper$/);
			}
			// A static method needs no object: it runs as Resizer.halve, with `this` its class.
			writeFileSync(esm, 'export class Resizer {\n  static factor = 2;\n  static halve(size) {\n    return size / this.factor;\n  }\n  resize(size) {\n    return size * 2;\n  }\n}\n');
			const cjs = join(esm, '..', 'resizer.js');
			writeFileSync(cjs, 'class Resizer {\n  static async halve(size) {\n    return size / 2;\n  }\n}\nmodule.exports = { Resizer };\n');
			const s = await loadError({ fn: 'halve', inputs: '2', pool: 'thread', file: esm });
			assert.match(s.hint ?? '', /^A static method needs no object: run it as `Resizer\.halve`/);
			for (const [pool, file] of [['thread', esm], ['process', esm], ['thread', cjs], ['process', cjs]] as const) {
				const r = run({ fn: 'Resizer.halve', inputs: '[8, 10]', pool, file });
				const end = await r.done;
				assert.equal(end.counts.finished, 2, `${pool} ${file}: ${JSON.stringify(end.error)}`);
				assert.deepEqual(ofType(r.events, 'task.finished').map((f) => f.result).sort(), ['4', '5']);
			}
			const inst = await loadError({ fn: 'Resizer.resize', inputs: '2', pool: 'thread', file: esm });
			assert.equal(inst.message, 'resize is a method of class Resizer, not a top-level function of resizer.mjs');
			const none = await loadError({ fn: 'Resizer.nope', inputs: '2', pool: 'thread', file: esm });
			assert.match(none.message, /^no static method "Resizer\.nope" in /);
			assert.equal(none.hint, 'Functions in this file: Resizer.halve', 'static methods are listed as they run');
			rmSync(join(esm, '..'), { recursive: true, force: true });
		});
		it('an inputs expression that throws, or is not iterable', async () => {
			const a = await loadError({ fn: 'square', inputs: 'nope.nope' });
			assert.match(a.message, /inputs "nope\.nope": nope is not defined/);
			assert.match(a.hint ?? '', /^JS inputs are evaluated on their own, without the file's variables or imports/, 'a name from the file (Python inputs can use those)');
			const b = await loadError({ fn: 'square', inputs: '({ a: 1 })' });
			assert.match(b.message, /not iterable/);
			assert.equal(b.hint, undefined);
		});
		it('the pool boots while the inputs are evaluated: when they fail, its workers end unseen and no process is left', async () => {
			for (const pool of ['process', 'thread'] as const) {
				// Slow enough that the forked workers are up before the inputs fail.
				const r = run({ fn: 'square', pool, inputs: '(() => { const end = Date.now() + 400; while (Date.now() < end); throw new Error("late"); })()' });
				const end = await r.done;
				assert.equal(end.outcome, 'error');
				assert.match(end.error?.message ?? '', /late/);
				checkProtocol(r.events, pool);
				assert.deepEqual(ofType(r.events, 'worker.started'), [], 'workers that never ran a task are not reported');
				await noChildrenLeft();
			}
		});
		it('the pool boots while the file is bundled: a file that does not load ends its workers unseen, and no process is left', async () => {
			for (const pool of ['process', 'thread'] as const) {
				for (const partial of [{ fn: 'ok', file: join(JS_FIXTURES, 'broken.js') }, { fn: 'sqare' }, { fn: 'f', file: join(JS_FIXTURES, 'nope.js') }]) {
					const r = run({ ...partial, pool, inputs: '[[1], [2]]' });
					const end = await r.done;
					assert.equal(end.outcome, 'error');
					assert.equal(end.error?.kind, 'load');
					checkProtocol(r.events, pool);
					assert.deepEqual(ofType(r.events, 'worker.started'), [], 'workers that never ran a task are not reported');
					await noChildrenLeft();
				}
			}
		});
		it('an argument that cannot be sent to a worker fails that task, naming it', async () => {
			const r = run({ fn: 'square', inputs: '[1, () => 2, 3]' });
			const end = await r.done;
			assert.equal(end.counts.finished, 2);
			const failed = ofType(r.events, 'task.failed');
			assert.equal(failed.length, 1);
			assert.equal(failed[0]!.error.kind, 'notCloneable');
			assert.match(failed[0]!.error.message, /task 1: its argument \(a function\) cannot be sent/);
		});
	});

	describe('control', () => {
		it('cancels a pending task; refuses a running one with a reason', async () => {
			const r = run({ fn: 'slowEcho', inputs: '[[0, 300], [1, 300], [2, 300], [3, 300]]', workers: 1 });
			await waitFor(() => ofType(r.events, 'task.started').length > 0, 10_000);
			const running = ofType(r.events, 'task.started')[0]!.taskId;
			const refused = await r.handle.cancelTask(running);
			assert.equal(refused.ok, false);
			assert.match(refused.ok ? '' : refused.reason, /already running/);
			// The next task already waits in piscina for that worker: refused, as CPython's call queue does.
			const handedOver = await r.handle.cancelTask(1);
			assert.equal(handedOver.ok, false);
			assert.match(handedOver.ok ? '' : handedOver.reason, /already handed to piscina .* can no longer be cancelled on its own/);
			const ok = await r.handle.cancelTask(3);
			assert.deepEqual(ok, { ok: true });
			const end = await r.done;
			assert.equal(end.counts.cancelled, 1);
			assert.equal(end.counts.finished, 3);
			assert.equal(ofType(r.events, 'task.cancelled')[0]?.taskId, 3);
			checkProtocol(r.events, 'thread');
		});

		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: cancelling the run cancels pending tasks, ends running ones, and leaves no worker`, async () => {
				const r = run({ fn: 'forever', inputs: '6', pool });
				await waitFor(() => ofType(r.events, 'task.started').length >= 2, 10_000);
				await r.handle.cancel();
				const end = await r.done;
				assert.equal(end.outcome, 'cancelled');
				assert.equal(end.counts.cancelled, 6);
				const cancelled = ofType(r.events, 'task.cancelled');
				assert.equal(cancelled.filter((c) => c.wasRunning).length, 2, 'the two running tasks were ended');
				checkProtocol(r.events, pool);
			});
		}

		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: a task past its timeout is ended, its worker replaced, the rest still run`, async () => {
				const r = run({ fn: 'spin', inputs: '[[20], [5000], [20], [20]]', pool, workers: 1, timeoutMs: 400 });
				const end = await r.done;
				assert.equal(end.counts.timedOut, 1);
				assert.equal(end.counts.finished, 3);
				const failed = ofType(r.events, 'task.failed')[0]!;
				assert.equal(failed.taskId, 1);
				assert.equal(failed.error.kind, 'timeout');
				// The limit, as the Python runner states it (the message said only "its timeout").
				assert.match(failed.error.message, /^task 1 ran past its timeout of 400 ms; (worker process \d+ was killed|its worker thread was terminated) and replaced$/);
				assert.ok(ofType(r.events, 'worker.exited').some((w) => w.reason === 'timeout'));
				checkProtocol(r.events, pool);
			});
		}

		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: when the last task times out the run ends at once, with no replacement worker booted for nothing`, async () => {
				// Two tasks on one worker, both past the timeout: the second runs on the first's replacement.
				const r = run({ fn: 'spin', inputs: '[[5000], [5000]]', pool, workers: 1, timeoutMs: 300 });
				const end = await r.done;
				assert.deepEqual([end.counts.finished, end.counts.timedOut], [0, 2]);
				assert.equal(ofType(r.events, 'worker.started').length, 2, `workers started: ${JSON.stringify(ofType(r.events, 'worker.started'))}`);
				checkProtocol(r.events, pool);
			});
		}

		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: process.exit(3) in a task fails that task ("worker exited with code 3"), the run goes on`, async () => {
				const r = run({ fn: 'exiting', inputs: '[0, 1, 2, 3]', pool, workers: 1 });
				const end = await r.done;
				assert.equal(end.outcome, 'completed');
				assert.equal(end.counts.finished, 3);
				const failed = ofType(r.events, 'task.failed')[0]!;
				assert.equal(failed.taskId, 1);
				assert.equal(failed.error.kind, 'workerExited');
				assert.match(failed.error.message, /worker exited with code 3/);
				// Its start too (a process worker dying before the start poll left the timeline no bar):
				// on the worker it failed on, and it lasted until then.
				const started = ofType(r.events, 'task.started').find((e) => e.taskId === 1);
				assert.ok(started, `task 1 has a start: ${JSON.stringify(r.events.filter((e) => 'taskId' in e && e.taskId === 1))}`);
				assert.equal(started.workerId, failed.workerId);
				assert.ok(failed.durationMs !== undefined && failed.durationMs >= 0, JSON.stringify(failed));
				checkProtocol(r.events, pool);
			});
		}

		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: a timer a returned task left behind throws later: a warning naming that task, its result kept, the running task unharmed`, async () => {
				const r = run({ fn: 'leavesTimer', inputs: '4', pool, workers: 1 });
				const end = await r.done;
				assert.equal(end.outcome, 'completed');
				assert.equal(end.counts.finished, 4, 'no task fails: the one that threw had returned, the one running is not to blame');
				assert.equal(ofType(r.events, 'task.finished').find((f) => f.taskId === 1)?.result, "'quick'");
				const warnings = ofType(r.events, 'run.warning');
				assert.equal(warnings.length, 1, JSON.stringify(warnings));
				assert.match(warnings[0]!.message, /^task 1 had already returned when a timer or callback it left behind threw Error: late boom from task 1 \(task 2 was running on that worker; it went on\)/);
				assert.match(warnings[0]!.detail ?? '', /tasks\.js:\d+:\d+/, 'the stack points at the user\'s file');
				assert.equal(ofType(r.events, 'worker.started').length, 1, 'the worker was not replaced');
				checkProtocol(r.events, pool);
			});

			it(`${pool}: a timer a returned task left behind prints later: the line joins that task's output, not the running one's`, async () => {
				const r = run({ fn: 'lateLog', inputs: '2', pool, workers: 1 });
				const end = await r.done;
				assert.equal(end.counts.finished, 2);
				const out = (taskId: number) => ofType(r.events, 'task.output').filter((o) => o.taskId === taskId).map((o) => o.text).join('');
				assert.equal(out(0), 'late line of task 0\n');
				assert.equal(out(1), 'own line of task 1\n');
			});

			it(`${pool}: a callback of a task still running throws: that task fails with its error and stack, the rest run on the same worker`, async () => {
				const r = run({ fn: 'ownCallbackThrows', inputs: '4', pool, workers: 1 });
				const end = await r.done;
				assert.equal(end.counts.finished, 3);
				const failed = ofType(r.events, 'task.failed');
				assert.deepEqual(failed.map((f) => [f.taskId, f.error.kind, f.error.message]), [[2, 'exception', 'own callback of task 2']]);
				assert.ok(failed[0]!.error.frames?.some((f) => f.user && /tasks\.js$/.test(f.file)), JSON.stringify(failed[0]!.error.frames));
				assert.deepEqual(ofType(r.events, 'run.warning'), []);
				assert.equal(ofType(r.events, 'worker.started').length, 1);
			});
		}

		for (const pool of ['thread', 'process'] as const) {
			// A thread pool lost it: piscina's idle thread waited in a blocking Atomics.wait, and the
			// rejection was told after the reply that ended the run.
			it(`${pool}: a promise a task left rejected with no handler is a warning naming that task`, async () => {
				for (const inputs of ['3', '1']) {
					const r = run({ fn: 'leavesRejection', inputs, pool, workers: 1 });
					const end = await r.done;
					assert.equal(end.counts.finished, Number(inputs));
					const warnings = ofType(r.events, 'run.warning');
					assert.equal(warnings.length, 1, `inputs ${inputs}: ${JSON.stringify(warnings)}`);
					assert.match(warnings[0]!.message, /^task 0 had already returned when a promise it left without a handler rejected with Error: nobody handled this rejection/);
				}
			});

			it(`${pool}: a timer a returned task left behind runs while its worker has nothing else to do (an idle thread stood still)`, async () => {
				const r = run({ fn: 'leavesTimerOnIdleWorker', inputs: '2', pool, workers: 2 });
				const end = await r.done;
				assert.equal(end.counts.finished, 2);
				const warnings = ofType(r.events, 'run.warning');
				assert.equal(warnings.length, 1, JSON.stringify(warnings));
				// A process pool's second worker may still be starting: task 1 then runs on the first.
				const during = pool === 'process' ? '( \\(task 1 was running on that worker; it went on\\))?' : '';
				assert.match(warnings[0]!.message, new RegExp(`^task 0 had already returned when a timer or callback it left behind threw Error: late boom from an idle worker${during}\\. `));
			});
		}

		for (const pool of ['thread', 'process'] as const) {
			it(`${pool}: a call that allocates without end fails "out of memory" at the heap limit, its worker replaced, the rest run, nothing left`, async () => {
				const r = run({ fn: 'hog', inputs: '4', pool, workers: 1, maxHeapMb: 64 });
				const end = await r.done;
				assert.equal(end.outcome, 'completed');
				assert.equal(end.counts.finished, 3);
				const [failed] = ofType(r.events, 'task.failed');
				assert.equal(failed?.taskId, 1);
				assert.equal(failed?.error.kind, 'outOfMemory');
				assert.match(failed?.error.message ?? '', /ran out of memory \(heap limit 64 MB\)/);
				assert.match(failed?.error.hint ?? '', /poolscope\.maxHeapMb/);
				assert.ok(ofType(r.events, 'worker.exited').some((w) => w.reason === 'outOfMemory'));
				assert.equal(ofType(r.events, 'worker.started').length, 2, 'the worker was replaced');
				checkProtocol(r.events, pool);
				assert.ok(await waitFor(() => childProcesses().length === 0, 5000), childProcesses().join(' | '));
			});
		}

		it('no process worker outlives its host, not even one stuck in an endless loop: SIGKILL the host mid-run', async () => {
			const tag = randomBytes(6).toString('hex');
			const host = spawn(process.execPath, ['-e', `
				const { startRun } = require(${JSON.stringify(join(__dirname, 'hostStandIn.entry.js'))});
				startRun(${JSON.stringify(join(JS_FIXTURES, 'tasks.js'))});
			`], { env: { ...process.env, POOLSCOPE_ORPHAN_TAG: tag }, stdio: ['ignore', 'pipe', 'inherit'] });
			let out = '';
			host.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
			assert.ok(await waitFor(() => out.includes('started'), 15_000), `host never started the run: ${out}`);
			const workers = () => processesWithEnv('POOLSCOPE_ORPHAN_TAG', tag).filter((p) => p.pid !== host.pid);
			assert.ok(workers().length >= 2, `expected 2 workers: ${workers().map((p) => p.args).join(' | ')}`);
			host.kill('SIGKILL');
			// Their main threads never return to the event loop ('disconnect' cannot run there).
			assert.ok(await waitFor(() => workers().length === 0, 5_000), `orphans: ${workers().map((p) => `${p.pid} ${p.args}`).join(' | ')}`);
		});

		it('a function that kills 3 workers is not retried on fresh ones', async () => {
			const r = run({ fn: 'alwaysExit', inputs: '8', pool: 'process', workers: 1 });
			const end = await r.done;
			const failed = ofType(r.events, 'task.failed');
			assert.equal(failed.filter((f) => f.error.kind === 'workerExited').length, 3);
			assert.equal(failed.filter((f) => f.error.kind === 'killedWorker').length, 5);
			assert.match(failed.find((f) => f.error.kind === 'killedWorker')!.error.message, /killed 3 workers/);
			assert.equal(end.counts.failed, 8);
			assert.ok(ofType(r.events, 'worker.started').length <= 4, 'no retry storm');
			checkProtocol(r.events, 'process');
		});

		it('thread pool: a function that ends every thread it runs on: each death is its thread\'s as it happens (code 7, not "shutdown" at the end), and the batches waiting in piscina get no fresh thread after the third', async () => {
			const r = run({ fn: 'alwaysExit', inputs: '200', pool: 'thread', workers: 2 });
			const end = await r.done;
			assert.equal(end.counts.failed, 200);
			const died = ofType(r.events, 'task.failed').filter((f) => f.error.kind === 'workerExited');
			// The third death stops the function; only a call already running on the other thread may still end one.
			assert.ok(died.length >= 3 && died.length <= 4, `threads killed: ${died.length}`);
			assert.equal(ofType(r.events, 'task.failed').filter((f) => f.error.kind === 'killedWorker').length, 200 - died.length);
			const exits = ofType(r.events, 'worker.exited');
			for (const f of died) {
				assert.ok(f.workerId !== undefined, `task ${f.taskId} died with no worker named`);
				const exit = exits.find((x) => x.workerId === f.workerId);
				assert.ok(exit && exit.reason === 'crash' && exit.code === 7, `worker ${f.workerId}: ${JSON.stringify(exit)}`);
				assert.ok(exit.t <= f.t + 50, 'its exit is reported with its task, not when the run ends');
			}
			checkProtocol(r.events, 'thread');
			await noChildrenLeft();
		});

		it('a bounded queue holds the producer back (queue full is reported) and every task still runs', async () => {
			const r = run({ fn: 'slowEcho', inputs: 'Array.from({ length: 12 }, (_, i) => [i, 30])', workers: 1, maxQueue: 3 });
			const end = await r.done;
			assert.equal(end.counts.finished, 12);
			const depths = ofType(r.events, 'queue.depth');
			assert.ok(depths.every((d) => (d.depths.pending ?? 0) <= 3), 'pending never exceeds maxQueue');
			assert.ok(depths.some((d) => d.full?.includes('pending')), 'back-pressure is visible');
			checkProtocol(r.events, 'thread');
		});

		it('process pool: chunks of items per message still report every task', async () => {
			const r = run({ fn: 'square', inputs: '20', pool: 'process', chunksize: 5 });
			const end = await r.done;
			assert.equal(end.counts.finished, 20);
			assert.equal(ofType(r.events, 'task.started').length, 20);
			checkProtocol(r.events, 'process');
		});

		it('process pool: a worker holds more tasks ahead while they are tiny, one ahead while they take longer', async () => {
			const maxDispatched = (events: PoolEvent[]) => Math.max(0, ...ofType(events, 'queue.depth').map((d) => d.depths.dispatched ?? 0));
			const tiny = run({ fn: 'square', inputs: '20000', pool: 'process', workers: 2 });
			await tiny.done;
			checkProtocol(tiny.events, 'process');
			assert.ok(maxDispatched(tiny.events) > 4, `tiny tasks: at most ${maxDispatched(tiny.events)} dispatched`);
			const slow = run({ fn: 'spin', inputs: '[20, 20, 20, 20, 20, 20, 20, 20, 20, 20]', pool: 'process', workers: 2 });
			await slow.done;
			checkProtocol(slow.events, 'process');
			assert.ok(maxDispatched(slow.events) <= 4, `20 ms tasks: ${maxDispatched(slow.events)} dispatched (one waiting per worker, one start not yet seen)`);
		});

		it('process pool: long calls go one per worker, so a worker that was ready later still gets one', async () => {
			// Both on the first worker ready (it held the second behind the first) took twice as long.
			// 800 ms: longer than a worker process takes to start on a busy machine, so the first one
			// ready cannot finish its call and take a second before the others are up.
			const r = run({ fn: 'spin', inputs: '[800, 800, 800]', pool: 'process', workers: 3 });
			assert.equal((await r.done).counts.finished, 3);
			checkProtocol(r.events, 'process');
			const workers = ofType(r.events, 'task.finished').map((e) => e.workerId);
			assert.equal(new Set(workers).size, 3, `3 calls of 800 ms on 3 workers ran on workers ${workers.join(', ')}`);
		});

		it('process pool: at the end of the queue no call waits behind another while a worker idles', async () => {
			// Ten short calls make calls look short; then two long ones, the last two in the queue.
			// Both went to one worker once (held ahead behind each other): 2.1 s where 1.1 s does.
			for (let attempt = 0; attempt < 3; attempt++) {
				const r = run({ fn: 'spin', inputs: '[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 600, 600]', pool: 'process', workers: 2 });
				assert.equal((await r.done).counts.finished, 12);
				const long = ofType(r.events, 'task.finished').filter((e) => e.taskId >= 10).map((e) => e.workerId);
				assert.equal(new Set(long).size, 2, `attempt ${attempt}: the two 600 ms calls ran on workers ${long.join(', ')}`);
			}
		});

		describe('thread pool: short calls travel to piscina in batches', () => {
			const maxDispatched = (events: PoolEvent[]) => Math.max(0, ...ofType(events, 'queue.depth').map((d) => d.depths.dispatched ?? 0));
			let dir: string;
			before(() => {
				dir = mkdtempSync(join(tmpdir(), 'poolscope-journal-'));
			});
			after(() => rmSync(dir, { recursive: true, force: true }));
			/** The journal's lines per task id: each call appends one. */
			const calls = (file: string): Map<number, number> => {
				const m = new Map<number, number>();
				for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
					m.set(Number(line), (m.get(Number(line)) ?? 0) + 1);
				}
				return m;
			};
			const journalRun = (name: string, n: number, extra: string, request: Partial<RunRequest> = {}) => {
				const file = join(dir, `${name}.txt`);
				return { file, r: run({ fn: 'journal', inputs: `Array.from({ length: ${n} }, (_, i) => [i, ${JSON.stringify(file)}${extra}])`, ...request }) };
			};

			it('every call is still reported on its own: start, end, worker and result', async () => {
				// Call 1500 spins 300 ms: the depths, sampled every 50 ms, see the rest of its batch
				// waiting behind it (3,000 calls alone took less than one sample on a quick machine).
				const { file, r } = journalRun('plain', 3000, ', -1, 1500, 300');
				const end = await r.done;
				checkProtocol(r.events, 'thread');
				assert.equal(end.counts.finished, 3000);
				assert.ok(maxDispatched(r.events) > 4, `only ${maxDispatched(r.events)} dispatched at once: no batches`);
				const finished = ofType(r.events, 'task.finished');
				assert.deepEqual(finished.map((f) => f.result).sort(), Array.from({ length: 3000 }, (_, i) => String(2 * i)).sort());
				assert.ok(finished.every((f) => f.durationMs >= 0 && f.workerId >= 0));
				assert.ok([...calls(file).values()].every((c) => c === 1) && calls(file).size === 3000, 'each call ran once');
			});

			it('a call that turns out long in a batch of short ones: the calls behind it are taken back and run on another thread, each once', async () => {
				// Call 300 spins 600 ms; before, up to 63 calls of its batch waited behind it while the other thread idled.
				const { file, r } = journalRun('long', 400, ', -1, 300, 600', { workers: 2 });
				const end = await r.done;
				checkProtocol(r.events, 'thread');
				assert.equal(end.counts.finished, 400);
				const finished = ofType(r.events, 'task.finished');
				const longEnd = finished.find((f) => f.taskId === 300)!.t;
				const after = finished.filter((f) => f.taskId !== 300 && f.t > longEnd).map((f) => f.taskId);
				assert.deepEqual(after, [], 'no call waited for the long one');
				const c = calls(file);
				assert.equal(c.size, 400, 'every call ran');
				assert.deepEqual([...c].filter(([, k]) => k !== 1), [], 'no call ran twice');
			});

			it('a worker that exits in the middle of a batch: the calls before keep their results, that call fails, the rest run once elsewhere', async () => {
				// Call 1500 spins 300 ms, as above: the depths (every 50 ms) then surely see batches in
				// flight, which a quick run could finish between two samples (seen once on this VM).
				const { file, r } = journalRun('exit', 3000, ', 2000, 1500, 300', { workers: 2 });
				const end = await r.done;
				checkProtocol(r.events, 'thread');
				assert.ok(maxDispatched(r.events) > 4, 'batches were in flight');
				const failed = ofType(r.events, 'task.failed');
				assert.deepEqual(failed.map((f) => [f.taskId, f.error.kind]), [[2000, 'workerExited']]);
				assert.match(failed[0]!.error.message, /worker exited with code 4/);
				assert.equal(end.counts.finished, 2999);
				const c = calls(file);
				assert.equal(c.size, 3000, 'every call ran');
				assert.deepEqual([...c].filter(([, k]) => k !== 1), [], 'no call ran twice');
			});

			it('a call past its timeout in a batch: it is ended, the calls before keep their results, the rest run once', async () => {
				const { file, r } = journalRun('timeout', 3000, ', -1, 2000', { workers: 2, timeoutMs: 300 });
				const end = await r.done;
				checkProtocol(r.events, 'thread');
				assert.equal(end.counts.timedOut, 1);
				assert.equal(ofType(r.events, 'task.failed')[0]!.taskId, 2000);
				assert.equal(end.counts.finished, 2999);
				const c = calls(file);
				assert.equal(c.size, 3000);
				assert.deepEqual([...c].filter(([, k]) => k !== 1), [], 'no call ran twice');
			});

			it('cancelling the run mid-batch: what finished keeps its result, what never ran is cancelled, nothing runs twice', async () => {
				const { file, r } = journalRun('cancel', 50_000, '');
				await waitFor(() => ofType(r.events, 'task.finished').length >= 2000, 30_000);
				await r.handle.cancel();
				const end = await r.done;
				checkProtocol(r.events, 'thread');
				assert.equal(end.outcome, 'cancelled');
				const c = calls(file);
				assert.deepEqual([...c].filter(([, k]) => k !== 1), [], 'no call ran twice');
				for (const f of ofType(r.events, 'task.finished')) {
					assert.equal(c.get(f.taskId), 1, `finished task ${f.taskId} ran`);
				}
				const neverRan = ofType(r.events, 'task.cancelled').filter((x) => !x.wasRunning);
				assert.ok(neverRan.length > 0);
				assert.deepEqual(neverRan.filter((x) => c.has(x.taskId)).map((x) => x.taskId), [], 'a call that ran is not reported as never started');
				assert.equal(end.counts.finished + end.counts.cancelled, 50_000);
			});
		});

		it('warns when workers exceed 4 per core', async () => {
			const r = run({ fn: 'square', inputs: '2', workers: 64 });
			await r.done;
			assert.match(ofType(r.events, 'run.warning')[0]?.message ?? '', /64 workers on \d+ cores/);
		});
	});
});

describe('JS thread pool: piscina\'s own events', () => {
	it('a reply for a batch the pool already aborted (piscina\'s "Unexpected message from Worker" error) is dropped, not thrown', async () => {
		const noop = () => undefined;
		const pool = new ThreadPool({ workers: 1, bundle: join(JS_FIXTURES, 'tasks.js'), fn: 'square', runId: `late-reply-${process.pid}` }, {
			workerStarting: noop, workerStarted: noop, workerThreadId: noop, workerExited: noop, taskStarted: noop, taskOutput: noop, runOutput: noop, taskResult: noop, taskLost: noop, requeue: noop, lateError: noop, warning: noop, fatal: noop, idle: noop,
		});
		try {
			const piscina = (pool as unknown as { pool: EventEmitter }).pool;
			assert.doesNotThrow(() => piscina.emit('error', new Error('Unexpected message from Worker: { taskId: 998 }')));
		} finally {
			await pool.close();
		}
	});
});
