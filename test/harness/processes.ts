/**
 * Reading and ending processes from the OS process table (Linux /proc). The harness tags every
 * process of a run with a marker in its environment, which children inherit, so "nothing left
 * behind" can be checked against what the OS says rather than against our own bookkeeping.
 */
import { readdirSync, readFileSync } from 'node:fs';

export const MARKER_VAR = 'POOLSCOPE_HARNESS_MARKER';

export interface ProcessInfo {
	pid: number;
	ppid: number;
	/** Command line, arguments joined by spaces. */
	args: string;
}

function pidsInProc(): number[] {
	try {
		return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
	} catch {
		return [];
	}
}

function readProc(pid: number, file: string): string | undefined {
	try {
		return readFileSync(`/proc/${pid}/${file}`, 'latin1');
	} catch {
		return undefined;
	}
}

function isZombie(pid: number): boolean {
	const stat = readProc(pid, 'stat');
	// Field 3 (after the parenthesised command) is the state; Z = zombie, already dead.
	return stat !== undefined && /\)\s+Z\s/.test(stat);
}

/** Live processes (not zombies) whose environment has MARKER_VAR equal to `marker` or nested under it. */
export function processesWithMarker(marker: string): ProcessInfo[] {
	return processesWithEnv(MARKER_VAR, marker, true);
}

/** Live processes whose environment has `name=value` (or `name=value.<more>` when `nested`). */
export function processesWithEnv(name: string, value: string, nestedToo = false): ProcessInfo[] {
	const exact = `${name}=${value}`;
	const nested = nestedToo ? `${exact}.` : '\0never';
	const out: ProcessInfo[] = [];
	for (const pid of pidsInProc()) {
		if (pid === process.pid) {
			continue;
		}
		const env = readProc(pid, 'environ');
		if (!env) {
			continue;
		}
		const hit = env.split('\0').some((kv) => kv === exact || kv.startsWith(nested));
		if (!hit || isZombie(pid)) {
			continue;
		}
		out.push(processInfo(pid));
	}
	return out;
}

/** Live processes (not zombies) whose command line is exactly `args`. */
export function processesWithArgs(args: string): ProcessInfo[] {
	return liveProcesses().filter((p) => p.args === args);
}

/** Live processes whose command line contains `text`. */
export function processesWithArgsContaining(text: string): ProcessInfo[] {
	return liveProcesses().filter((p) => p.args.includes(text));
}

/** Every live process but this one. */
function liveProcesses(): ProcessInfo[] {
	return pidsInProc().filter((p) => p !== process.pid && !isZombie(p)).map(processInfo);
}

export function processInfo(pid: number): ProcessInfo {
	const cmd = (readProc(pid, 'cmdline') ?? '').split('\0').filter(Boolean).join(' ');
	const stat = readProc(pid, 'status') ?? '';
	const ppid = Number(/PPid:\s+(\d+)/.exec(stat)?.[1] ?? 0);
	return { pid, ppid, args: cmd };
}

/** Every live descendant of `rootPid` (children, grandchildren...), from the OS table. */
export function descendantsOf(rootPid: number): ProcessInfo[] {
	const all = pidsInProc().filter((p) => !isZombie(p)).map(processInfo);
	const byParent = new Map<number, ProcessInfo[]>();
	for (const p of all) {
		const list = byParent.get(p.ppid) ?? [];
		list.push(p);
		byParent.set(p.ppid, list);
	}
	const out: ProcessInfo[] = [];
	const stack = [rootPid];
	while (stack.length) {
		for (const child of byParent.get(stack.pop()!) ?? []) {
			out.push(child);
			stack.push(child.pid);
		}
	}
	return out;
}

export function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return !isZombie(pid);
	} catch {
		return false;
	}
}

/**
 * Ends a run: SIGKILL to its process group, then to every process still carrying its marker.
 * Returns a note for the log when something had to be killed, else ''.
 */
export function reapRun(marker: string, groupId?: number): string {
	if (groupId) {
		try {
			process.kill(-groupId, 'SIGKILL');
		} catch {
			// the group is already empty
		}
	}
	const left = processesWithMarker(marker);
	for (const p of left) {
		try {
			process.kill(p.pid, 'SIGKILL');
		} catch {
			// exited meanwhile
		}
	}
	return left.length ? `ended ${left.length} leftover process(es): ${left.map((p) => `${p.pid} ${p.args.slice(0, 80)}`).join('; ')}` : '';
}

export async function waitFor(predicate: () => boolean, timeoutMs: number, stepMs = 100): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		if (predicate()) {
			return true;
		}
		if (Date.now() > deadline) {
			return false;
		}
		await new Promise((r) => setTimeout(r, stepMs));
	}
}

/** Nice value of a process, or of one thread when `tid` is given (Linux /proc, field 19). */
export function niceOf(pid: number, tid?: number): number | undefined {
	const stat = readProc(pid, tid === undefined ? 'stat' : `task/${tid}/stat`);
	const after = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
	return after ? Number(after[16]) : undefined;
}

export { autogroupNice as autogroupNiceOf } from '../../engine/priority';

/** Thread ids of a process (Linux /proc). */
export function threadsOf(pid: number): number[] {
	try {
		return readdirSync(`/proc/${pid}/task`).map(Number);
	} catch {
		return [];
	}
}
