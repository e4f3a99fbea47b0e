/**
 * Runs one call of the user's function inside a worker (thread or process): loads the bundled
 * module once, captures console output per task, times the call, and turns a throw into an
 * ErrorInfo whose stack points at the user's source (the bundle carries an inline source map).
 */
import { Readable } from 'node:stream';
import { findSourceMap, type SourceMapping } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { AsyncLocalStorage } from 'node:async_hooks';
import { formatWithOptions, inspect } from 'node:util';
import { now } from '../clock';
import { cutStack, cutText, ERROR_LINE_LIMIT, ERROR_MESSAGE_LIMIT, preview, type ErrorInfo, type StackFrame, type StreamName } from '../protocol/events';
import { NOT_CLONEABLE, type WorkerTaskResult } from './taskMessages';

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
	if (importing && importing.bundle === bundle && importing.fn === fn) {
		return importing.done; // a thread worker starts loading as it starts; its first batch waits for that
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
	const done = (import(pathToFileURL(esm).href) as Promise<Record<string, unknown>>).then(
		(m) => settleLoad(bundle, fn, m),
		(e: unknown) => {
			throw new LoadError({ ...errorInfo(e, 'load'), hint: LOAD_HINT });
		},
	).catch((e: unknown) => {
		loadFailure = { bundle, error: e instanceof LoadError ? e : new LoadError(errorInfo(e, 'load')) };
	}).finally(() => {
		importing = undefined;
	});
	importing = { bundle, fn, done };
	return done;
}

/** An ES module bundle being imported (top-level await): one import, however many ask. */
let importing: { bundle: string; fn: string; done: Promise<void> } | undefined;

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

/** The task whose code runs now (its call, or a callback it left behind), if any. */
export function taskNow(): number | undefined {
	return origin.getStore() ?? currentTask;
}

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

/**
 * Worker threads only: a worker thread is a thread of the host (the editor's extension host, the
 * CLI), so process.kill(process.pid) from a task ended the host and every run in it (the CLI died
 * with exit 143 and no summary). Refused with an error the task fails with; other pids, and
 * signal 0 (is it alive?), go through.
 */
export function installSelfKillGuard(): void {
	const realKill = process.kill.bind(process);
	process.kill = ((pid: number, signal?: string | number) => {
		if ((pid === process.pid || pid === 0 || pid === -process.pid) && signal !== 0) {
			const task = taskNow();
			throw new Error(`${task === undefined ? 'code outside any task' : `task ${task}`} called process.kill(${pid === process.pid ? 'process.pid' : pid}${signal === undefined ? '' : `, ${JSON.stringify(signal)}`}): a worker thread is a thread of the host process (the editor's extension host, or the CLI), so that would end it and every run in it. Poolscope refused it. Throw an error to fail a task; in a process pool each worker is a process of its own.`);
		}
		return realKill(pid, signal);
	}) as typeof process.kill;
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
		if (attempt(() => e instanceof NeverSettles).value) {
			error.hint = 'Look for the promise the function awaits that is never resolved or rejected: a callback that never calls resolve(), an event that never fires.';
		}
		if (attempt(() => e instanceof TypeError).value && args.length >= 2 && call.length >= 1 && args.length !== call.length) {
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
		// The call returned: a value whose preview fails (a custom inspect that throws) is still a result.
		const result = safePreview(value);
		return collected ? { taskId, ok: true, result, startT, endT, cpuMs, collected } : { taskId, ok: true, result, startT, endT, cpuMs };
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
					const result = make();
					result.awaited = true;
					resolve(result);
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

/**
 * What the user's function threw, as the task's error. Nothing about the value is trusted: a
 * message or stack getter may throw, an Error.prepareStackTrace may return call sites instead of
 * text or throw itself, and a message may be megabytes. This never throws: an error escaping here
 * left a process worker's queue stuck forever, and in a worker thread it aborted the whole host.
 */
export function errorInfo(e: unknown, kind: ErrorInfo['kind']): ErrorInfo {
	try {
		if (attempt(() => e instanceof Error).value === true) {
			return describeError(e as Error, kind);
		}
		return { kind, name: 'Thrown value', message: `the function threw a non-Error value: ${safePreview(e, 2)}`, hint: 'Throw an Error object to get a stack trace.' };
	} catch (failure) {
		return { kind, name: 'Error', message: `the function threw a value Poolscope could not describe (${attemptText(() => String(failure), 'unreadable')})` };
	}
}

function describeError(e: Error, kind: ErrorInfo['kind']): ErrorInfo {
	const name = attemptText(() => e.name, 'Error');
	const read = attempt(() => e.message);
	const message = read.ok ? attemptText(() => String(read.value), '') : `(its message could not be read: ${attemptText(() => String(read.error), 'unreadable')})`;
	const raw = attempt(() => e.stack);
	let stack: string;
	if (raw.ok && typeof raw.value === 'string') {
		stack = cleanStack(raw.value);
	} else {
		// An Error.prepareStackTrace that returns the call sites (a common trick) or throws, or a
		// message getter that throws while V8 formats the stack: the call sites, read with our own
		// prepareStackTrace for a moment (V8 formats again after a throw), shown as V8 would.
		const sites = raw.ok && Array.isArray(raw.value) ? raw.value : callSites(e);
		stack = sites
			? cleanStack([`${name}: ${message}`, ...sites.map((site) => `    at ${attemptText(() => siteText(site), '?')}`)].join('\n'))
			: `${name}: ${message}${raw.ok ? '' : `\n    (its stack could not be read: ${attemptText(() => String(raw.error), 'unreadable')})`}`;
	}
	const extra = extraFields(e);
	const lines = [stack, ...(extra ? [`    ${extra}`] : []), ...(attempt(() => related(e, 0)).value ?? [])];
	const text = cutStack(lines.join('\n'));
	return { kind, name: cutText(name, 200), message: cutText(message, ERROR_MESSAGE_LIMIT), stack: text, frames: parseFrames(text) };
}

/** A call site as V8 prints it, at the user's source line (the bundle's source map), as Node's own stacks are. */
function siteText(site: unknown): string {
	const c = site as NodeJS.CallSite;
	const file = c.getFileName?.();
	const line = c.getLineNumber?.();
	const column = c.getColumnNumber?.();
	const entry = (file && line && column ? findSourceMap(file)?.findEntry(line - 1, column - 1) : undefined) as Partial<SourceMapping> | undefined;
	if (!entry?.originalSource || entry.originalLine === undefined || entry.originalColumn === undefined) {
		return String(site);
	}
	const source = entry.originalSource.startsWith('file://') ? fileURLToPath(entry.originalSource) : entry.originalSource;
	return `${c.getFunctionName?.() ?? '<anonymous>'} (${source}:${entry.originalLine + 1}:${entry.originalColumn + 1})`;
}

function callSites(e: Error): unknown[] | undefined {
	const saved = Error.prepareStackTrace;
	try {
		Error.prepareStackTrace = (_error, sites) => sites;
		const sites = attempt(() => e.stack).value as unknown;
		return Array.isArray(sites) ? sites : undefined;
	} finally {
		Error.prepareStackTrace = saved;
	}
}

/** An error's own fields beyond name, message and stack (code: 'ENOENT', errno, path), as Node prints them. */
function extraFields(e: Error): string | undefined {
	const own = attempt(() => Object.keys(e).filter((k) => !['name', 'message', 'stack', 'cause', 'errors'].includes(k)));
	if (!own.ok || !own.value?.length) {
		return undefined;
	}
	const fields: Record<string, unknown> = {};
	for (const k of own.value.slice(0, 20)) {
		const v = attempt(() => (e as unknown as Record<string, unknown>)[k]);
		fields[k] = v.ok ? v.value : '<unreadable>';
	}
	return safePreview(fields, 2, ERROR_LINE_LIMIT);
}

function attempt<T>(f: () => T): { ok: true; value: T; error?: undefined } | { ok: false; value?: undefined; error: unknown } {
	try {
		return { ok: true, value: f() };
	} catch (error) {
		return { ok: false, error };
	}
}

function attemptText(f: () => unknown, fallback: string): string {
	const r = attempt(() => String(f()));
	return r.ok ? r.value : fallback;
}

/** util.inspect's preview of a value; one whose inspection throws (a custom inspect, a Proxy's trap) says so. */
export function safePreview(value: unknown, depth = 3, limit?: number): string {
	// A plain try, not attempt(): this runs for every result, on the workers' hot path.
	try {
		const text = inspect(value, { depth, breakLength: Infinity, maxArrayLength: 20, maxStringLength: 200 });
		// An Error returned (not thrown) shows its stack, whose lines below the user's call were ours.
		return preview(text.includes('\n    at ') ? withoutOurFrames(text) : text, limit);
	} catch (f) {
		return preview(`<its preview failed: ${attemptText(() => (f instanceof Error ? `${f.name}: ${f.message}` : String(f)), 'unreadable')}>`, limit);
	}
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
	const text = (x: unknown): string[] => {
		if (attempt(() => x instanceof Error).value !== true) {
			return [safePreview(x, 2)];
		}
		const err = x as Error;
		const stack = attempt(() => err.stack);
		const head = typeof stack.value === 'string' ? stack.value : `${attemptText(() => err.name, 'Error')}: ${attemptText(() => err.message, '')}`;
		return [...cleanStack(head).split('\n'), ...related(err, depth + 1)];
	};
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
const OUR_FRAME = /\/out\/workers\/|\/engine\/js\/\w+(\.worker)?\.ts|node:internal|\(node:|piscina/;

function cleanStack(stack: string): string {
	return stack.split('\n').filter((l) => !OUR_FRAME.test(l)).join('\n');
}

/** Only stack-frame lines go: inspect() output that is not a frame stays whatever it says. */
function withoutOurFrames(text: string): string {
	return text.split('\n').filter((l) => !(/^\s+at /.test(l) && OUR_FRAME.test(l))).join('\n');
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
