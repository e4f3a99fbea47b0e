/**
 * What each worker of a process pool, a JS pool or a serial run is blocked in while it runs a
 * task, looked at every 10 ms (Linux) and sent as `worker.waits`: a pale bar is hatched by it as a
 * Python thread's is. A Python thread pool's looks come from its backend's own sampler, which also
 * tells the GIL apart (its runner has a probe thread for it) and splits the run's GIL estimate.
 */
import { now } from '../clock';
import type { EventSink, PoolEvent } from '../protocol/events';
import { ThreadWaitSampler } from './threadWaits';
import { cpuSourceOf, type WorkerWhere } from './workerCpu';

export class WorkerWaitWatch {
	private sampler: ThreadWaitSampler | undefined;
	private runId = '';
	private language: string | undefined;
	private runnerPid: number | undefined;
	private readonly workers = new Map<number, WorkerWhere>();

	constructor(private readonly sink: EventSink) {}

	/** Every batch the run sends, before it goes on; the last looks go in before run.finished. */
	public observe(batch: readonly PoolEvent[]): readonly PoolEvent[] {
		let out = batch;
		for (const e of batch) {
			switch (e.type) {
				case 'run.started':
					if (this.sampler || process.platform !== 'linux' || (e.language === 'python' && e.pool === 'thread')) {
						break;
					}
					this.runId = e.runId;
					this.language = e.language;
					this.runnerPid = e.pid;
					this.sampler = new ThreadWaitSampler(undefined, now, (workers) => this.sink([{ type: 'worker.waits', runId: this.runId, t: now(), workers }]), true);
					for (const workerId of this.workers.keys()) {
						this.look(workerId);
					}
					break;
				case 'worker.started':
					this.workers.set(e.workerId, { pid: e.pid, threadId: e.threadId, tid: e.tid });
					this.look(e.workerId);
					break;
				case 'worker.ready': {
					const w = this.workers.get(e.workerId);
					if (w && e.tid !== undefined) {
						w.tid = e.tid;
						this.look(e.workerId);
					}
					break;
				}
				case 'worker.exited':
					this.sampler?.unwatch(e.workerId);
					break;
				case 'run.finished': {
					const looks = this.sampler?.unsent(true) ?? [];
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
	private look(workerId: number): void {
		const w = this.workers.get(workerId);
		const where = w && cpuSourceOf(w, this.language, this.runnerPid);
		if (where) {
			this.sampler?.watchAt(workerId, where);
		}
	}

	public dispose(): void {
		this.sampler?.dispose();
		this.sampler = undefined;
	}
}
