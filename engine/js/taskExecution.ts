/**
 * Runs one call of the user's function inside a worker (thread or process): loads the bundled
 * module once, captures console output per task, times the call, and turns a throw into an
 * ErrorInfo whose stack points at the user's source (the bundle carries an inline source map).
 */
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { AsyncLocalStorage } from 'node:async_hooks';
import { formatWithOptions, inspect } from 'node:util';
import { now } from '../clock';
import { preview, type ErrorInfo, type StackFrame, type StreamName } from '../protocol/events';
import type { WorkerTaskResult } from './taskMessages';

export const NOT_CLONEABLE = '__poolscope_notCloneable';

process.setSourceMapsEnabled(true);

let loaded: { bundle: string; fn: string; call: (...args: unknown[]) => unknown } | undefined;

export class LoadError extends Error {
	constructor(public readonly info: ErrorInfo) {
		super(info.message);
	}
}

/** A bundle that failed to load: every later task reports it without running its top-level code again. */
let loadFailure: { bundle: string; error: LoadError } | undefined;
const LOAD_HINT = 'The module failed while loading (top-level code threw).';

function settleLoad(bundle: string, fn: string, mod: Record<string, unknown>): void {
	const call = mod.__poolscope_fn;
	const missing = mod.__poolscope_missing as { message: string; hint: string } | undefined;
	if (call === undefined && missing) {
		// The name is in the file (a string, a property, a comment), but nothing declares or exports it.
		throw new LoadError({ kind: 'load', name: 'FunctionNotFound', ...missing });
	}
	if (typeof call !== 'function') {
		throw new LoadError({ kind: 'load', name: 'TypeError', message: `${fn} is not a function (it is ${call === undefined ? 'undefined' : typeof call})` });
	}
	loaded = { bundle, fn, call: call as (...args: unknown[]) => unknown };
}

/**
 * Loads the function before a worker's first task. A bundle is CommonJS and loads at once,
 * unless the user's module has top-level await: then it is an ES module (the CommonJS bundle
 * only names it), which only import() loads, and this returns the promise of that. The promise
 * never rejects: a failure (either way) is kept and thrown by loadFunction for each task.
 */
export function prepareFunction(bundle: string, fn: string): Promise<void> | undefined {
	if ((loaded && loaded.bundle === bundle && loaded.fn === fn) || loadFailure?.bundle === bundle) {
		return undefined;
	}
	let mod: Record<string, unknown>;
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		mod = require(bundle) as Record<string, unknown>;
	} catch (e) {
		loadFailure = { bundle, error: new LoadError({ ...errorInfo(e, 'load'), hint: LOAD_HINT }) };
		throw loadFailure.error;
	}
	const esm = mod.__poolscope_esm;
	if (typeof esm !== 'string') {
		settleLoad(bundle, fn, mod);
		return undefined;
	}
	return (import(pathToFileURL(esm).href) as Promise<Record<string, unknown>>).then(
		(m) => settleLoad(bundle, fn, m),
		(e: unknown) => {
			throw new LoadError({ ...errorInfo(e, 'load'), hint: LOAD_HINT });
		},
	).catch((e: unknown) => {
		loadFailure = { bundle, error: e instanceof LoadError ? e : new LoadError(errorInfo(e, 'load')) };
	});
}

export function loadFunction(bundle: string, fn: string): (...args: unknown[]) => unknown {
	if (loaded && loaded.bundle === bundle && loaded.fn === fn) {
		return loaded.call;
	}
	if (loadFailure?.bundle === bundle) {
		throw loadFailure.error;
	}
	if (prepareFunction(bundle, fn) || !loaded) {
		throw new LoadError({ kind: 'internal', name: 'NotLoaded', message: 'the ES module bundle was used before it was imported' });
	}
	return loaded.call;
}

type Notify = (stream: StreamName, text: string) => void;

/**
 * Which task's call started the code running now: a timer or callback a call left behind keeps
 * its task's id (~50 ns a call), so an error it throws later is charged to that task, not to
 * whichever task the worker runs by then.
 */
const origin = new AsyncLocalStorage<number>();
/** The async call running now, and how to fail it with an error its own callbacks threw. */
let running: { taskId: number; fail: (e: unknown) => void } | undefined;

/** An error thrown outside any running call: a task's leftover timer or callback, or the module's. */
export interface LateError {
	type: 'late';
	/** A throw nobody caught, or a promise rejected with no handler. */
	how: 'uncaught' | 'unhandledRejection';
	/** The task whose call started the code that threw (undefined: not started by a call). */
	taskId?: number;
	/** The task running on this worker when it happened, if any (it is not affected). */
	runningTaskId?: number;
	error: ErrorInfo;
}

/**
 * Uncaught errors and unhandled rejections in a worker: one from a callback of the async call
 * running now fails that call (its own error, with its stack); any other is reported and the
 * worker goes on (by default Node would end the worker and fail the innocent task running on it).
 */
export function installLateErrorReport(report: (e: LateError) => void): void {
	const onError = (how: LateError['how']) => (e: unknown) => {
		const from = origin.getStore();
		if (running && from === running.taskId) {
			running.fail(e);
			return;
		}
		report({ type: 'late', how, taskId: from, runningTaskId: running?.taskId, error: errorInfo(e, 'exception') });
	};
	process.on('uncaughtException', onError('uncaught'));
	process.on('unhandledRejection', onError('unhandledRejection'));
}

/** CPU milliseconds used so far by whatever runs the task; undefined when it cannot be known. */
export type CpuClock = (() => number) | undefined;

/** A process worker runs one task at a time: its process's CPU is the task's. */
export const processCpuClock: CpuClock = () => {
	const c = process.cpuUsage();
	return (c.user + c.system) / 1000;
};

/**
 * A worker thread's own CPU: process.cpuUsage() would count every thread of the process (the
 * other workers and the host too), and in a busy pool it costs more than a no-op task.
 * process.threadCpuUsage() exists from Node 23.9 (VS Code's extension host has it); before
 * that a thread task has no CPU time rather than a wrong one.
 */
const threadCpuUsage = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage?.bind(process);
export const threadCpuClock: CpuClock = threadCpuUsage
	? () => {
		const c = threadCpuUsage();
		return (c.user + c.system) / 1000;
	}
	: undefined;
let currentNotify: Notify | undefined;
let currentTask: number | undefined;

/**
 * process.exit() from code no task started: the module's own, such as `main().then(() =>
 * process.exit(0))` at the end of a script, which runs in every worker that loads the file. The
 * worker used to die under tasks that had nothing to do with it ("worker exited with code 0" on
 * each, "the function killed 3 workers"); now the run ends with what happened and the guard. The
 * worker does not exit (the host ends it with the run). A task's own exit is its failure, as before.
 */
export function installExitReport(report: (n: ModuleExitNotice) => void): void {
	const realExit = process.exit.bind(process);
	process.exit = ((code?: number | string | null) => {
		if (origin.getStore() !== undefined) {
			return realExit(code);
		}
		const stack = cleanStack(new Error('process.exit').stack ?? '');
		report({
			type: 'moduleExit',
			error: {
				kind: 'load', name: 'ModuleExited',
				message: `the module called process.exit(${code ?? ''}) outside any task: code at the top of the file (such as a main() called at its end) runs in every worker that loads it`,
				hint: 'Run a script\'s own code only when the file is run directly: `if (require.main === module) main();` (an ES module: `if (import.meta.url === pathToFileURL(process.argv[1]).href) main();`).',
				stack: stack.replace(/^Error: process\.exit/, `process.exit(${code ?? ''})`),
				frames: parseFrames(stack),
			},
		});
		return undefined as never;
	}) as typeof process.exit;
}

export interface ModuleExitNotice {
	type: 'moduleExit';
	error: ErrorInfo;
}

class NeverSettles extends Error {}
Object.defineProperty(NeverSettles.prototype, 'name', { value: 'NeverSettles' });

/**
 * Fails the async call running now, if any, because nothing is left that could settle it: the
 * worker's event loop is empty (a process worker learns it from 'beforeExit'). A promise whose
 * resolve is never called showed "running" forever, or until its timeout.
 */
export function failCallThatCannotSettle(): void {
	running?.fail(Object.assign(new NeverSettles('the call awaits something that can never happen: its promise is pending and nothing is left that could settle it (no timer, no I/O, no other process or thread)'), {
		stack: 'NeverSettles: the call awaits something that can never happen',
	}));
}

/**
 * process.stdin in a worker: reading it fails at once, saying why. A task asking the user
 * (readline's question()) waited forever for a line that no one can type, showing only "running";
 * Python's input() fails with EOFError, and this is the same answer with the fix.
 */
export function installNoStdin(): void {
	// A new stream per use: one already failed has nothing more to say, and the next task's
	// reader would wait on it forever.
	const noInput = () => new Readable({
		read() {
			this.destroy(Object.assign(new Error('a task has no standard input (process.stdin): pass what it would read as an argument (the run\'s inputs)'), { code: 'POOLSCOPE_NO_STDIN' }));
		},
	});
	Object.defineProperty(process, 'stdin', { configurable: true, enumerable: true, get: noInput });
}

/**
 * Routes console.* and process.stdout/stderr writes to the task whose call started the code that
 * writes: a timer a returned task left behind still prints into that task's output, not into
 * whichever task runs by then (`late`). Code no call started (the module's own) goes to the task
 * running now, or, between tasks and while the module loads, to the run (`loose`).
 */
export function installOutputCapture(late: (taskId: number, stream: StreamName, text: string) => void, loose: (stream: StreamName, text: string) => void): (stream: StreamName, text: string) => void {
	const write = (stream: StreamName, text: string) => {
		const from = origin.getStore();
		if (from !== undefined && from !== currentTask) {
			late(from, stream, text);
		} else if (currentNotify) {
			currentNotify(stream, text);
		} else {
			loose(stream, text);
		}
	};
	const route = (stream: StreamName) => (...args: unknown[]) => {
		write(stream, `${formatWithOptions({ colors: false }, ...args)}\n`);
	};
	console.log = route('stdout');
	console.info = route('stdout');
	console.debug = route('stdout');
	console.warn = route('stderr');
	console.error = route('stderr');
	console.trace = route('stderr');
	for (const stream of ['stdout', 'stderr'] as const) {
		const target = process[stream];
		target.write = ((chunk: unknown, ...rest: unknown[]) => {
			write(stream, typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
			const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
			cb?.();
			return true;
		}) as typeof target.write;
	}
	return write;
}

/**
 * Synchronous when the function is: a no-op task is a few microseconds, and every promise and
 * microtask hop on the way back to piscina showed in the pool's throughput.
 */
export function executeTask(
	bundle: string,
	fn: string,
	taskId: number,
	args: unknown[],
	notifyStart: (t: number) => void,
	notify: Notify,
	cpuClock: CpuClock,
): WorkerTaskResult | Promise<WorkerTaskResult> {
	const call = loadFunction(bundle, fn);
	const notCloneable = args.find((a): a is Record<string, string> => typeof a === 'object' && a !== null && NOT_CLONEABLE in a);
	const startT = now();
	notifyStart(startT);
	if (notCloneable) {
		return {
			taskId, ok: false, startT, endT: now(),
			error: {
				kind: 'notCloneable', name: 'DataCloneError',
				message: `task ${taskId}: its argument (${notCloneable[NOT_CLONEABLE]}) cannot be sent to a worker`,
				hint: 'Workers receive copies made by the structured clone algorithm: functions, class instances with methods, sockets and the like cannot be copied. Pass plain data and build the rest inside the function.',
			},
		};
	}
	const cpu0 = cpuClock?.();
	const failed = (e: unknown): WorkerTaskResult => {
		const endT = now();
		currentNotify = undefined;
		currentTask = undefined;
		const cpuMs = cpuClock && cpu0 !== undefined ? cpuClock() - cpu0 : undefined;
		const error = errorInfo(e, 'exception');
		if (e instanceof NeverSettles) {
			error.hint = 'Look for the promise the function awaits that is never resolved or rejected: a callback that never calls resolve(), an event that never fires.';
		}
		if (e instanceof TypeError && args.length >= 2 && call.length >= 1 && args.length !== call.length) {
			// JS does not check arity: total(numbers) given [1, 2, 3] spread fails later, inside.
			error.hint = `${fn} declares ${call.length} parameter${call.length === 1 ? '' : 's'} and was called with ${args.length} arguments: an input item that is an array is spread into arguments. To pass an array as one argument, wrap it in another: [[[1, 2, 3]], [[4, 5]]].`;
		}
		return { taskId, ok: false, error, startT, endT, cpuMs };
	};
	let collected: WorkerTaskResult['collected'];
	const succeeded = (value: unknown): WorkerTaskResult => {
		const endT = now();
		currentNotify = undefined;
		currentTask = undefined;
		const cpuMs = cpuClock && cpu0 !== undefined ? cpuClock() - cpu0 : undefined;
		try {
			const result = preview(inspect(value, { depth: 3, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 200 }));
			return collected ? { taskId, ok: true, result, startT, endT, cpuMs, collected } : { taskId, ok: true, result, startT, endT, cpuMs };
		} catch (e) {
			return failed(e);
		}
	};
	currentNotify = notify;
	currentTask = taskId;
	let value: unknown;
	try {
		value = origin.run(taskId, call, ...args);
		collected = generatorKind(value);
		if (collected) {
			value = collected === 'generator' ? origin.run(taskId, drain, value as Iterable<unknown>) : origin.run(taskId, drainAsync, value as AsyncIterable<unknown>);
		}
	} catch (e) {
		return failed(e);
	}
	if (typeof (value as PromiseLike<unknown> | null)?.then === 'function') {
		return new Promise<WorkerTaskResult>((resolve) => {
			let settled = false;
			const settle = (make: () => WorkerTaskResult) => {
				if (!settled) {
					settled = true;
					if (running?.taskId === taskId) {
						running = undefined;
					}
					resolve(make());
				}
			};
			running = { taskId, fail: (e) => settle(() => failed(e)) };
			Promise.resolve(value).then((v) => settle(() => succeeded(v)), (e) => settle(() => failed(e)));
		});
	}
	return succeeded(value);
}

/**
 * A generator function's call returns before its body has run: the work happens as it is
 * iterated. Left as it is, the task would end in a microsecond with "Object [Generator] {}", so
 * the worker drains it, in the task's time, and the result is what it yielded.
 */
const MAX_YIELDED = 1_000_000;

function generatorKind(value: unknown): WorkerTaskResult['collected'] {
	if (typeof (value as { next?: unknown } | null)?.next !== 'function') {
		return undefined;
	}
	const tag = Object.prototype.toString.call(value);
	return tag === '[object Generator]' ? 'generator' : tag === '[object AsyncGenerator]' ? 'async generator' : undefined;
}

function tooMany(kind: string): Error {
	return new RangeError(`the ${kind} yielded more than ${MAX_YIELDED.toLocaleString('en-US')} values: Poolscope stopped collecting them (a task's result is the list of what it yields)`);
}

function drain(gen: Iterable<unknown>): unknown[] {
	const out: unknown[] = [];
	for (const item of gen) {
		if (out.push(item) > MAX_YIELDED) {
			throw tooMany('generator'); // leaving the loop returns the generator
		}
	}
	return out;
}

async function drainAsync(gen: AsyncIterable<unknown>): Promise<unknown[]> {
	const out: unknown[] = [];
	for await (const item of gen) {
		if (out.push(item) > MAX_YIELDED) {
			throw tooMany('async generator');
		}
	}
	return out;
}

export function errorInfo(e: unknown, kind: ErrorInfo['kind']): ErrorInfo {
	if (e instanceof Error) {
		const stack = [cleanStack(e.stack ?? `${e.name}: ${e.message}`), ...related(e, 0)].join('\n');
		return { kind, name: e.name, message: e.message, stack, frames: parseFrames(stack) };
	}
	return { kind, name: 'Thrown value', message: `the function threw a non-Error value: ${preview(inspect(e, { depth: 2 }))}`, hint: 'Throw an Error object to get a stack trace.' };
}

/**
 * The errors an error carries, as Python's traceback shows a chain: `new Error(msg, { cause })`
 * (each cause's own stack, where the failure began) and an AggregateError's `errors`
 * (Promise.any, a batch of failures), indented a level each.
 */
function related(e: Error, depth: number): string[] {
	if (depth >= 4) {
		return [];
	}
	const indent = '    '.repeat(depth + 1);
	const text = (x: unknown): string[] => x instanceof Error
		? [...cleanStack(x.stack ?? `${x.name}: ${x.message}`).split('\n'), ...related(x, depth + 1)]
		: [preview(inspect(x, { depth: 2, breakLength: Infinity }))];
	const out: string[] = [];
	const errors = (e as { errors?: unknown }).errors;
	if (Array.isArray(errors)) {
		errors.slice(0, 10).forEach((x, i) => out.push(`${indent}[errors ${i}]: ${text(x).join(`\n${indent}`)}`));
		if (errors.length > 10) {
			out.push(`${indent}... and ${errors.length - 10} more errors`);
		}
	}
	if ('cause' in e && e.cause !== undefined) {
		out.push(`${indent}[cause]: ${text(e.cause).join(`\n${indent}`)}`);
	}
	return out;
}

/** Drops Poolscope's and Node's own frames below the user's code: they only add noise. */
function cleanStack(stack: string): string {
	return stack.split('\n').filter((l) => !/\/out\/workers\/|\/engine\/js\/\w+(\.worker)?\.ts|node:internal|\(node:|piscina/.test(l)).join('\n');
}

const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;

function parseFrames(stack: string): StackFrame[] {
	const frames: StackFrame[] = [];
	for (const line of stack.split('\n')) {
		const m = FRAME.exec(line);
		if (!m) {
			continue;
		}
		const file = m[2]!.replace(/^file:\/\//, '');
		frames.push({ file, line: Number(m[3]), column: Number(m[4]), function: m[1], user: !file.startsWith('node:') && !file.includes('/node_modules/') });
	}
	return frames;
}
