/** The instrumented Python runner against bare concurrent.futures, same machine, same run. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
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

/** This process's CPUs as taskset lists them ("0,1", "0-3"), or undefined without taskset. */
function affinity(): string | undefined {
	try {
		return /list:\s*(\S+)/.exec(execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' }))?.[1];
	} catch {
		return undefined;
	}
}

/**
 * `measure` with every Python process held on one core (a sitecustomize on PYTHONPATH, the same for
 * both sides) and this process's threads on another. A thread pool's run falls into one of two
 * modes by where the scheduler puts its threads (performance.md: GIL hand-offs across cores),
 * and our per-task work costs more in the slow one; held on one core, what is left is the
 * instrumentation's own cost. Shown beside the goal row, not instead of it: users' runs get every
 * core. Linux with taskset and two cores or more only.
 */
async function onOneCore<T>(measure: () => Promise<T>): Promise<T | undefined> {
	const cpus = affinity();
	const ids = cpus?.split(',').flatMap((part) => {
		const [a, b] = part.split('-').map(Number);
		return b === undefined ? [a!] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i);
	}) ?? [];
	if (process.platform !== 'linux' || ids.length < 2) {
		return undefined;
	}
	const dir = mkdtempSync(join(tmpdir(), 'poolscope-bench-core-'));
	writeFileSync(join(dir, 'sitecustomize.py'), `import os\nos.sched_setaffinity(0, {${ids[ids.length - 1]}})\n`);
	const saved = process.env.PYTHONPATH;
	process.env.PYTHONPATH = saved ? `${dir}${delimiter}${saved}` : dir;
	try {
		execFileSync('taskset', ['-a', '-c', '-p', String(ids[0]), String(process.pid)], { stdio: 'ignore' });
		return await measure();
	} finally {
		execFileSync('taskset', ['-a', '-c', '-p', cpus!, String(process.pid)], { stdio: 'ignore' });
		if (saved === undefined) {
			delete process.env.PYTHONPATH;
		} else {
			process.env.PYTHONPATH = saved;
		}
		rmSync(dir, { recursive: true, force: true });
	}
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
	if (!quick) {
		const pinned = await onOneCore(() => pairedRatio(() => ours('thread', n), () => Promise.resolve(bare(exe, 'thread', n)), 15));
		rows.push(pinned
			? { name: `  the same, each interpreter held on one core`, ratio: pinned.ratio, detail: `median of 15 pairs; bare ${pinned.raw.toFixed(0)} ms, Poolscope ${pinned.ours.toFixed(0)} ms: the instrumentation's own cost, without the scheduler's two modes` }
			: { name: `  the same, each interpreter held on one core`, ratio: 0, detail: 'skipped: needs Linux, taskset and two cores' });
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
