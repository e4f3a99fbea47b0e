import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerFile } from '../paths';
import { now } from '../clock';
import type { ErrorInfo } from '../protocol/events';
import type { ThreadBatchInput, ThreadTaskDone, ThreadTaskReply, ThreadWorkerData } from './threadTask.worker';
import { BatchLog, MAX_BATCH } from './batchLog';
import { OutputBacklog, outputUnits } from './outputBacklog';
import { StartSlots } from './startSlots';
import { endOwnChildren, leftoverWarning, type ChildNotice } from './leftoverChildren';
import { NOTICE, type TaskSpec, type WorkerNotice, type WorkerTaskResult } from './taskMessages';
import { outOfMemoryError, type PoolCallbacks, type WorkerIdentity, type WorkerPool } from './workerPool';

/**
 * piscina's abort hook in its cheapest form (an emitter with `once`): an AbortController per
 * task cost more than a no-op task (AbortSignal creation and listener bookkeeping).
 */
class TaskAbort {
	public aborted = false;
	private listener: (() => void) | undefined;
	public once(_name: 'abort', listener: () => void): void {
		this.listener = listener;
	}
	public off(): void {
		this.listener = undefined;
	}
	public removeListener(): void {
		this.listener = undefined;
	}
	public abort(): void {
		if (!this.aborted) {
			this.aborted = true;
			this.listener?.();
		}
	}
}


/** How often the host looks at what the workers run: live enough for a panel at 30 frames a second. */
const START_POLL_MS = 20;
/**
 * While tasks take under SHORT_TASK_MS, each piscina task carries a batch of calls that together
 * take about BATCH_MS: a message per call cost the host ~20-40 us here (piscina's postTask wakes
 * the worker), more than a no-op call. Longer tasks go one per message.
 */
const SHORT_TASK_MS = 1;
const BATCH_MS = 1;
/**
 * A call of a batch still running after this long was no short call: the calls of its batch
 * that have not started are taken back (the batch log stops them, atomically) and queued again
 * for any thread. Before, 200 no-op calls then four of 500 ms took 2 s on 2 threads: the four
 * long ones shared a batch, one after another on one thread, while the other idled.
 */
const STEAL_AFTER_MS = 10;

/** Calls handed to piscina as one task, and what became of them. */
interface Batch {
	id: number;
	taskIds: number[];
	ac: TaskAbort;
	worker?: WorkerIdentity;
	killed?: 'timeout' | 'cancelled';
	/** Set when its unstarted calls were taken back: how many had started (claimed) by then. */
	claimed?: number;
	/** Aborted before any call of it was seen to start (stopReplacing): its calls go back unrun. */
	withdrawn?: boolean;
}

export interface ThreadPoolOptions {
	workers: number;
	bundle: string;
	fn: string;
	runId: string;
	maxHeapMb?: number;
	lowPriority?: boolean;
}

/** Worker threads through piscina; live start/output notices through each thread's parentPort. */
export class ThreadPool implements WorkerPool {
	private readonly pool: Piscina;
	/** Processes tasks started that have not exited (installChildTracking), by pid. */
	private readonly children = new Map<number, ChildNotice>();
	private readonly channelName: string;
	/** taskId -> the batch it went in, until its result is handed on. */
	private readonly inFlight = new Map<number, Batch>();
	private batches = 0;
	private nextBatch = 1;
	private readonly log = BatchLog.create();
	/** Recent task duration (moving average; unknown until the first ends). */
	private recentMs = Infinity;
	private readonly known = new Map<string, WorkerIdentity>();
	/** Threads announced as starting whose module has not loaded yet. */
	private readonly loading = new Set<string>();
	private closing = false;
	private readonly slots = StartSlots.create();
	private poll: NodeJS.Timeout | undefined;
	/**
	 * Notices come on a port of their own (each thread's parentPort), not with the results: a
	 * task's last output could still be on its way when its result (piscina's port) ended the run,
	 * and closing the channel then lost it (a serial run of 3 printing calls lost one line in ~10
	 * runs). The workers count what they post; close() waits until as many have arrived.
	 */
	private readonly noticeCount = new SharedArrayBuffer(4);
	private readonly bundleWritten = new SharedArrayBuffer(4);
	private readonly backlog = OutputBacklog.create();
	/** Tells the workers the bundle is written (see load); open until the pool closes so the message is delivered. */
	private loadSignal: BroadcastChannel | undefined;
	private received = 0;

	constructor(private readonly options: ThreadPoolOptions, private readonly cb: PoolCallbacks) {
		this.channelName = `poolscope:${options.runId}`;
		this.pool = new Piscina({
			filename: workerFile('threadTask'),
			atomics: 'async',
			minThreads: options.workers,
			maxThreads: options.workers,
			concurrentTasksPerWorker: 1,
			idleTimeout: 60_000,
			recordTiming: false, // piscina's own histograms: the run measures every task itself
			workerData: { bundle: options.bundle, fn: options.fn, channel: this.channelName, startSlots: this.slots.buffer, batchLog: this.log.buffer, lowPriority: options.lowPriority ?? false, noticeCount: this.noticeCount, bundleWritten: this.bundleWritten, outputBacklog: this.backlog.buffer } satisfies ThreadWorkerData,
			// The run keeps its own queue; piscina's would hide what is pending.
			maxQueue: Math.max(options.workers, availableParallelism()) * 2,
			resourceLimits: options.maxHeapMb ? { maxOldGenerationSizeMb: options.maxHeapMb } : undefined,
		});
		// piscina emits 'error' for a reply to a task it no longer tracks: a batch this pool
		// aborted (cancel, a load error, a timeout) while its worker was already answering. Its
		// tasks were re-queued or reported when it was aborted, so the reply is dropped. Without
		// a listener the emit throws, uncaught, on the thread that runs the engine (it ended a
		// run with a load error as a crash in CI). The only other 'error' is a close() that timed
		// out, which destroy() follows.
		this.pool.on('error', () => undefined);
		this.pool.on('message', (m: unknown) => {
			const n = typeof m === 'object' && m !== null ? (m as { [NOTICE]?: WorkerNotice })[NOTICE] : undefined;
			if (n) {
				this.received++;
				this.notice(n);
			}
		});
		// Each thread as piscina makes it (the first ones right after this constructor): "starting"
		// until it has loaded the user's module, as process workers are.
		this.pool.on('workerCreate', (w: { id: number }) => this.created(w.id));
	}

	/** The bundle is written: every worker loads it now (a thread started later, as it starts). */
	public load(): void {
		if (this.closing) {
			return; // cancelled while esbuild ran: a channel opened now would keep the process alive
		}
		Atomics.store(new Int32Array(this.bundleWritten), 0, 1);
		this.loadSignal = new BroadcastChannel(`${this.channelName}:load`);
		this.loadSignal.postMessage(1);
	}

	private created(threadId: number): void {
		const key = `t${threadId}`;
		if (this.closing || this.known.has(key)) {
			return; // its ready notice or a task came first
		}
		const w: WorkerIdentity = { key, threadId };
		this.known.set(key, w);
		this.loading.add(key);
		this.cb.workerStarting(w, now());
	}

	/**
	 * One batch per worker running and one waiting in piscina's queue: when a worker finishes,
	 * piscina hands it the next at once instead of waiting for our round trip (which left the
	 * workers idle half the time on short tasks). Tasks beyond stay in the run's own queue,
	 * where they are exactly "pending" and cancellable.
	 */
	public freeSlots(_waiting: number): number {
		// piscina's own queue is shared: a batch waiting there goes to whichever thread frees first.
		return this.closing ? 0 : 2 * this.options.workers - this.batches;
	}

	public batchSize(): number {
		if (!(this.recentMs < SHORT_TASK_MS)) {
			return 1;
		}
		return Math.max(1, Math.min(MAX_BATCH, Math.floor(BATCH_MS / Math.max(this.recentMs, BATCH_MS / MAX_BATCH))));
	}

	public dispatch(tasks: TaskSpec[], _waiting: number): void {
		this.poll ??= setInterval(() => this.readStarts(), START_POLL_MS).unref();
		const batch: Batch = { id: this.nextBatch++, taskIds: tasks.map((t) => t.taskId), ac: new TaskAbort() };
		for (const id of batch.taskIds) {
			this.inFlight.set(id, batch);
		}
		this.batches++;
		const input: ThreadBatchInput = [batch.id, tasks.map((t) => [t.taskId, t.args])];
		this.pool.run(input, { signal: batch.ac }).then(
			(replies: ThreadTaskReply[]) => {
				this.batches--;
				for (const r of replies) {
					this.reply(r, batch);
				}
				// Not run: the batch stopped early (its log was full).
				this.requeue(this.unended(batch));
				this.cb.idle();
			},
			(err: unknown) => {
				this.batches--;
				this.lostBatch(batch, err);
				this.cb.idle();
			},
		);
	}

	private reply(r: ThreadTaskReply, batch: Batch): void {
		const result = Array.isArray(r) ? fromDone(r) : r;
		if (this.inFlight.get(result.taskId) !== batch) {
			return;
		}
		this.inFlight.delete(result.taskId);
		const ms = result.endT - result.startT;
		this.recentMs = this.recentMs === Infinity ? ms : 0.8 * this.recentMs + 0.2 * ms;
		const worker = result.threadId !== undefined ? this.identity(result.threadId) : batch.worker;
		batch.worker ??= worker;
		if (result.error?.kind === 'load') {
			this.cb.fatal(result.error);
		} else {
			this.cb.taskResult(result, worker);
		}
	}

	/** The batch's tasks still waiting for a result, in order. */
	private unended(batch: Batch): number[] {
		return batch.taskIds.filter((id) => this.inFlight.get(id) === batch);
	}

	private requeue(ids: number[]): void {
		if (ids.length) {
			for (const id of ids) {
				this.inFlight.delete(id);
			}
			this.cb.requeue(ids);
		}
	}

	/**
	 * piscina rejected the batch: we ended its worker, or the worker died under it. The batch's
	 * log says which calls finished (their results are reported), which one ran (it is lost),
	 * and which never started (they run again).
	 */
	private lostBatch(batch: Batch, err: unknown): void {
		if (!batch.worker) {
			// A call that ended its thread before the start poll saw it: the thread's slot still
			// names it (nobody cleared it), so the death is charged to that thread, not left open.
			this.slots.forEachRunning((taskId, t, threadId) => {
				if (this.inFlight.get(taskId) === batch) {
					this.started(taskId, threadId, t);
				}
			});
		}
		const got = batch.taskIds.length > 1 ? this.log.revoke(batch.id) : undefined;
		// Revoked before (takeBack): the log no longer says how many started; the batch does.
		const started = batch.claimed ?? got?.started;
		for (const json of got?.finished ?? []) {
			this.reply(JSON.parse(json) as ThreadTaskReply, batch);
		}
		const rest = this.unended(batch);
		if (rest.length === 0) {
			return;
		}
		let running: boolean;
		if (batch.withdrawn && !rest.some((id) => this.slots.isRunning(id))) {
			running = false; // taken from piscina's queue before a thread took it
		} else if (batch.taskIds.length === 1) {
			running = true; // or it waited in piscina's queue: lost() tells them apart
		} else if (started !== undefined && batch.taskIds.indexOf(rest[0]!) < started) {
			running = true;
		} else {
			// No call of it was running: we stopped it (dropped from piscina's queue, or revoked
			// between two calls), so nothing to blame; or the worker crashed from what a finished
			// call left behind (a timer's throw), laid on the next call as with one call per message.
			running = !batch.killed;
		}
		if (running) {
			this.inFlight.delete(rest[0]!);
			this.lost(rest[0]!, batch, err);
		}
		this.requeue(this.unended(batch));
	}

	/**
	 * Live starts from the shared slots (a task too short to be seen there starts with its result);
	 * and a batch whose call runs long gives back the calls behind it.
	 */
	private readStarts(): void {
		const at = now();
		this.slots.forEachRunning((taskId, t, threadId) => {
			this.started(taskId, threadId, t);
			const batch = this.inFlight.get(taskId);
			if (batch && batch.claimed === undefined && !batch.killed && at - t > STEAL_AFTER_MS && batch.taskIds[batch.taskIds.length - 1] !== taskId) {
				this.takeBack(batch, at - t);
			}
		});
		if (this.inFlight.size === 0 || this.closing) {
			clearInterval(this.poll);
			this.poll = undefined;
		}
	}

	/** The batch's calls that have not started go back to the run's queue; the rest finish here. */
	private takeBack(batch: Batch, runningMs: number): void {
		const got = this.log.revoke(batch.id);
		if (!got) {
			return; // no log for it (a worker without a slot runs one call a batch anyway)
		}
		batch.claimed = got.started;
		// What runs now is at least this long: the next dispatches go one call at a time.
		this.recentMs = Math.max(this.recentMs === Infinity ? 0 : this.recentMs, runningMs);
		this.requeue(batch.taskIds.slice(got.started).filter((id) => this.inFlight.get(id) === batch));
	}

	/**
	 * Each known worker thread's V8 heap in use plus its external memory (Buffers): what a thread
	 * of the pool holds. `Worker.getHeapStatistics()` is Node 22.16+ (VS Code's and code-server's
	 * hosts have it; older Node gives none).
	 */
	public async heaps(): Promise<{ key: string; heap: number }[]> {
		type Stats = { used_heap_size: number; external_memory: number };
		const out: { key: string; heap: number }[] = [];
		await Promise.all(this.pool.threads.map(async (w) => {
			const read = (w as { getHeapStatistics?: () => Promise<Stats> }).getHeapStatistics;
			const key = `t${w.threadId}`;
			if (typeof read !== 'function' || !this.known.has(key)) {
				return;
			}
			try {
				const s = await read.call(w);
				out.push({ key, heap: s.used_heap_size + s.external_memory });
			} catch {
				// ended meanwhile
			}
		}));
		return out;
	}

	/**
	 * The function killed too many threads: the batches still waiting in piscina's queue are taken
	 * back, or each would start on one more fresh thread and kill it (piscina replaces a dead
	 * thread and hands it the next batch). What runs now runs on.
	 */
	public stopReplacing(): void {
		for (const batch of new Set(this.inFlight.values())) {
			if (!batch.worker && !batch.killed && !batch.taskIds.some((id) => this.slots.isRunning(id))) {
				batch.withdrawn = true;
				batch.killed = 'cancelled';
				batch.ac.abort();
			}
		}
	}

	public kill(taskId: number, reason: 'timeout' | 'cancelled'): void {
		const batch = this.inFlight.get(taskId);
		if (!batch || batch.killed) {
			return;
		}
		if (batch.taskIds.length > 1 && !this.slots.isRunning(taskId)) {
			return; // it has ended; its result comes with its batch's
		}
		batch.killed = reason;
		batch.ac.abort();
	}

	public async close(): Promise<void> {
		this.closing = true;
		clearInterval(this.poll);
		this.poll = undefined;
		for (const [, batch] of this.inFlight) {
			batch.killed ??= 'cancelled';
		}
		if (this.children.size) {
			await this.noticesIn(1000);
			const ended = endOwnChildren(this.children.values());
			if (ended.length) {
				this.cb.warning(leftoverWarning(ended, (c) => c.taskId !== undefined ? `task ${c.taskId}` : 'code outside any task'));
			}
		}
		await this.pool.destroy();
		await this.noticesIn(1000);
		this.loadSignal?.close();
		for (const key of this.known.keys()) {
			this.cb.workerExited(key, 0, null, 'shutdown');
		}
		this.known.clear();
	}

	/** Until every notice posted has arrived (or `limitMs`: a worker ended mid-post). */
	private async noticesIn(limitMs: number): Promise<void> {
		const posted = new Int32Array(this.noticeCount);
		const until = performance.now() + limitMs;
		while (this.received < Atomics.load(posted, 0) && performance.now() < until) {
			await new Promise((r) => setTimeout(r, 1));
		}
	}

	/** The worker of a thread, ready by `t` (when it was seen doing something). */
	private identity(threadId: number, t = now(), tid?: number): WorkerIdentity {
		const key = `t${threadId}`;
		let w = this.known.get(key);
		if (!w) {
			w = { key, threadId, ...(tid !== undefined ? { tid } : {}) };
			this.known.set(key, w);
			this.cb.workerStarted(w, t);
		} else if (this.loading.size && this.loading.delete(key)) {
			this.cb.workerStarted(w, t); // ready (its notice may come after its first task's start)
		}
		return w;
	}

	private started(taskId: number, threadId: number, t: number): void {
		const batch = this.inFlight.get(taskId);
		if (!batch) {
			return; // already ended (the result came first)
		}
		batch.worker = this.identity(threadId, t);
		this.cb.taskStarted(taskId, batch.worker, t); // a repeat is ignored there
	}

	private notice(n: WorkerNotice): void {
		if (n.type === 'output' || n.type === 'runOutput') {
			this.backlog.read(outputUnits(n.text));
		}
		if (n.type === 'start') {
			this.started(n.taskId, n.threadId ?? -1, n.t);
		} else if (n.type === 'ready') {
			if (!this.closing) {
				// Before identity(): its worker.ready carries the OS thread id. A batch's first
				// start, read from the batch log, often comes before this notice (most runs of
				// 1,000 calls or more): the worker is ready already, and its id follows on its own.
				const known = this.known.get(`t${n.threadId}`);
				const late = known !== undefined && known.tid === undefined && !this.loading.has(known.key);
				if (known && n.tid !== undefined) {
					known.tid = n.tid;
				}
				this.identity(n.threadId, n.t, n.tid);
				if (late && n.tid !== undefined) {
					this.cb.workerThreadId(known);
				}
			}
		} else if (n.type === 'late') {
			this.cb.lateError(n);
		} else if (n.type === 'moduleExit') {
			this.cb.fatal(n.error);
		} else if (n.type === 'runOutput') {
			// Output while the module loads does not make its worker ready.
			this.cb.runOutput(this.known.get(`t${n.threadId ?? -1}`) ?? this.identity(n.threadId ?? -1), n.stream, n.text);
		} else if (n.type === 'child') {
			this.children.set(n.pid, n);
		} else if (n.type === 'childExit') {
			this.children.delete(n.pid);
		} else {
			this.cb.taskOutput(n.taskId, n.stream, n.text);
		}
	}

	/** A task rejected by piscina: we ended its worker, or the worker died under it. */
	private lost(taskId: number, batch: Batch, err: unknown): void {
		const key = batch.worker?.key;
		if (key && this.known.has(key)) {
			this.known.delete(key); // piscina replaces a worker it had to end
			this.loading.delete(key);
		}
		const e = err as { name?: string; message?: string; code?: string };
		let error: ErrorInfo;
		let reason: 'timeout' | 'cancelled' | 'crash' | 'outOfMemory';
		if (batch.killed) {
			reason = batch.killed;
			// What became of the worker; jsBackend puts the task and its limit in front.
			error = batch.killed === 'timeout'
				? { kind: 'timeout', name: 'TimeoutError', message: 'its worker thread was terminated and replaced' }
				: { kind: 'exception', name: 'Cancelled', message: 'cancelled while running; its worker thread was terminated' };
		} else if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
			reason = 'outOfMemory';
			error = outOfMemoryError('the worker thread', this.options.maxHeapMb);
		} else {
			reason = 'crash';
			const code = /code:? (\d+)/.exec(e.message ?? '')?.[1];
			error = {
				kind: 'workerExited', name: e.name ?? 'Error',
				message: code !== undefined ? `worker exited with code ${code}` : `the worker thread ended under the task: ${e.message ?? String(err)}`,
				hint: 'process.exit() in a worker thread ends that thread; return or throw instead.',
			};
		}
		if (key) {
			const code = /code:? (\d+)/.exec(e.message ?? '')?.[1];
			this.cb.workerExited(key, code !== undefined ? Number(code) : null, null, reason);
		}
		this.backlog.settle(); // its last output may never arrive
		this.cb.taskLost(taskId, error, key);
	}
}

/** A finished task's compact reply as the full result. */
function fromDone(r: ThreadTaskDone): WorkerTaskResult {
	const result: WorkerTaskResult = { taskId: r[0], ok: true, threadId: r[1], startT: r[2], endT: r[3], cpuMs: r[4] ?? undefined, result: r[5] };
	if (r[6] === 1) {
		result.awaited = true;
	}
	return result;
}
