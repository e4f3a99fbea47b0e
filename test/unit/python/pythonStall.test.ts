/** The stall watch (engine/stall) on real Python pools: a hang is told from a long computation. */
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
		const workers = ofType(r.events, 'task.started').map((t) => t.workerId).sort();
		assert.deepEqual([...(w.waitingWorkers ?? [])].sort(), workers, 'both workers are shown stuck');
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
		assert.deepEqual(w.waitingWorkers, [ofType(r.events, 'worker.started')[0]!.workerId]);
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

	describe('a file that does not finish importing (before this, the run showed nothing at all, not even its start)', () => {
		let dir = '';
		before(() => {
			dir = mkdtempSync(join(tmpdir(), 'poolscope-loads-'));
		});
		after(() => rmSync(dir, { recursive: true, force: true }));
		const module = (name: string, top: string): string => {
			const file = join(dir, name);
			writeFileSync(file, `${top}\n\n\ndef f(x):\n    return x\n`);
			return file;
		};

		it('waiting forever at its top level (a Lock taken twice): warned before the run starts, with the line it waits on; cancel ends it, nothing left', async () => {
			const file = module('locks_at_import.py', 'import threading\nlock = threading.Lock()\nlock.acquire()\nlock.acquire()');
			const r = pyRun({ fn: 'f', inputs: 'range(2)', pool: 'process', file, stallMs: 1000 });
			assert.ok(await waitFor(() => stalled(r.events).length > 0, 15_000), `no warning: ${JSON.stringify(r.events)}`);
			assert.equal(ofType(r.events, 'run.started').length, 0, 'the run has not started');
			const w = stalled(r.events)[0]!;
			assert.match(w.message, /^No task can start: locks_at_import\.py has been loading for \d+\.\d s and used no CPU in the last \d+\.\d s: code at the top level of the file \(or in the inputs expression\) is waiting/);
			assert.match(w.message, /if __name__ == "__main__":/);
			assert.match(w.detail ?? '', /^Main thread \(loading locks_at_import\.py for \d+\.\d s\):\n/);
			assert.match(w.detail ?? '', /locks_at_import\.py", line 4, in <module>\n\s+lock\.acquire\(\)/, 'the stack ends at the line it waits on');
			assert.doesNotMatch(w.detail ?? '', /importlib|poolscope_/, 'only the user\'s frames');
			await new Promise((res) => setTimeout(res, 1500));
			assert.equal(stalled(r.events).length, 1, 'one warning per wait');
			await r.handle.cancel();
			assert.equal((await r.done).outcome, 'cancelled');
		});

		it('waiting 2.5 s and then going on: the warning, then "no longer stalled" right after the start, and the run completes', async () => {
			const file = module('sleeps_at_import.py', 'import time\ntime.sleep(2.5)');
			const r = pyRun({ fn: 'f', inputs: 'range(3)', pool: 'thread', file, stallMs: 1000 });
			const end = await r.done;
			assert.equal(end.counts.finished, 3);
			const warnings = ofType(r.events, 'run.warning');
			assert.deepEqual(warnings.map((w) => w.kind), ['stalled', 'stallEnded']);
			assert.match(warnings[1]!.message, /^No longer stalled: sleeps_at_import\.py finished loading after 2\.\d s\.$/);
			const started = r.events.findIndex((e) => e.type === 'run.started');
			assert.ok(r.events.indexOf(warnings[0]!) < started && r.events[started + 1] === warnings[1], 'told before the start; its end right after it');
		});

		it('with the window at 0 (poolscope.stallWarningSeconds 0, --stall 0) nothing is told: a file waiting 1.5 s as it loads, then a task waiting 1.5 s', async () => {
			const file = module('waits_then_task_waits.py', 'import time\ntime.sleep(1.5)\n\n\ndef g(x):\n    time.sleep(1.5)\n    return x');
			const r = pyRun({ fn: 'g', inputs: 'range(1)', pool: 'thread', file, stallMs: 0 });
			const end = await r.done;
			assert.equal(end.counts.finished, 1);
			assert.ok(ofType(r.events, 'memory.sample').length > 0, 'sampling was on: the watches would have run');
			assert.deepEqual(ofType(r.events, 'run.warning'), []);
		});

		it('computing at its top level for 3 s (a heavy import) is not a stall: no warning', async () => {
			const file = module('computes_at_import.py', 'import time\nend = time.monotonic() + 3\nwhile time.monotonic() < end:\n    pass');
			const r = pyRun({ fn: 'f', inputs: 'range(2)', pool: 'thread', file, stallMs: 1000 });
			const end = await r.done;
			assert.equal(end.counts.finished, 2);
			assert.deepEqual(ofType(r.events, 'run.warning'), []);
		});
	});

	it('tasks that keep finishing (50 ms each for 3 s) get no warning', async () => {
		const r = pyRun({ fn: 'sleepy', inputs: '[(i, 0.05) for i in range(60)]', pool: 'thread', workers: 1, stallMs: 1000 });
		const end = await r.done;
		assert.equal(end.counts.finished, 60);
		assert.deepEqual(stalled(r.events), []);
	});
});
