/**
 * JS/TS runs: the user's function bundled once, the inputs evaluated off-thread, then a queue
 * owned here feeding a pool (piscina threads, forked processes, or one thread for serial),
 * every step reported as protocol events.
 */
import { availableParallelism } from 'node:os';
import { now } from '../clock';
import { CpuSampler, DEFAULT_CPU_SAMPLE_MS } from '../cpu/cpuSampler';
import { EventBatcher } from '../eventBatcher';
import { memoryIntervalMs, rampingTimer } from '../memory/processMemory';
import { preview, RUN_OUTPUT_LIMIT, type ErrorInfo, type EventSink, type PoolEvent, type RunFinishedEvent, type StreamName, type TaskCounts, type WorkerExitedEvent, type WorkerSummary } from '../protocol/events';
import { DEFAULT_MAX_HEAP_MB, type Backend, type CancelTaskResult, type RunHandle, type RunRequest } from '../runTypes';
import { evaluateInputs } from './inputs';
import { ProcessPool } from './processPool';
import { NOT_CLONEABLE, type TaskSpec, type WorkerTaskResult } from './taskMessages';
import type { LateError } from './taskExecution';
import { ThreadPool } from './threadPool';
import { bundleUserFunction, newBundleTarget, UserCodeError, type UserBundle } from './userModule';
import type { PoolCallbacks, WorkerIdentity, WorkerPool } from './workerPool';

/** A function that kills this many workers is not retried on fresh ones. */
export const MAX_KILLED_WORKERS = 3;
/** Tasks submitted per turn of the event loop, however many callers ask in that turn. */
export const SUBMIT_SLICE = 2000;


type TaskPhase = 'waiting' | 'pending' | 'dispatched' | 'running' | 'ended';

interface TaskEntry {
	args: unknown[];
	phase: TaskPhase;
	startT?: number;
	workerKey?: string;
	timer?: NodeJS.Timeout;
}

interface WorkerEntry {
	workerId: number;
	pid?: number;
	threadId?: number;
	startedAt: number;
	exitedAt?: number;
	tasks: number;
	busyMs: number;
	/** Started (a process forked) but not yet ready: its worker.ready is still to come. */
	starting?: boolean;
}

export const jsBackend: Backend = {
	start(request: RunRequest, sink: EventSink): RunHandle {
		return new JsRun(request, sink).handle;
	},
};

class JsRun implements PoolCallbacks {
	public readonly handle: RunHandle;
	private readonly out: EventBatcher;
	private readonly t0 = now();
	private readonly workers: number;
	private readonly tasks: TaskEntry[] = [];
	/** FIFO of pending task ids (head index avoids O(n) shifts at 100k tasks). */
	private queue: number[] = [];
	private head = 0;
	/** Not yet submitted because the bounded queue is full (producer blocked). */
	private nextToSubmit = 0;
	private readonly counts: TaskCounts = { submitted: 0, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 };
	private ended = 0;
	/** Kept per transition: the depth events must not walk 100k tasks every 50 ms. */
	private pendingCount = 0;
	/** Handed to piscina, not started yet (thread pools: one per worker waits in piscina). */
	private dispatchedCount = 0;
	private executingCount = 0;
	private readonly workerEntries = new Map<string, WorkerEntry>();
	private runOutputChars = 0;
	private nextWorkerId = 0;
	private pool: WorkerPool | undefined;
	private bundle: UserBundle | undefined;
	private cpu: CpuSampler | undefined;
	private heapTimer: { dispose(): void } | undefined;
	private depthTimer: NodeJS.Timeout | undefined;
	private killedWorkers = 0;
	private stopping: 'cancelled' | 'error' | undefined;
	private fatalError: ErrorInfo | undefined;
	private finished = false;
	private saidCollected = false;
	private awaitedTasks = 0;
	private resolveDone!: (e: RunFinishedEvent) => void;
	/** The pool reports through this, held back until run.started is out. */
	private readonly held = new HeldCallbacks(this);

	constructor(private readonly request: RunRequest, sink: EventSink) {
		this.out = new EventBatcher(sink);
		this.workers = request.pool === 'serial' ? 1 : Math.max(1, request.workers ?? availableParallelism());
		const done = new Promise<RunFinishedEvent>((r) => { this.resolveDone = r; });
		this.handle = {
			runId: request.runId,
			done,
			cancelTask: (taskId) => Promise.resolve(this.cancelTask(taskId)),
			cancel: (reason) => this.cancel(reason ?? 'cancelled by user'),
		};
		void this.begin().catch((e: unknown) => {
			this.fatal({ kind: 'internal', name: e instanceof Error ? e.name : 'Error', message: `Poolscope failed: ${e instanceof Error ? e.message : String(e)}`, stack: e instanceof Error ? e.stack : undefined });
		});
	}

	private emit(e: PoolEvent): void {
		this.out.emit(e);
	}

	private get runId(): string {
		return this.request.runId;
	}

	private async begin(): Promise<void> {
		const r = this.request;
		let items: unknown[][] = [];
		let loadError: ErrorInfo | undefined;
		// Bundling, the inputs (a thread of their own unless they are a literal) and the workers'
		// boot all at once: a forked Node process takes longer to start than the other two
		// together, and it does not need the bundle until its first task. What the pool reports
		// waits for run.started.
		const target = newBundleTarget();
		// Owned from now: a run that ends while esbuild still works removes the folder too (it
		// was only removed once bundled, and runs ended meanwhile left one in /tmp each).
		this.bundle = target;
		this.startPool(target.file);
		const inputs = evaluateInputs(r.inputs);
		try {
			this.bundle = await bundleUserFunction(r.file, r.fn, r.workspaceRoot, target);
			if (this.finished) {
				target.dispose(); // ended while esbuild wrote it
			}
			if (this.pool instanceof ProcessPool) {
				this.pool.load(this.bundle.file);
			} else if (this.pool instanceof ThreadPool) {
				this.pool.load();
			}
		} catch (e) {
			if (!(e instanceof UserCodeError)) {
				throw e;
			}
			loadError = e.info;
		}
		const evaluated = await inputs;
		if (evaluated.ok) {
			items = evaluated.items;
		} else {
			loadError ??= evaluated.error; // a file that does not load is said first
		}
		const cores = availableParallelism();
		this.emit({
			type: 'run.started', runId: this.runId, t: this.t0, fn: r.fn, file: r.file, language: r.language, pool: r.pool,
			workers: this.workers,
			options: { workers: this.workers, timeoutMs: r.timeoutMs, maxQueue: r.maxQueue, chunksize: r.pool === 'process' ? r.chunksize : undefined, ...(r.priority === 'low' ? { priority: 'low' as const } : {}) },
			inputCount: items.length, cores, runtime: `node ${process.version}`, stages: ['pending', 'dispatched', 'executing'],
		});
		if (this.stopping === 'cancelled') {
			this.held.drop();
			await this.finish();
			return;
		}
		if (loadError) {
			this.held.drop(); // workers that never ran anything are not part of the story
			this.fatalError = loadError;
			this.stopping = 'error';
			await this.finish();
			return;
		}
		if (this.workers > 4 * cores) {
			this.emit({ type: 'run.warning', runId: this.runId, t: now(), message: `${this.workers} workers on ${cores} cores: more than 4 per core only adds switching and memory for CPU-bound work` });
		}
		if (r.cpuSampleMs !== 0) {
			this.cpu = new CpuSampler(r.cpuSampleMs ?? DEFAULT_CPU_SAMPLE_MS, (s) => this.emit({ type: 'cpu.sample', runId: this.runId, t: s.t, total: s.total, perCore: s.perCore }));
		}
		// Worker threads have no process of their own (startRun's memory watch samples processes):
		// their heaps are read here, at the same pace.
		const memoryMs = r.memorySampleMs ?? r.cpuSampleMs;
		if (memoryMs !== 0 && this.pool?.heaps) {
			this.heapTimer = rampingTimer(memoryIntervalMs(memoryMs), () => void this.sampleHeaps());
		}
		for (const args of items) {
			this.tasks.push({ args, phase: 'waiting' });
		}
		this.submitMore();
		if (this.tasks.length === 0) {
			this.held.drop();
			await this.finish();
			return;
		}
		this.held.open();
		this.pump();
	}

	/** Both pools start before the bundle is written and load it once it is (`load`). */
	private startPool(bundle: string): void {
		const r = this.request;
		const maxHeapMb = r.maxHeapMb === undefined ? DEFAULT_MAX_HEAP_MB : r.maxHeapMb || undefined;
		this.pool = r.pool === 'process'
			? new ProcessPool({ workers: this.workers, fn: r.fn, maxHeapMb, lowPriority: r.priority === 'low' }, this.held)
			: new ThreadPool({ workers: this.workers, bundle, fn: r.fn, runId: this.runId, maxHeapMb, lowPriority: r.priority === 'low' }, this.held);
	}

	/** Submissions left in this turn of the event loop; `nextTurn` refills it. */
	private submitBudget = SUBMIT_SLICE;
	private nextTurn: NodeJS.Immediate | undefined;

	/**
	 * Moves tasks from "not yet submitted" into the pending queue, up to maxQueue, a few
	 * thousand per turn of the event loop: submitting 100k in one go would block the caller's
	 * event loop (the extension host) for most of a second. The budget is per turn, not per
	 * call: every finished batch pumps, and with a slice per call the completions read in one
	 * turn submitted all 100k back to back (an 800 ms stall of the extension host).
	 */
	private submitMore(): void {
		const bound = this.request.maxQueue && this.request.maxQueue > 0 ? this.request.maxQueue : Infinity;
		const t = now();
		while (this.submitBudget > 0 && this.nextToSubmit < this.tasks.length && this.queue.length - this.head < bound && !this.stopping) {
			this.submitBudget--;
			const taskId = this.nextToSubmit++;
			const task = this.tasks[taskId]!;
			task.phase = 'pending';
			this.pendingCount++;
			this.counts.submitted++;
			this.emit({ type: 'task.submitted', runId: this.runId, t, taskId, input: preview(argsPreview(task.args)) });
			this.emit({ type: 'task.queued', runId: this.runId, t, taskId, stage: 'pending' });
			this.queue.push(taskId);
		}
		if (this.submitBudget < SUBMIT_SLICE) {
			this.nextTurn ??= setImmediate(() => {
				this.nextTurn = undefined;
				this.submitBudget = SUBMIT_SLICE;
				if (!this.finished) {
					this.submitMore();
					this.pump();
				}
			});
		}
		this.depthsChanged();
	}

	private pump(): void {
		if (!this.pool || this.stopping) {
			return;
		}
		const chunk = this.request.pool === 'process' ? Math.max(1, this.request.chunksize ?? 1) : (this.pool.batchSize?.() ?? 1);
		// In dispatches (chunks), as the pool counts them.
		const waiting = () => Math.ceil(this.pendingCount / chunk);
		while (this.head < this.queue.length && this.pool.freeSlots(waiting()) > 0) {
			const queued = waiting();
			const specs: TaskSpec[] = [];
			while (specs.length < chunk && this.head < this.queue.length) {
				const taskId = this.queue[this.head++]!;
				const task = this.tasks[taskId]!;
				if (task.phase !== 'pending') {
					continue; // cancelled while queued
				}
				task.phase = 'dispatched';
				this.pendingCount--;
				this.dispatchedCount++;
				specs.push({ taskId, args: task.args });
			}
			if (specs.length) {
				this.pool.dispatch(specs, queued);
			}
		}
		if (this.head > 4096 && this.head * 2 > this.queue.length) {
			this.queue = this.queue.slice(this.head);
			this.head = 0;
		}
		this.submitMore();
	}

	private depthsChanged(): void {
		if (this.depthTimer || this.finished) {
			return;
		}
		this.depthTimer = setTimeout(() => {
			this.depthTimer = undefined;
			this.emitDepths();
		}, 50);
	}

	private emitDepths(): void {
		const pending = this.pendingCount;
		const executing = this.executingCount;
		const full = this.request.maxQueue && pending >= this.request.maxQueue && this.nextToSubmit < this.tasks.length ? ['pending'] : undefined;
		this.emit({ type: 'queue.depth', runId: this.runId, t: now(), depths: { pending, dispatched: this.dispatchedCount, executing }, ...(full ? { full } : {}) });
	}

	// ---- PoolCallbacks ----

	public workerStarting(w: WorkerIdentity, t: number): void {
		if (!this.workerEntries.has(w.key)) {
			this.announce(w, t, true);
		}
	}

	public workerStarted(w: WorkerIdentity, t = now()): void {
		const known = this.workerEntries.get(w.key);
		if (!known) {
			this.announce(w, t, false);
		} else if (known.starting) {
			known.starting = false;
			this.emit({ type: 'worker.ready', runId: this.runId, t, workerId: known.workerId, ...(w.tid !== undefined ? { tid: w.tid } : {}) });
		}
	}

	public workerThreadId(w: WorkerIdentity): void {
		const known = this.workerEntries.get(w.key);
		if (known && !known.starting && known.exitedAt === undefined && w.tid !== undefined) {
			// A repeat of worker.ready, the only event that brings the id later (readyAt stays the first's).
			this.emit({ type: 'worker.ready', runId: this.runId, t: now(), workerId: known.workerId, tid: w.tid });
		}
	}

	private announce(w: WorkerIdentity, t: number, starting: boolean): void {
		const entry: WorkerEntry = { workerId: this.nextWorkerId++, pid: w.pid, threadId: w.threadId, startedAt: t, tasks: 0, busyMs: 0, ...(starting ? { starting } : {}) };
		this.workerEntries.set(w.key, entry);
		this.emit({ type: 'worker.started', runId: this.runId, t, workerId: entry.workerId, pid: w.pid, threadId: w.threadId, ...(w.tid !== undefined ? { tid: w.tid } : {}), ...(starting ? { ready: false as const } : {}) });
	}

	public workerExited(key: string, code: number | null, signal: string | null, reason: 'shutdown' | 'crash' | 'cancelled' | 'timeout' | 'idle' | 'outOfMemory'): void {
		const entry = this.workerEntries.get(key);
		if (!entry || entry.exitedAt !== undefined) {
			return;
		}
		entry.exitedAt = now();
		this.emit({ type: 'worker.exited', runId: this.runId, t: entry.exitedAt, workerId: entry.workerId, code, signal, reason });
	}

	private workerIdOf(w: WorkerIdentity | undefined): number | undefined {
		if (!w) {
			return undefined;
		}
		this.workerStarted(w);
		return this.workerEntries.get(w.key)!.workerId;
	}

	public taskStarted(taskId: number, w: WorkerIdentity, t: number): void {
		const task = this.tasks[taskId];
		if (!task || task.phase === 'ended' || task.phase === 'running') {
			return;
		}
		if (task.phase === 'dispatched') {
			this.dispatchedCount--;
			this.executingCount++;
		}
		task.phase = 'running';
		task.startT = t;
		task.workerKey = w.key;
		this.emit({ type: 'task.started', runId: this.runId, t, taskId, workerId: this.workerIdOf(w)! });
		this.depthsChanged();
		const timeout = this.request.timeoutMs;
		if (timeout && timeout > 0) {
			// The start may be seen late (thread pools poll it): the timeout counts from the real start.
			task.timer = setTimeout(() => this.pool?.kill(taskId, 'timeout'), Math.max(0, timeout - (now() - t)));
		}
	}

	public taskOutput(taskId: number, stream: 'stdout' | 'stderr', text: string): void {
		this.emit({ type: 'task.output', runId: this.runId, t: now(), taskId, stream, text });
	}

	/** Up to what consumers keep, and a character more so they can tell it was cut. */
	public runOutput(w: WorkerIdentity, stream: StreamName, text: string): void {
		const room = RUN_OUTPUT_LIMIT + 1 - this.runOutputChars;
		if (room <= 0) {
			return;
		}
		const kept = text.length > room ? text.slice(0, room) : text;
		this.runOutputChars += kept.length;
		this.emit({ type: 'run.output', runId: this.runId, t: now(), stream, text: kept, workerId: this.workerIdOf(w)! });
	}

	public warning(message: string): void {
		this.emit({ type: 'run.warning', runId: this.runId, t: now(), message });
	}

	/** Not a task's failure: the task it came from had returned (its result stands), and the one running then is not to blame. */
	public lateError(e: LateError): void {
		const what = `${e.error.name}: ${e.error.message}`;
		const did = e.how === 'uncaught' ? `a timer or callback it left behind threw ${what}` : `a promise it left without a handler rejected with ${what}`;
		const from = e.taskId !== undefined ? `task ${e.taskId} had already returned when ${did}` : `code outside any task (the module's own) ${e.how === 'uncaught' ? 'threw' : 'left a promise that rejected with'} ${what}`;
		const during = e.runningTaskId !== undefined ? ` (task ${e.runningTaskId} was running on that worker; it went on)` : '';
		const stands = e.taskId !== undefined ? ' Its result stands; the error is not charged to any task.' : ' No task is charged with it.';
		this.emit({ type: 'run.warning', runId: this.runId, t: now(), message: `${from}${during}.${stands}`, detail: e.error.stack });
	}

	public taskResult(result: WorkerTaskResult, w: WorkerIdentity | undefined): void {
		const task = this.tasks[result.taskId];
		if (!task || task.phase === 'ended') {
			return;
		}
		const workerId = this.workerIdOf(w);
		if (task.phase !== 'running' && w) {
			this.taskStarted(result.taskId, w, result.startT); // the live notice lost the race
		}
		const durationMs = Math.max(0, result.endT - result.startT);
		const entry = w ? this.workerEntries.get(w.key) : undefined;
		if (entry) {
			entry.tasks++;
			entry.busyMs += durationMs;
		}
		const t = Math.max(result.endT, task.startT ?? 0);
		if (result.awaited) {
			this.awaitedTasks++;
		}
		if (result.collected && !this.saidCollected) {
			this.saidCollected = true;
			const how = result.collected === 'generator' ? 'collects what it yields into an array' : 'collects what it yields (for await)';
			this.emit({ type: 'run.warning', runId: this.runId, t: now(), message: `${this.request.fn} is ${result.collected === 'generator' ? 'a generator function' : 'an async generator function'}: a call returns before its body has run, so each task ${how} in its worker, and its time includes that` });
		}
		if (result.ok) {
			this.end(result.taskId, 'finished');
			this.emit({ type: 'task.finished', runId: this.runId, t, taskId: result.taskId, workerId: workerId ?? -1, durationMs, cpuMs: result.cpuMs, result: result.result ?? '' });
		} else {
			this.end(result.taskId, 'failed');
			this.emit({ type: 'task.failed', runId: this.runId, t, taskId: result.taskId, workerId, durationMs, cpuMs: result.cpuMs, error: result.error! });
		}
	}

	public taskLost(taskId: number, error: ErrorInfo, workerKey: string | undefined): void {
		const task = this.tasks[taskId];
		if (!task || task.phase === 'ended') {
			return;
		}
		const t = now();
		const entry = workerKey ? this.workerEntries.get(workerKey) : undefined;
		if (entry && task.startT !== undefined) {
			entry.busyMs += t - task.startT;
		}
		const durationMs = task.startT !== undefined ? t - task.startT : undefined;
		if (error.kind === 'timeout') {
			// As the Python runner says it: the limit is what the user compares with the bar's length.
			error = { ...error, message: `task ${taskId} ran past its timeout of ${this.request.timeoutMs} ms; ${error.message}` };
		}
		if (error.name === 'Cancelled') {
			// A task still waiting (in piscina, or behind another in a worker process) was dropped, not stopped.
			const wasRunning = task.phase === 'running';
			this.end(taskId, 'cancelled');
			this.emit({ type: 'task.cancelled', runId: this.runId, t, taskId, reason: this.stopReason(), wasRunning });
			return;
		}
		if (entry) {
			entry.tasks++; // its worker's, as the run model counts a timed-out or crashed task
		}
		this.end(taskId, error.kind === 'timeout' ? 'timedOut' : 'failed');
		this.emit({ type: 'task.failed', runId: this.runId, t, taskId, workerId: entry?.workerId, durationMs, error });
		if (error.kind === 'workerExited' || error.kind === 'outOfMemory') {
			this.killedWorkers++;
			if (this.killedWorkers === MAX_KILLED_WORKERS) {
				this.stopAfterCrashes(); // once: the workers that die after (their tasks were running) are not news
			}
		}
		// The last task lost (timed out, crashed) ends the run now: the pool must not boot a
		// replacement for nothing, nor the run wait for it to come up.
		this.maybeFinish();
	}

	public requeue(taskIds: number[]): void {
		const back: number[] = [];
		for (const id of taskIds) {
			const task = this.tasks[id];
			if (task && task.phase === 'dispatched') {
				task.phase = 'pending';
				this.unDispatch();
				this.pendingCount++;
				back.push(id);
			}
		}
		if (this.killedWorkers >= MAX_KILLED_WORKERS) {
			// Waiting behind the task that killed the last worker allowed: no new worker for them.
			this.failAsKilled(back);
			this.maybeFinish();
			return;
		}
		this.queue.splice(this.head, 0, ...back);
		this.pump();
	}

	public fatal(error: ErrorInfo): void {
		if (this.stopping) {
			return;
		}
		this.fatalError = error;
		this.stopping = 'error';
		void this.finish();
	}

	public idle(): void {
		this.pump();
		this.maybeFinish();
	}

	// ---- bookkeeping ----

	/** Why a task that never ran was dropped: every such task of a run says the same. */
	private stopReason(): string {
		if (this.stopping === 'cancelled') {
			return this.cancelReason ?? 'run cancelled';
		}
		if (this.stopping === 'error') {
			return this.fatalError?.kind === 'load' ? "not run: the module failed to load (the run's error says why)" : 'the run stopped on an error';
		}
		return 'cancelled';
	}

	private unDispatch(): void {
		this.dispatchedCount--;
	}

	private end(taskId: number, state: 'finished' | 'failed' | 'cancelled' | 'timedOut'): void {
		const task = this.tasks[taskId]!;
		if (task.timer) {
			clearTimeout(task.timer);
		}
		if (task.phase === 'pending') {
			this.pendingCount--;
		} else if (task.phase === 'dispatched') {
			this.unDispatch();
		} else if (task.phase === 'running') {
			this.executingCount--;
		}
		task.phase = 'ended';
		task.args = []; // let 100k inputs be collected as they finish
		this.counts[state]++;
		this.ended++;
		this.depthsChanged();
	}

	private stopAfterCrashes(): void {
		this.pool?.stopReplacing?.();
		this.failAsKilled(this.queue.slice(this.head));
		this.head = this.queue.length;
		this.emit({ type: 'run.warning', runId: this.runId, t: now(), message: this.killedMessage() });
		this.maybeFinish();
	}

	private killedMessage(): string {
		return `the function killed ${this.killedWorkers} workers; Poolscope stopped starting new ones for it`;
	}

	/** Pending tasks that will never get a worker: the function kills them. */
	private failAsKilled(ids: number[]): void {
		const t = now();
		for (const id of ids) {
			if (this.tasks[id]!.phase === 'pending') {
				this.end(id, 'failed');
				this.emit({ type: 'task.failed', runId: this.runId, t, taskId: id, error: { kind: 'killedWorker', name: 'KilledWorkers', message: this.killedMessage(), hint: 'Look at the first failed task: its error says how the worker died.' } });
			}
		}
	}

	private cancelTask(taskId: number): CancelTaskResult {
		const task = this.tasks[taskId];
		if (!task) {
			return { ok: false, reason: `there is no task ${taskId}` };
		}
		if (task.phase === 'ended') {
			return { ok: false, reason: `task ${taskId} has already ended` };
		}
		if (task.phase === 'dispatched') {
			const where = this.request.pool === 'process' ? 'sent to a worker process, where it waits for the task before it' : 'handed to piscina for the next free worker thread';
			return { ok: false, reason: `task ${taskId} was already ${where}: like a future in CPython's call queue it can no longer be cancelled on its own; cancel the run to stop it` };
		}
		if (task.phase === 'running') {
			return { ok: false, reason: `task ${taskId} is already running on a worker; cancel the run to stop it` };
		}
		if (task.phase === 'waiting') {
			this.counts.submitted++; // it never got a submitted event; count it so the totals add up
			this.emit({ type: 'task.submitted', runId: this.runId, t: now(), taskId, input: preview(argsPreview(task.args)) });
		}
		this.end(taskId, 'cancelled');
		this.emit({ type: 'task.cancelled', runId: this.runId, t: now(), taskId, reason: 'cancelled by user', wasRunning: false });
		this.maybeFinish();
		return { ok: true };
	}

	private cancelReason: string | undefined;

	private async cancel(reason: string): Promise<void> {
		if (this.finished || this.stopping) {
			await this.handle.done;
			return;
		}
		this.stopping = 'cancelled';
		// Every task the cancel ends says the same, pending or running (a Ctrl-C: "interrupted (Ctrl-C)").
		this.cancelReason = reason;
		const t = now();
		for (let id = 0; id < this.tasks.length; id++) {
			const task = this.tasks[id]!;
			if (task.phase === 'pending' || task.phase === 'waiting') {
				if (task.phase === 'waiting') {
					this.counts.submitted++;
					this.emit({ type: 'task.submitted', runId: this.runId, t, taskId: id, input: preview(argsPreview(task.args)) });
				}
				this.end(id, 'cancelled');
				this.emit({ type: 'task.cancelled', runId: this.runId, t, taskId: id, reason, wasRunning: false });
			}
		}
		await this.finish();
	}

	private maybeFinish(): void {
		if (!this.finished && this.pool && this.ended === this.tasks.length && this.nextToSubmit >= this.tasks.length) {
			void this.finish();
		}
	}

	private finishing: Promise<void> | undefined;

	private finish(): Promise<void> {
		this.finishing ??= this.doFinish();
		return this.finishing;
	}

	private async sampleHeaps(): Promise<void> {
		const heaps = await this.pool?.heaps?.();
		const threads = (heaps ?? []).flatMap(({ key, heap }) => {
			const entry = this.workerEntries.get(key);
			return entry && entry.exitedAt === undefined ? [{ workerId: entry.workerId, heap }] : [];
		});
		if (threads.length && !this.finished && !this.finishing) {
			this.emit({ type: 'memory.sample', runId: this.runId, t: now(), workers: [], threads });
		}
	}

	private async doFinish(): Promise<void> {
		this.cpu?.dispose();
		this.heapTimer?.dispose();
		await this.pool?.close(); // in-flight tasks come back through taskLost as cancelled
		// Anything still not ended (a fatal stop) is cancelled so the counts add up.
		const t = now();
		for (let id = 0; id < this.tasks.length; id++) {
			const task = this.tasks[id]!;
			if (task.phase !== 'ended') {
				const wasRunning = task.phase === 'running';
				if (task.phase === 'waiting') {
					this.counts.submitted++;
					this.emit({ type: 'task.submitted', runId: this.runId, t, taskId: id, input: preview(argsPreview(task.args)) });
				}
				this.end(id, 'cancelled');
				this.emit({ type: 'task.cancelled', runId: this.runId, t, taskId: id, reason: this.stopReason(), wasRunning });
			}
		}
		for (const [key] of this.workerEntries) {
			this.workerExited(key, 0, null, 'shutdown');
		}
		this.bundle?.dispose();
		if (this.depthTimer) {
			clearTimeout(this.depthTimer);
			this.depthTimer = undefined;
		}
		this.emitDepths();
		this.finished = true;
		const end = now();
		const wallMs = end - this.t0;
		const workers: WorkerSummary[] = [...this.workerEntries.values()].map((w) => {
			const alive = Math.max(1e-6, (w.exitedAt ?? end) - w.startedAt);
			return { workerId: w.workerId, pid: w.pid, threadId: w.threadId, tasks: w.tasks, busyMs: w.busyMs, utilization: Math.min(1, w.busyMs / alive) };
		});
		const outcome = this.stopping === 'error' ? 'error' : this.stopping === 'cancelled' ? 'cancelled' : 'completed';
		const final: RunFinishedEvent = {
			type: 'run.finished', runId: this.runId, t: end, outcome, wallMs, counts: { ...this.counts },
			throughput: wallMs > 0 ? (this.ended / wallMs) * 1000 : 0, workers,
			...(this.fatalError ? { error: this.fatalError } : {}),
			...(this.awaitedTasks ? { awaitedTasks: this.awaitedTasks } : {}),
		};
		this.emit(final);
		this.out.close();
		this.resolveDone(final);
	}
}

/**
 * Pool callbacks held until the run has announced itself (the pool starts before the inputs are
 * known, and nothing may precede run.started), then replayed in order; or dropped when the run
 * ends before any task could run.
 */
class HeldCallbacks implements PoolCallbacks {
	private held: (() => void)[] = [];
	/** open: calls go straight through (the per-task path allocates nothing here) */
	private state: 'holding' | 'open' | 'dropped' = 'holding';

	constructor(private readonly target: PoolCallbacks) {}

	public open(): void {
		const held = this.held;
		this.held = [];
		this.state = 'open';
		for (const f of held) {
			f();
		}
	}

	public drop(): void {
		this.state = 'dropped';
		this.held = [];
	}

	private hold(f: () => void): void {
		if (this.state === 'holding') {
			this.held.push(f);
		}
	}

	public workerStarting(w: WorkerIdentity, t: number): void {
		if (this.state === 'open') this.target.workerStarting(w, t); else this.hold(() => this.target.workerStarting(w, t));
	}
	public workerStarted(w: WorkerIdentity, t = now()): void {
		if (this.state === 'open') this.target.workerStarted(w, t); else this.hold(() => this.target.workerStarted(w, t));
	}
	public workerThreadId(w: WorkerIdentity): void {
		if (this.state === 'open') this.target.workerThreadId(w); else this.hold(() => this.target.workerThreadId(w));
	}
	public workerExited(key: string, code: number | null, signal: string | null, reason: WorkerExitedEvent['reason']): void {
		if (this.state === 'open') this.target.workerExited(key, code, signal, reason); else this.hold(() => this.target.workerExited(key, code, signal, reason));
	}
	public taskStarted(taskId: number, w: WorkerIdentity, t: number): void {
		if (this.state === 'open') this.target.taskStarted(taskId, w, t); else this.hold(() => this.target.taskStarted(taskId, w, t));
	}
	public taskOutput(taskId: number, stream: StreamName, text: string): void {
		if (this.state === 'open') this.target.taskOutput(taskId, stream, text); else this.hold(() => this.target.taskOutput(taskId, stream, text));
	}
	public runOutput(w: WorkerIdentity, stream: StreamName, text: string): void {
		if (this.state === 'open') this.target.runOutput(w, stream, text); else this.hold(() => this.target.runOutput(w, stream, text));
	}
	public taskResult(result: WorkerTaskResult, w: WorkerIdentity | undefined): void {
		if (this.state === 'open') this.target.taskResult(result, w); else this.hold(() => this.target.taskResult(result, w));
	}
	public taskLost(taskId: number, error: ErrorInfo, workerKey: string | undefined): void {
		if (this.state === 'open') this.target.taskLost(taskId, error, workerKey); else this.hold(() => this.target.taskLost(taskId, error, workerKey));
	}
	public requeue(taskIds: number[]): void {
		if (this.state === 'open') this.target.requeue(taskIds); else this.hold(() => this.target.requeue(taskIds));
	}
	public lateError(e: LateError): void {
		if (this.state === 'open') this.target.lateError(e); else this.hold(() => this.target.lateError(e));
	}
	public warning(message: string): void {
		if (this.state === 'open') this.target.warning(message); else this.hold(() => this.target.warning(message));
	}
	public fatal(error: ErrorInfo): void {
		if (this.state === 'open') this.target.fatal(error); else this.hold(() => this.target.fatal(error));
	}
	public idle(): void {
		if (this.state === 'open') this.target.idle(); else this.hold(() => this.target.idle());
	}
}

function argsPreview(args: unknown[]): string {
	// An argument that cannot reach a worker travels as a marker object: shown as what it was.
	const shown = args.map((a) => (typeof a === 'object' && a !== null && NOT_CLONEABLE in a ? `<${String((a as Record<string, unknown>)[NOT_CLONEABLE])}>` : a));
	try {
		return shown.length === 1 ? JSON.stringify(shown[0]) ?? String(shown[0]) : JSON.stringify(shown);
	} catch {
		return String(shown);
	}
}
