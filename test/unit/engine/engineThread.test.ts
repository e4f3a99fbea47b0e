/** The engine on its own worker thread, as the extension runs it: real pools, real processes. */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { MAX_MESSAGE_EVENTS } from '../../../engine/eventCoalescer';
import { packedLength, PackedReader, type PackedEvents } from '../../../engine/protocol/eventPacking';
import { OUTPUT_LIMIT_PER_TASK, type PoolEvent, type RunFinishedEvent } from '../../../engine/protocol/events';
import { applyEvents, createRunModel, tallyPacked } from '../../../engine/protocol/runModel';
import type { RunHandle, RunRequest } from '../../../engine/runTypes';
import { EngineThread } from '../../../engine/thread/engineThread';
import { autogroupNiceOf, isAlive, niceOf, threadsOf, waitFor } from '../../harness/processes';
import { PY_FIXTURES, pythonProcesses } from '../python/pyHelpers';
import { childProcesses, JS_FIXTURES, ofType } from './jsHelpers';

const ROOT = join(JS_FIXTURES, '..', '..', '..', '..', '..');
let seq = 0;
/** Every run a test started, cancelled after it (a failed assertion must not leave one going). */
const started: RunHandle[] = [];

interface ThreadRun {
	handle: RunHandle;
	messages: PackedEvents[];
	events: PoolEvent[];
}

function runOn(engine: EngineThread, partial: Partial<RunRequest> & Pick<RunRequest, 'fn' | 'inputs'>): ThreadRun {
	const messages: PackedEvents[] = [];
	const events: PoolEvent[] = [];
	const request: RunRequest = {
		runId: `thread-${process.pid}-${seq++}`, file: join(JS_FIXTURES, 'tasks.js'), language: 'javascript', pool: 'thread', workers: 2, cpuSampleMs: 0, ...partial,
	};
	const handle = engine.start(request, (packed) => {
		messages.push(packed);
		const reader = new PackedReader(request.runId, packed);
		events.push(...reader.next(reader.length));
	});
	started.push(handle);
	return { handle, messages, events };
}

async function noChildrenLeft(): Promise<void> {
	assert.ok(await waitFor(() => childProcesses().length === 0, 5_000), `processes left behind: ${childProcesses().join(' | ')}`);
}

describe('Engine thread', function () {
	this.timeout(60_000);
	let engine: EngineThread;

	beforeEach(() => {
		engine = new EngineThread();
	});

	afterEach(async () => {
		await Promise.all(started.splice(0).map((h) => h.cancel('test over')));
		await engine.dispose();
		await noChildrenLeft();
	});

	it('a task printing megabytes sends the extension host what the panel keeps (64 KB a task, and that it was cut), not the megabytes', async () => {
		const r = runOn(engine, { fn: 'printsMegabytes', inputs: '[[3], [2]]' });
		const end = await r.handle.done;
		assert.equal(end.counts.finished, 2);
		for (const taskId of [0, 1]) {
			const text = ofType(r.events, 'task.output').filter((o) => o.taskId === taskId).map((o) => o.text).join('');
			assert.equal(text.length, OUTPUT_LIMIT_PER_TASK + 1, `task ${taskId}`);
			assert.ok(text.startsWith(`start ${3 - taskId}\nzzz`), text.slice(0, 20));
		}
		const model = createRunModel(end.runId);
		applyEvents(model, r.events);
		assert.ok(model.tasks.get(0)!.outputTruncated, 'the panel says the output was cut');
	});

	it('runs a pool away from the calling thread and delivers every event, packed, in messages the panel can take as they are', async () => {
		const r = runOn(engine, { fn: 'square', inputs: '3000' });
		const end = await r.handle.done;
		assert.equal(end.counts.finished, 3000);
		assert.equal(r.events[0]!.type, 'run.started');
		assert.equal(r.events[r.events.length - 1]!.type, 'run.finished');
		assert.equal(ofType(r.events, 'task.finished').length, 3000);
		assert.ok(r.messages.every((m) => packedLength(m) <= MAX_MESSAGE_EVENTS), 'a message holds at most the webview message size');
		// Coalesced: thousands of events in a few messages, not one per engine flush.
		assert.ok(r.messages.length < r.events.length / 100, `${r.messages.length} messages for ${r.events.length} events`);
		const started = ofType(r.events, 'worker.started');
		assert.ok(started.every((w) => typeof w.threadId === 'number' && w.threadId > 0));
	});

	it('the extension host\'s tally (no task table) agrees with the full model on counts and workers', async () => {
		// Failures and printed output: events that travel as objects beside the columns.
		const runs = [
			runOn(engine, { fn: 'failing', inputs: '40', pool: 'process', timeoutMs: 20_000 }),
			runOn(engine, { fn: 'chatty', inputs: '20', pool: 'thread' }),
			runOn(engine, { fn: 'sometimes_fails', inputs: 'range(6)', language: 'python', file: join(ROOT, 'samples', 'python', 'faults.py'), pool: 'thread' }),
		];
		for (const r of runs) {
			const end = await r.handle.done;
			const full = createRunModel(end.runId);
			applyEvents(full, r.events);
			const tally = createRunModel(end.runId);
			for (const m of r.messages) {
				tallyPacked(tally, m);
			}
			assert.equal(end.outcome, 'completed');
			assert.deepEqual(tally.counts, full.counts);
			assert.deepEqual(tally.counts, { ...end.counts });
			assert.equal(tally.tasks.size, 0);
			assert.deepEqual([...tally.workers.values()].map((w) => [w.workerId, w.state, w.tasksDone]), [...full.workers.values()].map((w) => [w.workerId, w.state, w.tasksDone]));
			assert.equal(tally.started?.fn, full.started?.fn);
			assert.equal(tally.finished?.outcome, 'completed');
		}
		assert.ok(runs[0]!.events.some((e) => e.type === 'task.failed'), 'the JS run had failures');
		assert.ok(runs[1]!.events.some((e) => e.type === 'task.output'), 'the JS run printed');
		assert.ok(runs[2]!.events.some((e) => e.type === 'task.output') && runs[2]!.events.some((e) => e.type === 'task.failed'), 'the Python run printed and failed');
	});

	it('cancel one task, cancel the run: both cross the thread, and no process is left', async () => {
		const r = runOn(engine, { fn: 'forever', inputs: '12', pool: 'process', workers: 2 });
		assert.ok(await waitFor(() => ofType(r.events, 'task.started').length === 2, 20_000), 'the two workers never started');
		const running = ofType(r.events, 'task.started')[0]!.taskId;
		const pending = 11; // the last: still in the pool's own queue, not yet sent to a worker
		assert.deepEqual(await r.handle.cancelTask(pending), { ok: true });
		const refused = await r.handle.cancelTask(running);
		assert.equal(refused.ok, false);
		await r.handle.cancel('test');
		const end = await r.handle.done;
		assert.equal(end.outcome, 'cancelled');
		assert.equal(end.counts.cancelled, 12);
		assert.deepEqual(await r.handle.cancelTask(pending), { ok: false, reason: 'the run has ended' });
	});

	it('a Python run\'s stack snapshot crosses the thread', async () => {
		const r = runOn(engine, { fn: 'forever', inputs: '2', language: 'python', file: join(PY_FIXTURES, 'tasks.py'), pool: 'thread', workers: 2 });
		assert.ok(await waitFor(() => ofType(r.events, 'task.started').length === 2, 20_000), 'the tasks never started');
		assert.ok(r.handle.snapshotStacks, 'Python runs offer stack snapshots');
		const text = await r.handle.snapshotStacks!();
		assert.match(text, /forever/);
		await r.handle.cancel('test');
		await r.handle.done;
		assert.ok(await waitFor(() => pythonProcesses().length === 0, 10_000), pythonProcesses().join(' | '));
	});

	it('a request the engine refuses ends as a failed run that says why', async () => {
		const r = runOn(engine, { fn: 'square', inputs: '3', file: join(JS_FIXTURES, 'missing.js') });
		const end = await r.handle.done;
		assert.equal(end.outcome, 'error');
		assert.match(end.error?.message ?? '', /missing\.js/);
		assert.equal(r.events[r.events.length - 1]?.type, 'run.finished', 'the sink saw the end too');
	});

	it('if the engine thread dies, its runs end as errors and their processes are ended', async () => {
		const js = runOn(engine, { fn: 'forever', inputs: '8', pool: 'process', workers: 2 });
		const py = runOn(engine, { fn: 'forever', inputs: '2', language: 'python', file: join(PY_FIXTURES, 'tasks.py'), pool: 'process', workers: 2 });
		assert.ok(await waitFor(() => ofType(js.events, 'task.started').length >= 2 && ofType(py.events, 'task.started').length >= 2, 30_000), `the runs never started: ${JSON.stringify([js.events.map((e) => e.type), py.events.map((e) => e.type)])}`);
		assert.ok(childProcesses().length >= 4, childProcesses().join(' | '));
		await (engine as unknown as { worker: Worker }).worker.terminate();
		const ends: RunFinishedEvent[] = await Promise.all([js.handle.done, py.handle.done]);
		for (const end of ends) {
			assert.equal(end.outcome, 'error');
			assert.equal(end.error?.kind, 'internal');
			assert.match(end.error?.message ?? '', /engine thread exited/);
		}
		assert.equal(js.events[js.events.length - 1]?.type, 'run.finished');
		assert.ok(await waitFor(() => childProcesses().length === 0, 10_000), `processes left behind: ${childProcesses().join(' | ')}`);
		// The next run starts a new thread.
		const again = runOn(engine, { fn: 'square', inputs: '3' });
		assert.equal((await again.handle.done).counts.finished, 3);
	});

	it('a run keeps its process alive until it ends; an idle engine thread does not', () => {
		const started = Date.now();
		const r = spawnSync(process.execPath, [join(__dirname, 'engineThreadHost.entry.js'), join(JS_FIXTURES, 'tasks.js'), 'slowEcho', '[[1, 400], [2, 400]]'], { encoding: 'utf8', timeout: 30_000 });
		assert.equal(r.status, 0, r.stderr);
		assert.match(r.stdout, /"finished":2/, 'the process ended before its run');
		assert.ok(Date.now() - started < 25_000, 'the process did not end after its run');
	});

	it('for a window in another session (a browser), the host\'s session is lowered while a low-priority run is live, and put back after (autogroup)', async function () {
		if (autogroupNiceOf(process.pid) === undefined) {
			this.skip(); // not Linux, or no autogroup scheduling: nothing to lower
		}
		// A host of its own, leading its own session, as code-server's is.
		const child = spawn(process.execPath, [join(__dirname, 'engineThreadHost.entry.js'), join(JS_FIXTURES, 'tasks.js'), 'slowEcho', '[[1, 700], [2, 700]]', 'low-session'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		let err = '';
		child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
		child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
		const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
		try {
			const pid = child.pid!;
			assert.ok(await waitFor(() => out.includes('started'), 10_000), `the host did not start: ${err}`);
			const during = await waitFor(() => autogroupNiceOf(pid) === 10, 3_000, 20);
			assert.ok(during, `while the run is live: autogroup nice ${autogroupNiceOf(pid)} (output ${JSON.stringify(out)})`);
			assert.ok(!out.includes('finished'), 'seen lowered while the run was live');
			assert.ok(await waitFor(() => out.includes('"finished":2'), 15_000), `the run did not end: ${out} ${err}`);
			assert.ok(await waitFor(() => autogroupNiceOf(pid) === 0, 2_000, 20), `after the run: autogroup nice ${autogroupNiceOf(pid)}`);
			assert.equal(await exited, 0, err);
		} finally {
			child.kill('SIGKILL');
		}
	});

	it('a host killed while it held its session lowered (a window reloaded mid-run): the next host in that session puts the priority back', async function () {
		if (autogroupNiceOf(process.pid) === undefined) {
			this.skip();
		}
		// The session's leader outlives its hosts, as code-server's server does.
		const keeper = spawn(process.execPath, [join(__dirname, 'sessionKeeper.entry.js')], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
		let out = '';
		keeper.stdout.on('data', (d: Buffer) => { out += d.toString(); });
		const host = (...args: string[]) => keeper.stdin.write(`${JSON.stringify([join(__dirname, 'engineThreadHost.entry.js'), ...args])}\n`);
		try {
			const session = keeper.pid!;
			host(join(JS_FIXTURES, 'tasks.js'), 'slowEcho', '[[1, 30000]]', 'low-session');
			assert.ok(await waitFor(() => out.includes('started') && autogroupNiceOf(session) === 10, 10_000, 20), `lowered while the run is live: nice ${autogroupNiceOf(session)}, output ${JSON.stringify(out)}`);
			const first = Number(/host (\d+)/.exec(out)?.[1]);
			process.kill(first, 'SIGKILL');
			assert.ok(await waitFor(() => !isAlive(first), 5_000), 'the host was killed');
			assert.equal(autogroupNiceOf(session), 10, 'a killed host cannot put it back itself');
			host('', '', '', 'recover');
			assert.ok(await waitFor(() => autogroupNiceOf(session) === 0, 5_000, 20), `the next host put it back: nice ${autogroupNiceOf(session)}`);
		} finally {
			try {
				process.kill(-keeper.pid!, 'SIGKILL');
			} catch {
				// already gone
			}
		}
	});

	it('low priority lowers the engine thread too (Linux: nice 10); a normal run later gets a thread at normal priority', async function () {
		if (process.platform !== 'linux') {
			this.skip();
		}
		const niced = () => threadsOf(process.pid).filter((tid) => niceOf(process.pid, tid) === 10);
		assert.deepEqual(niced(), [], 'nothing lowered before');
		assert.equal((await runOn(engine, { fn: 'square', inputs: '20', priority: 'low' }).handle.done).counts.finished, 20);
		// The pool's threads are gone with the run; the idle engine thread stays, lowered.
		assert.ok(await waitFor(() => niced().length === 1, 5_000), `threads at nice 10 after a low run: ${niced().length}`);
		assert.equal((await runOn(engine, { fn: 'square', inputs: '20', priority: 'low' }).handle.done).counts.finished, 20);
		assert.equal(niced().length, 1, 'a second low run reuses the lowered thread');
		const normal = runOn(engine, { fn: 'square', inputs: '20', priority: 'normal' });
		assert.equal((await normal.handle.done).counts.finished, 20);
		assert.ok(await waitFor(() => niced().length === 0, 5_000), `threads at nice 10 after a normal run: ${niced().length}`);
	});

	it('dispose waits for the runs, then ends the thread; nothing starts after it', async () => {
		const r = runOn(engine, { fn: 'slowEcho', inputs: '[[1, 200], [2, 200]]' });
		const disposed = engine.dispose();
		const end = await r.handle.done;
		await disposed;
		assert.equal(end.counts.finished, 2);
		assert.equal((engine as unknown as { worker?: Worker }).worker, undefined);
		assert.throws(() => runOn(engine, { fn: 'square', inputs: '1' }), /disposed/);
	});
});
