import { cpus } from 'node:os';
import { now } from '../clock';

export interface CpuReading {
	t: number;
	/** Whole machine, 0..1. */
	total: number;
	/** Per logical CPU, 0..1. */
	perCore: number[];
}

type Times = { busy: number; all: number }[];

function read(): Times {
	return cpus().map(({ times }) => {
		const all = times.user + times.nice + times.sys + times.idle + times.irq;
		return { busy: all - times.idle, all };
	});
}

/**
 * Starts a measurement of the machine's average CPU utilization (0..1 of all cores); call the
 * returned function at the end. Two reads of /proc/stat, exact over the whole interval.
 */
export function machineCpu(): () => number {
	const start = read();
	return () => {
		const end = read();
		let busy = 0;
		let all = 0;
		end.forEach((c, i) => {
			busy += c.busy - (start[i]?.busy ?? 0);
			all += c.all - (start[i]?.all ?? 0);
		});
		return all > 0 ? Math.min(1, Math.max(0, busy / all)) : 0;
	};
}

/** A run's CPU sampling interval unless its request says otherwise. */
export const DEFAULT_CPU_SAMPLE_MS = 250;

/**
 * Machine CPU utilization from `os.cpus()` deltas (one /proc/stat read per sample: cheap enough
 * to run all the time for the status bar).
 */
export class CpuSampler {
	private last: Times = read();
	private readonly timer: NodeJS.Timeout;

	constructor(intervalMs: number, private readonly onSample: (reading: CpuReading) => void) {
		this.timer = setInterval(() => this.sample(), Math.max(50, intervalMs));
		this.timer.unref();
	}

	public sample(): CpuReading {
		const current = read();
		const perCore = current.map((c, i) => {
			const prev = this.last[i] ?? { busy: 0, all: 0 };
			const all = c.all - prev.all;
			return all > 0 ? Math.min(1, Math.max(0, (c.busy - prev.busy) / all)) : 0;
		});
		this.last = current;
		const reading = { t: now(), total: perCore.length ? perCore.reduce((a, b) => a + b, 0) / perCore.length : 0, perCore };
		this.onSample(reading);
		return reading;
	}

	public dispose(): void {
		clearInterval(this.timer);
	}
}
