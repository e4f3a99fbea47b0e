/**
 * Processes a task starts and leaves running when its run ends (`spawn('sleep', ['31'])` and
 * return) outlived the run: the CLI exited and left them to init, and the extension host kept
 * them. A run owns what its tasks start, as the Python runner owns its process group: they are
 * ended with the run, and a warning names them. A child started `detached` (its own session or
 * group) is the user's to keep.
 *
 * Thread pools: the worker threads share the host process, so what each task starts is reported
 * (`installChildTracking`) and ended at the run's end if it is still the host's child. Process
 * pools: each worker leads its own process group (forked `detached`), which is ended as it exits.
 * Linux reads /proc to name them and to be sure of whose they are; elsewhere nothing is ended.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export interface ChildNotice {
	type: 'child';
	pid: number;
	/** The task whose code started it (a callback of the call counts too). */
	taskId?: number;
	command: string;
}

export interface ChildExitNotice {
	type: 'childExit';
	pid: number;
}

export interface Leftover {
	pid: number;
	command: string;
	taskId?: number;
}

/** Worker-thread side: report every asynchronous child the user's code starts, and its exit. */
export function installChildTracking(post: (n: ChildNotice | ChildExitNotice) => void, taskNow: () => number | undefined): void {
	const cp = require('node:child_process') as Record<string, (...args: unknown[]) => unknown>;
	for (const name of ['spawn', 'fork', 'exec', 'execFile'] as const) {
		const real = cp[name]!;
		cp[name] = function (this: unknown, ...args: unknown[]) {
			const child = real.apply(this, args) as { pid?: number; once?(event: 'exit', f: () => void): void } | undefined;
			const pid = child?.pid;
			if (typeof pid === 'number') {
				post({ type: 'child', pid, taskId: taskNow(), command: commandOf(name, args) });
				child!.once?.('exit', () => post({ type: 'childExit', pid }));
			}
			return child;
		};
	}
	syncBuiltinESMExports();
}

function commandOf(name: string, args: unknown[]): string {
	const [file, list] = args;
	const parts = [String(file), ...(Array.isArray(list) ? list.map(String) : [])];
	const text = name === 'fork' ? `node ${parts.join(' ')}` : parts.join(' ');
	return text.length > 120 ? `${text.slice(0, 119)}…` : text;
}

interface Stat {
	state: string;
	ppid: number;
	pgrp: number;
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statOf(pid: number): Stat | undefined {
	try {
		const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
		const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
		return { state: rest[0]!, ppid: Number(rest[1]), pgrp: Number(rest[2]) };
	} catch {
		return undefined;
	}
}

function commandLine(pid: number): string {
	try {
		const text = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
		return text.length > 120 ? `${text.slice(0, 119)}…` : text;
	} catch {
		return '?';
	}
}

const LINUX = process.platform === 'linux';

/** Every live process's stat, by pid (one pass over /proc). */
function allStats(): Map<number, Stat> {
	const stats = new Map<number, Stat>();
	for (const entry of readdirSync('/proc')) {
		const pid = Number(entry);
		if (Number.isInteger(pid) && pid > 0) {
			const s = statOf(pid);
			if (s && s.state !== 'Z') {
				stats.set(pid, s);
			}
		}
	}
	return stats;
}

/**
 * Thread pools: of the children tasks reported, those still running as this process's children
 * and in its process group (one started detached is the user's to keep), ended (SIGKILL) with
 * what they started in turn (`exec` runs a shell whose command is its child). Each generation is
 * stopped before its children are looked for: a shell that forked its command between the look
 * and the kill left that command running.
 *
 * (An idle piscina thread waits in Atomics.wait, so the thread that started a child does not reap
 * it once ended: it stays a zombie of the host until the host exits. Dead, not running.)
 */
export function endOwnChildren(children: Iterable<Leftover>): Leftover[] {
	const own = [...children];
	if (!LINUX || own.length === 0) {
		return [];
	}
	let stats = allStats();
	const group = stats.get(process.pid)?.pgrp;
	const ended = own.filter((c) => {
		const s = stats.get(c.pid);
		return s !== undefined && s.ppid === process.pid && s.pgrp === group;
	});
	const doomed = new Set<number>();
	let generation = ended.map((c) => c.pid);
	while (generation.length) {
		for (const pid of generation) {
			doomed.add(pid);
			signal(pid, 'SIGSTOP');
		}
		stats = allStats();
		const parents = new Set(generation);
		generation = [...stats].filter(([pid, s]) => parents.has(s.ppid) && !doomed.has(pid)).map(([pid]) => pid);
	}
	for (const pid of doomed) {
		signal(pid, 'SIGKILL');
	}
	return ended;
}

function signal(pid: number, name: NodeJS.Signals): void {
	try {
		process.kill(pid, name);
	} catch {
		// gone meanwhile
	}
}

/** Process pools: the members of a worker's process group once the worker has exited, ended (SIGKILL). */
export function endGroup(pgid: number): Leftover[] {
	if (!LINUX) {
		return [];
	}
	const members: Leftover[] = [];
	for (const [pid, s] of allStats()) {
		if (s.pgrp === pgid) {
			members.push({ pid, command: commandLine(pid) });
		}
	}
	if (members.length) {
		try {
			process.kill(-pgid, 'SIGKILL');
		} catch {
			// gone meanwhile
		}
	}
	return members;
}

/** The run warning for what was ended (`where`: "task 3", "worker process 4242's tasks"). */
export function leftoverWarning(ended: Leftover[], where: (c: Leftover) => string): string {
	const listed = ended.slice(0, 5).map((c) => `pid ${c.pid} (${c.command}) from ${where(c)}`).join(', ');
	const more = ended.length > 5 ? ` and ${ended.length - 5} more` : '';
	return `${ended.length === 1 ? 'a process' : `${ended.length} processes`} that tasks started ${ended.length === 1 ? 'was' : 'were'} still running when ${ended.length === 1 ? 'its' : 'their'} worker or run ended, and ${ended.length === 1 ? 'was' : 'were'} ended with it: ${listed}${more}. A run owns what its tasks start; wait for a child in the task (its 'exit' event, spawnSync), or start it with detached: true and unref() to keep it.`;
}
