/**
 * Compare and sweep: the same function and inputs on several pool configurations, one after
 * another (never together: they would compete for the same cores), each repeated, the median
 * kept. Plain engine code: the CLI and the extension share it.
 */
import type { PoolKind, PythonStartMethod, RunFinishedEvent } from '../protocol/events';
import { awaitedShare, definedOnly, TaskTotals, type Config, type Measurement } from './measurement';

export { configLabel, measureRun, type Config, type Measurement } from './measurement';
import type { EventSink } from '../protocol/events';
import type { RunHandle, RunRequest } from '../runTypes';
import { machineCpu } from '../cpu/cpuSampler';
import { bundleUserFunction } from '../js/userModule';
import { findPython, learnInterpreter, realInterpreter } from '../python/interpreter';
import { startRun } from '../startRun';

/** How a comparison starts each run (the extension routes them through its run controller). */
export type StartFn = (request: RunRequest, sink: EventSink) => RunHandle;

export interface ComparisonHandle {
	/** The configurations that completed (an interrupted comparison resolves with those that ran). */
	done: Promise<Measurement[]>;
	/**
	 * Set once the comparison was cut short: by `cancel`, or by one of its runs ending cancelled
	 * (Cancel Run, the panel's button, the window closing). Its measurements are then a part: no
	 * advice or fit is built on them.
	 */
	readonly interrupted: boolean;
	cancel(): Promise<void>;
}

export type BaseRequest = Omit<RunRequest, 'runId' | 'pool' | 'workers' | 'chunksize'>;

export function runConfigs(base: BaseRequest, configs: Config[], repetitions = 1, onProgress?: (m: Measurement) => void, start: StartFn = startRun): ComparisonHandle {
	let cancelled = false;
	let current: RunHandle | undefined;
	const done = (async () => {
		const out: Measurement[] = [];
		// One-time costs (starting esbuild's service, a cold file cache) would land on the first
		// configuration, serial, and inflate every speedup: pay them before measuring.
		if (base.language !== 'python') {
			await bundleUserFunction(base.file, base.fn, base.workspaceRoot).then((b) => b.dispose(), () => undefined);
		} else {
			// Python behind a launcher (a pyenv shim: 60-300 ms before Python starts) is started
			// through it by the first run only: serial, whose time it inflated (a 1-thread pool came
			// out 2.8x faster than serial on no-ops). Asked once, before measuring.
			const py = findPython(base.pythonPath);
			if (py.ok) {
				learnInterpreter(py.path, base.workspaceRoot, await realInterpreter(py.path, base.workspaceRoot));
			}
		}
		for (const [index, config] of configs.entries()) {
			const runs: { end: RunFinishedEvent; totals: TaskTotals; runId: string; machine: number }[] = [];
			for (let r = 0; r < Math.max(1, repetitions) && !cancelled; r++) {
				const totals = new TaskTotals();
				const runId = `cmp-${config.pool}-${config.workers}-${index}.${r}-${Date.now()}`;
				const machineAt = machineCpu();
				current = start({ ...base, ...definedOnly(config), pool: config.pool, workers: config.workers, runId, cpuSampleMs: base.cpuSampleMs ?? 0, memorySampleMs: base.memorySampleMs ?? 250 }, (batch) => {
					for (const e of batch) {
						totals.add(e);
					}
				});
				const end = await current.done;
				runs.push({ end, totals, runId, machine: machineAt() });
				if (end.outcome === 'cancelled') {
					// A run cancelled from outside cancels the comparison: the configurations left
					// would run for nothing, and its wall time is no measurement (a cancelled serial
					// run made a 1.99x thread pool read 0.80x).
					cancelled = true;
				}
				if (end.outcome !== 'completed') {
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
				cpuShare: median.totals.cpuShare,
				gilWaitShare: median.end.gilWaitShare,
				machineCpu: median.machine,
				taskMs: median.totals.taskMs,
				taskSpanMs: median.totals.taskSpanMs,
				peakRss: median.totals.peakRss,
				peakHeap: median.totals.peakHeap,
				seen: median.totals.seen,
				awaitedShare: awaitedShare(median.end),
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
		get interrupted() {
			return cancelled;
		},
		cancel: async () => {
			cancelled = true;
			await current?.cancel('comparison cancelled');
		},
	};
}

/**
 * Serial, then a thread pool, then a process pool, with the same workers; with start methods
 * (Python), one process pool per method.
 */
export function compareConfigs(workers: number, startMethods: PythonStartMethod[] = []): Config[] {
	const processes: Config[] = startMethods.length ? startMethods.map((startMethod) => ({ pool: 'process', workers, startMethod })) : [{ pool: 'process', workers }];
	return [{ pool: 'serial', workers: 1 }, { pool: 'thread', workers }, ...processes];
}

/**
 * The start methods a comparison can run: fork cannot take max tasks per child (CPython refuses
 * it), so when the function declares it, fork is left out (a run that fails would end the whole
 * comparison) and `note` says why.
 */
export function comparableStartMethods(methods: PythonStartMethod[], maxTasksPerChild: number | undefined): { methods: PythonStartMethod[]; note?: string } {
	if (!maxTasksPerChild || !methods.includes('fork')) {
		return { methods };
	}
	return {
		methods: methods.filter((m) => m !== 'fork'),
		note: `fork is left out of the comparison: the function runs with max tasks per child ${maxTasksPerChild}, which CPython refuses with the fork start method`,
	};
}

/** One pool at several chunksizes (the first is the baseline; Python needs `map` for chunks). */
export function chunksizeConfigs(pool: PoolKind, workers: number, chunksizes: number[], language: string): Config[] {
	return chunksizes.map((chunksize): Config => ({ pool, workers, chunksize, ...(language === 'python' ? { mode: 'map' as const } : {}) }));
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
