/**
 * One sentence of advice from what was measured, with the numbers behind it, and the
 * Amdahl fit of a sweep. Pure functions: unit-tested, used by the CLI and the panel.
 */
import { configLabel, type Measurement } from './measurement';
import { runWaited } from '../protocol/runModel';

const x = (v: number) => `${v.toFixed(2)}x`;

/** Speedup of each row against serial (compare, sweep) or against the first row (chunksize, runs). */
export function speedups(ms: Measurement[], against: 'serial' | 'first' = 'serial'): Map<Measurement, number> {
	const base = against === 'first' ? ms[0] : ms.find((m) => m.config.pool === 'serial') ?? ms.find((m) => m.config.workers === 1);
	return new Map(ms.map((m) => [m, base ? base.wallMs / m.wallMs : NaN]));
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** A chunksize sweep: the first row (chunksize 1) against the fastest. */
export function adviseChunksize(ms: Measurement[], language: string): string {
	const base = ms[0];
	const best = [...ms].sort((a, b) => a.wallMs - b.wallMs)[0];
	if (!base || !best) {
		return 'Nothing to compare yet.';
	}
	const gain = base.wallMs / best.wallMs;
	const pool = configLabel({ ...best.config, chunksize: undefined });
	if (best === base || gain < 1.1) {
		return `Chunks do not pay here: chunksize ${base.config.chunksize} is within ${x(gain)} of the fastest on ${pool}; the tasks are long enough that per-task messages are not the cost.`;
	}
	const how = language === 'python' ? `executor.map(fn, items, chunksize=${best.config.chunksize})` : `chunksize ${best.config.chunksize}`;
	return `Tiny tasks: per-task messages dominate; chunksize ${best.config.chunksize} is ${x(gain)} faster than chunksize ${base.config.chunksize} on ${pool} (${secs(best.wallMs)} vs ${secs(base.wallMs)}); use ${how}.`;
}

/** Two runs from the history: the second against the first, and whether that is fair. */
export function adviseRuns(a: Measurement, b: Measurement, sameWork: boolean): string {
	const r = a.wallMs / b.wallMs;
	const verdict = r >= 1 ? `${x(r)} faster` : `${x(1 / r)} slower`;
	const caveat = sameWork ? '' : ' They ran different functions or inputs, so this compares different work.';
	const failed = a.failed + b.failed ? ` Failed or timed-out tasks: ${a.failed} in A, ${b.failed} in B.` : '';
	return `B (${configLabel(b.config)}, ${secs(b.wallMs)}) is ${verdict} than A (${configLabel(a.config)}, ${secs(a.wallMs)}).${caveat}${failed}`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** A pool has to beat serial by this much to be worth recommending (run-to-run noise is ~5-10% here). */
export const CLEAR_GAIN = 1.1;

/** Python threads that waited this share of their time for the GIL ran their Python one at a time. */
const GIL_BOUND = 0.3;

/** Share of the serial task's looks on a CPU past which a low CPU share was a wait for a core. */
const ON_CPU_SEEN = 0.7;

/** The serial run's looks inside its tasks that found it on a CPU (or runnable), when enough to say. */
function serialOnCpu(serial: Measurement | undefined): number | undefined {
	const waited = runWaited(serial?.seen);
	return waited ? serial!.seen![0]! / waited.looks : undefined;
}

/** Share of the calls that returned an awaitable from which the advice speaks of one event loop. */
const AWAITED = 0.5;

/** Other processes' share of the machine (0..1) past which a low CPU share may be waits for a core. */
const CROWDED = 0.3;

export function advise(ms: Measurement[], cores: number, language: string): string {
	const s = speedups(ms);
	const serial = ms.find((m) => m.config.pool === 'serial');
	// A configuration whose tasks failed or timed out (and serial's did not) did other work than
	// the rest: its time is not a speedup, and it is never the one recommended.
	const clean = (m: Measurement) => m.failed <= (serial?.failed ?? 0);
	const fastest = (pool: string) => ms.filter((m) => m.config.pool === pool && clean(m)).sort((a, b) => a.wallMs - b.wallMs)[0];
	const thread = fastest('thread');
	const proc = fastest('process');
	// Thread tasks carry no CPU time on Node < 23.9; a process pool's always do. Without either (a
	// JS thread sweep read "Mixed CPU and waiting (CPU ?% of wall)"), the serial call's looks say it.
	const cpuTimes = serial?.cpuShare ?? thread?.cpuShare ?? proc?.cpuShare;
	const onCpu = serialOnCpu(serial);
	const cpu = cpuTimes ?? onCpu;
	const pct = (v: number) => Math.round(v * 100);
	const share = (v: number) => (cpuTimes !== undefined ? `CPU ${pct(v)}% of wall` : `seen on a CPU ${pct(v)}% of the time`);
	const ratio = (v: number) => (cpuTimes !== undefined ? `CPU time / wall time ${v.toFixed(2)} per task` : `seen on a CPU ${pct(v)}% of the time`);
	const figures = [thread ? `${plural(thread.config.workers, 'thread', 'threads')} ${x(s.get(thread)!)}` : '', proc ? `${plural(proc.config.workers, 'process', 'processes')} ${x(s.get(proc)!)}` : ''].filter(Boolean).join(', ');
	const failures = ms.filter((m) => m.failed > 0).map((m) => `${configLabel(m.config)} ${m.failed}`);
	const failedNote = failures.length ? ` Tasks that failed or timed out: ${failures.join(', ')}${ms.some((m) => !clean(m)) ? ' (a configuration with more than serial\'s did other work, and is left out)' : ''}.` : '';
	// CPU-bound Python threads that waited for the GIL ran one at a time: a lead they show is the
	// noise of a short run (compare once recommended a thread pool for countdown on 1.14x vs
	// serial's 1.00 and processes' 1.13x). Threads that did not wait (C code that releases the
	// GIL) do scale, and count.
	const gilBound = (m: Measurement | undefined): boolean => language === 'python' && cpu !== undefined && cpu > 0.7 && m?.config.pool === 'thread' && (m.gilWaitShare ?? 0) >= GIL_BOUND;
	const best = [thread, proc].filter((m): m is Measurement => Boolean(m) && !gilBound(m)).sort((a, b) => a.wallMs - b.wallMs)[0] ?? thread;
	if (!best) {
		return `Nothing to compare yet.${failedNote}`;
	}
	const gilNoise = thread && gilBound(thread) && s.get(thread)! >= CLEAR_GAIN
		? ` The threads' ${x(s.get(thread)!)} is noise: they waited ${Math.round(thread.gilWaitShare! * 100)}% of their time for the GIL, running Python one at a time.`
		: '';
	const bestX = s.get(best)!;
	// The serial run uses one core at most: what the machine's CPU read beyond it was other
	// processes, and a task that waited for a core then reads as waiting (fib read "CPU 28%").
	const others = serial?.machineCpu !== undefined ? serial.machineCpu - Math.min(1, serial.cpuShare ?? 1) / cores : 0;
	// The looks tell a wait for a core from I/O or a lock: a runnable task reads as on a CPU there
	// (fib in a busy code-server read "CPU 29% of wall" with the machine's figure ~40%: other
	// processes came and went between its two reads).
	const crowded = others >= CROWDED
		? `, while other processes kept the machine ${Math.round(others * 100)}% busy: part of that wait was for a core`
		: onCpu !== undefined && onCpu >= ON_CPU_SEEN ? `, yet it was seen on a CPU or waiting for one ${Math.round(onCpu * 100)}% of the time: the rest was a wait for a core, not I/O or a lock` : '';
	const kind = cpu === undefined ? 'Unknown CPU share' : cpu > 0.7 ? `CPU-bound (${ratio(cpu)})` : cpu < 0.3 ? `Waits dominate (${share(cpu)}${crowded})` : `Mixed CPU and waiting (${share(cpu)}${crowded})`;
	if (serial && (!(bestX >= CLEAR_GAIN) || gilBound(best))) {
		// Never recommend what lost to serial, or won by less than the noise.
		const why = (): string => {
			if (serial.taskMs !== undefined && serial.taskMs < 1) {
				return 'each call takes under a millisecond, so a pool\'s start-up and per-task messages cost more than the work they spread';
			}
			if (language === 'python' && cpu !== undefined && cpu > 0.7 && best.config.pool === 'thread') {
				return 'the GIL lets one thread run Python at a time';
			}
			if (others >= CROWDED) {
				return `other processes kept the machine ${Math.round(others * 100)}% busy, so the workers had little CPU to share: compare again on a quieter machine`;
			}
			// The pool's own start and end, as measured: its wall time outside its tasks' span (a
			// 1.05 s serial run was called "not much more than starting a pool", which took 0.15 s).
			const overhead = best.taskSpanMs !== undefined ? Math.max(0, best.wallMs - best.taskSpanMs) : undefined;
			if (overhead !== undefined ? serial.wallMs < 3 * overhead : serial.wallMs < 2000) {
				return `the whole serial run took ${secs(serial.wallMs)}, not much more than ${overhead !== undefined ? `the pool's own start and end (${secs(overhead)})` : 'starting a pool costs'}`;
			}
			return 'the work did not spread over the workers';
		};
		return `${kind}: ${figures} on ${cores} cores: no pool was clearly faster than serial (the best, ${configLabel(best.config)}, ${x(bestX)}): ${why()}. Keep it serial, or give each call more work.${gilNoise}${failedNote}`;
	}
	if (cpu !== undefined && cpu > 0.7) {
		const busy = thread?.machineCpu !== undefined ? `: the machine was ${Math.round(thread.machineCpu * 100)}% busy with threads` : '';
		const gil = language === 'python' && thread && s.get(thread)! < 1.15 && !gilNoise ? ` (the GIL lets one thread run Python at a time${busy})` : '';
		const slower = slowerTogether(best, serial, cores);
		if (best.config.pool === 'process') {
			return `CPU-bound (${ratio(cpu)}): ${figures} on ${cores} cores${gil}; use a process pool with ${plural(Math.min(best.config.workers, cores), 'worker', 'workers')}.${slower}${gilNoise}${failedNote}`;
		}
		return `CPU-bound (${ratio(cpu)}): ${figures} on ${cores} cores; use a thread pool with ${plural(Math.min(best.config.workers, cores), 'worker', 'workers')}.${slower}${failedNote}`;
	}
	if (cpu !== undefined && cpu < 0.3) {
		if (best.config.pool !== 'thread') {
			// Not the textbook case: say what was measured rather than recommend what lost.
			return `Waits dominate (${share(cpu)}), yet threads did not come out ahead here: ${figures} on ${cores} cores; the ${best.config.pool} pool was fastest at ${x(bestX)} (with tasks this short, start-up and messages weigh more than the work).${failedNote}`;
		}
		const threads = `${plural(best.config.workers, 'thread', 'threads')} ${x(bestX)}`;
		// A JS developer told "use threads" for calls that await would put each fetch on a worker
		// thread: the textbook for async code is one event loop awaiting them all. The pool's
		// figure stays, as what giving each call a loop of its own bought.
		if (Math.max(0, ...ms.map((m) => m.awaitedShare ?? 0)) >= AWAITED) {
			return language === 'python'
				? `Waits dominate (${share(cpu)}): ${figures} on ${cores} cores. The calls are coroutines (async def), each run by an asyncio.run of its own in a worker: if they wait by awaiting (not time.sleep or blocking I/O), one event loop awaits them all at once, with no pool: asyncio.gather in a single thread. Threads (${threads}) only give each call a loop of its own.${failedNote}`
				: `Waits dominate (${share(cpu)}): ${figures} on ${cores} cores. The calls return promises, each awaited on its own by a worker: if they wait by awaiting (not a *Sync call or Atomics.wait), one event loop awaits them all at once, with no pool: start them together (Promise.all) on the main thread. Threads (${threads}) only give each call an event loop of its own.${failedNote}`;
		}
		// A comparison runs as many threads as cores: how far past them is the next question.
		const further = ms.every((m) => m.config.pool !== 'thread' || m.config.workers <= cores) ? ' A sweep of thread counts shows how far.' : '';
		return `Waits dominate (${share(cpu)}): ${figures} on ${cores} cores; use threads: they scale past the core count for waiting work (${threads}).${further}${failedNote}`;
	}
	const what = cpu !== undefined ? `Mixed CPU and waiting (${share(cpu)})` : 'CPU share unknown (no task CPU times, and too few looks at the serial run)';
	return `${what}: ${figures}; the ${best.config.pool} pool was fastest at ${x(bestX)}.${failedNote}`;
}

/**
 * Why N busy workers on N cores stay short of Nx when each was busy, not waiting: the same call
 * took longer in the pool than alone. The cores themselves ran slower with all of them busy: a
 * VM's virtual CPUs sharing or unequal hardware (one of this machine's ran a loop 1.65x slower
 * than the other), hyperthreads of one physical core, a thermal limit. The user's code and the
 * pool are not the cause, and the textbook's "2 cores = 2x" does not hold on that machine.
 */
function slowerTogether(pool: Measurement, serial: Measurement | undefined, cores: number): string {
	// Calls under 5 ms are timed too coarsely (and start-up weighs on them) to say the cores ran slower.
	if (!serial?.taskMs || serial.taskMs < 5 || !pool.taskMs || pool.cpuShare === undefined || pool.cpuShare < 0.85 || pool.config.workers > cores || pool.config.workers < 2) {
		return '';
	}
	const slowdown = pool.taskMs / serial.taskMs;
	if (slowdown < 1.2) {
		return '';
	}
	const n = pool.config.workers;
	return ` Each call took ${x(slowdown)} as long in the pool as alone (${secs(pool.taskMs)} vs ${secs(serial.taskMs)}) with its CPU busy throughout: this machine's cores ran slower with ${n} busy at once (virtual CPUs sharing hardware, hyperthreads of one core, or heat), so ${n} workers cannot reach ${n}x here.`;
}

/**
 * Amdahl's law fit on a sweep: speedup(n) = 1 / (s + (1 - s) / n); least squares on s in [0, 1].
 * Returns the serial fraction s.
 */
export function amdahlSerialFraction(points: { workers: number; speedup: number }[]): number {
	let bestS = 0;
	let bestErr = Infinity;
	for (let i = 0; i <= 1000; i++) {
		const sf = i / 1000;
		let err = 0;
		for (const p of points) {
			const model = 1 / (sf + (1 - sf) / p.workers);
			err += (model - p.speedup) ** 2;
		}
		if (err < bestErr) {
			bestErr = err;
			bestS = sf;
		}
	}
	return bestS;
}

/**
 * The fit over the workers that can run at once: past the core count a CPU-bound curve falls
 * for lack of cores, not because of a serial part, and would skew the fraction.
 */
export function amdahlFit(points: { workers: number; speedup: number }[], cores: number): number {
	const within = points.filter((p) => p.workers <= cores);
	return amdahlSerialFraction(within.length >= 2 ? within : points);
}
