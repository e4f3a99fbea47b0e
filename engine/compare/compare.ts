/**
 * Compare and sweep: the same function and inputs on several pool configurations, one after
 * another (never together: they would compete for the same cores), each repeated, the median
 * kept. Plain engine code: the CLI and the extension share it.
 */
import type { PoolKind, RunFinishedEvent } from '../protocol/events';
import type { EventSink } from '../protocol/events';
import type { RunHandle, RunRequest } from '../runTypes';
import { startRun } from '../startRun';

/** How a comparison starts each run (the extension routes them through its run controller). */
export type StartFn = (request: RunRequest, sink: EventSink) => RunHandle;

export interface Config {
	pool: PoolKind;
	workers: number;
	chunksize?: number;
}

export interface Measurement {
	config: Config;
	/** The median run's id (to open it in the panel). */
	runId?: string;
	/** Median wall time over the repetitions, ms. */
	wallMs: number;
	minMs: number;
	maxMs: number;
	/** Sum of task CPU time / sum of task wall time (median run): near 1 = CPU-bound. */
	cpuShare?: number;
	gilWaitShare?: number;
	outcome: RunFinishedEvent['outcome'];
	failed: number;
}

export interface ComparisonHandle {
	done: Promise<Measurement[]>;
	cancel(): Promise<void>;
}

export type BaseRequest = Omit<RunRequest, 'runId' | 'pool' | 'workers' | 'chunksize'>;

export function runConfigs(base: BaseRequest, configs: Config[], repetitions = 1, onProgress?: (m: Measurement) => void, start: StartFn = startRun): ComparisonHandle {
	let cancelled = false;
	let current: RunHandle | undefined;
	const done = (async () => {
		const out: Measurement[] = [];
		for (const config of configs) {
			const runs: { end: RunFinishedEvent; cpu: number; wall: number; runId: string }[] = [];
			for (let r = 0; r < Math.max(1, repetitions) && !cancelled; r++) {
				let cpu = 0;
				let wall = 0;
				const runId = `cmp-${config.pool}-${config.workers}-${r}-${Date.now()}`;
				current = start({ ...base, ...config, runId, cpuSampleMs: base.cpuSampleMs ?? 0 }, (batch) => {
					for (const e of batch) {
						if (e.type === 'task.finished' && e.cpuMs !== undefined) {
							cpu += e.cpuMs;
							wall += e.durationMs;
						}
					}
				});
				const end = await current.done;
				runs.push({ end, cpu, wall, runId });
				if (end.outcome === 'error') {
					break;
				}
			}
			if (cancelled || runs.length === 0) {
				break;
			}
			const sorted = [...runs].sort((a, b) => a.end.wallMs - b.end.wallMs);
			const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
			const m: Measurement = {
				config,
				runId: median.runId,
				wallMs: median.end.wallMs,
				minMs: sorted[0]!.end.wallMs,
				maxMs: sorted[sorted.length - 1]!.end.wallMs,
				cpuShare: median.wall > 0 ? median.cpu / median.wall : undefined,
				gilWaitShare: median.end.gilWaitShare,
				outcome: median.end.outcome,
				failed: median.end.counts.failed + median.end.counts.timedOut,
			};
			out.push(m);
			onProgress?.(m);
			if (median.end.outcome === 'error') {
				throw new Error(`${config.pool} run failed: ${median.end.error?.name}: ${median.end.error?.message}`);
			}
		}
		return out;
	})();
	return {
		done,
		cancel: async () => {
			cancelled = true;
			await current?.cancel('comparison cancelled');
		},
	};
}

/** Serial, then a thread pool, then a process pool, with the same workers. */
export function compareConfigs(workers: number): Config[] {
	return [{ pool: 'serial', workers: 1 }, { pool: 'thread', workers }, { pool: 'process', workers }];
}

/** A pool at 1, 2, 4, ... up to max workers (max included). */
export function sweepConfigs(pool: PoolKind, workers: number[]): Config[] {
	return workers.map((w) => ({ pool, workers: w }));
}

export function powersOfTwoUpTo(max: number): number[] {
	const out: number[] = [];
	for (let w = 1; w < max; w *= 2) {
		out.push(w);
	}
	out.push(max);
	return out;
}
