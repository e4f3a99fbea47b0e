/**
 * Messages between the JS pools' host and their workers (threads: shared start slots, their
 * parentPort for output, piscina's result; processes: the IPC channel of
 * child_process.fork, and a pipe for output).
 */
import type { ErrorInfo, StreamName } from '../protocol/events';
import type { ChildExitNotice, ChildNotice } from './leftoverChildren';
import type { LateError, ModuleExitNotice } from './taskExecution';

/** The key of the marker an argument that cannot be cloned to a worker travels as (inputs.ts writes it too). */
export const NOT_CLONEABLE = '__poolscope_notCloneable';

export interface TaskSpec {
	taskId: number;
	/** Arguments of the call (an array item is spread, anything else is the only argument). */
	args: unknown[];
}

export interface WorkerTaskResult {
	taskId: number;
	ok: boolean;
	/** Preview of the returned value (ok) */
	result?: string;
	error?: ErrorInfo;
	startT: number;
	endT: number;
	cpuMs?: number;
	/** The call returned a generator, which the worker drained: its result is what it yielded. */
	collected?: 'generator' | 'async generator';
	/** The call returned a promise (a thenable), which the worker awaited. */
	awaited?: true;
	/** Which worker ran it (the live start notice may arrive after the result). */
	threadId?: number;
	pid?: number;
}

/** Worker -> host, live (thread starts only when the pool ran out of start slots). */
export type WorkerNotice =
	| { type: 'start'; taskId: number; t: number; threadId?: number; pid?: number }
	/** A thread worker has loaded the user's module (or failed to: its first task says so). */
	| { type: 'ready'; threadId: number; t: number; tid?: number }
	| { type: 'output'; taskId: number; stream: StreamName; text: string }
	/** Written outside any task (the module as it loads, a timer between tasks). */
	| { type: 'runOutput'; stream: StreamName; text: string; threadId?: number }
	| ModuleExitNotice
	| LateError
	/** A process a task started, and its end (thread pools: ended with the run if still running). */
	| ChildNotice
	| ChildExitNotice;

/**
 * A thread worker's notice travels wrapped under this key on its parentPort, which the user's code
 * can post on too (`parentPort.postMessage` in a task): what lacks it is not ours and is dropped.
 */
export const NOTICE = 'poolscopeNotice';

/** Host -> process worker. */
export type HostToProcess =
	| { type: 'init'; bundle: string; fn: string }
	| { type: 'run'; tasks: TaskSpec[] };

/**
 * Process worker -> host. Output goes on the worker's output pipe (outputPipe.ts); `outBytes`, when
 * the worker has written any, is how many bytes it had written there before this message.
 */
export type ProcessToHost = (
	| { type: 'ready'; pid: number }
	| { type: 'loadError'; error: ErrorInfo }
	| WorkerNotice
	| { type: 'done'; result: WorkerTaskResult }
	/** The user's code called process.send (a module written to run as a forked child): nobody reads it. */
	| { type: 'userSend'; taskId?: number; value: string }
) & { outBytes?: number };
