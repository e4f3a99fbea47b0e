/**
 * Where a worker's CPU time is, and reading it from /proc: the worker watch (workerWatch.ts) and
 * the stall watches read workers from outside the pool through these.
 */
import { readFile } from 'node:fs/promises';

/** Linux's USER_HZ (the unit of /proc/<pid>/stat's utime and stime) is 100 on every arch. */
const TICK_MS = 10;

/** Where a worker's CPU time is read: a process, a thread of a process, or nowhere. */
export type CpuSource = { pid: number; tid?: number } | undefined;

/** CPU ms (user + system) of a process, or of one of its threads; undefined when gone/unreadable. */
export async function readCpuMs(source: { pid: number; tid?: number }): Promise<number | undefined> {
	if (process.platform !== 'linux') {
		return undefined;
	}
	try {
		const stat = await readFile(source.tid !== undefined ? `/proc/${source.pid}/task/${source.tid}/stat` : `/proc/${source.pid}/stat`, 'latin1');
		// The command name may hold spaces and parentheses: the fields start after the last ')'.
		const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
		if (f[0] === 'Z' || f[0] === 'X') {
			return undefined; // dead, not yet reaped: it computes nothing more
		}
		const ticks = Number(f[11]) + Number(f[12]);
		return Number.isFinite(ticks) ? ticks * TICK_MS : undefined;
	} catch {
		return undefined;
	}
}

/** What a run's events say about a worker: its process, or its thread. */
export interface WorkerWhere {
	pid?: number;
	threadId?: number;
	/** JS worker threads: the OS thread id (worker.started or worker.ready). */
	tid?: number;
}

/**
 * Where a worker's CPU time is: a process's own; a Python thread's in the runner (threadId is
 * threading.get_native_id()); a JS worker thread's in the host, by the OS thread id it said when
 * ready (its threadId is Node's own count). Otherwise nowhere.
 */
export function cpuSourceOf(w: WorkerWhere, language: string | undefined, runnerPid: number | undefined): CpuSource {
	if (w.pid !== undefined) {
		return { pid: w.pid };
	}
	if (language === 'python' && runnerPid !== undefined && w.threadId !== undefined) {
		return { pid: runnerPid, tid: w.threadId };
	}
	if (w.tid !== undefined) {
		return { pid: process.pid, tid: w.tid };
	}
	return undefined;
}
