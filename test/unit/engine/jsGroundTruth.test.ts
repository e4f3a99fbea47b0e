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
`;

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
			const ran = readFileSync(journal, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: number });
			assert.deepEqual(ran.map((l) => l.id), [0, 1], 'each call ran once');
		});
	}
});
