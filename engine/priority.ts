/**
 * Pool workers can run at a lower CPU priority (nice 10) so that the editor, the extension host
 * and the panel stay responsive while a run keeps every core busy. On an otherwise idle machine
 * it changes nothing: priority only decides who waits when CPUs are contended.
 */
import { readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';

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

/** In turn with every other autogroup write of this process (the kernel's rate limit is shared). */
function queued<T>(write: () => Promise<T>): Promise<T> {
	const done = autogroupQueue.then(write);
	autogroupQueue = done.catch(() => undefined);
	return done;
}

/** Resolves false where there is no autogroup, the process has ended, or the write was refused. */
async function writeAutogroup(pid: number, nice: number): Promise<boolean> {
	for (let i = 0; i < AUTOGROUP_TRIES; i++) {
		try {
			writeFileSync(`/proc/${pid}/autogroup`, String(nice));
			return true;
		} catch (e) {
			if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') {
				return false;
			}
			await new Promise((resolve) => setTimeout(resolve, AUTOGROUP_RETRY_MS).unref());
		}
	}
	return false;
}

/** The nice of a process's autogroup (its session's scheduling group); undefined without autogroup scheduling. */
export function autogroupNice(pid: number): number | undefined {
	try {
		if (readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'latin1').trim() !== '1') {
			return undefined;
		}
		const m = /nice (-?\d+)/.exec(readFileSync(`/proc/${pid}/autogroup`, 'latin1'));
		return m ? Number(m[1]) : undefined;
	} catch {
		return undefined;
	}
}

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
	return queued(() => writeAutogroup(pid, LOW_PRIORITY_NICE));
}

/** The session a process belongs to (Linux /proc stat, field 6). */
function sessionOf(pid: number): number | undefined {
	try {
		const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
		const sid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
		return Number.isInteger(sid) && sid > 0 ? sid : undefined;
	} catch {
		return undefined;
	}
}

/**
 * The same for the process that runs the engine, while runs are live. A JS thread pool's
 * workers and the engine's thread are threads of the extension host, in its session; when the
 * window is in another session of the same machine (a browser showing code-server), the kernel
 * splits the CPU between the two sessions as equals whatever the threads' nice, and a run that
 * keeps every core busy left the panel half the machine (measured in code-server: frame p99
 * 133-167 ms, 50-67 ms with the session lowered). Lowered at a run's start, put back as it was
 * when the last one ends; left alone when already at nice 10 or more (someone's choice), or
 * raised above 0 by someone with the right to (we could not put it back).
 * The session outlives the host (code-server's server leads it): a host that ended while it held
 * the session lowered (killed, or a window reloaded mid-run) leaves a note in the temp folder,
 * and the next host in that session puts the priority back when it starts.
 * Not for desktop VS Code: its window is in the host's session and would be lowered with it.
 */
export class SessionLowering {
	private live = 0;
	/** The session's nice before we lowered it; undefined while we have not. */
	private found: number | undefined;
	private readonly note: string | undefined;

	public constructor(private readonly pid: number = process.pid) {
		const sid = process.platform === 'linux' ? sessionOf(pid) : undefined;
		this.note = sid === undefined ? undefined : join(tmpdir(), `poolscope-session-${sid}-lowered.json`);
		void this.recover();
	}

	/** A run began; call what this returns when it has ended (once; later calls do nothing). */
	public hold(): () => Promise<void> {
		this.live++;
		void this.sync();
		let released = false;
		return () => {
			if (!released) {
				released = true;
				this.live--;
			}
			return this.sync();
		};
	}

	/** What an earlier host of this session left lowered when it ended. */
	private recover(): Promise<void> {
		const note = this.note;
		if (!note) {
			return Promise.resolve();
		}
		return queued(async () => {
			let before: number;
			try {
				before = (JSON.parse(readFileSync(note, 'utf8')) as { found: number }).found;
			} catch {
				return; // no note: nothing left lowered
			}
			if (autogroupNice(this.pid) === LOW_PRIORITY_NICE && this.live === 0 && Number.isInteger(before) && before >= 0 && before < LOW_PRIORITY_NICE) {
				await writeAutogroup(this.pid, before);
			}
			this.writeNote(undefined);
		});
	}

	private sync(): Promise<void> {
		if (process.platform !== 'linux') {
			return Promise.resolve();
		}
		return queued(async () => {
			const current = autogroupNice(this.pid);
			if (current === undefined) {
				return;
			}
			if (this.live > 0) {
				if (this.found === undefined) {
					if (current < 0 || current >= LOW_PRIORITY_NICE) {
						return;
					}
					this.found = current;
				}
				if (current !== LOW_PRIORITY_NICE) {
					// The note first: a host killed between the two (CI did it, a loaded machine
					// preempting the host right after the write) left the session lowered with no
					// note. A note whose lowering never happened is harmless: the next host puts
					// back only a session it finds at LOW_PRIORITY_NICE.
					this.writeNote(this.found);
					if (!await writeAutogroup(this.pid, LOW_PRIORITY_NICE)) {
						this.writeNote(undefined);
					}
				}
			} else if (this.found !== undefined) {
				const before = this.found;
				this.found = undefined;
				if (current === LOW_PRIORITY_NICE) { // someone else's since: theirs to keep
					await writeAutogroup(this.pid, before);
				}
				this.writeNote(undefined);
			}
		});
	}

	/** Best effort: without a note, only a host that ends mid-run leaves the session lowered. */
	private writeNote(found: number | undefined): void {
		if (!this.note) {
			return;
		}
		try {
			if (found !== undefined) {
				writeFileSync(this.note, JSON.stringify({ found }));
			} else {
				rmSync(this.note, { force: true });
			}
		} catch {
			// a temp folder we cannot write: the priority is still put back at the run's end
		}
	}
}
