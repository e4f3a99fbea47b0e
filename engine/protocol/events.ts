/**
 * The one event protocol of Poolscope. Every backend (JS thread pool, JS process pool,
 * serial, Python) emits exactly these events; the extension forwards them to the webview and
 * the CLI prints them (`--json`, one per line). Keep this file free of imports from Node,
 * vscode or the DOM: it is compiled into all three.
 *
 * Time: `t` is milliseconds on CLOCK_MONOTONIC (Node `process.hrtime`, Python
 * `time.monotonic()`), which is one clock for every thread and process of the machine, so
 * events from workers and child processes can be ordered without translation.
 */

export const PROTOCOL_VERSION = 1;

export type Language = 'javascript' | 'typescript' | 'python';
export type PoolKind = 'thread' | 'process' | 'serial';
export type PythonStartMethod = 'fork' | 'spawn' | 'forkserver';
export type StreamName = 'stdout' | 'stderr';

/** Longest preview of an input, result or output chunk carried by an event, in characters. */
export const PREVIEW_LIMIT = 200;
/** Longest captured output per task kept by consumers, in characters. */
export const OUTPUT_LIMIT_PER_TASK = 64 * 1024;
/** Longest output outside tasks (run.output) kept per run, by the engine and by consumers. */
export const RUN_OUTPUT_LIMIT = 256 * 1024;
/**
 * An error's message and each line of its stack are cut past these (characters), the whole stack
 * past ERROR_STACK_LIMIT, where the error is made (the JS workers, the Python runner): a message
 * of 2 MB came back in full, twice (message and stack's first line), for every task.
 */
export const ERROR_MESSAGE_LIMIT = 8 * 1024;
export const ERROR_LINE_LIMIT = 4 * 1024;
export const ERROR_STACK_LIMIT = 64 * 1024;

export interface RunOptions {
	workers: number;
	/** Per-task timeout; 0 or absent means none. */
	timeoutMs?: number;
	/** Bound of the queue in front of the workers; absent means unbounded. */
	maxQueue?: number;
	/** Items per message (process pools); Python `map(chunksize=)`. */
	chunksize?: number;
	/** Python process pools only. */
	startMethod?: PythonStartMethod;
	/** Python: `submit` per item, or `map`. */
	mode?: 'submit' | 'map';
	/** Workers at a lower CPU priority (nice 10); absent: normal. */
	priority?: 'low';
	/** Python process pools: each worker is replaced after this many tasks. */
	maxTasksPerChild?: number;
}

/**
 * What kind of failure a task (or run) met. Each kind has its own wording in the UI, so the
 * user learns *why*, not just *that*.
 */
export type ErrorKind =
	| 'exception' // the user's function raised / threw
	| 'workerExited' // process.exit(), os._exit(), a signal: the worker died under the task
	| 'brokenPool' // Python BrokenProcessPool: a sibling worker died and took the pool down
	| 'timeout' // per-task timeout elapsed; the worker was ended
	| 'outOfMemory' // worker heap limit reached
	| 'notCloneable' // argument/result cannot cross the thread boundary (structured clone)
	| 'pickling' // argument/result/function cannot be pickled (Python process pools)
	| 'queueFull' // rejected because the bounded queue was full
	| 'systemExit' // Python sys.exit() inside the task
	| 'killedWorker' // the same function killed K workers; Poolscope stopped retrying it
	| 'unresponsive' // the runner's watchdog saw no progress
	| 'load' // the file/function could not be loaded (syntax/import error, not found)
	| 'internal'; // a bug in Poolscope; reported, never hidden

export interface StackFrame {
	file: string;
	/** 1-based. */
	line: number;
	/** 1-based, when known. */
	column?: number;
	function?: string;
	/** True when the frame is in the user's code rather than Poolscope's or the runtime's. */
	user: boolean;
}

export interface ErrorInfo {
	kind: ErrorKind;
	/** Exception class name, e.g. `TypeError`, `PicklingError`. */
	name: string;
	message: string;
	/** Full text of the traceback/stack as the runtime printed it, mapped to the user's source. */
	stack?: string;
	frames?: StackFrame[];
	/** One sentence saying what to do about it, when Poolscope knows. */
	hint?: string;
}

export interface WorkerSummary {
	workerId: number;
	pid?: number;
	threadId?: number;
	tasks: number;
	busyMs: number;
	/** busyMs / time the worker was alive during the run, 0..1. */
	utilization: number;
}

export interface TaskCounts {
	submitted: number;
	finished: number;
	failed: number;
	cancelled: number;
	timedOut: number;
	rejected: number;
}

interface EventBase {
	runId: string;
	t: number;
}

export interface RunStartedEvent extends EventBase {
	type: 'run.started';
	fn: string;
	file: string;
	language: Language;
	pool: PoolKind;
	workers: number;
	options: RunOptions;
	inputCount: number;
	/** Logical CPUs of the machine (os.cpus().length / os.cpu_count()). */
	cores: number;
	/** e.g. `node v20.20.2`, `CPython 3.11.7`, with ` (free-threaded)` when so. */
	runtime: string;
	/** Python process pools: the start method used, and the platform default. */
	startMethod?: PythonStartMethod;
	defaultStartMethod?: PythonStartMethod;
	/** Python: whether the GIL is enabled in this interpreter. */
	gil?: boolean;
	/** Python: the interpreter binary that ran (`sys.executable`), a launcher script resolved. */
	executable?: string;
	/** The run's own main process (the Python runner, which holds a thread pool and the process
	 * pool's pending work items); absent when the host is the main process (JS runs). */
	pid?: number;
	/**
	 * Python thread pools: a thread's CPU clock (a system call) is read around every task unless
	 * that thread's tasks take under `belowMs`; then around one task in `oneIn` (and the one after
	 * any task that took longer), and the others finish without cpuMs.
	 */
	cpuSampling?: { belowMs: number; oneIn: number };
	/** Python thread pools on Linux, from the runner to the engine (which removes it): its thread
	 * that only sleeps, whose futex waits show where the GIL's are (engine/cpu/threadWaits.ts). */
	gilProbeThreadId?: number;
	/** Names of the queue stages in pipeline order, e.g. ['pending','executing'] or
	 * ['pending','callQueue','executing','resultQueue'] for Python process pools. */
	stages: string[];
}

export interface WorkerStartedEvent extends EventBase {
	type: 'worker.started';
	workerId: number;
	pid?: number;
	/** Python: the thread's native id (threading.get_native_id()); JS: Node's threadId. */
	threadId?: number;
	/** JS worker threads on Linux: the OS thread id (Node's threadId is its own count). */
	tid?: number;
	/**
	 * false: the process exists but is still starting (an interpreter starting, the user's module
	 * loading: a spawn pool's real cost) and takes no task yet; a worker.ready follows. Left out:
	 * ready at once (a backend that only hears of a worker once it is ready).
	 */
	ready?: false;
}

/** A worker that started with `ready: false` can take tasks now. */
/**
 * A worker can take tasks. It may come a second time for a JS worker thread, only to bring its
 * OS thread id when that arrived after its first task had made it ready; readiness is the first's.
 */
export interface WorkerReadyEvent extends EventBase {
	type: 'worker.ready';
	workerId: number;
	/** JS worker threads on Linux: the OS thread id, known once the thread runs (engine/stall, engine/cpu). */
	tid?: number;
}

export interface WorkerExitedEvent extends EventBase {
	type: 'worker.exited';
	workerId: number;
	code: number | null;
	signal: string | null;
	/** Why it ended: orderly shutdown, it crashed, it was killed to cancel or time out a task,
	 * or (Python max_tasks_per_child) it ran its share of tasks and the pool replaced it. */
	reason: 'shutdown' | 'crash' | 'cancelled' | 'timeout' | 'idle' | 'outOfMemory' | 'recycled';
}

export interface TaskSubmittedEvent extends EventBase {
	type: 'task.submitted';
	taskId: number;
	/** Bounded preview of the call's arguments. */
	input: string;
}

export interface TaskQueuedEvent extends EventBase {
	type: 'task.queued';
	taskId: number;
	/** One of run.started.stages. A Python future in 'callQueue' is RUNNING and not cancellable. */
	stage: string;
}

export interface TaskStartedEvent extends EventBase {
	type: 'task.started';
	taskId: number;
	workerId: number;
}

export interface TaskFinishedEvent extends EventBase {
	type: 'task.finished';
	taskId: number;
	workerId: number;
	durationMs: number;
	cpuMs?: number;
	result: string;
}

export interface TaskFailedEvent extends EventBase {
	type: 'task.failed';
	taskId: number;
	workerId?: number;
	durationMs?: number;
	cpuMs?: number;
	error: ErrorInfo;
}

export interface TaskCancelledEvent extends EventBase {
	type: 'task.cancelled';
	taskId: number;
	/** e.g. 'cancelled by user', 'run cancelled', 'killed while running'. */
	reason: string;
	/** True when the task had started and its worker was ended to stop it. */
	wasRunning?: boolean;
}

export interface TaskOutputEvent extends EventBase {
	type: 'task.output';
	taskId: number;
	stream: StreamName;
	text: string;
}

/**
 * Output no task wrote: the user's module as it loads (once in the runner, again in every spawned
 * worker), a thread it started, a worker's own messages (an initializer's traceback).
 */
export interface RunOutputEvent extends EventBase {
	type: 'run.output';
	stream: StreamName;
	text: string;
	/** The worker process or thread that wrote it; absent: the run's main process (the Python
	 * runner, or the host that bundles JS). */
	workerId?: number;
}

export interface QueueDepthEvent extends EventBase {
	type: 'queue.depth';
	/** Tasks currently in each stage, keyed by the names in run.started.stages. */
	depths: Record<string, number>;
	/** Stage names whose bound is reached (back-pressure). */
	full?: string[];
}

export interface CpuSampleEvent extends EventBase {
	type: 'cpu.sample';
	/** Whole machine, 0..1. */
	total: number;
	/** One figure per logical CPU, 0..1. */
	perCore: number[];
}

/** How far back a worker.cpu share reaches, about: its reading before (engine/cpu/workerWatch.ts). */
export const WORKER_CPU_WINDOW_MS = 1000;

/**
 * Each live worker's own CPU since the last such event (about a second), as a share of one core
 * (1 = a core busy the whole time), read by the host (engine/cpu/workerCpu.ts; Linux). A busy
 * worker with little CPU is waiting: for the GIL, a lock, I/O or a free core.
 */
export interface WorkerCpuEvent extends EventBase {
	type: 'worker.cpu';
	workers: { workerId: number; share: number }[];
}

/**
 * What a worker thread was doing, looked at every WAIT_LOOK_EVERY_MS from outside (Linux reads the
 * system call it is blocked in): on a CPU, waiting for the GIL, on a lock, or in I/O or asleep.
 * Python thread pools from their backend (engine/cpu/threadWaits.ts), every other run from
 * engine/cpu/workerWatch.ts; each event carries the looks since the last.
 * Idle workers are looked at too: what counts is what falls inside a task.
 */
export interface WorkerWaitsEvent extends EventBase {
	type: 'worker.waits';
	/** Per worker: each look's time (the run's clock) and what it saw, one letter a look (WAIT_LETTERS). */
	workers: { workerId: number; t: number[]; seen: string }[];
}

export const WAIT_LOOK_EVERY_MS = 10;

/**
 * What a look can see: `c` on a CPU (or ready to be), `g` waiting for the GIL, `l` on a futex
 * that is not the GIL's (a Lock, a queue, an event, a future's result), `f` on a futex before the
 * GIL's was found (either), `i` in any other system call (I/O, a sleep, select).
 */
export const WAIT_LETTERS = ['c', 'g', 'l', 'f', 'i'] as const;
export type WaitLetter = (typeof WAIT_LETTERS)[number];

/**
 * Resident memory (RSS, bytes, as the OS counts it per process: pages a forked worker shares
 * with its parent count in both) of the run's own processes, sampled by the host.
 */
export interface MemorySampleEvent extends EventBase {
	type: 'memory.sample';
	/** The run's main process (run.started.pid), when the run has one of its own. */
	main?: number;
	/** Each live worker process (threads share their process's memory: none of their own). */
	workers: { workerId: number; rss: number }[];
	/** JS worker threads: each one's V8 heap in use plus its external memory (Buffers), bytes,
	 * where Node can read another thread's heap (22.16+). Part of the host process, not its own. */
	threads?: { workerId: number; heap: number }[];
}

export interface RunWarningEvent extends EventBase {
	type: 'run.warning';
	message: string;
	/** A later error from a task that had already returned, etc. */
	detail?: string;
	/** 'overlap': another run shared the machine while this one ran (its times are not its own).
	 * 'stalled': tasks running, none started, ended or printed for a while (engine/stall): the
	 * message says whether their workers used CPU (computing) or not (waiting: a hang).
	 * 'stallEnded': after a 'stalled' one, a task moved again (the stall is over). */
	kind?: 'overlap' | 'stalled' | 'stallEnded';
	/** 'stalled': the workers whose tasks used no CPU while nothing moved (waiting: a hang, or a
	 * wait that does not come); the panel shows them stuck until the stall ends. */
	waitingWorkers?: number[];
	/** 'stalled': workers whose process has exited while the pool still counts their task as
	 * running (an executor that no longer answers). */
	goneWorkers?: number[];
}

export interface RunFinishedEvent extends EventBase {
	type: 'run.finished';
	/** completed: every task ran (some may have failed); cancelled: the user stopped it;
	 * error: the run could not start or the pool broke beyond repair. */
	outcome: 'completed' | 'cancelled' | 'error';
	wallMs: number;
	counts: TaskCounts;
	/** Tasks ended (any state) per second of wall time. */
	throughput: number;
	workers: WorkerSummary[];
	/** Set when outcome is 'error'. */
	error?: ErrorInfo;
	/** Python thread pools: estimated share of wall time threads spent waiting for the GIL. */
	gilWaitShare?: number;
	/** How many tasks that estimate comes from: those whose CPU clock was read (cpuSampling). */
	gilFromTasks?: number;
	/** Python thread pools on Linux: share of the workers' task time spent waiting for a CPU core
	 * (other processes kept the machine busy); taken out of gilWaitShare. Absent when the
	 * workers waited less than 5 ms in all: too little to say anything about the machine. */
	coreWaitShare?: number;
	/** Python thread pools, from the runner: the measured tasks' share of time off the CPU while
	 * the interpreter was busy (the GIL, a core, I/O), which the engine splits. */
	offCpuShare?: number;
	/** Python thread pools on Linux, runs long enough to be looked at: share of the workers' task
	 * time they were seen blocked in I/O or asleep (not the GIL); taken out of gilWaitShare. */
	ioWaitShare?: number;
	/** The same, seen waiting on a futex not the GIL's: a Lock, a queue, an event, a future's
	 * result (set once the GIL's own was seen); taken out of gilWaitShare. */
	lockWaitShare?: number;
	/** How many looks at the threads inside tasks ioWaitShare comes from. */
	waitSamples?: number;
	/** Tasks whose call returned an awaitable its worker then awaited (JS: a promise; Python: a
	 * coroutine, run by asyncio.run): their waits were awaits, which one event loop can overlap
	 * (Promise.all, asyncio.gather) where the pool gave each call a thread. Absent when none. */
	awaitedTasks?: number;
}

export type PoolEvent =
	| RunStartedEvent
	| WorkerStartedEvent
	| WorkerReadyEvent
	| WorkerExitedEvent
	| TaskSubmittedEvent
	| TaskQueuedEvent
	| TaskStartedEvent
	| TaskFinishedEvent
	| TaskFailedEvent
	| TaskCancelledEvent
	| TaskOutputEvent
	| RunOutputEvent
	| QueueDepthEvent
	| CpuSampleEvent
	| WorkerCpuEvent
	| WorkerWaitsEvent
	| MemorySampleEvent
	| RunWarningEvent
	| RunFinishedEvent;

export type PoolEventType = PoolEvent['type'];

/** Receives events in batches (never one call per event at 100k tasks). */
export type EventSink = (batch: readonly PoolEvent[]) => void;

export function preview(text: string, limit = PREVIEW_LIMIT): string {
	return text.length <= limit ? text : `${text.slice(0, limit - 1)}…`;
}

/** `text` cut to `limit` characters, saying how much was cut. */
export function cutText(text: string, limit: number): string {
	return text.length <= limit ? text : `${text.slice(0, limit)}… (${(text.length - limit).toLocaleString('en-US')} more characters cut)`;
}

/** A stack (or traceback) bounded per line and in all, its frames kept when one line is huge. */
export function cutStack(stack: string): string {
	const lines = stack.length <= ERROR_LINE_LIMIT ? [stack] : stack.split('\n').map((l) => cutText(l, ERROR_LINE_LIMIT));
	return cutText(lines.join('\n'), ERROR_STACK_LIMIT);
}

/** Memory as people read it: `38.2 MB`, `1.24 GB` (1 MB = 2^20 bytes, as top and ps count). */
export function megabytes(bytes: number): string {
	const mb = bytes / 1_048_576;
	return mb >= 1024 ? `${(mb / 1024).toFixed(2)} GB` : `${mb.toFixed(mb < 100 ? 1 : 0)} MB`;
}
