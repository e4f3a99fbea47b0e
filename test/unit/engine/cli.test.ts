/** The headless CLI as a user runs it: `node out/cli.js ...`, checked on stdout, stderr and exit code. */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PoolEvent } from '../../../engine/protocol/events';
import { childProcesses, JS_FIXTURES } from './jsHelpers';
import { autogroupNiceOf, waitFor } from '../../harness/processes';

const CLI = join(__dirname, '..', '..', '..', 'cli.js');
const ROOT = join(__dirname, '..', '..', '..', '..');

/**
 * Runs the CLI and sends `signal` once (a second Ctrl-C quits at once) when `when` holds of what it
 * has printed so far; SIGKILL after `killAfterMs` if it still runs.
 */
async function cliSignalled(args: string[], when: (out: { stdout: string; stderr: string }) => boolean, signal: NodeJS.Signals = 'SIGINT', env: NodeJS.ProcessEnv = process.env, killAfterMs = 30_000): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
	const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
	const out = { stdout: '', stderr: '' };
	let sent = false;
	const printed = (stream: 'stdout' | 'stderr') => (d: string) => {
		out[stream] += d;
		if (!sent && when(out)) {
			sent = true;
			child.kill(signal);
		}
	};
	child.stdout.setEncoding('utf8').on('data', printed('stdout'));
	child.stderr.setEncoding('utf8').on('data', printed('stderr'));
	const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
	const [code, ended] = await new Promise<[number | null, string | null]>((r) => child.on('close', (c, s) => r([c, s])));
	clearTimeout(timer);
	return { code, signal: ended, ...out };
}

/** Runs `forever` with --json and sends `signal` once its first task has started: how the CLI ends. */
async function interruptedRun(file: string, pool: string, signal: NodeJS.Signals, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; signal: string | null; stderr: string; events: PoolEvent[] }> {
	const r = await cliSignalled(['run', file, 'forever', '--pool', pool, '--workers', '2', '--inputs', '4', '--json'], (o) => o.stdout.includes('"task.started"'), signal, env);
	return { code: r.code, signal: r.signal, stderr: r.stderr, events: r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PoolEvent) };
}

function cli(args: string[], killAfterMs?: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
	return new Promise((resolve) => {
		const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
		if (killAfterMs) {
			const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
			child.on('close', () => clearTimeout(timer));
		}
		let stdout = '';
		let stderr = '';
		child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
		child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
		child.on('close', (code) => resolve({ code, stdout, stderr }));
	});
}

const tasks = join(JS_FIXTURES, 'tasks.js');

describe('poolscope CLI', function () {
	this.timeout(60_000);

	it('prints a readable summary and exits 0 when every task finished', async () => {
		const r = await cli(['run', tasks, 'square', '--pool', 'process', '--workers', '2', '--inputs', '6']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /square .* on a process pool, 2 workers, 6 inputs/);
		assert.match(r.stdout, /tasks: 6 finished, 0 failed/);
		// One worker can take most of them (seen: 1 and 5 under load): "1 task".
		assert.match(r.stdout, /worker 0 pid \d+: \d+ tasks?, busy/);
	});

	it('says how many calls awaited, and the one-event-loop way (JS process pool, Python thread pool); nothing for calls that return at once', async () => {
		const js = await cli(['run', join(ROOT, 'samples', 'js', 'io.js'), 'download', '--pool', 'process', '--workers', '2', '--inputs', '[[1, 30], [2, 30], [3, 30]]']);
		assert.equal(js.code, 0, js.stderr);
		assert.match(js.stdout, /^awaited: 3 of 3 calls returned a promise, awaited one at a time by each worker: one event loop can await them together \(Promise\.all\)$/m);
		const py = await cli(['run', join(ROOT, 'test', 'unit', 'python', 'fixtures', 'tasks.py'), 'fetch_async', '--pool', 'thread', '--inputs', 'range(3)']);
		assert.equal(py.code, 0, py.stderr);
		assert.match(py.stdout, /^awaited: 3 of 3 calls were coroutines, each run by an asyncio\.run of its own: one event loop can await them together \(asyncio\.gather\)$/m);
		const sync = await cli(['run', tasks, 'square', '--inputs', '3']);
		assert.equal(sync.code, 0, sync.stderr);
		assert.doesNotMatch(sync.stdout, /awaited/);
	});

	it('prints each worker process\'s peak memory and the run\'s', async () => {
		const r = await cli(['run', tasks, 'holdsMemory', '--pool', 'process', '--workers', '1', '--inputs', '[[60, 700]]']);
		assert.equal(r.code, 0, r.stderr);
		const peak = /worker 0 pid \d+: 1 task, .*, memory peak (\d+(?:\.\d)?) MB/.exec(r.stdout);
		assert.ok(peak && Number(peak[1]) >= 60, `a worker that held 60 MB:\n${r.stdout}`);
		assert.match(r.stdout, /memory \(resident\): all the run's processes together peak \d+(\.\d)? MB/);
	});

	it('prints what the module printed as it loaded, each line labelled with the worker that printed it', async () => {
		const r = await cli(['run', join(JS_FIXTURES, 'printsAtLoad.js'), 'square', '--pool', 'process', '--workers', '2', '--inputs', '4']);
		assert.equal(r.code, 0, r.stderr);
		// Each worker process that got the module loaded it once (one that was still starting when
		// the four tiny calls were done may not have).
		const loaded = r.stdout.split('\n').filter((l) => /loading/.test(l));
		assert.ok(loaded.length >= 1 && loaded.length <= 2, r.stdout);
		assert.deepEqual(loaded, [...new Set(loaded)], 'once per worker');
		for (const line of loaded) {
			assert.match(line, /^\[worker [01]\] loading printsAtLoad$/);
		}
		// Sorted: two workers load at once, and which one's stderr line comes first need not follow their stdout lines.
		assert.deepEqual(r.stderr.split('\n').filter(Boolean).sort(), loaded.map((l) => l.replace('loading printsAtLoad', 'a warning at load')).sort(), 'stderr lines on stderr, labelled the same');
		assert.match(r.stdout, /tasks: 4 finished/);
	});

	it('prints what each task prints as it comes, each line labelled with its task', async () => {
		const r = await cli(['run', tasks, 'chatty', '--inputs', '["x", "y"]', '--workers', '1']);
		assert.equal(r.code, 0, r.stderr);
		assert.deepEqual(r.stdout.split('\n').filter((l) => l.startsWith('[task ')), ['[task 0] hello from x', '[task 1] hello from y']);
		assert.deepEqual(r.stderr.split('\n').filter(Boolean), ['[task 0] warning x', '[task 1] warning y'], 'stderr lines on stderr');
		assert.match(r.stdout, /tasks: 2 finished/);
	});

	it('a progress bar (\\r redraws) keeps its label on every redraw; a line left open on stdout is ended before a stderr line, not run into', async () => {
		const r = await cli(['run', join(JS_FIXTURES, 'progressBar.js'), 'progress', '--inputs', '1', '--workers', '1']);
		assert.equal(r.code, 0, r.stderr);
		assert.ok(r.stdout.startsWith('[task 0] \r[task 0] 0%\r[task 0] 50%\r[task 0] 100%\n[task 0] no newline yet\n'), JSON.stringify(r.stdout.slice(0, 120)));
		assert.equal(r.stderr, '[task 0] an error line\n');
	});

	it('flags that would do nothing are refused, saying where they apply (they were ignored)', async () => {
		const py = join(ROOT, 'samples', 'python', 'cpu_bound.py');
		const cases: [string[], RegExp][] = [
			[['run', py, 'countdown', '--inputs', '2', '--max-queue', '2'], /--max-queue bounds the pending queue of JS pools/],
			[['run', py, 'countdown', '--inputs', '2', '--chunksize', '7'], /--chunksize applies to executor\.map in Python: add --mode map/],
			[['run', tasks, 'square', '--inputs', '2', '--repeat', '3'], /--repeat is for compare and sweep/],
			[['sweep', tasks, 'square', '--inputs', '2', '--pool', 'thread', '--start-methods', 'spawn'], /--start-methods is for compare/],
			[['compare', tasks, 'square', '--inputs', '2', '--trace', 't.json'], /--trace writes one run's trace: use it with run/],
			[['run', tasks, 'square', '--inputs', '2', '--trace', join(tmpdir(), 'no-such-folder-poolscope', 't.json')], /--trace .*: the folder .*no-such-folder-poolscope does not exist/],
			[['sweep', tasks, 'square', '--inputs', '2', '--pool', 'thread', '--workers', '2,2'], /--workers lists 2 twice/],
		];
		for (const [args, message] of cases) {
			const r = await cli(args);
			assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
			assert.match(r.stderr, message);
		}
	});

	it('flags for another pool or language are refused, saying where they apply (they were ignored)', async () => {
		const py = join(ROOT, 'samples', 'python', 'cpu_bound.py');
		const cases: [string[], RegExp][] = [
			[['run', tasks, 'square', '--inputs', '2', '--chunksize', '5'], /--chunksize applies to process pools \(this run is on a thread pool\)/],
			[['run', py, 'countdown', '--inputs', '2', '--pool', 'thread', '--mode', 'map', '--chunksize', '5'], /--chunksize applies to process pools \(this run is on a thread pool\)/],
			[['compare', tasks, 'square', '--inputs', '2', '--chunksize', '5'], /--chunksize is for run/],
			[['sweep', tasks, 'square', '--inputs', '2', '--pool', 'process', '--chunksize', '5'], /--chunksize is for run: sweep --chunksizes/],
			[['run', tasks, 'square', '--inputs', '2', '--chunksizes', '1,10'], /--chunksizes is for sweep/],
			[['run', tasks, 'square', '--inputs', '2', '--start-method', 'spawn'], /--start-method is for Python process pools \(this is a javascript file\)/],
			[['run', py, 'countdown', '--inputs', '2', '--pool', 'thread', '--start-method', 'spawn'], /--start-method is for Python process pools \(this run is on a thread pool\)/],
			[['sweep', py, 'countdown', '--inputs', '2', '--pool', 'thread', '--max-tasks-per-child', '2'], /--max-tasks-per-child is for Python process pools \(this sweep is on a thread pool\)/],
			[['run', tasks, 'square', '--inputs', '2', '--pool', 'process', '--max-tasks-per-child', '2'], /--max-tasks-per-child is for Python process pools \(this is a javascript file\)/],
			[['run', tasks, 'square', '--inputs', '2', '--mode', 'map'], /--mode is for Python/],
			[['run', py, 'countdown', '--inputs', '2', '--max-heap-mb', '64'], /--max-heap-mb caps a JS worker's heap/],
			[['run', tasks, 'square', '--inputs', '2', '--python', 'python3'], /--python is for Python files/],
			[['compare', tasks, 'square', '--inputs', '2', '--pool', 'process'], /compare runs serially, on a thread pool and on a process pool itself: --pool is for run and sweep/],
			[['run', tasks, 'square', '--inputs', '2', '--pool', 'serial', '--workers', '4'], /--workers does nothing in a serial run/],
		];
		for (const [args, message] of cases) {
			const r = await cli(args);
			assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
			assert.match(r.stderr, message, args.join(' '));
			assert.equal(r.stdout, '', 'refused before anything ran');
		}
		// What applies still runs: a start method in a comparison goes to its process pools.
		const ok = await cli(['run', py, 'countdown', '--inputs', '[(1,)] * 2', '--pool', 'process', '--workers', '1', '--start-method', 'spawn']);
		assert.equal(ok.code, 0, ok.stderr);
		assert.match(ok.stdout, /start method spawn/);
	});

	it('--workers is capped at 1024, as the setting and a comment are (5,000 JS worker threads did not finish in a minute)', async () => {
		for (const args of [['run', tasks, 'square', '--inputs', '2', '--workers', '5000'], ['sweep', tasks, 'square', '--inputs', '2', '--pool', 'thread', '--workers', '1,5000'], ['compare', tasks, 'square', '--inputs', '2', '--workers', '1025']]) {
			const r = await cli(args, 15_000);
			assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
			assert.match(r.stderr, /--workers must be a whole number from 1 to 1024 \(got "(5000|1025)"\)/);
		}
	});

	it('a missing file, a folder, or a function the file does not define is said as such (it read "--inputs is required")', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'poolscope-cli-'));
		try {
			mkdirSync(join(dir, 'pkg.py'));
			const missing = await cli(['run', join(dir, 'none.py'), 'f']);
			assert.equal(missing.code, 2);
			assert.match(missing.stderr, /^poolscope: .*none\.py: no such file$/m);
			const folder = await cli(['run', join(dir, 'pkg.py'), 'f', '--inputs', '2']);
			assert.equal(folder.code, 2);
			assert.match(folder.stderr, /^poolscope: .*pkg\.py is a folder: give the Python, JavaScript or TypeScript file that defines f$/m);
			const noFn = await cli(['run', join(ROOT, 'samples', 'js', 'cpu.js'), 'fibonacci']);
			assert.equal(noFn.code, 2);
			assert.match(noFn.stderr, /cpu\.js has no top-level function fibonacci \(functions in this file: fib, countdown\); for one defined another way, give --inputs/);
			assert.doesNotMatch(missing.stderr + folder.stderr + noFn.stderr, /--inputs is required/);
			const trace = await cli(['run', tasks, 'square', '--inputs', '2', '--trace', dir]);
			assert.equal(trace.code, 2);
			assert.match(trace.stderr, /--trace .* is a folder: give the trace file's name/);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('with no --pool, a Python function runs on a process pool and a JS one on a thread pool, as "Run in parallel" does; a failure\'s hint says what to do, once', async () => {
		const faults = join(ROOT, 'samples', 'python', 'faults.py');
		const lambda = await cli(['run', faults, 'calls_a_lambda']);
		assert.equal(lambda.code, 1, lambda.stderr);
		assert.match(lambda.stdout, /^calls_a_lambda \(.*\) on a process pool/);
		assert.match(lambda.stdout, /^ {2}task 0 \(.*lambda.*\): PicklingError: .*lambda/m);
		assert.match(lambda.stdout, /^ {4}A process pool sends the function and every argument and result to another process with pickle\. Use a module-level function/m);
		const crash = await cli(['run', faults, 'crashes_worker', '--workers', '1']);
		assert.equal(crash.code, 1, crash.stderr);
		assert.match(crash.stdout, /on a process pool, 1 worker/);
		assert.equal(crash.stdout.match(/BrokenProcessPool: /g)?.length, 2, crash.stdout);
		assert.equal(crash.stdout.match(/When one worker of a ProcessPoolExecutor dies/g)?.length, 1, 'the same hint once');
		const js = await cli(['run', tasks, 'square', '--inputs', '2']);
		assert.match(js.stdout, /on a thread pool/);
	});

	it('a run that failed before any task existed prints no "0 inputs" and no task counts; the error is on stderr, exit 2', async () => {
		const r = await cli(['run', tasks, 'square', '--inputs', '[[1],']);
		assert.equal(r.code, 2);
		assert.match(r.stderr, /^poolscope: SyntaxError: inputs/m);
		assert.match(r.stdout, /^square \(.*\) on a thread pool, \d+ workers?, \d+ cores, node /m);
		assert.match(r.stdout, /^error before any task ran: wall \d+\.\d{3} s$/m);
		assert.doesNotMatch(r.stdout, /0 inputs|tasks: /);
		// No interpreter at all: no header of made-up facts, and the hint names the CLI's flag.
		const noPython = await cli(['run', join(ROOT, 'samples', 'python', 'cpu_bound.py'), 'countdown', '--python', join(tmpdir(), 'no-such-python-poolscope')]);
		assert.equal(noPython.code, 2);
		assert.match(noPython.stderr, /^poolscope: PythonNotFound: Python not found at .*no-such-python-poolscope\n {2}.*--python/m);
		assert.doesNotMatch(noPython.stdout, /0 workers|0 cores|not started/);
	});

	it('a comparison whose tasks failed says so: a failed column, the advice names them, exit 1', async () => {
		const r = await cli(['compare', tasks, 'allFail', '--inputs', '2', '--workers', '2']);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stdout, /^pool +workers .* failed$/m);
		assert.match(r.stdout, /^serial +1 .* 2$/m);
		assert.match(r.stdout, /Tasks that failed or timed out: serial ×1 2, thread ×2 2, process ×2 2\.$/m);
	});

	it('a comparison names what each configuration\'s workers were seen in inside their tasks (Linux): asleep in all three', async function () {
		if (process.platform !== 'linux') {
			this.skip(); // looks read /proc/<pid>/syscall
		}
		const r = await cli(['compare', join(ROOT, 'samples', 'python', 'io_bound.py'), 'download', '--inputs', '[(i, 0.3) for i in range(4)]', '--workers', '2']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^pool +workers .* GIL wait +seen +peak memory$/m);
		for (const pool of ['serial', 'thread', 'process']) {
			assert.match(r.stdout, new RegExp(`^${pool} .* I/O (9\\d|100)% .*MB$`, 'm'), r.stdout);
		}
	});

	it('a sweep of one pool size prints no Amdahl fit (one point fits any serial fraction)', async () => {
		const r = await cli(['sweep', tasks, 'square', '--inputs', '4', '--pool', 'thread', '--workers', '1']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^thread +1 /m);
		assert.doesNotMatch(r.stdout, /Amdahl/);
	});

	it('Ctrl-C during a comparison: the rows that ran, no fit or advice, "interrupted", exit 1', async () => {
		const { code, stdout, stderr } = await cliSignalled(['sweep', tasks, 'slowEcho', '--inputs', '[[1, 300], [2, 300], [3, 300], [4, 300]]', '--pool', 'thread', '--workers', '1,2,4'], (o) => /serial ×1: /.test(o.stderr));
		assert.equal(code, 1, stderr);
		assert.match(stderr, /interrupted \(Ctrl-C\) after [12] of 4 configurations/);
		assert.match(stdout, /^serial +1 /m);
		assert.doesNotMatch(stdout, /Amdahl|use a|use threads/);
		assert.match(stdout, /Interrupted: no advice from part of a comparison\./);
	});

	it('SIGTERM (kill, timeout) cancels the run as Ctrl-C does, and leaves no process and no bundle folder (it ended the CLI at once)', async () => {
		const tmp = mkdtempSync(join(tmpdir(), 'poolscope-cli-term-'));
		try {
			// The run's bundle folder is made in TMPDIR: one of its own tells whether it was removed.
			const { code, signal, stderr, events } = await interruptedRun(tasks, 'process', 'SIGTERM', { ...process.env, TMPDIR: tmp });
			assert.equal(code, 1, `exit ${code} signal ${signal}\n${stderr}`);
			assert.match(stderr, /cancelling \(SIGTERM again to quit at once\)/);
			const end = events.at(-1)!;
			assert.equal(end.type === 'run.finished' && end.outcome, 'cancelled');
			assert.ok(events.filter((e) => e.type === 'task.cancelled').every((e) => e.type === 'task.cancelled' && e.reason === 'interrupted (SIGTERM)'));
			assert.ok(await waitFor(() => childProcesses().length === 0, 5_000), childProcesses().join(' | '));
			assert.deepEqual(readdirSync(tmp), [], 'the bundle folder is removed');
		} finally {
			rmSync(tmp, { recursive: true, force: true });
		}
	});

	it('--json | head: when the reader goes away the run is cancelled quietly (no EPIPE stack trace), and nothing is left', async () => {
		const child = spawn(process.execPath, [CLI, 'run', tasks, 'slowEcho', '--inputs', 'Array.from({ length: 30 }, (_, i) => [i, 200])', '--pool', 'process', '--workers', '2', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
		let stderr = '';
		child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
		child.stdout.once('data', () => child.stdout.destroy()); // as head does after its lines
		const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
		assert.doesNotMatch(stderr, /Unhandled 'error' event|EPIPE|at /, stderr);
		assert.equal(code, 1, stderr);
		assert.ok(await waitFor(() => childProcesses().length === 0, 5_000), childProcesses().join(' | '));
	});

	it('--json prints exactly one protocol event per line and nothing else', async () => {
		const r = await cli(['run', tasks, 'chatty', '--inputs', '["x", "y"]', '--json']);
		assert.equal(r.code, 0, r.stderr);
		const lines = r.stdout.trimEnd().split('\n');
		const events = lines.map((l) => JSON.parse(l) as PoolEvent);
		assert.equal(events[0]!.type, 'run.started');
		assert.equal(events[events.length - 1]!.type, 'run.finished');
		assert.ok(events.every((e) => typeof e.runId === 'string' && typeof e.t === 'number'));
		// The task's console.log is an event, not a stray line on stdout.
		assert.ok(events.some((e) => e.type === 'task.output' && e.text === 'hello from x\n'));
	});

	it('--json starts with run.started, also when a Python module prints as it is imported (its line came first)', async () => {
		const r = await cli(['run', join(ROOT, 'samples', 'python', 'printing.py'), 'chatty', '--inputs', '2', '--json']);
		assert.equal(r.code, 0, r.stderr);
		const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PoolEvent);
		assert.equal(events[0]!.type, 'run.started', r.stdout.slice(0, 300));
		const imported = events.findIndex((e) => e.type === 'run.output' && /printing\.py imported in process/.test(e.text));
		assert.ok(imported > 0, 'the module\'s line is still there, after run.started');
		assert.equal(events.at(-1)!.type, 'run.finished');
	});

	it('--json: a thread-pool task writing to fd 1 itself (fs.writeSync, a child with stdio inherit) adds no line to stdout, its text is the task\'s output event', async () => {
		// Worker threads share the CLI's fd 1: such writes once landed between the JSON lines.
		const r = await cli(['run', tasks, 'writesBelowConsole', '--pool', 'thread', '--inputs', '2', '--json']);
		assert.equal(r.code, 0, r.stderr);
		const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PoolEvent);
		const text = events.flatMap((e) => e.type === 'task.output' ? [e.text] : []).join('');
		assert.match(text, /fd 1 from 0/);
		assert.match(text, /spawned 1/);
		assert.doesNotMatch(r.stderr, /fd 2 from|shell err/, 'nor on stderr');
	});

	it('every line a task prints arrives, run after run (output came on a channel of its own and could still be on its way when the run ended)', async () => {
		// Before the fix, one worker printing 2,000 lines lost about half of them in 2 runs of 8
		// here, and a serial run of three printing calls a line in 1-3 runs of 10 (from a shell).
		for (let i = 0; i < 10; i++) {
			const r = await cli(['run', tasks, 'printsMany', '--pool', 'thread', '--workers', '1', '--inputs', '[[2000]]', '--json']);
			assert.equal(r.code, 0, r.stderr);
			const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PoolEvent).flatMap((e) => e.type === 'task.output' ? e.text.split('\n').filter(Boolean) : []);
			assert.equal(lines.length, 2000, `run ${i}: ${lines.length} lines`);
			assert.equal(lines.at(-1), 'line 1999');
		}
	});

	it('exits 1 when a task failed, and names it', async () => {
		const r = await cli(['run', tasks, 'failing', '--inputs', '[0, 1]']);
		assert.equal(r.code, 1);
		assert.match(r.stdout, /task 1 \(1\): RangeError: odd input 1/);
	});

	it('prints the run\'s warnings under the summary, with their stack', async () => {
		const r = await cli(['run', tasks, 'leavesTimer', '--pool', 'process', '--workers', '1', '--inputs', '4']);
		assert.equal(r.code, 0, 'every task finished: a warning is not a failure');
		assert.match(r.stdout, /^warning: task 1 had already returned when a timer or callback it left behind threw Error: late boom from task 1/m);
		assert.match(r.stdout, /^ {4}at .*tasks\.js:\d+:\d+/m);
	});

	it('a Python deadlock with --timeout ends the command (exit 1) and prints where each thread waits', async () => {
		const r = await cli(['run', join(ROOT, 'samples', 'python', 'faults.py'), 'deadlock', '--pool', 'thread', '--workers', '2', '--inputs', 'range(2)', '--timeout', '800']);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stdout, /0 finished, 0 failed, 2 timed out/);
		// TaskTimeout was raised in each thread, and cannot land in a lock's acquire: the hint says so.
		assert.match(r.stdout, /task 0 timed out\. Poolscope raised TaskTimeout inside it .*A thread waiting in a blocking call \(sleep, a lock, .*\) sees it only when that call returns/);
		assert.equal(r.stdout.match(/faults\.py", line \d+, in deadlock\n\s+with second:/g)?.length, 2, r.stdout);
	});

	it('a Python deadlock without --timeout is told on stderr as it is seen, with where each thread waits (--stall)', async () => {
		// The run would wait forever: the user's Ctrl-C once both stacks are out.
		const { code, stdout, stderr } = await cliSignalled(['run', pyTasks, 'deadlock_pair', '--pool', 'thread', '--workers', '2', '--inputs', 'range(2)', '--stall', '1000'], (o) => /in deadlock_pair\n\s+with second:[\s\S]*in deadlock_pair\n\s+with second:/.test(o.stderr));
		assert.equal(code, 1, stderr);
		assert.match(stderr, /^poolscope: warning: No task has started, ended or printed for \d+\.\d s: tasks 0 and 1 are running on threads \d+ and \d+, which used no CPU in the last .*: they are waiting, on each other \(a deadlock\)/m);
		assert.match(stderr, /^ {4}Stacks when the stall was seen:/m);
		// The summary repeats the sentence, not the stacks (they were printed when seen).
		assert.match(stdout, /^warning: No task has started, ended or printed for /m);
		assert.doesNotMatch(stdout, /Stacks when the stall was seen/);
	});

	it('a stall that ends on its own is said to be over, on stderr as it happens and in the summary (--stall)', async () => {
		const r = await cli(['run', pyTasks, 'sleepy', '--pool', 'thread', '--workers', '1', '--inputs', '[(0, 3.0)]', '--stall', '1000']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stderr, /^poolscope: warning: No task has started, ended or printed for \d+\.\d s: task 0 is running on thread \d+/m);
		assert.match(r.stderr, /^poolscope: No longer stalled: task 0 ended after \d+\.\d s in which no task started, ended or printed\.$/m);
		assert.ok(r.stderr.indexOf('warning: No task') < r.stderr.indexOf('No longer stalled'), r.stderr);
		assert.match(r.stdout, /^warning: No task has started, ended or printed for .*\nthen: No longer stalled: task 0 ended/m);
		assert.match(r.stderr, /The stacks taken then \(below\) show where it is\.[^\n]*\n {4}Stacks when the stall was seen:/, 'one task: "it"; the stacks right under it');
		const summary = r.stdout.split('\n').find((l) => l.startsWith('warning: No task'))!;
		assert.match(summary, /The stacks taken then \(printed when it was seen\) show where it is\.$/, 'an ended stall needs no advice to cancel');
	});

	it('busy is not computing: four threads taking turns on one Lock each say their share on a CPU, about one core among them', async () => {
		const r = await cli(['run', join(ROOT, 'samples', 'python', 'waits.py'), 'under_one_lock']);
		assert.equal(r.code, 0, r.stderr);
		const workers = [...r.stdout.matchAll(/^ {2}worker \d+ thread \d+: \d+ tasks?, busy [\d.]+ s, utilization (\d+)% \(on a CPU (\d+)%(?:; seen ([^)]*))?\)$/gm)].map((m) => ({ busy: Number(m[1]), cpu: Number(m[2]), seen: m[3] ?? '' }));
		assert.equal(workers.length, 4, r.stdout);
		assert.ok(workers.every((w) => w.cpu < w.busy), r.stdout);
		assert.ok(workers.reduce((sum, w) => sum + w.cpu, 0) < 125, `one lock: about one core among four threads\n${r.stdout}`);
		// And what each thread's tasks were seen waiting on (looked at every 10 ms): the lock, mostly.
		const onLock = workers.filter((w) => /^waiting on a lock, queue or event (\d+)%/.exec(w.seen) && Number(/(\d+)%/.exec(w.seen)![1]) >= 40);
		assert.ok(onLock.length >= 3, `most threads seen waiting on the lock most of their tasks' time\n${r.stdout}`);
	});

	it('--stall 0 looks at no stall: a task waiting 1.5 s ends with no warning', async () => {
		const r = await cli(['run', pyTasks, 'sleepy', '--pool', 'thread', '--workers', '1', '--inputs', '[(0, 1.5)]', '--stall', '0']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /^tasks: 1 finished/m);
		assert.doesNotMatch(r.stdout + r.stderr, /warning|stall/i);
	});

	it('with no flags, runs a function as its poolscope comments say (inputs, pool, workers, timeout); flags win', async () => {
		const faults = join(ROOT, 'samples', 'python', 'faults.py');
		const r = await cli(['run', faults, 'deadlock']);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stdout, /^deadlock \(.*faults\.py\) on a thread pool, 2 workers, 2 inputs/);
		assert.match(r.stdout, /0 finished, 0 failed, 2 timed out/);
		assert.match(r.stdout, /ran past its timeout of 2000 ms/);
		const flagged = await cli(['run', faults, 'deadlock', '--pool', 'process', '--workers', '1', '--timeout', '5000']);
		assert.equal(flagged.code, 0, flagged.stderr); // each process has its own locks: no deadlock
		assert.match(flagged.stdout, /on a process pool, 1 worker.*2 inputs/);
		// A comment's start method; on a thread pool (a flag's) it is not refused as a --start-method would be.
		const forkHang = join(ROOT, 'samples', 'python', 'fork_hang.py');
		const spawned = await cli(['run', forkHang, 'count_call_spawned', '--workers', '2']);
		assert.equal(spawned.code, 0, spawned.stderr);
		assert.match(spawned.stdout, /on a process pool, 2 workers, 4 inputs, .*start method spawn$/m);
		const threads = await cli(['run', forkHang, 'count_call_spawned', '--pool', 'thread', '--workers', '2']);
		assert.equal(threads.code, 0, threads.stderr);
		assert.match(threads.stdout, /on a thread pool, 2 workers, 4 inputs/);
	});

	it('--max-tasks-per-child replaces each Python process worker after its tasks', async () => {
		const r = await cli(['run', join(ROOT, 'samples', 'python', 'memory.py'), 'remembers', '--pool', 'process', '--workers', '2', '--max-tasks-per-child', '2', '--inputs', '[(1,)] * 8']);
		assert.equal(r.code, 0, r.stderr);
		assert.match(r.stdout, /start method spawn/);
		assert.equal(r.stdout.match(/^ {2}worker \d+ pid \d+: 2 tasks/gm)?.length, 4, r.stdout);
	});

	it('a function\'s `poolscope: mode=map chunksize=5` comment is how the CLI runs it (run.started says so); a flag that takes the run elsewhere leaves the chunks out', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'poolscope-cli-'));
		try {
			const py = join(dir, 'mapped.py');
			writeFileSync(py, '# poolscope: mode=map chunksize=5\n# poolscope: inputs=range(12)\ndef square(x):\n    return x * x\n');
			const js = join(dir, 'chunked.mjs');
			writeFileSync(js, '// poolscope: pool=process workers=2 chunksize=5 inputs=12\nexport function square(x) {\n  return x * x;\n}\n');
			const started = async (args: string[]) => {
				const r = await cli([...args, '--json']);
				assert.equal(r.code, 0, r.stderr);
				const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as PoolEvent);
				const start = events.find((e) => e.type === 'run.started');
				const end = events.find((e) => e.type === 'run.finished');
				assert.ok(start?.type === 'run.started' && end?.type === 'run.finished', r.stdout.slice(0, 300));
				assert.equal(end.counts.finished, 12);
				return { pool: start.pool, mode: start.options.mode, chunksize: start.options.chunksize ?? undefined };
			};
			assert.deepEqual(await started(['run', py, 'square']), { pool: 'process', mode: 'map', chunksize: 5 });
			assert.deepEqual(await started(['run', js, 'square']), { pool: 'process', mode: undefined, chunksize: 5 });
			// Flags win over the comment; the comment's chunks go with its map and its process pool.
			assert.deepEqual(await started(['run', py, 'square', '--chunksize', '3']), { pool: 'process', mode: 'map', chunksize: 3 });
			assert.deepEqual(await started(['run', py, 'square', '--mode', 'submit']), { pool: 'process', mode: 'submit', chunksize: undefined });
			assert.deepEqual(await started(['run', js, 'square', '--pool', 'thread']), { pool: 'thread', mode: undefined, chunksize: undefined });
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('a poolscope comment that cannot be read: exit 2, naming the line and the fix', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'poolscope-cli-'));
		try {
			const file = join(dir, 'bad.py');
			writeFileSync(file, '# poolscope: workers=two inputs=range(2)\ndef f(x):\n    return x\n');
			const r = await cli(['run', file, 'f']);
			assert.equal(r.code, 2);
			assert.match(r.stderr, /^poolscope: the poolscope comment above f in .*bad\.py cannot be read: line 1: workers=two: a whole number from 1 to 1024$/m);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('exits 2 with a message on stderr for usage errors and code that does not load', async () => {
		const usage = await cli(['run', tasks, 'square', '--inputs', '3', '--pool', 'fibers']);
		assert.equal(usage.code, 2);
		assert.match(usage.stderr, /--pool must be thread, process or serial \(got "fibers"\)/);
		const missing = await cli(['run', tasks, 'nope', '--inputs', '3']);
		assert.equal(missing.code, 2);
		assert.match(missing.stderr, /no top-level function "nope".*\n.*Functions in this file: square/);
		const noInputs = await cli(['run', tasks, 'square']);
		assert.equal(noInputs.code, 2);
		assert.match(noInputs.stderr, /--inputs is required/);
		const priority = await cli(['run', tasks, 'square', '--inputs', '3', '--priority', 'high']);
		assert.equal(priority.code, 2);
		assert.match(priority.stderr, /--priority must be normal or low \(got "high"\)/);
		const heap = await cli(['run', tasks, 'square', '--inputs', '3', '--max-heap-mb', '8']);
		assert.equal(heap.code, 2);
		assert.match(heap.stderr, /--max-heap-mb must be 0 \(Node's own limit\) or a whole number of MB from 16 \(got "8"\)/);
	});

	it('--priority low, run without CAP_SYS_ADMIN (a user may change a scheduling group\'s nice ten times a second): each of 4 worker processes, a session of its own, has its autogroup lowered', async function () {
		if (autogroupNiceOf(process.pid) === undefined) {
			this.skip(); // no autogroup scheduling in this kernel: a worker's nice is all there is
		}
		// As root, the same rule as a user's: without CAP_SYS_ADMIN the kernel answers "again" to
		// a second change within 100 ms (the first version of this gave up on it).
		const root = process.getuid?.() === 0;
		const cmd = root ? 'setpriv' : process.execPath;
		const prefix = root ? ['--bounding-set=-sys_admin', '--inh-caps=-sys_admin', process.execPath] : [];
		const child = spawn(cmd, [...prefix, CLI, 'run', join(JS_FIXTURES, 'tasks.js'), 'spin', '--pool', 'process', '--workers', '4', '--inputs', '[1500, 1500, 1500, 1500]', '--priority', 'low', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
		const closed = new Promise<number | null>((r) => child.on('close', (c) => r(c)));
		const events = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as PoolEvent);
		await waitFor(() => events().filter((e) => e.type === 'task.started').length === 4, 15_000, 20);
		const pids = events().flatMap((e) => (e.type === 'worker.started' && e.pid !== undefined ? [e.pid] : []));
		await waitFor(() => pids.every((pid) => autogroupNiceOf(pid) === 10), 1_000, 20);
		const groups = pids.map((pid) => autogroupNiceOf(pid));
		assert.equal(await closed, 0);
		assert.equal(pids.length, 4);
		assert.deepEqual(groups, [10, 10, 10, 10], `the workers' autogroup nice, ${pids.join(', ')}`);
	});

	it('--max-heap-mb caps each JS worker: a call past it fails "out of memory" (exit 1), named', async () => {
		const r = await cli(['run', tasks, 'hog', '--inputs', '3', '--workers', '1', '--max-heap-mb', '64']);
		assert.equal(r.code, 1, r.stderr);
		assert.match(r.stdout, /task 1 \(1\): OutOfMemory: the worker thread ran out of memory \(heap limit 64 MB\)/);
	});

	it('--help documents the command', async () => {
		const r = await cli(['--help']);
		assert.equal(r.code, 0);
		assert.match(r.stdout, /Usage: poolscope run <file> <function> \[--inputs <expr>\]/);
		assert.match(r.stdout, /--start-method/);
	});

	it('`npx poolscope` in the clone runs the package\'s bin (as a user types it in a shell)', function () {
		this.timeout(60_000);
		// A shell's environment, not npm test's: the outer npm's npm_* variables would steer npx.
		const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
		const r = spawnSync('npx', ['--no-install', 'poolscope', 'run', join(ROOT, 'samples', 'js', 'cpu.js'), 'fib', '--pool', 'serial', '--inputs', '[[10], [11]]'], { cwd: ROOT, env, encoding: 'utf8' });
		assert.equal(r.status, 0, `npx exit ${r.status} ${r.error?.message ?? ''}\n${r.stderr}`);
		assert.match(r.stdout, /completed: wall .* tasks\/s/);
		assert.match(r.stdout, /tasks: 2 finished, 0 failed/);
	});

	const pyTasks = join(ROOT, 'test', 'unit', 'python', 'fixtures', 'tasks.py');
	for (const [file, pool] of [[tasks, 'process'], [tasks, 'thread'], [pyTasks, 'process'], [pyTasks, 'thread']] as const) it(`SIGINT cancels the run cleanly (exit 1, run cancelled), every task saying why, running or pending (${file === tasks ? 'JS' : 'Python'} ${pool})`, async () => {
		const { code, signal, stderr, events } = await interruptedRun(file, pool, 'SIGINT');
		assert.equal(code, 1, `exit ${code} signal ${signal}\n${stderr}`);
		assert.match(stderr, /cancelling/);
		const end = events[events.length - 1]!;
		assert.equal(end.type, 'run.finished');
		assert.equal(end.type === 'run.finished' && end.outcome, 'cancelled');
		const reasons = events.flatMap((e) => (e.type === 'task.cancelled' ? [e.reason] : []));
		// Python says more of a running task (its worker was terminated; a thread cannot be stopped).
		assert.equal(reasons.length, 4, 'the two running and the two pending');
		assert.ok(reasons.every((r) => r.startsWith('interrupted (Ctrl-C)')), reasons.join(' | '));
	});

});
