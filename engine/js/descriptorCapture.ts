/**
 * Worker threads share their process's file descriptors 1 and 2: a task's `fs.writeSync(1, ...)`
 * (pino, sonic-boom) or a child process started with `stdio: 'inherit'` wrote to the host's own
 * stdout, where the editor shows nothing and the CLI's `--json` lines got foreign text between
 * them. In a worker both now go where `console.log` goes: the task's output. A process worker's
 * own fd 1 is read by the host apart from its tasks' output, by arrival, which gave a child's late
 * line to the task running then: there too they go the task's way. A native addon writing to fd 1
 * is still out of reach.
 */
import type { ChildProcess } from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StreamName } from '../protocol/events';

// The modules themselves, not esbuild's read-only namespaces: their functions are replaced here.
const childProcess = require('node:child_process') as typeof import('node:child_process');
const fs = require('node:fs') as typeof import('node:fs');

type Write = (stream: StreamName, text: string) => void;

const STREAMS: readonly [1, 2] = [1, 2];
const NAME: Record<1 | 2, StreamName> = { 1: 'stdout', 2: 'stderr' };

/**
 * The stdio option with positions 1 and 2 that would write to this process's own descriptors
 * replaced by `replace(fd)`, and which positions those were. Undefined: nothing inherited.
 */
function redirected(stdio: unknown, inheritByDefault: boolean, replace: (fd: 1 | 2) => unknown): { stdio: unknown[]; fds: (1 | 2)[] } | undefined {
	let list: unknown[];
	if (stdio === undefined || stdio === null) {
		if (!inheritByDefault) {
			return undefined;
		}
		list = ['inherit', 'inherit', 'inherit'];
	} else if (stdio === 'inherit') {
		list = ['inherit', 'inherit', 'inherit'];
	} else if (Array.isArray(stdio)) {
		list = [...stdio];
	} else {
		return undefined; // 'pipe', 'ignore', 'overlapped': nothing reaches our descriptors
	}
	const fds = STREAMS.filter((fd) => list[fd] === 'inherit' || list[fd] === fd);
	if (fds.length === 0) {
		return undefined;
	}
	for (const fd of fds) {
		list[fd] = replace(fd);
	}
	return { stdio: list, fds };
}

/**
 * A synchronous call blocks this thread until the child ends, so nobody could read a pipe (a
 * child writing more than a pipe holds would wait forever): its output goes to a file, read
 * once it has ended, in a folder of the call's own, removed after. The call's return value is
 * what `inherit` gives (no captured stdout).
 */
function captureSync<T>(stdio: unknown, write: Write, call: (stdio: unknown[] | undefined) => T): T {
	const files = new Map<1 | 2, number>();
	let dir: string | undefined;
	const plan = redirected(stdio, false, (fd) => {
		dir ??= fs.mkdtempSync(join(tmpdir(), 'poolscope-child-output-'));
		const file = fs.openSync(join(dir, String(fd)), 'w+');
		files.set(fd, file);
		return file;
	});
	try {
		return call(plan?.stdio);
	} finally {
		try {
			for (const [fd, file] of files) {
				const size = fs.fstatSync(file).size;
				if (size > 0) {
					const data = Buffer.alloc(size);
					fs.readSync(file, data, 0, size, 0);
					write(NAME[fd], data.toString('utf8'));
				}
			}
		} finally {
			for (const file of files.values()) {
				fs.closeSync(file);
			}
			if (dir) {
				fs.rmSync(dir, { recursive: true, force: true });
			}
		}
	}
}

/** An asynchronous child: pipes, read as it writes, in the async context of the call that started it. */
function captureAsync(child: ChildProcess, fds: (1 | 2)[], write: Write): ChildProcess {
	for (const fd of fds) {
		const stream = fd === 1 ? child.stdout : child.stderr;
		stream?.setEncoding('utf8').on('data', (text: string) => write(NAME[fd], text));
		// As with 'inherit', the caller has no stream to read.
		if (fd === 1) {
			child.stdout = null;
		} else {
			child.stderr = null;
		}
	}
	return child;
}

function optionsAt(args: unknown[], index: number): { options: Record<string, unknown>; at: number } {
	// (command, [args], [options]): the options are the first plain object after the command.
	for (let i = index; i < args.length; i++) {
		const a = args[i];
		if (a && typeof a === 'object' && !Array.isArray(a)) {
			return { options: a as Record<string, unknown>, at: i };
		}
	}
	return { options: {}, at: -1 };
}

function withStdio(args: unknown[], at: number, options: Record<string, unknown>, stdio: unknown): unknown[] {
	const next = [...args];
	const changed = { ...options, stdio };
	if (at >= 0) {
		next[at] = changed;
	} else if (Array.isArray(next[1])) {
		next.splice(2, 0, changed);
	} else {
		next.splice(1, 0, changed);
	}
	return next;
}

export function installDescriptorCapture(write: Write): void {
	const cp = childProcess as unknown as Record<string, (...args: unknown[]) => unknown>;
	const realWriteSync = fs.writeSync;
	const realWrite = fs.write;
	// writeSync(fd, string, ...) or writeSync(fd, buffer, offset?, length?, ...).
	const text = (data: unknown, rest: unknown[]): string => {
		if (typeof data === 'string') {
			return data;
		}
		const view = data as ArrayBufferView;
		const offset = typeof rest[0] === 'number' ? rest[0] : 0;
		const length = typeof rest[1] === 'number' ? rest[1] : view.byteLength - offset;
		return Buffer.from(view.buffer, view.byteOffset + offset, length).toString('utf8');
	};
	(fs as { writeSync: unknown }).writeSync = function writeSync(fd: number, data: unknown, ...rest: unknown[]): number {
		if (fd !== 1 && fd !== 2) {
			return (realWriteSync as (...a: unknown[]) => number)(fd, data, ...rest);
		}
		const t = text(data, rest);
		write(NAME[fd], t);
		return typeof data === 'string' ? Buffer.byteLength(data) : Buffer.byteLength(t);
	};
	(fs as { write: unknown }).write = function write_(fd: number, data: unknown, ...rest: unknown[]): void {
		if (fd !== 1 && fd !== 2) {
			(realWrite as (...a: unknown[]) => void)(fd, data, ...rest);
			return;
		}
		const cb = rest.find((r) => typeof r === 'function') as ((e: null, n: number, d: unknown) => void) | undefined;
		const t = text(data, rest.filter((r) => typeof r !== 'function'));
		write(NAME[fd], t);
		if (cb) {
			process.nextTick(cb, null, typeof data === 'string' ? Buffer.byteLength(data) : Buffer.byteLength(t), data);
		}
	};
	const sync = (name: 'spawnSync' | 'execSync' | 'execFileSync') => {
		const real = cp[name]!;
		cp[name] = function (this: unknown, ...args: unknown[]) {
			const { options, at } = optionsAt(args, 1);
			return captureSync(options.stdio, write, (stdio) => real.apply(this, stdio ? withStdio(args, at, options, stdio) : args));
		};
	};
	sync('spawnSync');
	sync('execSync');
	sync('execFileSync');
	const async = (name: 'spawn' | 'fork', inheritByDefault: (options: Record<string, unknown>) => boolean) => {
		const real = cp[name]!;
		cp[name] = function (this: unknown, ...args: unknown[]) {
			const { options, at } = optionsAt(args, 1);
			const plan = redirected(options.stdio, inheritByDefault(options), () => 'pipe');
			if (!plan) {
				return real.apply(this, args);
			}
			const stdio = name === 'fork' && !plan.stdio.includes('ipc') ? [...plan.stdio, 'ipc'] : plan.stdio;
			return captureAsync(real.apply(this, withStdio(args, at, options, stdio)) as ChildProcess, plan.fds, write);
		};
	};
	async('spawn', () => false);
	// fork's children share the parent's stdio unless `silent` (or a stdio of their own) says otherwise.
	async('fork', (options) => !options.silent);
	// `import { spawn } from 'node:child_process'` (ESM) reads the builtin's exports as they were:
	// this makes it see the wrapped ones.
	syncBuiltinESMExports();
}
