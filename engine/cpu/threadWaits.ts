/**
 * What a Python thread pool's worker threads are blocked in while they run tasks, looked at from
 * outside the interpreter (Linux: /proc/<pid>/task/<tid>/syscall): running, in a futex (the GIL,
 * or a lock), or in any other system call (I/O, a sleep). The runner's GIL estimate is the tasks'
 * time off the CPU while the interpreter was busy; the share seen in I/O comes off it here. A task
 * that napped between bursts of computing beside a CPU-bound one read as 71% GIL wait.
 *
 * Looked at from here, not from a thread in the runner: a Python thread needs the GIL back after
 * every read, and while CPU-bound threads held it its looks came 50-100 ms apart, fewest exactly
 * when the threads fought over it (22 looks in a 0.6 s run, the I/O share off by 2x).
 *
 * The same looks at any worker (a process's main thread, a JS worker thread) tell a lock from
 * I/O there too (engine/cpu/workerWatch.ts); only a Python thread pool has a GIL to tell apart.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { WAIT_LOOK_EVERY_MS, type WaitLetter, type WorkerWaitsEvent } from '../protocol/events';

/** futex(2) and futex_waitv(2) by architecture; elsewhere nothing is looked at. */
const FUTEX_CALLS: Partial<Record<NodeJS.Architecture, readonly string[]>> = { x64: ['202', '449'], arm64: ['98', '449'] };

/** Runs shorter than this are never looked at (a no-op run costs nothing more). */
const WAIT_LOOKS_AFTER_MS = 200;
/** Fewer looks inside tasks than this say nothing. */
const WAIT_LOOKS_MIN = 20;
/** Looks kept per run (8 threads: ~10 minutes); the rest of a longer run goes unlooked at. */
const MAX_LOOKS = 500_000;

/** A futex this close to one the GIL probe waited on is the GIL's too (its condition's two
 * words and its mutex lie within ~100 bytes of one another). */
const GIL_NEAR_BYTES = 256;

/** A gap between two tasks of a worker shorter than this is taken as part of them (the
 * executor handing over the next one; a look lands in it rarely and would see no I/O). */
const MERGE_GAP_MS = 1;

/** Looks go out this often, as worker.waits (a live panel redraws 4-30 times a second). */
const SEND_EVERY_MS = 250;
/** Until the GIL's futex is known, looks are held this long from the first (then a futex is `f`). */
const HOLD_UNTOLD_MS = 1000;

const RUNNING = 0;
const FUTEX = 1;
const OTHER = 2;
/** A futex told apart from the GIL's (only in finish()). */
const LOCK = 3;

interface Watched {
	/** Closed (undefined) once the thread ended or the run did; its looks still count. */
	fd: number | undefined;
	/** Time (CLOCK_MONOTONIC ms) and what was seen, per look; the futex's address, else 0. */
	t: number[];
	seen: number[];
	addr: number[];
	/** Looks before this index went out as worker.waits. */
	sent: number;
}

export interface WaitShares {
	/** Share of the tasks' time (those looked at) their threads were seen in I/O or asleep. */
	ioShare: number;
	/** Share seen waiting on a futex not the GIL's (a Lock, a queue, an event); only once the
	 * GIL's own futex is known (the probe was seen waiting for it). */
	lockShare?: number;
	/** Looks inside tasks. */
	looks: number;
}

export class ThreadWaitSampler {
	private readonly threads = new Map<number, Watched>();
	/** The runner's thread that only sleeps, and the futex addresses it was seen waiting on. */
	private probe: number | undefined;
	private readonly gilAddrs = new Set<number>();
	/** Per worker: start, end, start, end... of the tasks it ran. */
	private readonly tasks = new Map<number, number[]>();
	private readonly futex: readonly string[];
	private readonly buf = Buffer.alloc(64);
	private looks = 0;
	private firstLook: number | undefined;
	private lastLook = 0;
	private disposed = false;
	private countUntil = Infinity;
	private timer: ReturnType<typeof setInterval> | undefined;
	private readonly delay: ReturnType<typeof setTimeout> | undefined;
	private lastSent = 0;

	/**
	 * Threads of process `pid` are looked at (`watch`), or any thread of any process (`watchAt`).
	 * `send` gets the looks as they are made, a few times a second (none: only the shares at the
	 * end). `noGil`: no GIL among the waits (not a Python thread pool): every futex is a lock.
	 */
	constructor(private readonly pid: number | undefined, private readonly clock: () => number, private readonly send?: (workers: WorkerWaitsEvent['workers']) => void, private readonly noGil = false) {
		this.futex = process.platform === 'linux' ? FUTEX_CALLS[process.arch] ?? [] : [];
		if (this.futex.length) {
			this.delay = setTimeout(() => {
				this.timer = setInterval(() => this.look(), WAIT_LOOK_EVERY_MS);
				this.timer.unref();
			}, WAIT_LOOKS_AFTER_MS);
			this.delay.unref();
		}
	}

	/** A worker thread of this sampler's process (its native id) to look at. */
	watch(workerId: number, tid: number): void {
		if (this.pid !== undefined) {
			this.watchAt(workerId, { pid: this.pid, tid });
		}
	}

	/** A worker to look at: a process (its main thread), or a thread of one. */
	watchAt(workerId: number, where: { pid: number; tid?: number }): void {
		if (this.threads.has(workerId)) {
			return;
		}
		const fd = this.open(where.tid !== undefined ? `/proc/${where.pid}/task/${where.tid}/syscall` : `/proc/${where.pid}/syscall`);
		if (fd !== undefined) {
			this.threads.set(workerId, { fd, t: [], seen: [], addr: [], sent: 0 });
		}
	}

	/** A worker that exited: no more looks (a pid can be reused); what it was seen doing stays. */
	unwatch(workerId: number): void {
		const w = this.threads.get(workerId);
		if (w?.fd !== undefined) {
			closeSync(w.fd);
			w.fd = undefined;
		}
	}

	/**
	 * From `t` on, looks say nothing: a task is being stopped past its timeout, and the runner's
	 * stopping (TaskTimeout raised, stacks taken under its locks) has the threads wait on locks
	 * that are ours, not the user's (two spinning threads read "25% waiting on a Lock").
	 */
	stopCountingAt(t: number): void {
		this.countUntil = Math.min(this.countUntil, t);
	}

	/** The runner's GIL probe (poolscope_threads.start_gil_probe): its futex waits are the GIL's. */
	watchProbe(tid: number): void {
		if (this.pid !== undefined) {
			this.probe ??= this.open(`/proc/${this.pid}/task/${tid}/syscall`); // none: lock waits are not told from the GIL's
		}
	}

	/** What a thread is blocked in (its `syscall` file), to read again and again; none when not looking. */
	private open(path: string): number | undefined {
		if (!this.futex.length || this.disposed) {
			return undefined;
		}
		try {
			return openSync(path, 'r');
		} catch {
			return undefined; // gone already, or not ours to read
		}
	}

	/** The system call a thread is blocked in: its number ("running", "-1" when none) and first argument. */
	private read(fd: number): [string, string] | undefined {
		let n: number;
		try {
			n = readSync(fd, this.buf, 0, this.buf.length, 0);
		} catch {
			return undefined; // the thread ended
		}
		const [call = '', arg = ''] = this.buf.toString('latin1', 0, n).split(/\s+/, 2);
		return [call, arg];
	}

	taskRan(workerId: number, start: number, end: number): void {
		if (this.firstLook === undefined || end < this.firstLook || start > this.lastLook) {
			return; // no look falls inside it
		}
		let list = this.tasks.get(workerId);
		if (!list) {
			this.tasks.set(workerId, (list = []));
		}
		// Back-to-back tasks are one span: a million no-op tasks would otherwise keep 16 MB here.
		const n = list.length;
		if (n && start >= list[n - 1]! && start - list[n - 1]! < MERGE_GAP_MS) {
			list[n - 1] = end;
		} else {
			list.push(start, end);
		}
	}

	private look(): void {
		if (this.looks >= MAX_LOOKS) {
			return this.stop();
		}
		const t = this.clock();
		this.firstLook ??= t;
		this.lastLook = t;
		if (this.probe !== undefined) {
			const [call, arg] = this.read(this.probe) ?? [];
			if (call === undefined) {
				closeSync(this.probe);
				this.probe = undefined;
			} else if (this.futex.includes(call)) {
				this.gilAddrs.add(Number.parseInt(arg!, 16));
			}
		}
		for (const w of this.threads.values()) {
			if (w.fd === undefined) {
				continue;
			}
			const seen = this.read(w.fd);
			if (!seen) {
				closeSync(w.fd);
				w.fd = undefined;
				continue;
			}
			const [call, arg] = seen;
			const futex = this.futex.includes(call);
			w.t.push(t);
			w.seen.push(call === 'running' || call === '-1' ? RUNNING : futex ? FUTEX : OTHER);
			w.addr.push(futex ? Number.parseInt(arg, 16) : 0);
			this.looks++;
		}
		if (this.send && t - this.lastSent >= SEND_EVERY_MS) {
			const looks = this.unsent(false);
			if (looks.length) {
				this.lastSent = t;
				this.send(looks);
			}
		}
	}

	private isGil(addr: number): boolean {
		for (const g of this.gilAddrs) {
			if (Math.abs(addr - g) <= GIL_NEAR_BYTES) {
				return true;
			}
		}
		return false;
	}

	/**
	 * The looks not sent yet, each as a letter. A futex is the GIL's or a lock's only once the
	 * probe has been seen waiting for the GIL: until then (a second at most, unless `final`) they
	 * are held, after it they go out as `f` (on a futex, not told apart).
	 */
	public unsent(final: boolean): WorkerWaitsEvent['workers'] {
		const told = this.gilAddrs.size > 0 || this.noGil;
		if (!told && !final && this.probe !== undefined && this.firstLook !== undefined && this.lastLook - this.firstLook < HOLD_UNTOLD_MS) {
			return [];
		}
		const out: WorkerWaitsEvent['workers'] = [];
		for (const [workerId, w] of this.threads) {
			if (w.sent >= w.t.length) {
				continue;
			}
			const t: number[] = [];
			let seen = '';
			for (let i = w.sent; i < w.t.length; i++) {
				t.push(Math.round(w.t[i]! * 10) / 10);
				const s = w.seen[i];
				const letter: WaitLetter = s === RUNNING ? 'c' : s === OTHER ? 'i' : !told ? 'f' : !this.noGil && this.isGil(w.addr[i]!) ? 'g' : 'l';
				seen += letter;
			}
			w.sent = w.t.length;
			out.push({ workerId, t, seen });
		}
		return out;
	}

	private stop(): void {
		clearTimeout(this.delay);
		clearInterval(this.timer);
		this.timer = undefined;
	}

	/** Stops looking; what the looks inside tasks saw, when there were enough of them. */
	finish(): WaitShares | undefined {
		this.dispose();
		const gil = this.gilAddrs.size > 0;
		const workers: LooksInTasks[] = [];
		for (const [workerId, w] of this.threads) {
			const spans = this.tasks.get(workerId);
			if (spans) {
				workers.push({ t: w.t, seen: w.seen.map((s, i) => (s === FUTEX && gil && !this.isGil(w.addr[i]!) ? LOCK : s)), spans });
			}
		}
		return sharesInTasks(workers, this.countUntil, gil);
	}

	dispose(): void {
		this.disposed = true;
		this.stop();
		if (this.probe !== undefined) {
			closeSync(this.probe);
			this.probe = undefined;
		}
		for (const w of this.threads.values()) {
			if (w.fd !== undefined) {
				closeSync(w.fd);
				w.fd = undefined;
			}
		}
	}
}

/** One worker's looks (time, what was seen: 0 running, 1 futex, 2 another call, 3 a lock's
 * futex) and the spans of its tasks (start, end, start, end...). */
export interface LooksInTasks {
	t: readonly number[];
	seen: readonly number[];
	spans: readonly number[];
}

/**
 * The shares of the tasks' time seen in I/O and on a lock, each task span weighing its duration,
 * not its number of looks. The runner's time off the CPU, which these shares come off, covers
 * every task from its start; the looks begin 200 ms into the run and a thread is looked at once
 * it is known. Counted look by look, a sleeping task that started late (its thread was started
 * while two CPU-bound threads held the GIL) had all its looks inside the window while the
 * computing ones had half theirs: "I/O 45%, GIL 17%" for a run that spent 28% asleep and 34%
 * waiting for the GIL. A span with no look says nothing and weighs nothing.
 */
export function sharesInTasks(workers: readonly LooksInTasks[], countUntil = Infinity, gilKnown = true): WaitShares | undefined {
	let looks = 0;
	let weight = 0;
	let io = 0;
	let locks = 0;
	for (const { t, seen, spans } of workers) {
		const order = Array.from({ length: spans.length / 2 }, (_, i) => i).sort((a, b) => spans[2 * a]! - spans[2 * b]!);
		let k = 0;
		// Looks of the span at order[k] so far: all, in I/O, on a lock.
		let n = 0;
		let nIo = 0;
		let nLock = 0;
		const close = () => {
			if (n) {
				const span = order[k]!;
				const w = Math.max(spans[2 * span + 1]! - spans[2 * span]!, 1);
				weight += w;
				io += (w * nIo) / n;
				locks += (w * nLock) / n;
				looks += n;
				n = nIo = nLock = 0;
			}
		};
		for (let i = 0; i < t.length && t[i]! < countUntil; i++) {
			while (k < order.length && spans[2 * order[k]! + 1]! < t[i]!) {
				close();
				k++;
			}
			if (k < order.length && spans[2 * order[k]!]! <= t[i]!) {
				n++;
				if (seen[i] === OTHER) {
					nIo++;
				} else if (seen[i] === LOCK) {
					nLock++;
				}
			}
		}
		if (k < order.length) {
			close();
		}
	}
	if (looks < WAIT_LOOKS_MIN) {
		return undefined;
	}
	return { ioShare: io / weight, ...(gilKnown ? { lockShare: locks / weight } : {}), looks };
}
