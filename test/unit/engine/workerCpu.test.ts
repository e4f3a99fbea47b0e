/** Each worker's own CPU, live (engine/cpu/workerCpu.ts), on real JS pools. */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { childProcesses, JS_FIXTURES, ofType, run, seenPerTask, sharesTogether } from './jsHelpers';
import { waitFor } from '../../harness/processes';
import { applyEvents, createRunModel } from '../../../engine/protocol/runModel';

describe('JS: each worker\'s own CPU while the run goes on (worker.cpu)', function () {
	this.timeout(60_000);
	const file = join(JS_FIXTURES, 'stall.js');
	before(function () {
		if (process.platform !== 'linux') {
			this.skip();
		}
	});
	afterEach(async () => {
		assert.ok(await waitFor(() => childProcesses().length === 0, 8_000), `left behind: ${childProcesses().join(' | ')}`);
	});

	it('thread pool: two busy worker threads (no GIL) each compute on a core; a blocked one reads about 0%', async () => {
		const r = run({ file, fn: 'blockedOrBusy', inputs: '[["busy", 2500], ["busy", 2500], ["blocked", 2500]]', pool: 'thread', workers: 3, memorySampleMs: 250 });
		assert.equal((await r.done).counts.finished, 3);
		const readings = sharesTogether(r.events, 3);
		assert.ok(readings.length >= 1, JSON.stringify(ofType(r.events, 'worker.cpu')));
		const blockedOn = ofType(r.events, 'task.started').find((e) => e.taskId === 2)!.workerId;
		const ids = [...new Set(ofType(r.events, 'worker.started').map((w) => w.workerId))].sort((a, b) => a - b);
		const blockedAt = ids.indexOf(blockedOn);
		assert.ok(readings.some((s) => s.filter((_, i) => i !== blockedAt).reduce((a, b) => a + b, 0) > 1.15), `more than one core between the busy two: ${JSON.stringify(readings)}`);
		assert.ok(readings.at(-1)![blockedAt]! < 0.05, `the blocked one, once loaded: ${JSON.stringify(readings)}`);
	});

	it('process pool: a busy worker process reads about a core; nothing is read after the run ended', async () => {
		const r = run({ file, fn: 'busy', inputs: '[2500]', pool: 'process', workers: 1, memorySampleMs: 250 });
		assert.equal((await r.done).counts.finished, 1);
		const readings = sharesTogether(r.events, 1);
		assert.ok(readings.some((s) => s[0]! > 0.5), JSON.stringify(readings));
		const finished = r.events.findIndex((e) => e.type === 'run.finished');
		assert.ok(!r.events.slice(finished + 1).some((e) => e.type === 'worker.cpu'), 'nothing after the run ended');
	});

	it('thread pool of many short calls: every worker is looked at (its first calls, read from the batch log, made it ready before its thread id came: no CPU, no looks, no stall reading)', async () => {
		// 50,000 tiny calls on 2 threads (~0.5-1 s here), handed over in batches.
		const r = run({ file: join(JS_FIXTURES, 'tasks.js'), fn: 'square', inputs: '50000', pool: 'thread', workers: 2, memorySampleMs: 250 });
		assert.equal((await r.done).counts.finished, 50_000);
		const workers = [...new Set(ofType(r.events, 'task.started').map((e) => e.workerId))].sort();
		const withTid = new Set(ofType(r.events, 'worker.ready').filter((e) => e.tid !== undefined).map((e) => e.workerId));
		assert.deepEqual([...withTid].sort(), workers, `thread ids: ${JSON.stringify(ofType(r.events, 'worker.ready'))}`);
		const looked = new Set(ofType(r.events, 'worker.waits').flatMap((e) => e.workers.map((w) => w.workerId)));
		assert.deepEqual([...looked].sort(), workers, 'every worker was looked at');
		// Readiness is the first worker.ready's: a repeat only brings the id.
		const model = createRunModel('m');
		applyEvents(model, r.events);
		for (const id of workers) {
			assert.equal(model.workers.get(id)!.readyAt, ofType(r.events, 'worker.ready').find((e) => e.workerId === id)!.t);
		}
	});

	it('what each worker is blocked in, task by task (worker.waits): computing on a CPU, Atomics.wait on a lock, a timer asleep; threads and processes alike', async () => {
		for (const pool of ['thread', 'process'] as const) {
			const r = run({ file, fn: 'blockedBusyOrAsleep', inputs: '[["busy", 700], ["blocked", 700], ["sleep", 700]]', pool, workers: 3, memorySampleMs: 250 });
			assert.equal((await r.done).counts.finished, 3);
			const [busy, blocked, asleep] = seenPerTask(r.events);
			// Looked at every 10 ms from 0.2 s into the run: the tasks' last 0.5 s at least.
			assert.ok(busy!.n >= 20 && busy!.share['on a CPU']! > 0.8, `${pool}, busy: ${JSON.stringify(busy)}`);
			assert.ok(blocked!.n >= 20 && blocked!.share['waiting on a lock, queue or event']! > 0.8, `${pool}, in Atomics.wait: ${JSON.stringify(blocked)}`);
			assert.ok(asleep!.n >= 20 && asleep!.share['in I/O or asleep']! > 0.8, `${pool}, awaiting a timer: ${JSON.stringify(asleep)}`);
			assert.ok(!ofType(r.events, 'worker.waits').some((e) => e.workers.some((w) => /[gf]/.test(w.seen))), 'no GIL in a JS pool: every futex is a lock');
			const finished = r.events.findIndex((e) => e.type === 'run.finished');
			assert.ok(!r.events.slice(finished + 1).some((e) => e.type === 'worker.waits'), 'nothing after the run ended');
		}
	});
});

