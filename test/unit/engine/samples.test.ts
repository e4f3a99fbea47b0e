/**
 * Every sample function, run as one click on "Run in parallel" runs it: its own `poolscope:
 * inputs=` comment, the default pool of its language. The samples are a new user's first run:
 * each must show what its comment says it shows, on a real pool.
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PoolEvent, RunFinishedEvent } from '../../../engine/protocol/events';
import { applyEvents, createRunModel } from '../../../engine/protocol/runModel';
import type { RunRequest } from '../../../engine/runTypes';
import { findFunctions, languageOfFile } from '../../../engine/source/sourceFunctions';
import { startRun } from '../../../engine/startRun';
import { descendantsOf, waitFor } from '../../harness/processes';
import { ofType } from './jsHelpers';

const SAMPLES = join(__dirname, '..', '..', '..', '..', 'samples');

type Check = (end: RunFinishedEvent, events: PoolEvent[]) => void;

const completes = (n: number): Check => (end) => {
	assert.equal(end.outcome, 'completed', JSON.stringify(end.error));
	assert.deepEqual([end.counts.finished, end.counts.failed], [n, 0], JSON.stringify(end.counts));
};
const errorsOf = (events: PoolEvent[]) => ofType(events, 'task.failed').map((e) => e.error);
/** Each task's own line (`task N ...`) is in that task's output, and none is the run's. */
const linesOfTasks = (events: PoolEvent[], line: RegExp) => {
	const byTask = new Map<number, string>();
	for (const o of ofType(events, 'task.output')) {
		byTask.set(o.taskId, (byTask.get(o.taskId) ?? '') + o.text);
	}
	for (const id of [0, 1, 2, 3]) {
		assert.match(byTask.get(id) ?? '', new RegExp(`^task ${id} ${line.source}`, 'm'), `task ${id}'s output`);
	}
	assert.ok(!ofType(events, 'run.output').some((o) => line.test(o.text)), 'no line is the run\'s');
};

/** What each sample shows; a sample without an entry here fails the test (add one). */
const EXPECTED: Record<string, { check: Check; request?: Partial<RunRequest> }> = {
	'python/cpu_bound.py:countdown': { check: completes(4) },
	'python/cpu_bound.py:pi_series': { check: completes(4) },
	'python/io_bound.py:download': { check: completes(16) },
	// Real HTTP to the module's own slow server: 8 threads overlap the waits in the socket.
	'python/io_bound.py:fetch': {
		check: (end, events) => {
			completes(16)(end, events);
			assert.equal(ofType(events, 'run.started')[0]!.pool, 'thread');
			const results = ofType(events, 'task.finished').map((f) => f.result);
			assert.equal(new Set(results).size, 16, JSON.stringify(results));
			assert.ok(results.every((r) => /^'file \d+: 200,000 bytes'$/.test(r)), JSON.stringify(results));
			// 16 waits of 0.3 s on 8 threads: ~0.6 s, not the 4.8 s of one at a time.
			assert.ok(end.wallMs < 2400, `the waits overlapped: ${end.wallMs} ms`);
			if (process.platform === 'linux') {
				assert.ok((end.ioWaitShare ?? 0) > 0.5 && (end.gilWaitShare ?? 1) < 0.3, `mostly waiting in the socket: ${JSON.stringify(end)}`);
			}
		},
	},
	// Its comment asks for spawn: each worker has its own thread and lock, nothing to warn of.
	'python/fork_hang.py:count_call_spawned': {
		check: (end, events) => {
			completes(4)(end, events);
			assert.equal(ofType(events, 'run.started')[0]?.startMethod, 'spawn');
			assert.deepEqual(ofType(events, 'run.warning').map((w) => w.message), []);
		},
	},
	// Forked while its module's thread holds the lock (most of the time): the run says so at the
	// fork, and a task in a worker whose copy is locked times out. Elsewhere (spawn, forkserver) all finish.
	'python/fork_hang.py:count_call': {
		check: (end, events) => {
			const warned = ofType(events, 'run.warning').filter((w) => /^The workers are forked while 1 other thread of the runner is running \('stats-flusher'\)/.test(w.message));
			if (ofType(events, 'run.started')[0]?.startMethod === 'fork') {
				assert.equal(warned.length, 1, JSON.stringify(ofType(events, 'run.warning')));
				assert.equal(end.counts.finished + end.counts.timedOut, 4, JSON.stringify(end.counts));
			} else {
				completes(4)(end, events);
				assert.equal(warned.length, 0);
			}
		},
	},
	// Linux: the threads are looked at, and the summary's split says what the sample is about.
	'python/waits.py:fetch_and_parse': {
		check: (end, events) => {
			completes(200)(end, events);
			if (process.platform === 'linux') {
				assert.ok((end.ioWaitShare ?? 0) > 0.4 && (end.gilWaitShare ?? 1) < 0.4, `mostly waiting for the "download": ${JSON.stringify(end)}`);
			}
		},
	},
	'python/waits.py:under_one_lock': {
		check: (end, events) => {
			completes(24)(end, events);
			if (process.platform === 'linux') {
				assert.ok((end.lockWaitShare ?? 0) > 0.4 && (end.gilWaitShare ?? 1) < 0.3, `mostly waiting on the lock: ${JSON.stringify(end)}`);
			}
		},
	},
	'python/printing.py:chatty': {
		check: (end, events) => {
			completes(6)(end, events);
			assert.equal(ofType(events, 'task.output').filter((o) => /step 2/.test(o.text)).length, 6, 'each task\'s prints are its own');
		},
	},
	// A process pool's workers each have their own fd 1: a command's line and a raw write are the task's.
	'python/printing.py:shell_echo': { check: (end, events) => { completes(4)(end, events); linesOfTasks(events, /says hello from the shell/); } },
	'python/printing.py:raw_write': { check: (end, events) => { completes(4)(end, events); linesOfTasks(events, /wrote to fd 1/); } },
	'python/faults.py:sometimes_fails': {
		check: (end, events) => {
			assert.deepEqual([end.counts.finished, end.counts.failed], [4, 2]);
			assert.ok(errorsOf(events).every((e) => e.name === 'ValueError' && e.kind === 'exception'));
		},
	},
	'python/faults.py:crashes_worker': {
		check: (end, events) => {
			assert.ok(errorsOf(events).some((e) => e.kind === 'workerExited' || e.kind === 'brokenPool'), JSON.stringify(errorsOf(events)));
			assert.equal(end.counts.submitted, 4);
		},
	},
	// Its comment runs it on two threads with a timeout: each thread waits for the other's lock,
	// and the snapshot shows where (a lock's acquire: TaskTimeout cannot land there).
	'python/faults.py:deadlock': {
		check: (end, events) => {
			assert.equal(ofType(events, 'run.started')[0]!.pool, 'thread');
			assert.deepEqual([end.counts.timedOut, end.counts.finished], [2, 0], JSON.stringify(end.counts));
			for (const e of errorsOf(events)) {
				assert.match(e.stack ?? '', /with second:/);
			}
			// The 2 s timeout leaves time for a reading of each thread's CPU: none, they wait
			// (the panel draws their bars pale and says so in their details).
			if (process.platform === 'linux') {
				const model = createRunModel(end.runId);
				applyEvents(model, events);
				const shares = [...model.tasks.values()].map((t) => t.lastCpuShare);
				assert.ok(shares.every((s) => s !== undefined && s < 0.03), JSON.stringify(shares));
			}
		},
	},
	'python/faults.py:calls_a_lambda': {
		check: (end, events) => {
			assert.equal(end.counts.failed, 1);
			assert.equal(errorsOf(events)[0]!.kind, 'pickling');
		},
	},
	'python/memory.py:remembers': {
		check: (end, events) => {
			completes(8)(end, events);
			const peak = Math.max(...ofType(events, 'memory.sample').flatMap((m) => m.workers.map((w) => w.rss)));
			assert.ok(peak > 50 * 1048576, `a worker keeps what its tasks made: peak ${peak} bytes`);
		},
	},
	'python/memory.py:recycled': {
		check: (end, events) => {
			completes(8)(end, events);
			assert.equal(ofType(events, 'worker.started').length, 4, 'each worker replaced after 2 tasks');
			assert.ok(ofType(events, 'worker.exited').some((w) => w.reason === 'recycled'));
			// Each worker kept at most 2 blocks of 25 MB (on top of an interpreter's ~10-20 MB).
			const peak = Math.max(...ofType(events, 'memory.sample').flatMap((m) => m.workers.map((w) => w.rss)));
			assert.ok(peak < 100 * 1048576, `no worker climbs past its 2 tasks' blocks: peak ${peak} bytes`);
		},
	},
	// 100,000 calls is the point of it in the editor; here a thousand show it runs.
	'python/memory.py:eager': { check: completes(1000), request: { inputs: 'range(1000)' } },
	'js/cpu.js:fib': { check: completes(4) },
	'js/cpu.js:countdown': { check: completes(4) },
	'js/io.js:download': { check: completes(16) },
	'js/primes.ts:countPrimes': { check: completes(4) },
	'js/faults.js:sometimesFails': {
		check: (end, events) => {
			assert.deepEqual([end.counts.finished, end.counts.failed], [4, 2]);
			assert.ok(errorsOf(events).every((e) => e.name === 'RangeError'));
		},
	},
	'js/faults.js:crashesWorker': {
		check: (end, events) => {
			assert.deepEqual([end.counts.finished, end.counts.failed], [3, 1]);
			assert.match(errorsOf(events)[0]!.message, /worker exited with code 3/);
		},
	},
	// Endless by design: its comment's timeout ends each call, and the worker that ran it.
	'js/faults.js:neverReturns': {
		check: (end, events) => {
			assert.equal(ofType(events, 'run.started')[0]!.options.timeoutMs, 1000, 'the timeout comes from its comment');
			assert.equal(end.counts.timedOut, 2);
			assert.ok(errorsOf(events).every((e) => /terminated and replaced/.test(e.message)), JSON.stringify(errorsOf(events)));
		},
	},
	// Endless with no timeout, for Cancel Run: here a timeout stands in for the user's cancel.
	'js/faults.js:spinsUntilCancelled': {
		request: { timeoutMs: 300 },
		check: (end) => {
			assert.equal(end.counts.timedOut, 2);
		},
	},
};

const samples: { key: string; request: RunRequest }[] = [];
for (const dir of ['python', 'js']) {
	for (const name of readdirSync(join(SAMPLES, dir)).sort()) {
		const file = join(SAMPLES, dir, name);
		const language = languageOfFile(file);
		if (!language) {
			continue;
		}
		for (const f of findFunctions(readFileSync(file, 'utf8'), language)) {
			assert.deepEqual(f.problems, undefined, `${name}:${f.name}'s poolscope comment`);
			if (f.inputs === undefined) {
				continue; // no comment: the first run asks for inputs (UI tests)
			}
			const key = `${dir}/${name}:${f.name}`;
			samples.push({
				key,
				request: {
					runId: `sample-${samples.length}`, file, fn: f.name, inputs: f.inputs,
					language, pool: f.options?.pool ?? (language === 'python' ? 'process' : 'thread'),
					...(f.options?.workers ? { workers: f.options.workers } : {}),
					...(f.options?.timeoutMs ? { timeoutMs: f.options.timeoutMs } : {}),
					...(f.options?.maxTasksPerChild ? { maxTasksPerChild: f.options.maxTasksPerChild } : {}),
					...(f.options?.startMethod ? { startMethod: f.options.startMethod } : {}),
					...EXPECTED[key]?.request,
				},
			});
		}
	}
}

describe('printing.py on a thread pool, as its comments say', function () {
	this.timeout(60_000);
	const file = join(SAMPLES, 'python', 'printing.py');
	const run = async (fn: string) => {
		const events: PoolEvent[] = [];
		const end = await startRun({ runId: `thread-${fn}`, file, fn, inputs: 'range(4)', language: 'python', pool: 'thread' }, (batch) => { events.push(...batch); }).done;
		completes(4)(end, events);
		return events;
	};

	it('shell_echo: each command\'s line is the task\'s that started it', async () => {
		linesOfTasks(await run('shell_echo'), /says hello from the shell/);
	});

	it('raw_write: the threads share one fd 1, so the lines are the run\'s output', async () => {
		const events = await run('raw_write');
		const runText = ofType(events, 'run.output').map((o) => o.text).join('');
		for (const id of [0, 1, 2, 3]) {
			assert.match(runText, new RegExp(`^task ${id} wrote to fd 1$`, 'm'));
		}
		assert.ok(!ofType(events, 'task.output').some((o) => /wrote to fd 1/.test(o.text)));
	});
});

describe('The samples, each as one click runs it', function () {
	this.timeout(90_000);
	afterEach(async () => {
		const left = () => descendantsOf(process.pid).filter((p) => /python|processTask/.test(p.args));
		assert.ok(await waitFor(() => left().length === 0, 8_000), `left behind: ${left().map((p) => p.args).join(' | ')}`);
	});

	it('every sample function with inputs has an expectation here', () => {
		assert.ok(samples.length >= 15, `${samples.length} sample functions found`);
		assert.deepEqual(samples.map((s) => s.key).filter((k) => !EXPECTED[k]), []);
	});

	for (const { key, request } of samples) {
		it(key, async () => {
			const events: PoolEvent[] = [];
			const end = await startRun(request, (batch) => { events.push(...batch); }).done;
			EXPECTED[key]!.check(end, events);
		});
	}
});
