/**
 * Pool workers can run at a lower CPU priority (nice 10) so that the editor, the extension host
 * and the panel stay responsive while a run keeps every core busy. On an otherwise idle machine
 * it changes nothing: priority only decides who waits when CPUs are contended.
 */
import { readlinkSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';

export const LOW_PRIORITY_NICE = 10;

/** A forked worker process; false where the OS refused. */
export function lowerProcess(pid: number): boolean {
	try {
		setPriority(pid, LOW_PRIORITY_NICE);
		return true;
	} catch {
		return false;
	}
}

/**
 * The calling worker thread only. Linux's setpriority() on a thread id changes that thread (not
 * POSIX, but what Linux does); elsewhere there is no per-thread priority from Node, and lowering
 * the process would slow the extension host, so nothing changes there.
 */
export function lowerThisThread(): boolean {
	if (process.platform !== 'linux') {
		return false;
	}
	try {
		const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
		if (!Number.isInteger(tid) || tid <= 0) {
			return false;
		}
		setPriority(tid, LOW_PRIORITY_NICE);
		return true;
	} catch {
		return false;
	}
}

// Linux lets a user change a scheduling group's nice ten times a second, machine-wide
// (CAP_SYS_ADMIN is exempt): a pool's workers are lowered one after another, 110 ms apart
// when the kernel says "again".
const AUTOGROUP_RETRY_MS = 110;
const AUTOGROUP_TRIES = 20;
let autogroupQueue: Promise<unknown> = Promise.resolve();

/**
 * A process we started in a session of its own (`detached`, i.e. setsid) is, on Linux with
 * autogroup scheduling (most distributions' default; SSH and code-server hosts included), in a
 * scheduling group of its own that the kernel weighs against the editor's whole session as an
 * equal: its nice value then only orders its own threads, and nice 10 yields nothing to the
 * editor (measured: a nice-10 loop in a new session took half of a shared core, 13% in the
 * same session). The group's nice is what counts. Only for a session the process leads.
 * Resolves false where there is no autogroup or the write was refused.
 */
export function lowerSession(pid: number): Promise<boolean> {
	if (process.platform !== 'linux') {
		return Promise.resolve(false);
	}
	const attempt = async (): Promise<boolean> => {
		for (let i = 0; i < AUTOGROUP_TRIES; i++) {
			try {
				writeFileSync(`/proc/${pid}/autogroup`, String(LOW_PRIORITY_NICE));
				return true;
			} catch (e) {
				if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
					return false; // no autogroup in this kernel, or the process has ended
				}
				await new Promise((resolve) => setTimeout(resolve, AUTOGROUP_RETRY_MS).unref());
			}
		}
		return false;
	};
	const done = autogroupQueue.then(attempt);
	autogroupQueue = done;
	return done;
}
