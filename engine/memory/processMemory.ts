/**
 * The run's processes' resident memory, sampled by the host while the run lasts: each process is
 * a whole interpreter, and a queue that grows without bound grows the process that holds it.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { now } from '../clock';
import type { EventSink, PoolEvent } from '../protocol/events';

/**
 * RSS in bytes of each pid still alive (gone ones, zombies included, are left out). Linux reads
 * /proc; macOS and the BSDs ask `ps` once for all; Windows has no cheap reading without a
 * dependency, so it gets none (decisions.md).
 */
export async function readRss(pids: readonly number[]): Promise<Map<number, number>> {
	const out = new Map<number, number>();
	if (!pids.length || process.platform === 'win32') {
		return out;
	}
	if (process.platform === 'linux') {
		await Promise.all(pids.map(async (pid) => {
			try {
				// VmRSS is in kB whatever the page size (statm counts pages).
				const kb = /^VmRSS:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'latin1'))?.[1];
				if (kb !== undefined) {
					out.set(pid, Number(kb) * 1024);
				}
			} catch {
				// exited
			}
		}));
		return out;
	}
	return new Promise((resolve) => {
		execFile('ps', ['-o', 'pid=,rss=', '-p', pids.join(',')], { timeout: 2000 }, (_err, stdout) => {
			for (const line of String(stdout ?? '').split('\n')) {
				const [pid, kb] = line.trim().split(/\s+/).map(Number);
				if (pid && kb !== undefined && Number.isFinite(kb)) {
					out.set(pid, kb * 1024);
				}
			}
			resolve(out);
		});
	});
}

/** /proc reads are ~20 us a process; `ps` is a process start, so once a second at most. */
export function memoryIntervalMs(cpuSampleMs: number | undefined): number {
	const ms = Math.max(100, cpuSampleMs ?? 250);
	return process.platform === 'linux' ? ms : Math.max(1000, ms);
}

/**
 * Calls `tick` 50, 100, 200 ms ... after the start, then every `intervalMs`: a run of a few
 * hundred ms still gets samples, a long one no more than the interval's.
 */
export function rampingTimer(intervalMs: number, tick: () => void): { dispose(): void } {
	let timer: NodeJS.Timeout | undefined;
	let stopped = false;
	const next = (delayMs: number): void => {
		timer = setTimeout(() => {
			tick();
			if (!stopped) {
				next(Math.min(intervalMs, delayMs * 2));
			}
		}, delayMs);
		timer.unref();
	};
	next(Math.min(50, intervalMs));
	return { dispose: () => { stopped = true; clearTimeout(timer); } };
}

/**
 * Follows a run's events for its processes (run.started's pid, each worker.started's pid) and
 * adds a memory.sample to the sink every interval from run.started until run.finished. Every
 * backend gets it the same way (startRun), from the events alone.
 */
export class MemoryWatch {
	private runId = '';
	private main: number | undefined;
	private readonly workers = new Map<number, number>(); // workerId -> pid
	private timer: { dispose(): void } | undefined;
	private reading = false;
	private ended = false;

	constructor(private readonly intervalMs: number, private readonly sink: EventSink) {}

	/** Every batch the run sends, before it goes on. */
	public observe(batch: readonly PoolEvent[]): void {
		let begin = false;
		for (const e of batch) {
			if (e.type === 'run.started') {
				this.runId = e.runId;
				this.main = e.pid;
				begin = !this.timer && !this.ended;
			} else if (e.type === 'worker.started' && e.pid !== undefined) {
				this.workers.set(e.workerId, e.pid);
			} else if (e.type === 'worker.exited') {
				this.workers.delete(e.workerId);
			} else if (e.type === 'run.finished') {
				this.dispose();
			}
		}
		if (begin && !this.ended) {
			// After the whole batch: the workers that started with the run are in the first sample.
			void this.sample();
			this.timer = rampingTimer(this.intervalMs, () => void this.sample());
		}
	}

	public async sample(): Promise<void> {
		if (this.reading || this.ended) {
			return;
		}
		const workers = [...this.workers];
		const pids = workers.map(([, pid]) => pid);
		if (this.main !== undefined) {
			pids.push(this.main);
		}
		if (!pids.length) {
			return; // a JS thread pool: its workers live in the host
		}
		this.reading = true;
		try {
			const rss = await readRss(pids);
			if (this.ended) {
				return; // the run ended while we read: nothing after run.finished
			}
			const main = this.main !== undefined ? rss.get(this.main) : undefined;
			const live = workers.filter(([id, pid]) => rss.has(pid) && this.workers.get(id) === pid).map(([workerId, pid]) => ({ workerId, rss: rss.get(pid)! }));
			if (main !== undefined || live.length) {
				this.sink([{ type: 'memory.sample', runId: this.runId, t: now(), ...(main !== undefined ? { main } : {}), workers: live }]);
			}
		} finally {
			this.reading = false;
		}
	}

	public dispose(): void {
		this.ended = true;
		this.timer?.dispose();
	}
}
