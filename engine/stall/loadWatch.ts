/**
 * A Python run whose user module never finishes importing (input(), a server started at the top
 * of the file, a lock, a network call): no task can start, and before this the run showed nothing
 * at all, not even its start. The runner says when it begins loading; if the run has not started
 * a window later and the runner used no CPU in it, a 'stalled' warning says so, with the main
 * thread's stack. A heavy import that computes (a large library) is not told, as the task stall
 * watch does not tell computing tasks. Once the run starts, a 'stallEnded' says the wait is over.
 */
import { now } from '../clock';
import type { EventSink, PoolEvent } from '../protocol/events';
import { DEFAULT_STALL_MS } from '../runTypes';
import { readCpuMs } from '../cpu/workerCpu';
import { isIdle, secs, SNAPSHOT_LIMIT_MS, STACKS_SHOWN, withLimit } from './stallWatch';

export class LoadWatch {
	private readonly since = now();
	private timer: ReturnType<typeof setTimeout> | undefined;
	private baseline: { t: number; cpu: number | undefined } | undefined;
	private toldAt: number | undefined;
	private ended = false;

	constructor(
		private readonly sink: EventSink,
		private readonly runId: string,
		private readonly pid: number,
		private readonly fileName: string,
		private readonly snapshot: () => Promise<string>,
		private readonly windowMs = DEFAULT_STALL_MS,
	) {
		void this.arm();
	}

	/** The run has started: no more looks; the end of a told wait, to send on after the start
	 * (whose t is the runner's start, before it loaded the file: the wait is timed from here). */
	public stop(): PoolEvent | undefined {
		this.dispose();
		if (this.toldAt === undefined) {
			return undefined;
		}
		const t = now();
		return { type: 'run.warning', runId: this.runId, t, kind: 'stallEnded', message: `No longer stalled: ${this.fileName} finished loading after ${secs(Math.max(0, t - this.since))}.` };
	}

	public dispose(): void {
		this.ended = true;
		clearTimeout(this.timer);
	}

	private async arm(): Promise<void> {
		this.baseline = { t: now(), cpu: await readCpuMs({ pid: this.pid }) };
		if (this.ended) {
			return;
		}
		this.timer = setTimeout(() => void this.look(), this.windowMs);
		this.timer.unref();
	}

	private async look(): Promise<void> {
		const base = this.baseline!;
		const cpu = await readCpuMs({ pid: this.pid });
		const spanMs = now() - base.t;
		if (this.ended) {
			return;
		}
		if (cpu === undefined || base.cpu === undefined || !isIdle(cpu - base.cpu, spanMs)) {
			void this.arm(); // computing (a heavy import), or unreadable: look again a window later
			return;
		}
		const stacks = (await withLimit(this.snapshot(), SNAPSHOT_LIMIT_MS).catch(() => undefined)) ?? '';
		if (this.ended) {
			return;
		}
		const t = now();
		this.toldAt = t;
		const where = stacks ? ` ${STACKS_SHOWN} where it waits.` : '';
		const message = `No task can start: ${this.fileName} has been loading for ${secs(t - this.since)} and used no CPU in the last ${secs(spanMs)}: code at the top level of the file (or in the inputs expression) is waiting, on input(), a lock, a sleep, a server or I/O that does not come. Poolscope imports the file in the runner before any task runs; put a script's own work under if __name__ == "__main__":.${where} Cancel the run to end it.`;
		this.sink([{ type: 'run.warning', runId: this.runId, t, kind: 'stalled', message, ...(stacks ? { detail: stacks } : {}) }]);
	}
}
