/**
 * The contract between a caller (extension, CLI, tests, bench) and a backend. Every backend
 * (engine/js for JS/TS, engine/python for Python) implements `Backend`.
 */
import type { EventSink, Language, PoolKind, PythonStartMethod, RunFinishedEvent } from './protocol/events';

/**
 * A JS worker's heap cap unless the run says otherwise: a call allocating without end fails with
 * "out of memory" at 1 GB and its worker is replaced, instead of Node's default of several GB
 * per worker taking the machine's memory (and the editor with it) first.
 */
export const DEFAULT_MAX_HEAP_MB = 1024;
/** Default window with no task starting, ending or printing before a stall is looked at (engine/stall). */
export const DEFAULT_STALL_MS = 10_000;
/** Below this a worker could not even load its code. */
export const MIN_MAX_HEAP_MB = 16;

export interface RunRequest {
	/** Unique per run; chosen by the caller so it can route events before the run starts. */
	runId: string;
	/** Absolute path of the user's source file. */
	file: string;
	/** Name of a top-level function in that file (`default` for a default export). */
	fn: string;
	language: Language;
	pool: PoolKind;
	/** Absent: the backend's default (Python thread pool min(32, cpus+4), process pool cpus). */
	workers?: number;
	/** An expression in the function's language yielding an iterable, or a plain count N (0..N-1). */
	inputs: string;
	timeoutMs?: number;
	maxQueue?: number;
	chunksize?: number;
	startMethod?: PythonStartMethod;
	/** Python process pools (3.11+): a worker is replaced after this many tasks (`max_tasks_per_child`). */
	maxTasksPerChild?: number;
	mode?: 'submit' | 'map';
	/** Python interpreter to use (resolved by the caller). */
	pythonPath?: string;
	/** Folder the user's imports are resolved from (defaults to the file's folder). */
	workspaceRoot?: string;
	/** Per-worker heap cap in MB (JS pools); absent: DEFAULT_MAX_HEAP_MB; 0: Node's own default. */
	maxHeapMb?: number;
	/** CPU sampling interval; 0 disables sampling for this run. */
	cpuSampleMs?: number;
	/** Memory sampling interval (engine/memory); 0 disables it; absent: as cpuSampleMs (0 disables
	 * both: a bench's run samples nothing). */
	memorySampleMs?: number;
	/** Stall window (engine/stall): no task starting, ending or printing this long while tasks run
	 * gets a look at their CPU; absent: 10 s (longer when tasks take long); 0: never looked at.
	 * Off with sampling. The same window tells a file that never finishes loading. */
	stallMs?: number;
	/** `low`: workers at nice 10, so the editor stays responsive (see engine/priority.ts). */
	priority?: 'normal' | 'low';
}

/** Off only for a measured run (the bench): no sampling, watching or looking of any kind. */
export function isSampled(request: Pick<RunRequest, 'cpuSampleMs' | 'memorySampleMs'>): boolean {
	return (request.memorySampleMs ?? request.cpuSampleMs) !== 0;
}

export type CancelTaskResult =
	| { ok: true }
	| { ok: false; reason: string };

export interface RunHandle {
	readonly runId: string;
	/** Resolves with the final event once everything the run started has ended. Never rejects:
	 * failures to start are reported as run.finished with outcome 'error'. */
	readonly done: Promise<RunFinishedEvent>;
	/** Cancel one task; refused with a reason once it can no longer be cancelled. */
	cancelTask(taskId: number): Promise<CancelTaskResult>;
	/** Cancel the run: pending tasks cancelled, running ones aborted (workers ended). */
	cancel(reason?: string): Promise<void>;
	/** Stack of every worker right now, as text (Python: every thread/process). */
	snapshotStacks?(): Promise<string>;
}

export interface Backend {
	start(request: RunRequest, sink: EventSink): RunHandle;
}

/** Thrown synchronously by a backend or the engine for bad requests (usage errors). */
export class RequestError extends Error {
	override name = 'RequestError';
}
