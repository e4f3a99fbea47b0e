import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { workerFile } from '../paths';
import type { ErrorInfo } from '../protocol/events';
import type { ThreadTaskDone, ThreadTaskInput, ThreadWorkerData } from './threadTask.worker';
import { StartSlots } from './startSlots';
import type { TaskSpec, WorkerNotice, WorkerTaskResult } from './taskMessages';
import type { PoolCallbacks, WorkerIdentity, WorkerPool } from './workerPool';

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

export interface ThreadPoolOptions {
	workers: number;
	bundle: string;
	fn: string;
	runId: string;
	maxHeapMb?: number;
	lowPriority?: boolean;
}

/** Worker threads through piscina; live start/output notices on a BroadcastChannel per run. */
export class ThreadPool implements WorkerPool {
	private readonly pool: Piscina;
	private readonly channel: BroadcastChannel;
	private readonly channelName: string;
	private readonly inFlight = new Map<number, { ac: TaskAbort; worker?: WorkerIdentity; killed?: 'timeout' | 'cancelled' }>();
	private readonly known = new Map<string, WorkerIdentity>();
	private closing = false;
	private readonly slots = StartSlots.create();
	private poll: NodeJS.Timeout | undefined;

	constructor(private readonly options: ThreadPoolOptions, private readonly cb: PoolCallbacks) {
		this.channelName = `poolscope:${options.runId}`;
		this.channel = new BroadcastChannel(this.channelName);
		this.channel.onmessage = (event) => this.notice((event as MessageEvent<WorkerNotice>).data);
		this.pool = new Piscina({
			filename: workerFile('threadTask'),
			minThreads: options.workers,
			maxThreads: options.workers,
			concurrentTasksPerWorker: 1,
			idleTimeout: 60_000,
			recordTiming: false, // piscina's own histograms: the run measures every task itself
			workerData: { bundle: options.bundle, fn: options.fn, channel: this.channelName, startSlots: this.slots.buffer, lowPriority: options.lowPriority ?? false } satisfies ThreadWorkerData,
			// The run keeps its own queue; piscina's would hide what is pending.
			maxQueue: Math.max(options.workers, availableParallelism()) * 2,
			resourceLimits: options.maxHeapMb ? { maxOldGenerationSizeMb: options.maxHeapMb } : undefined,
		});
	}

	/**
	 * One task per worker running and one waiting in piscina's queue: when a worker finishes,
	 * piscina hands it the next task at once instead of waiting for our round trip (which left
	 * the workers idle half the time on short tasks). Tasks beyond stay in the run's own queue,
	 * where they are exactly "pending" and cancellable.
	 */
	public freeSlots(): number {
		return this.closing ? 0 : 2 * this.options.workers - this.inFlight.size;
	}

	public dispatch(tasks: TaskSpec[]): void {
		this.poll ??= setInterval(() => this.readStarts(), START_POLL_MS).unref();
		for (const task of tasks) {
			const ac = new TaskAbort();
			const entry: { ac: TaskAbort; worker?: WorkerIdentity; killed?: 'timeout' | 'cancelled' } = { ac };
			this.inFlight.set(task.taskId, entry);
			const input: ThreadTaskInput = [task.taskId, task.args];
			this.pool.run(input, { signal: ac }).then(
				(done: ThreadTaskDone | WorkerTaskResult) => {
					this.inFlight.delete(task.taskId);
					const result: WorkerTaskResult = Array.isArray(done)
						? { taskId: done[0], ok: true, threadId: done[1], startT: done[2], endT: done[3], cpuMs: done[4], result: done[5] }
						: done;
					const worker = result.threadId !== undefined ? this.identity(result.threadId) : entry.worker;
					if (result.error?.kind === 'load') {
						this.cb.fatal(result.error);
					} else {
						this.cb.taskResult(result, worker);
					}
					this.cb.idle();
				},
				(err: unknown) => {
					this.inFlight.delete(task.taskId);
					this.lost(task.taskId, entry, err);
					this.cb.idle();
				},
			);
		}
	}

	/** Live starts from the shared slots; a task too short to be seen there starts with its result. */
	private readStarts(): void {
		this.slots.forEachRunning((taskId, t, threadId) => this.started(taskId, threadId, t));
		if (this.inFlight.size === 0 || this.closing) {
			clearInterval(this.poll);
			this.poll = undefined;
		}
	}

	public kill(taskId: number, reason: 'timeout' | 'cancelled'): void {
		const entry = this.inFlight.get(taskId);
		if (entry && !entry.killed) {
			entry.killed = reason;
			entry.ac.abort();
		}
	}

	public async close(): Promise<void> {
		this.closing = true;
		clearInterval(this.poll);
		this.poll = undefined;
		for (const [, entry] of this.inFlight) {
			entry.killed ??= 'cancelled';
		}
		await this.pool.destroy();
		this.channel.close();
		for (const key of this.known.keys()) {
			this.cb.workerExited(key, 0, null, 'shutdown');
		}
		this.known.clear();
	}

	private identity(threadId: number): WorkerIdentity {
		const key = `t${threadId}`;
		let w = this.known.get(key);
		if (!w) {
			w = { key, threadId };
			this.known.set(key, w);
			this.cb.workerStarted(w);
		}
		return w;
	}

	private started(taskId: number, threadId: number, t: number): void {
		const entry = this.inFlight.get(taskId);
		if (!entry || entry.worker) {
			return; // already ended (the result came first), or already known
		}
		entry.worker = this.identity(threadId);
		this.cb.taskStarted(taskId, entry.worker, t);
	}

	private notice(n: WorkerNotice): void {
		if (n.type === 'start') {
			this.started(n.taskId, n.threadId ?? -1, n.t);
		} else {
			this.cb.taskOutput(n.taskId, n.stream, n.text);
		}
	}

	/** A task rejected by piscina: we ended its worker, or the worker died under it. */
	private lost(taskId: number, entry: { worker?: WorkerIdentity; killed?: 'timeout' | 'cancelled' }, err: unknown): void {
		const key = entry.worker?.key;
		if (key && this.known.has(key)) {
			this.known.delete(key); // piscina replaces a worker it had to end
		}
		const e = err as { name?: string; message?: string; code?: string };
		let error: ErrorInfo;
		let reason: 'timeout' | 'cancelled' | 'crash' | 'outOfMemory';
		if (entry.killed) {
			reason = entry.killed;
			error = entry.killed === 'timeout'
				? { kind: 'timeout', name: 'TimeoutError', message: 'the task ran past its timeout; its worker thread was terminated and replaced' }
				: { kind: 'exception', name: 'Cancelled', message: 'cancelled while running; its worker thread was terminated' };
		} else if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
			reason = 'outOfMemory';
			error = { kind: 'outOfMemory', name: 'OutOfMemory', message: `the worker thread ran out of memory${this.options.maxHeapMb ? ` (heap limit ${this.options.maxHeapMb} MB)` : ''}`, hint: 'Process less data per call, or raise the heap limit.' };
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
		this.cb.taskLost(taskId, error, key);
	}
}
