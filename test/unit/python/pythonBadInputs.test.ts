/**
 * Python inputs a process pool cannot take, and workers that die under it, each with a real
 * interpreter: what the user is told, that the run ends, and that no Python process is left.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolEvent } from '../../../engine/protocol/events';
import { findPython } from '../../../engine/python/interpreter';
import { waitFor } from '../../harness/processes';
import { checkProtocol, noPythonLeft, ofType, PY_FIXTURES, pyRun } from './pyHelpers';

const CLI = join(__dirname, '..', '..', '..', 'cli.js');
const FILE = join(PY_FIXTURES, 'bad_inputs.py');
const NO_PYTHON = 'no Python interpreter found (looked for python3 and python on PATH)';
const NO_PYTHON_HINT = 'Install Python 3.9 or newer, or set poolscope.pythonPath (the CLI: --python).';

/** Every task that did not finish failed with BrokenProcessPool naming `dead` (e.g. "pid 12 killed by signal SIGKILL"). */
function brokenByDeath(events: PoolEvent[], dead: string): void {
	const finished = new Set(ofType(events, 'task.finished').map((f) => f.taskId));
	const failed = ofType(events, 'task.failed');
	const seen = JSON.stringify(failed.map((f) => [f.taskId, f.error.kind, f.error.message]));
	assert.deepEqual([...finished, ...failed.map((f) => f.taskId)].sort(), [0, 1, 2, 3, 4, 5], `each task one ending: ${seen}`);
	for (const f of failed) {
		assert.equal(f.error.name, 'BrokenProcessPool', seen);
		assert.ok(f.error.message.startsWith('A process in the process pool was terminated abruptly'), seen);
		assert.ok(f.error.message.includes(`(worker ${dead}`), `task ${f.taskId} does not name ${dead}: ${seen}`);
		assert.match(f.error.hint ?? '', /^When one worker of a ProcessPoolExecutor dies, the executor is broken: every pending future fails with BrokenProcessPool\.$/);
	}
}

describe('Python backend: bad inputs and dying workers', function () {
	this.timeout(60_000);
	afterEach(noPythonLeft);

	it('a nested function as a process pool\'s target: the pickling error names make.<locals>.inner and the fix; the thread pool runs it', async () => {
		const r = pyRun({ file: FILE, fn: 'nested', inputs: 'range(2)', pool: 'process' });
		const end = await r.done;
		assert.equal(end.outcome, 'error');
		checkProtocol(r.events);
		assert.deepEqual(ofType(r.events, 'task.started'), [], 'refused before any task');
		const e = end.error!;
		assert.deepEqual([e.kind, e.name], ['pickling', 'PicklingError']);
		assert.equal(e.message, 'nested is not defined at the top level under that name (make.<locals>.inner), which a process pool cannot pickle by name');
		assert.match(e.hint ?? '', /Use a module-level function .*, or run it on the thread pool, which needs no pickling\.$/);
		const t = pyRun({ file: FILE, fn: 'nested', inputs: 'range(2)', pool: 'thread' });
		const tEnd = await t.done;
		assert.equal(tEnd.counts.finished, 2, JSON.stringify(tEnd.error));
		assert.deepEqual(ofType(t.events, 'task.finished').map((f) => f.result).sort(), ['0', '2']);
	});

	// The executor's feeder thread fails the future of a call it cannot pickle; CPython 3.9 to
	// 3.13 word it alike. Other Pythons run when pyenv has them.
	for (const version of [undefined, '3.9.18', '3.13.0'] as const) {
		it(`a threading.Lock as a process pool task's argument${version ? ` (Python ${version})` : ''}: each task says its arguments cannot be pickled for the process pool, with the lock's fix`, async function () {
			const pythonPath = version && join(process.env.HOME ?? '/root', '.pyenv', 'versions', version, 'bin', 'python');
			if (pythonPath && !existsSync(pythonPath)) {
				this.skip();
			}
			const r = pyRun({ file: FILE, fn: 'locked', inputs: '[(lock, i) for i in range(2)]', pool: 'process', pythonPath: pythonPath || undefined });
			const end = await r.done;
			assert.equal(end.outcome, 'completed', JSON.stringify(end.error));
			checkProtocol(r.events);
			const failed = ofType(r.events, 'task.failed').sort((a, b) => a.taskId - b.taskId);
			assert.deepEqual(failed.map((f) => [f.taskId, f.error.kind, f.error.name, f.error.message]), [0, 1].map((i) => [i, 'pickling', 'TypeError', `the arguments of task ${i} cannot be pickled for the process pool: cannot pickle '_thread.lock' object`]));
			for (const f of failed) {
				assert.match(f.error.hint ?? '', /^A threading lock .* cannot be pickled, .*pass one from a Manager \(m = multiprocessing\.Manager\(\); lock = m\.Lock\(\): a proxy, which pickles\), or run on the thread pool, where a threading\.Lock works as it is\.$/);
			}
			assert.deepEqual(ofType(r.events, 'task.started'), [], 'no worker ran them');
			if (!version) {
				const t = pyRun({ file: FILE, fn: 'locked', inputs: '[(lock, i) for i in range(2)]', pool: 'thread' });
				assert.equal((await t.done).counts.finished, 2, 'the thread pool takes the lock as it is');
			}
		});
	}

	const LOCK_PICKLING = 'cannot be pickled for the process pool: cannot pickle \'_thread.lock\' object';

	// The executor's feeder thread fails a chunk it cannot pickle: that chunk's future never
	// reached a worker, though it had left map's reach (it cannot be cancelled any more).
	for (const chunksize of [1, 2]) {
		it(`map (chunksize ${chunksize}) on a process pool, every chunk holding a lock: each task fails with its chunk's pickling error, none is said to have run`, async () => {
			const r = pyRun({ file: FILE, fn: 'locked', inputs: '[(lock, i) for i in range(6)]', pool: 'process', mode: 'map', chunksize });
			const end = await r.done;
			assert.equal(end.outcome, 'completed', JSON.stringify(end.error));
			checkProtocol(r.events);
			const chunkOf = (i: number): number => i - (i % chunksize);
			const unsent = (i: number): string => `pickling: the arguments of ${chunksize === 1 ? `task ${i}` : `tasks ${chunkOf(i)} to ${chunkOf(i) + 1} (one chunk of executor.map, sent whole)`} ${LOCK_PICKLING}`;
			const neverRan = 'never ran: executor.map stopped at the first exception (task 0) and cancelled what no worker had taken yet';
			const endings = [
				...ofType(r.events, 'task.failed').map((f) => [f.taskId, `${f.error.kind}: ${f.error.message}`] as const),
				...ofType(r.events, 'task.cancelled').map((c) => [c.taskId, c.wasRunning ? `lost: ${c.reason}` : c.reason] as const),
			].sort((a, b) => a[0] - b[0]);
			assert.deepEqual(endings.map(([id]) => id), [0, 1, 2, 3, 4, 5], `each task one ending: ${JSON.stringify(endings)}`);
			for (const [id, ending] of endings) {
				// A chunk map cancelled before the executor took it was never pickled: "never ran" is
				// true of it. Whether the executor had taken it first is a race; either way, whole.
				assert.ok(ending === unsent(id) || (chunkOf(id) > 0 && ending === neverRan), `task ${id}: ${ending}`);
				assert.equal(ending, endings[chunkOf(id)]![1], `task ${id} ends as its chunk's first task`);
			}
			assert.deepEqual(ofType(r.events, 'task.started'), [], 'no worker ran them');
			assert.deepEqual(ofType(r.events, 'run.warning').map((w) => w.message), []);
		});
	}

	it('map with chunks of 2 on one worker process, task 0 raising and chunk [2, 3] holding a lock: the warning names only chunk [4, 5], which ran after the map stopped', async () => {
		// All three chunks leave map at once (the call queue holds max_workers + 1): [2, 3] fails
		// in the feeder, [4, 5] waits in the call queue and runs after task 0 stopped the map.
		const r = pyRun({ file: FILE, fn: 'first_fails', inputs: '[(lock if i in (2, 3) else None, i) for i in range(6)]', pool: 'process', workers: 1, mode: 'map', chunksize: 2 });
		const end = await r.done;
		assert.equal(end.outcome, 'completed', JSON.stringify(end.error));
		checkProtocol(r.events);
		const endings = [
			...ofType(r.events, 'task.finished').map((f) => [f.taskId, 'finished', f.result]),
			...ofType(r.events, 'task.failed').map((f) => [f.taskId, f.error.kind, f.error.message]),
			...ofType(r.events, 'task.cancelled').map((c) => [c.taskId, c.wasRunning ? 'lost' : 'never ran', c.reason]),
		].sort((a, b) => (a[0] as number) - (b[0] as number));
		const unsent = `the arguments of tasks 2 to 3 (one chunk of executor.map, sent whole) ${LOCK_PICKLING}`;
		assert.deepEqual(endings, [
			[0, 'exception', 'task 0 fails'],
			[1, 'never ran', 'never ran: executor.map stopped at the first exception (task 0) and cancelled what no worker had taken yet'],
			[2, 'pickling', unsent],
			[3, 'pickling', unsent],
			[4, 'finished', '4'],
			[5, 'finished', '5'],
		]);
		assert.deepEqual(ofType(r.events, 'task.started').map((s) => s.taskId).sort(), [0, 4, 5]);
		assert.deepEqual(ofType(r.events, 'run.warning').map((w) => w.message), ['executor.map stopped at task 0\'s exception, so its caller gets no result after it; tasks 4-5 had already gone to a worker and ran all the same (shown as what they did)']);
	});

	it('a process worker killed from outside (SIGKILL) while 6 tasks run on 2: every future it breaks fails with BrokenProcessPool naming its pid and SIGKILL; the run ends', async () => {
		const r = pyRun({ file: FILE, fn: 'nap', inputs: '[(i, 1.0) for i in range(6)]', pool: 'process', workers: 2 });
		assert.ok(await waitFor(() => ofType(r.events, 'task.started').length > 0, 20_000, 10), 'no task started');
		const started = ofType(r.events, 'task.started')[0]!;
		const pid = ofType(r.events, 'worker.started').find((w) => w.workerId === started.workerId)?.pid;
		assert.ok(pid, JSON.stringify(ofType(r.events, 'worker.started')));
		// At most two can have started (two workers, each sleeping 1 s): the rest were pending.
		const notStarted = [0, 1, 2, 3, 4, 5].filter((i) => !ofType(r.events, 'task.started').some((s) => s.taskId === i));
		process.kill(pid, 'SIGKILL');
		const end = await r.done;
		assert.equal(end.outcome, 'completed');
		checkProtocol(r.events);
		brokenByDeath(r.events, `pid ${pid} killed by signal SIGKILL`);
		const failed = ofType(r.events, 'task.failed');
		assert.equal(failed.find((f) => f.taskId === started.taskId)?.error.kind, 'workerExited', 'the task it was running');
		assert.ok(notStarted.length >= 4, `pending at the kill: ${notStarted.join(', ')}`);
		for (const i of notStarted) {
			assert.ok(failed.some((f) => f.taskId === i), `task ${i}, pending at the kill, has no failure`);
		}
		const exited = ofType(r.events, 'worker.exited').find((w) => w.workerId === started.workerId);
		assert.deepEqual([exited?.signal, exited?.reason], ['SIGKILL', 'crash']);
	});

	it('a segfault in one task of 6 on 2 worker processes: every affected future fails with BrokenProcessPool naming SIGSEGV, not only the one that crashed; the run ends', async () => {
		const r = pyRun({ file: FILE, fn: 'crashes_at', inputs: '[(i, 0) for i in range(6)]', pool: 'process', workers: 2 });
		const end = await r.done;
		assert.equal(end.outcome, 'completed');
		checkProtocol(r.events);
		const crashedOn = ofType(r.events, 'task.started').find((s) => s.taskId === 0)?.workerId;
		const pid = ofType(r.events, 'worker.started').find((w) => w.workerId === crashedOn)?.pid;
		assert.ok(pid, `task 0's worker ${crashedOn}: ${JSON.stringify(ofType(r.events, 'worker.started'))}`);
		brokenByDeath(r.events, `pid ${pid} killed by signal SIGSEGV`);
		const failed = ofType(r.events, 'task.failed');
		assert.equal(failed.find((f) => f.taskId === 0)?.error.kind, 'workerExited', 'the task that crashed');
		const others = failed.filter((f) => f.taskId !== 0);
		assert.ok(others.some((f) => f.error.kind === 'brokenPool'), `a pending task fails with the pool: ${JSON.stringify(others.map((f) => [f.taskId, f.error.kind]))}`);
		const exited = ofType(r.events, 'worker.exited').find((w) => w.workerId === crashedOn);
		assert.deepEqual([exited?.signal, exited?.reason], ['SIGSEGV', 'crash']);
	});

	// faulthandler's dump, written to fd 2 as the worker dies, is in the slot's stderr pipe before
	// the executor can see the death: the runner reads it then, while the slot names the task.
	for (const startMethod of ['fork', 'spawn', 'forkserver'] as const) {
		it(`${startMethod}: a segfault in a process worker's task: faulthandler's dump is that task's stderr, before its failure, not the main process's output${startMethod === 'fork' ? '; the CLI labels it [task 0]' : ''}`, async () => {
			const r = pyRun({ file: FILE, fn: 'crashes_at', inputs: '[(i, 0) for i in range(2)]', pool: 'process', workers: 2, startMethod });
			const end = await r.done;
			assert.equal(end.outcome, 'completed');
			checkProtocol(r.events);
			const dump = ofType(r.events, 'task.output').filter((o) => o.taskId === 0 && o.stream === 'stderr');
			const text = dump.map((o) => o.text).join('');
			assert.match(text, /^Fatal Python error: Segmentation fault\n/m, JSON.stringify(r.events.filter((e) => e.type === 'task.output' || e.type === 'run.output')));
			assert.match(text, /File ".*bad_inputs\.py", line \d+ in crashes_at/, text);
			assert.deepEqual(ofType(r.events, 'run.output').filter((o) => o.text.includes('Fatal Python error')), [], 'not the run\'s output');
			const failedAt = r.events.findIndex((e) => e.type === 'task.failed' && e.taskId === 0);
			assert.ok(failedAt > r.events.indexOf(dump[dump.length - 1]!), 'the dump comes before the task\'s failure');
			if (startMethod === 'fork') {
				const cli = spawnSync(process.execPath, [CLI, 'run', FILE, 'crashes_at', '--pool', 'process', '--workers', '2', '--inputs', '[(i, 0) for i in range(2)]'], { encoding: 'utf8', timeout: 30_000 });
				const out = cli.stdout + cli.stderr;
				assert.match(out, /^\[task 0\] Fatal Python error: Segmentation fault$/m, out);
				assert.match(out, /^\[task 0\] .*File ".*bad_inputs\.py", line \d+ in crashes_at$/m, out);
				assert.doesNotMatch(out, /^\[main\]/m, out);
			}
		});
	}

	it('no interpreter on PATH: findPython, a run and the CLI (exit code 2) each say none was found and how to give one', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'poolscope-nopython-'));
		const path = process.env.PATH;
		try {
			process.env.PATH = dir;
			assert.deepEqual(findPython(), { ok: false, message: NO_PYTHON, hint: NO_PYTHON_HINT });
			const r = pyRun({ fn: 'square', inputs: 'range(2)', pool: 'process' });
			const end = await r.done;
			assert.equal(end.outcome, 'error');
			assert.deepEqual(end.error, { kind: 'load', name: 'PythonNotFound', message: NO_PYTHON, hint: NO_PYTHON_HINT });
			checkProtocol(r.events);
			assert.deepEqual(r.events.map((e) => e.type), ['run.started', 'run.finished'], 'no worker, no task');
		} finally {
			process.env.PATH = path;
		}
		try {
			// Only node on PATH, so the CLI itself starts.
			symlinkSync(process.execPath, join(dir, 'node'));
			const cli = spawnSync(join(dir, 'node'), [CLI, 'run', join(PY_FIXTURES, 'tasks.py'), 'square', '--inputs', 'range(2)'], { env: { ...process.env, PATH: dir }, encoding: 'utf8', timeout: 30_000 });
			assert.equal(cli.status, 2, `stdout: ${cli.stdout} stderr: ${cli.stderr}`);
			assert.ok(cli.stderr.includes(`poolscope: PythonNotFound: ${NO_PYTHON}\n  ${NO_PYTHON_HINT}\n`), cli.stderr);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
