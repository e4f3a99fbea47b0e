/**
 * What a JS run reports against what happened: the user's functions write their own journal
 * (task, process, thread, monotonic time) and the events are checked against it. Real pools.
 */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../harness/processes';
import { childProcesses, ofType, run } from './jsHelpers';

const SOURCE = `
const fs = require('node:fs');
const { threadId } = require('node:worker_threads');
function note(id, ev) {
	fs.appendFileSync(process.env.POOLSCOPE_TEST_JOURNAL, JSON.stringify({ id, ev, pid: process.pid, threadId, t: Number(process.hrtime.bigint()) / 1e6 }) + '\\n');
}
function spin(ms) {
	const end = Date.now() + ms;
	while (Date.now() < end);
}
/** Call 0 leaves a timer behind and returns; call 1 awaits a promise nothing will ever settle. */
exports.leavesTimerThenHangs = async function leavesTimerThenHangs(i) {
	note(i, 'start');
	if (i === 0) {
		setTimeout(() => undefined, 300);
		return 'left a timer';
	}
	return new Promise(() => undefined);
};
/** Spins for ms, then ends its worker process when exit is set. */
exports.spinThenExit = function spinThenExit(i, ms, exit) {
	note(i, 'start');
	spin(ms);
	if (exit) {
		note(i, 'exit');
		process.exit(3);
	}
	note(i, 'end');
	return i;
};
`;

interface JournalLine {
	id: number;
	ev: string;
	pid: number;
	threadId: number;
	t: number;
}

describe('JS engine: reports against the function\'s own journal', function () {
	this.timeout(60_000);
	let dir: string;
	let file: string;
	let journal: string;

	before(() => {
		dir = mkdtempSync(join(tmpdir(), 'poolscope-truth-'));
		file = join(dir, 'truth.js');
		journal = join(dir, 'journal.jsonl');
		writeFileSync(file, SOURCE);
		process.env.POOLSCOPE_TEST_JOURNAL = journal;
	});
	beforeEach(() => rmSync(journal, { force: true }));
	after(() => {
		delete process.env.POOLSCOPE_TEST_JOURNAL;
		rmSync(dir, { recursive: true, force: true });
	});
	const readJournal = (): JournalLine[] => readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as JournalLine);
	afterEach(async () => {
		assert.ok(await waitFor(() => childProcesses().length === 0, 5_000), `processes left behind: ${childProcesses().join(' | ')}`);
	});

	for (const pool of ['thread', 'serial'] as const) {
		it(`${pool}: a call nothing can settle fails although an earlier call's timer was still pending when it began`, async () => {
			// The watch for such a call was skipped when anything but piscina's ports was alive at
			// the call's start: here the timer call 0 left, so call 1 showed "running" for good and
			// the run never ended (no timeout set). The process pool already failed it.
			const r = run({ file, fn: 'leavesTimerThenHangs', inputs: '2', pool, workers: 1 });
			const deadline = setTimeout(() => void r.handle.cancel('the test gave up'), 8_000);
			const end = await r.done;
			clearTimeout(deadline);
			assert.equal(end.outcome, 'completed', 'the run ended on its own');
			assert.deepEqual(ofType(r.events, 'task.finished').map((f) => f.taskId), [0]);
			const failed = ofType(r.events, 'task.failed');
			assert.deepEqual(failed.map((f) => [f.taskId, f.error.name]), [[1, 'NeverSettles']]);
			assert.deepEqual(readJournal().map((l) => l.id), [0, 1], 'each call ran once');
		});
	}

	it('process pool: a worker that dies with nothing left to wait for it is not replaced, and the run does not wait for one', async () => {
		// Chunks of 3: worker A runs 0-2 and dies in 2 while worker B still runs 3-5, nothing
		// pending. A replacement was forked anyway: a third worker that ran nothing, and the run
		// ended only once it had booted (~130 ms after the last task on this VM).
		const inputs = '[[0, 10, 0], [1, 10, 0], [2, 300, 1], [3, 300, 0], [4, 300, 0], [5, 300, 0]]';
		const r = run({ file, fn: 'spinThenExit', inputs, pool: 'process', workers: 2, chunksize: 3 });
		const end = await r.done;
		assert.deepEqual(end.counts, { submitted: 6, finished: 5, failed: 1, cancelled: 0, timedOut: 0, rejected: 0 });
		const started = ofType(r.events, 'worker.started');
		assert.equal(started.length, 2, `workers: ${JSON.stringify(started.map((w) => w.pid))}`);
		assert.deepEqual(end.workers.map((w) => w.tasks).sort(), [3, 3]);
		// Each task on the process it really ran on, once.
		const pidOf = new Map(started.map((w) => [w.workerId, w.pid]));
		const lines = readJournal().filter((l) => l.ev === 'start');
		assert.deepEqual(lines.map((l) => l.id).sort(), [0, 1, 2, 3, 4, 5]);
		for (const e of [...ofType(r.events, 'task.finished'), ...ofType(r.events, 'task.failed')]) {
			assert.equal(pidOf.get(e.workerId!), lines.find((l) => l.id === e.taskId)!.pid, `task ${e.taskId}'s worker`);
		}
	});

	for (const pool of ['thread', 'process'] as const) {
		it(`${pool} pool: a cancelled run's workers killed under a running task exit "cancelled", the idle ones "shutdown"`, async () => {
			// A process worker SIGKILLed to stop its task read "shutdown", like one that left
			// cleanly; a thread terminated the same way read "cancelled".
			const r = run({ file, fn: 'spinThenExit', inputs: '[[0, 3000, 0], [1, 10, 0]]', pool, workers: 2 });
			assert.ok(await waitFor(() => ofType(r.events, 'task.finished').length === 1 && ofType(r.events, 'task.started').some((s) => s.taskId === 0), 20_000), 'task 1 ended, task 0 runs');
			await r.handle.cancel('the test cancels');
			const end = await r.done;
			assert.equal(end.outcome, 'cancelled');
			const cancelled = ofType(r.events, 'task.cancelled');
			assert.deepEqual(cancelled.map((c) => [c.taskId, c.wasRunning]), [[0, true]]);
			const running = ofType(r.events, 'task.started').find((s) => s.taskId === 0)!.workerId;
			const exits = new Map(ofType(r.events, 'worker.exited').map((w) => [w.workerId, w.reason]));
			assert.equal(exits.get(running), 'cancelled');
			assert.deepEqual([...exits].filter(([id]) => id !== running).map(([, reason]) => reason), ['shutdown']);
		});
	}

	it('process pool: a worker that dies with tasks waiting is still replaced', async () => {
		const inputs = '[[0, 10, 1], [1, 10, 0], [2, 10, 0], [3, 10, 0]]';
		const r = run({ file, fn: 'spinThenExit', inputs, pool: 'process', workers: 1 });
		const end = await r.done;
		assert.deepEqual(end.counts, { submitted: 4, finished: 3, failed: 1, cancelled: 0, timedOut: 0, rejected: 0 });
		assert.equal(ofType(r.events, 'worker.started').length, 2);
		assert.deepEqual(readJournal().filter((l) => l.ev === 'start').map((l) => l.id), [0, 1, 2, 3]);
	});
});
