/** JS pools against the raw libraries, same machine, same run. */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import type { PoolKind } from '../../engine/protocol/events';
import { startRun } from '../../engine/startRun';
import type { BenchRow, BenchSection } from './benchTypes';
import { median, pairedRatio } from './pairedRatio';
import { coreTimes, nodeStartMs, parallelCapacity } from '../unit/engine/machine';

const FIX = join(__dirname, '..', '..', '..', 'test', 'bench', 'fixtures');

async function ours(pool: PoolKind, fn: string, inputs: string, workers: number, count?: { events: number; bytes: number }, starts?: number[]): Promise<number> {
	const t0 = performance.now();
	let firstStart = Infinity;
	let runStart = 0;
	const handle = startRun({ runId: `bench-${pool}-${Math.random()}`, file: join(FIX, 'noop.js'), fn, inputs, language: 'javascript', pool, workers, cpuSampleMs: 0 }, (batch) => {
		if (count) {
			count.events += batch.length;
			count.bytes += JSON.stringify(batch).length;
		}
		if (starts) {
			for (const e of batch) {
				if (e.type === 'run.started') {
					runStart = e.t;
				} else if (e.type === 'task.started' && e.t < firstStart) {
					firstStart = e.t;
				}
			}
		}
	});
	const end = await handle.done;
	if (end.counts.finished !== end.counts.submitted) {
		throw new Error(`bench run failed: ${JSON.stringify(end.counts)} ${end.error?.message ?? ''}`);
	}
	starts?.push(firstStart - runStart);
	return performance.now() - t0;
}

async function rawPiscina(n: number, workers: number): Promise<number> {
	const t0 = performance.now();
	const pool = new Piscina({ filename: join(FIX, 'raw-worker.js'), minThreads: workers, maxThreads: workers });
	await Promise.all(Array.from({ length: n }, (_, i) => pool.run(i)));
	await pool.destroy();
	return performance.now() - t0;
}

/**
 * tinypool's child_process runtime passes its workers only the `env` option (otherwise an almost
 * empty environment), while Poolscope's workers inherit the user's, as a user's code expects. A
 * variable like NODE_EXTRA_CA_CERTS changes what a Node start costs, so both get the same.
 */
const SAME_ENV = { ...process.env } as Record<string, string>;

async function rawTinypool(n: number, workers: number): Promise<number> {
	// tinypool is ESM-only: loaded the way a CommonJS bundle can.
	const { default: Tinypool } = await import('tinypool');
	const t0 = performance.now();
	const pool = new Tinypool({ filename: join(FIX, 'raw-worker.js'), runtime: 'child_process', minThreads: workers, maxThreads: workers, env: SAME_ENV });
	await Promise.all(Array.from({ length: n }, (_, i) => pool.run(i)));
	await pool.destroy();
	return performance.now() - t0;
}

/** `calls` CPU-bound calls on a raw pool of `workers`: piscina threads or tinypool processes. */
async function rawCpu(kind: 'piscina' | 'tinypool', calls: number[], workers: number): Promise<number> {
	const Tinypool = kind === 'tinypool' ? (await import('tinypool')).default : undefined;
	const t0 = performance.now();
	const filename = join(FIX, 'raw-fib.js');
	const pool = Tinypool ? new Tinypool({ filename, runtime: 'child_process', minThreads: workers, maxThreads: workers, env: SAME_ENV }) : new Piscina({ filename, minThreads: workers, maxThreads: workers });
	await Promise.all(calls.map((n) => pool.run(n)));
	await pool.destroy();
	return performance.now() - t0;
}

async function best(f: () => Promise<number>, reps: number): Promise<number> {
	let m = Infinity;
	for (let i = 0; i < reps; i++) {
		m = Math.min(m, await f());
	}
	return m;
}

const jsBench: BenchSection = async ({ quick }) => {
	const rows: BenchRow[] = [];
	const workers = Math.min(2, availableParallelism());
	const reps = quick ? 1 : 3;
	const pairs = quick ? 1 : 7;
	const n = quick ? 5_000 : 20_000;
	const t = await pairedRatio(() => ours('thread', 'noop', String(n), workers), () => rawPiscina(n, workers), pairs);
	rows.push({ name: `JS thread pool, ${n} no-op tasks, vs raw piscina`, ratio: t.ratio, goal: 0.95, detail: `median of ${pairs} pairs; piscina ${t.raw.toFixed(0)} ms, Poolscope ${t.ours.toFixed(0)} ms (bundling, events and all; Poolscope sends short calls in batches, piscina one message per call)` });
	const pn = quick ? 2_000 : 10_000;
	const p = await pairedRatio(() => ours('process', 'noop', String(pn), workers), () => rawTinypool(pn, workers), pairs);
	const proc = p.ours;
	rows.push({ name: `JS process pool, ${pn} no-op tasks, vs tinypool child_process`, ratio: p.ratio, goal: 1.0, detail: `median of ${pairs} pairs; tinypool ${p.raw.toFixed(0)} ms, Poolscope ${p.ours.toFixed(0)} ms` });
	const procChunk = await best(() => oursChunked(pn, workers), reps);
	rows.push({ name: `JS process pool, chunksize 100 vs 1 (${pn} no-ops)`, ratio: proc / procChunk, detail: `chunksize 1: ${proc.toFixed(0)} ms, chunksize 100: ${procChunk.toFixed(0)} ms` });
	// A literal, as the samples and the code lens write inputs (read as data, no thread to evaluate it).
	// ~6 s of serial work: a run pays its start once (here a worker thread ~75 ms before its first
	// task, a process ~190 ms, most of it Node's own start), which on the 1.2 s job used before
	// capped 2 workers at 1.88x (threads) and 1.6x (processes) even on perfect cores. The start is
	// shown in the detail; the no-op rows measure it against the raw libraries.
	const cpuInputs = JSON.stringify(Array.from({ length: workers * 6 }, () => [quick ? 30 : 39]));
	// On a shared VM the second core is not always there: the CPU-bound rows are read against this.
	const capacityBefore = await parallelCapacity();
	const cpuPairs = quick ? 1 : 3;
	for (const pool of ['thread', 'process'] as const) {
		// Paired with serial like the no-op rows: a core taken away for a second hits both sides.
		const starts: number[] = [];
		const c = await pairedRatio(() => ours(pool, 'fib', cpuInputs, workers, undefined, starts), () => ours('serial', 'fib', cpuInputs, 1), cpuPairs);
		rows.push({ name: `JS ${pool} pool, CPU-bound, ${workers} workers vs serial`, ratio: c.ratio, goal: workers * 0.95, detail: `median of ${cpuPairs} pairs; serial ${c.raw.toFixed(0)} ms, ${pool} ${c.ours.toFixed(0)} ms; first task ${median(starts).toFixed(0)} ms after the run's start` });
	}
	// The same job on the raw libraries, against the same kind of baseline (one thread): what a
	// pool that starts with the job reaches here without Poolscope.
	const fibs = (JSON.parse(cpuInputs) as number[][]).map((a) => a[0]!);
	const rawThread = await pairedRatio(() => rawCpu('piscina', fibs, workers), () => rawCpu('piscina', fibs, 1), cpuPairs);
	rows.push({ name: `raw piscina, CPU-bound, ${workers} threads vs 1 thread`, ratio: rawThread.ratio, detail: `median of ${cpuPairs} pairs; 1 thread ${rawThread.raw.toFixed(0)} ms, ${workers} threads ${rawThread.ours.toFixed(0)} ms (reference for the thread row)` });
	const rawProcess = await pairedRatio(() => rawCpu('tinypool', fibs, workers), () => rawCpu('piscina', fibs, 1), cpuPairs);
	rows.push({ name: `raw tinypool child_process, CPU-bound, ${workers} workers vs 1 thread`, ratio: rawProcess.ratio, detail: `median of ${cpuPairs} pairs; 1 piscina thread ${rawProcess.raw.toFixed(0)} ms, ${workers} tinypool processes ${rawProcess.ours.toFixed(0)} ms (reference for the process row)` });
	const capacityAfter = await parallelCapacity();
	rows.push({ name: 'machine: 2 busy Node processes together vs one after the other', ratio: Math.min(capacityBefore, capacityAfter), detail: `before the CPU-bound rows ${capacityBefore.toFixed(2)}x, after ${capacityAfter.toFixed(2)}x: no pool can beat this` });
	const cores = await coreTimes();
	if (cores) {
		rows.push({ name: 'machine: fastest core vs slowest, the same loop pinned to each', ratio: Math.min(...cores) / Math.max(...cores), detail: `${cores.map((ms, i) => `cpu${i} ${ms.toFixed(0)} ms`).join(', ')} (1.00 = equal cores; two workers on unequal cores cannot reach 2x)` });
	}
	if (process.env.NODE_EXTRA_CA_CERTS) {
		const withCerts = await nodeStartMs(process.env);
		const without = await nodeStartMs({ ...process.env, NODE_EXTRA_CA_CERTS: '' });
		rows.push({ name: 'machine: a Node start without NODE_EXTRA_CA_CERTS vs with it (set here)', ratio: withCerts / without, detail: `node ${process.version} -e '': ${withCerts.toFixed(0)} ms with ${process.env.NODE_EXTRA_CA_CERTS}, ${without.toFixed(0)} ms without; every process worker pays it (workers keep the user's environment)` });
	}
	const count = { events: 0, bytes: 0 };
	const big = quick ? 20_000 : 100_000;
	await ours('thread', 'noop', String(big), workers, count);
	rows.push({ name: `event stream, ${big} tasks: events per task`, ratio: count.events / big, detail: `${count.events} events` });
	rows.push({ name: `event stream, ${big} tasks: JSON bytes per task`, ratio: count.bytes / big, detail: `${(count.bytes / 1e6).toFixed(1)} MB` });
	return rows;

	async function oursChunked(nn: number, w: number): Promise<number> {
		const t0 = performance.now();
		const handle = startRun({ runId: `bench-chunk-${Math.random()}`, file: join(FIX, 'noop.js'), fn: 'noop', inputs: String(nn), language: 'javascript', pool: 'process', workers: w, chunksize: 100, cpuSampleMs: 0 }, () => undefined);
		await handle.done;
		return performance.now() - t0;
	}
};

export default jsBench;
