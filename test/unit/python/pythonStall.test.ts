/** The stall watch (engine/stall) on real Python pools: a hang is told from a long computation. */
import * as assert from 'node:assert/strict';
import type { RunWarningEvent } from '../../../engine/protocol/events';
import { waitFor } from '../../harness/processes';
import { ofType, pyRun as startPyRun, pythonProcesses, type PyRun } from './pyHelpers';

const stalled = (events: Parameters<typeof ofType>[0]): RunWarningEvent[] => ofType(events, 'run.warning').filter((w) => w.kind === 'stalled');

describe('Python: a stalled run is told, with whether its workers compute or wait', function () {
	this.timeout(60_000);
	before(function () {
		if (process.platform !== 'linux') {
			this.skip(); // the CPU evidence is read from /proc
		}
	});
	// A run a failed assertion left hanging is cancelled, or it would keep mocha (and Python) alive.
	let open: PyRun | undefined;
	const pyRun = (...a: Parameters<typeof startPyRun>): PyRun => (open = startPyRun(...a));
	afterEach(async () => {
		await open?.handle.cancel();
		open = undefined;
		assert.ok(await waitFor(() => pythonProcesses().length === 0, 8_000), `left behind: ${pythonProcesses().join(' | ')}`);
	});

	it('thread pool: two tasks deadlocked on two locks get one warning naming both, no CPU, their stacks; cancel ends the run', async () => {
		const r = pyRun({ fn: 'deadlock_pair', inputs: 'range(2)', pool: 'thread', workers: 2, stallMs: 1000 });
		assert.ok(await waitFor(() => stalled(r.events).length > 0, 15_000), `no stall warning: ${JSON.stringify(ofType(r.events, 'run.warning'))}`);
		const threads = ofType(r.events, 'worker.started').map((w) => w.threadId);
		const w = stalled(r.events)[0]!;
		assert.match(w.message, /^No task has started, ended or printed for \d/);
		assert.match(w.message, /tasks 0 and 1 are running on threads \d+ and \d+, which used no CPU/);
		for (const id of /threads (\d+) and (\d+)/.exec(w.message)!.slice(1)) {
			assert.ok(threads.includes(Number(id)), `thread ${id} is one of the workers' native ids ${threads.join(', ')}`);
		}
		assert.match(w.message, /a deadlock/);
		assert.match(w.detail ?? '', /deadlock_pair/, 'the stacks show where each one waits');
		await new Promise((res) => setTimeout(res, 1500));
		assert.equal(stalled(r.events).length, 1, 'one warning per stall');
		await r.handle.cancel();
		const end = await r.done;
		assert.equal(end.outcome, 'cancelled');
	});

	it('process pool: a task blocked forever gets a warning naming its worker process and no CPU', async () => {
		const r = pyRun({ fn: 'waits_forever', inputs: 'range(1)', pool: 'process', workers: 1, stallMs: 1000 });
		assert.ok(await waitFor(() => stalled(r.events).length > 0, 20_000), `no stall warning: ${JSON.stringify(ofType(r.events, 'run.warning'))}`);
		const pid = ofType(r.events, 'worker.started')[0]!.pid;
		const w = stalled(r.events)[0]!;
		assert.match(w.message, new RegExp(`task 0 is running on process ${pid}, which used no CPU`));
		assert.match(w.message, /it is waiting/);
		assert.match(w.detail ?? '', new RegExp(`Worker process ${pid}`));
		await r.handle.cancel();
		assert.equal((await r.done).outcome, 'cancelled');
	});

	for (const pool of ['thread', 'process'] as const) {
		it(`${pool} pool: CPU-bound tasks of 3 s past a 1 s window are computing: no warning`, async () => {
			const r = pyRun({ fn: 'spin', inputs: '[3, 3]', pool, workers: 2, stallMs: 1000 });
			const end = await r.done;
			assert.equal(end.counts.finished, 2);
			assert.deepEqual(stalled(r.events), []);
		});
	}

	it('tasks that keep finishing (50 ms each for 3 s) get no warning', async () => {
		const r = pyRun({ fn: 'sleepy', inputs: '[(i, 0.05) for i in range(60)]', pool: 'thread', workers: 1, stallMs: 1000 });
		const end = await r.done;
		assert.equal(end.counts.finished, 60);
		assert.deepEqual(stalled(r.events), []);
	});
});
