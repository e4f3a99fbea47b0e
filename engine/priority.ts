/**
 * Pool workers can run at a lower CPU priority (nice 10) so that the editor, the extension host
 * and the panel stay responsive while a run keeps every core busy. On an otherwise idle machine
 * it changes nothing: priority only decides who waits when CPUs are contended.
 */
import { readlinkSync } from 'node:fs';
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
