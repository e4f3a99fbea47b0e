/** The instrumented Python runner against bare concurrent.futures, same machine, same run. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { PoolKind } from '../../engine/protocol/events';
import { findPython, realInterpreter } from '../../engine/python/interpreter';
import { startRun } from '../../engine/startRun';
import type { BenchRow, BenchSection } from './benchTypes';
import { pairedRatio } from './pairedRatio';

const FIX = join(__dirname, '..', '..', '..', 'test', 'bench', 'fixtures');

async function ours(pool: PoolKind, n: number, mode: 'submit' | 'map' = 'submit', chunksize?: number): Promise<number> {
	const t0 = performance.now();
	const handle = startRun({ runId: `pybench-${Math.random()}`, file: join(FIX, 'noop.py'), fn: 'noop', inputs: String(n), language: 'python', pool, workers: 2, mode, chunksize, cpuSampleMs: 0 }, () => undefined);
	const end = await handle.done;
	if (end.counts.finished !== n) {
		throw new Error(`bench run failed: ${JSON.stringify(end.counts)} ${end.error?.message ?? ''}`);
	}
	return performance.now() - t0;
}

/** Wall time of a bare executor, measured from outside like ours (interpreter start included). */
function bare(python: string, kind: string, n: number, chunksize = 1): number {
	const t0 = performance.now();
	execFileSync(python, [join(FIX, 'bare_pool.py'), kind, String(n), String(chunksize), FIX], { encoding: 'utf8' });
	return performance.now() - t0;
}

const pythonBench: BenchSection = async ({ quick }) => {
	const py = findPython();
	if (!py.ok) {
		return [{ name: 'Python pools', ratio: 0, detail: `skipped: ${py.message}` }];
	}
	const rows: BenchRow[] = [];
	// Both sides start the same binary (Poolscope runs the interpreter behind a pyenv shim directly).
	const exe = await realInterpreter(py.path);
	const n = quick ? 1_000 : 5_000;
	const reps = quick ? 1 : 3;
	// The bare side's start swings by +-25% run to run here (780-1,282 ms for the same 5,000
	// process-pool submits, minutes apart): more pairs than the JS rows for a steadier median.
	const pairs = quick ? 1 : 11;
	// Poolscope's first run in a folder starts Python through the launcher (a pyenv shim here,
	// ~300 ms) and later ones the binary it found; the bare side starts that binary every time.
	await ours('thread', 10);
	for (const kind of ['process', 'thread'] as const) {
		// A thread pool's run falls at random, on either side, into one of two modes ~1.5x apart
		// (GIL ping-pong on the executor's idle semaphore: performance.md); at ~0.15 s a pair, 31
		// pairs keep the median from following where a few of them fell.
		const kindPairs = kind === 'thread' && !quick ? 31 : pairs;
		const p = await pairedRatio(() => ours(kind, n), () => Promise.resolve(bare(exe, kind, n)), kindPairs);
		rows.push({ name: `Python ${kind} pool, ${n} no-op submits, vs bare executor`, ratio: p.ratio, goal: 0.9, detail: `median of ${kindPairs} pairs; bare ${p.raw.toFixed(0)} ms, Poolscope ${p.ours.toFixed(0)} ms (interpreter start included in both)` });
	}
	let one = Infinity;
	let hundred = Infinity;
	for (let i = 0; i < reps; i++) {
		one = Math.min(one, await ours('process', n, 'map', 1));
		hundred = Math.min(hundred, await ours('process', n, 'map', 100));
	}
	rows.push({ name: `Python process map, chunksize 100 vs 1 (${n} no-ops)`, ratio: one / hundred, detail: `chunksize 1: ${one.toFixed(0)} ms, chunksize 100: ${hundred.toFixed(0)} ms` });
	return rows;
};

export default pythonBench;
