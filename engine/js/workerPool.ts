/**
 * What the JS run loop needs from a pool of workers (piscina threads or forked processes). The
 * run keeps its own queue and hands a pool only as much as it can start at once, so "pending"
 * is exact and a pending task can always be cancelled without racing a worker.
 */
import type { ErrorInfo, StreamName, WorkerExitedEvent } from '../protocol/events';
import type { LateError } from './taskExecution';
import type { TaskSpec, WorkerTaskResult } from './taskMessages';

/** A worker that hit its heap cap (`what`: "the worker thread", "worker process 4242"). */
export function outOfMemoryError(what: string, maxHeapMb: number | undefined): ErrorInfo {
	return { kind: 'outOfMemory', name: 'OutOfMemory', message: `${what} ran out of memory${maxHeapMb ? ` (heap limit ${maxHeapMb} MB)` : ''}`, hint: 'Process less data per call, or raise the heap limit (setting poolscope.maxHeapMb, CLI --max-heap-mb).' };
}

export interface WorkerIdentity {
	/** Stable key within the pool (e.g. `t12` for thread 12, `p4242` for pid 4242). */
	key: string;
	pid?: number;
	threadId?: number;
	/** A JS worker thread's OS thread id (Linux), once its ready notice said it. */
	tid?: number;
}

export interface PoolCallbacks {
	/** A worker process exists and is loading (`t`: when it was started); workerStarted follows once it can take tasks. */
	workerStarting(worker: WorkerIdentity, t: number): void;
	/** The worker can take tasks (`t`: since when; now when left out). */
	workerStarted(worker: WorkerIdentity, t?: number): void;
	/** A ready worker's OS thread id, learnt after its first task had made it ready. */
	workerThreadId(worker: WorkerIdentity): void;
	workerExited(key: string, code: number | null, signal: string | null, reason: WorkerExitedEvent['reason']): void;
	taskStarted(taskId: number, worker: WorkerIdentity, t: number): void;
	taskOutput(taskId: number, stream: StreamName, text: string): void;
	/** Output no task wrote, from this worker (the module as it loads in it, ...). */
	runOutput(worker: WorkerIdentity, stream: StreamName, text: string): void;
	taskResult(result: WorkerTaskResult, worker: WorkerIdentity | undefined): void;
	/** The task ended without a result: its worker died or was ended (`error` says how). */
	taskLost(taskId: number, error: ErrorInfo, workerKey: string | undefined): void;
	/** Dispatched tasks that never started (their worker died first): queue them again. */
	requeue(taskIds: number[]): void;
	/** An error thrown outside any running call (a timer or callback an ended call left behind). */
	lateError(e: LateError): void;
	/** Something the user should know that is no task's failure (run.warning). */
	warning(message: string): void;
	/** The pool cannot run this code at all (load error in every worker). */
	fatal(error: ErrorInfo): void;
	/** A slot became free. */
	idle(): void;
}

export interface WorkerPool {
	/**
	 * How many tasks (or chunks) can be handed over right now; `waiting`: how many the run still
	 * has queued (a pool that assigns work to one worker ahead of time holds none ahead at the
	 * end of the queue, where it would wait behind a long one while another worker idles).
	 */
	freeSlots(waiting: number): number;
	dispatch(tasks: TaskSpec[], waiting: number): void;
	/** Tasks per `dispatch` the pool wants now (thread pools batch short tasks); 1 when absent. */
	batchSize?(): number;
	/** Thread pools: each worker thread's heap (bytes), where Node can read it; by worker key. */
	heaps?(): Promise<{ key: string; heap: number }[]>;
	/** No dead worker is replaced from now on (the function killed too many). */
	stopReplacing?(): void;
	/** End the worker running `taskId` (timeout, cancel); it is replaced if the run goes on. */
	kill(taskId: number, reason: 'timeout' | 'cancelled'): void;
	/** End every worker; resolves once all are gone. */
	close(): Promise<void>;
}
