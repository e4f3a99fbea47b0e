/**
 * Each worker's own CPU, read by the host from /proc while a run lasts: "busy" says a worker has
 * a task, not that it computes. Four threads on one Lock, or on the GIL, are all busy and share
 * one core; a table of their CPU shows it while it happens, not only when the tasks have ended.
 */
import { readFile } from 'node:fs/promises';
import { now } from '../clock';
import { WORKER_CPU_WINDOW_MS, type EventSink, type PoolEvent } from '../protocol/events';

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

/**
 * Follows a run's events for its workers and adds a `worker.cpu` event every interval from
 * run.started to run.finished: each live worker's share of one core since the last reading.
 * Linux only (elsewhere it reads nothing and sends nothing). About 20 us a worker a second.
 */
export class WorkerCpuWatch {
	private runId = '';
	private language: string | undefined;
	private runnerPid: number | undefined;
	private readonly workers = new Map<number, WorkerWhere>();
	/** The last reading of each worker: when, and its CPU ms then. */
	private readonly last = new Map<number, { t: number; cpu: number }>();
	private timer: ReturnType<typeof setInterval> | undefined;
	private reading = false;
	private ended = false;

	/** One reading a second by default: /proc's CPU time moves in 10 ms ticks, 1% of a core a second. */
	constructor(private readonly sink: EventSink, private readonly intervalMs = WORKER_CPU_WINDOW_MS) {}

	/** Every batch the run sends, before it goes on. */
	public observe(batch: readonly PoolEvent[]): void {
		for (const e of batch) {
			switch (e.type) {
				case 'run.started':
					this.runId = e.runId;
					this.language = e.language;
					this.runnerPid = e.pid;
					if (!this.timer && !this.ended && process.platform === 'linux') {
						// A quarter of the interval: a worker's baseline is read soon after it
						// starts, so its first share comes about an interval later, not two.
						this.timer = setInterval(() => void this.read(), this.intervalMs / 4);
						this.timer.unref();
					}
					break;
				case 'worker.started':
					this.workers.set(e.workerId, { pid: e.pid, threadId: e.threadId, tid: e.tid });
					break;
				case 'worker.ready':
					if (e.tid !== undefined) {
						const w = this.workers.get(e.workerId);
						if (w) {
							w.tid = e.tid;
						}
					}
					break;
				case 'worker.exited':
					this.workers.delete(e.workerId);
					this.last.delete(e.workerId);
					break;
				case 'run.finished':
					this.dispose();
					break;
			}
		}
	}

	private async read(): Promise<void> {
		if (this.reading || this.ended) {
			return;
		}
		this.reading = true;
		try {
			// A worker new since the last tick, or read an interval ago or more: the others wait.
			const due = [...this.workers].filter(([workerId]) => {
				const last = this.last.get(workerId);
				return !last || now() - last.t >= this.intervalMs;
			});
			if (!due.length) {
				return;
			}
			const readings = await Promise.all(due.map(async ([workerId, w]) => {
				const src = cpuSourceOf(w, this.language, this.runnerPid);
				return { workerId, cpu: src ? await readCpuMs(src) : undefined };
			}));
			const t = now();
			if (this.ended) {
				return; // the run ended while we read: nothing after run.finished
			}
			const shares: { workerId: number; share: number }[] = [];
			for (const { workerId, cpu } of readings) {
				if (cpu === undefined || !this.workers.has(workerId)) {
					continue;
				}
				const before = this.last.get(workerId);
				this.last.set(workerId, { t, cpu });
				if (before) {
					shares.push({ workerId, share: Math.max(0, (cpu - before.cpu) / (t - before.t)) });
				}
			}
			if (shares.length) {
				this.sink([{ type: 'worker.cpu', runId: this.runId, t, workers: shares }]);
			}
		} finally {
			this.reading = false;
		}
	}

	public dispose(): void {
		this.ended = true;
		clearInterval(this.timer);
	}
}
