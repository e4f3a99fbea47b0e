/**
 * Each worker of a run looked at from outside while the run lasts (Linux, /proc; elsewhere
 * nothing is read or sent). Two readings share one map of where each worker runs, followed from
 * the run's events in one pass per batch:
 * - its own CPU, a share of one core over the last second (`worker.cpu`): "busy" says a worker
 *   has a task, not that it computes; four threads on one Lock, or on the GIL, are all busy and
 *   share one core. About 20 us a worker a second.
 * - what it is blocked in, looked at every 10 ms (`worker.waits`): a pale bar is hatched by it.
 *   A Python thread pool's looks come from its backend's own sampler instead, which also tells the
 *   GIL apart (its runner has a probe thread for it) and splits the run's GIL estimate.
 */
import { now } from '../clock';
import { WORKER_CPU_WINDOW_MS, type EventSink, type PoolEvent } from '../protocol/events';
import { ThreadWaitSampler } from './threadWaits';
import { cpuSourceOf, readCpuMs, type WorkerWhere } from './workerCpu';

export class WorkerWatch {
	private runId = '';
	private language: string | undefined;
	private runnerPid: number | undefined;
	private readonly workers = new Map<number, WorkerWhere>();
	/** The last CPU reading of each worker: when, and its CPU ms then. */
	private readonly last = new Map<number, { t: number; cpu: number }>();
	private timer: ReturnType<typeof setInterval> | undefined;
	private reading = false;
	private ended = false;
	private looks: ThreadWaitSampler | undefined;

	/** One CPU reading a second by default: /proc's CPU time moves in 10 ms ticks, 1% of a core a second. */
	constructor(private readonly sink: EventSink, private readonly cpuEveryMs = WORKER_CPU_WINDOW_MS) {}

	/** Every batch the run sends, before it goes on; the last looks go in before run.finished. */
	public observe(batch: readonly PoolEvent[]): readonly PoolEvent[] {
		let out = batch;
		for (const e of batch) {
			switch (e.type) {
				case 'run.started':
					if (this.timer || this.ended || process.platform !== 'linux') {
						break;
					}
					this.runId = e.runId;
					this.language = e.language;
					this.runnerPid = e.pid;
					// A quarter of the interval: a worker's baseline is read soon after it
					// starts, so its first share comes about an interval later, not two.
					this.timer = setInterval(() => void this.readCpu(), this.cpuEveryMs / 4);
					this.timer.unref();
					if (!(e.language === 'python' && e.pool === 'thread')) {
						this.looks = new ThreadWaitSampler(undefined, now, (workers) => this.sink([{ type: 'worker.waits', runId: this.runId, t: now(), workers }]), true);
						for (const workerId of this.workers.keys()) {
							this.lookAt(workerId);
						}
					}
					break;
				case 'worker.started':
					this.workers.set(e.workerId, { pid: e.pid, threadId: e.threadId, tid: e.tid });
					this.lookAt(e.workerId);
					break;
				case 'worker.ready': {
					const w = this.workers.get(e.workerId);
					if (w && e.tid !== undefined) {
						w.tid = e.tid;
						this.lookAt(e.workerId);
					}
					break;
				}
				case 'worker.exited':
					this.workers.delete(e.workerId);
					this.last.delete(e.workerId);
					this.looks?.unwatch(e.workerId);
					break;
				case 'run.finished': {
					const looks = this.looks?.unsent(true) ?? [];
					this.dispose();
					if (looks.length) {
						const at = out.indexOf(e);
						out = [...out.slice(0, at), { type: 'worker.waits', runId: this.runId, t: e.t, workers: looks }, ...out.slice(at)];
					}
					break;
				}
			}
		}
		return out;
	}

	/** Starts looking at a worker once it is known where it runs (a JS thread: at its ready). */
	private lookAt(workerId: number): void {
		const w = this.workers.get(workerId);
		const where = w && cpuSourceOf(w, this.language, this.runnerPid);
		if (where) {
			this.looks?.watchAt(workerId, where);
		}
	}

	private async readCpu(): Promise<void> {
		if (this.reading || this.ended) {
			return;
		}
		this.reading = true;
		try {
			// A worker new since the last tick, or read an interval ago or more: the others wait.
			const due = [...this.workers].filter(([workerId]) => {
				const last = this.last.get(workerId);
				return !last || now() - last.t >= this.cpuEveryMs;
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
		this.looks?.dispose();
		this.looks = undefined;
	}
}
