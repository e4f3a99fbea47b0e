/**
 * What a comparison measures, as plain data: the browser bundle (the panel) imports this file,
 * so it must not reach the engine's Node code.
 */
import { megabytes, WAIT_LETTERS, type PoolEvent, type WaitLetter, type PoolKind, type PythonStartMethod, type RunFinishedEvent } from '../protocol/events';
import { looksBetween, looksText, runWaited, WAIT_WORDS, type WorkerModel } from '../protocol/runModel';

export interface Config {
	pool: PoolKind;
	workers: number;
	chunksize?: number;
	/** Python process pools; absent: the request's (or the platform's) default. */
	startMethod?: PythonStartMethod;
	/** Python: chunksize only applies to `map`. */
	mode?: 'submit' | 'map';
}

/** "process ×2 (spawn, chunksize 10)": how tables, charts and advice name a configuration. */
export function configLabel(c: Config): string {
	const extra = [c.startMethod, c.chunksize !== undefined ? `chunksize ${c.chunksize}` : ''].filter(Boolean).join(', ');
	return `${c.pool} ×${c.workers}${extra ? ` (${extra})` : ''}`;
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
	/** The whole machine's average CPU utilization during the (median) run, 0..1 of all cores. */
	machineCpu?: number;
	/** Mean wall time of a finished task (median run), ms: the same call alone vs in a busy pool. */
	taskMs?: number;
	/** First task's start to last task's end (median run), ms: the run without the workers' start and end. */
	taskSpanMs?: number;
	/** The most the run's own processes held at once (median run), bytes: one interpreter for
	 * threads, one per worker more for processes. */
	peakRss?: number;
	/** JS thread pools: the most their worker threads' heaps held together (median run), bytes. */
	peakHeap?: number;
	/** What the workers were seen doing inside their tasks (worker.waits, median run): look counts
	 * by WAIT_LETTERS index (CPU, GIL, lock, either, I/O). */
	seen?: number[];
	/** Share of the ended tasks (median run) whose call returned an awaitable the worker awaited
	 * (RunFinishedEvent.awaitedTasks): their waits could overlap on one event loop. */
	awaitedShare?: number;
	outcome: RunFinishedEvent['outcome'];
	failed: number;
}

/** Sums over a run's finished tasks, for a Measurement (a live comparison and measureRun share it). */
export class TaskTotals {
	private cpu = 0;
	private wall = 0;
	private taskWall = 0;
	private tasks = 0;
	private firstStart = Infinity;
	private lastEnd = -Infinity;
	private memory: number | undefined;
	private heap: number | undefined;
	/** Per worker: its looks (as the run model keeps them) and its tasks' spans, start, end, start, end... */
	private readonly looks = new Map<number, Pick<WorkerModel, 'looks'>>();
	private readonly spans = new Map<number, number[]>();

	public add(e: PoolEvent): void {
		if (e.type === 'worker.waits') {
			for (const w of e.workers) {
				const l = this.looks.get(w.workerId)?.looks ?? { t: [], seen: [] };
				for (let i = 0; i < w.t.length; i++) {
					l.t.push(w.t[i]!);
					l.seen.push(WAIT_LETTERS.indexOf(w.seen[i] as WaitLetter));
				}
				this.looks.set(w.workerId, { looks: l });
			}
			return;
		}
		if (e.type === 'memory.sample') {
			if (e.main !== undefined || e.workers.length) {
				this.memory = Math.max(this.memory ?? 0, e.workers.reduce((sum, w) => sum + w.rss, e.main ?? 0));
			}
			if (e.threads?.length) {
				this.heap = Math.max(this.heap ?? 0, e.threads.reduce((sum, w) => sum + w.heap, 0));
			}
			return;
		}
		if (e.type !== 'task.finished') {
			return;
		}
		this.taskWall += e.durationMs;
		this.tasks++;
		this.firstStart = Math.min(this.firstStart, e.t - e.durationMs);
		this.lastEnd = Math.max(this.lastEnd, e.t);
		const spans = this.spans.get(e.workerId) ?? [];
		spans.push(e.t - e.durationMs, e.t);
		this.spans.set(e.workerId, spans);
		if (e.cpuMs !== undefined) {
			this.cpu += e.cpuMs;
			this.wall += e.durationMs;
		}
	}

	/** Sum of task CPU time / sum of their wall time, over the tasks whose CPU was read. */
	public get cpuShare(): number | undefined {
		return this.wall > 0 ? this.cpu / this.wall : undefined;
	}

	public get taskMs(): number | undefined {
		return this.tasks ? this.taskWall / this.tasks : undefined;
	}

	public get taskSpanMs(): number | undefined {
		return this.tasks ? this.lastEnd - this.firstStart : undefined;
	}

	public get peakRss(): number | undefined {
		return this.memory;
	}

	public get peakHeap(): number | undefined {
		return this.heap;
	}

	/** Looks inside finished tasks, counted by WAIT_LETTERS index; undefined when none. */
	public get seen(): number[] | undefined {
		const counts = WAIT_LETTERS.map(() => 0);
		let n = 0;
		for (const [workerId, w] of this.looks) {
			const spans = this.spans.get(workerId) ?? [];
			for (let i = 0; i < spans.length; i += 2) {
				looksBetween(w, spans[i]!, spans[i + 1]!)?.forEach((c, k) => {
					counts[k]! += c;
					n += c;
				});
			}
		}
		return n ? counts : undefined;
	}
}

/**
 * A comparison's "seen" cell: what the workers waited on most inside their tasks when that was
 * at least a fifth of the looks ("GIL 45%", "lock 62%", "I/O 98%"), else their time on a CPU
 * ("CPU 97%"); '' without enough looks. The cell's title says every share (looksText).
 */
export function seenLabel(m: Measurement): { text: string; title: string } {
	const seen = m.seen;
	const waited = runWaited(seen);
	if (!seen || !waited) {
		return { text: '', title: '' };
	}
	const kind = waited.kind ?? 0;
	return { text: `${WAIT_WORDS[kind]} ${Math.round((seen[kind]! / waited.looks) * 100)}%`, title: `inside their tasks the workers were ${looksText(seen)}` };
}

/** "52.4 MB" for the run's processes, "heap 14.0 MB" for a JS thread pool's threads, or ''. */
export function peakMemoryLabel(m: Measurement): string {
	return m.peakRss !== undefined ? megabytes(m.peakRss) : m.peakHeap !== undefined ? `heap ${megabytes(m.peakHeap)}` : '';
}

/**
 * An Amdahl fit in words: its serial fraction and the speedup it allows. A fit of 0 (the grid's
 * step is 0.1%) found no serial part: its limit is no figure (it read "at most 1000.0x").
 */
export function amdahlSentence(serialFraction: number): string {
	const limit = serialFraction < 0.0005 ? 'no serial part measured, so no limit in sight' : `so at most ${(1 / serialFraction).toFixed(1)}x however many workers`;
	return `Amdahl fit: serial fraction ${(serialFraction * 100).toFixed(1)}%, ${limit}`;
}

/** A config's unset fields must not erase the base request's (e.g. its start method). */
export function definedOnly(c: Config): Partial<Config> {
	return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
}

/** The figures of one finished run, as a comparison row (two runs from the history). */
export function measureRun(events: readonly PoolEvent[]): Measurement | undefined {
	let end: RunFinishedEvent | undefined;
	let pool: PoolKind | undefined;
	let workers = 1;
	let chunksize: number | undefined;
	let startMethod: PythonStartMethod | undefined;
	const totals = new TaskTotals();
	let runId: string | undefined;
	let samples = 0;
	let machine = 0;
	for (const e of events) {
		totals.add(e);
		if (e.type === 'cpu.sample') {
			samples++;
			machine += e.total;
		}
		if (e.type === 'run.started') {
			pool = e.pool;
			workers = e.workers;
			chunksize = e.options.chunksize ?? undefined;
			startMethod = e.startMethod;
			runId = e.runId;
		} else if (e.type === 'run.finished') {
			end = e;
		}
	}
	if (!end || !pool) {
		return undefined;
	}
	return {
		config: definedOnly({ pool, workers, chunksize, startMethod }) as Config,
		runId,
		wallMs: end.wallMs,
		minMs: end.wallMs,
		maxMs: end.wallMs,
		cpuShare: totals.cpuShare,
		gilWaitShare: end.gilWaitShare,
		machineCpu: samples ? machine / samples : undefined,
		taskMs: totals.taskMs,
		taskSpanMs: totals.taskSpanMs,
		peakRss: totals.peakRss,
		peakHeap: totals.peakHeap,
		seen: totals.seen,
		awaitedShare: awaitedShare(end),
		outcome: end.outcome,
		failed: end.counts.failed + end.counts.timedOut,
	};
}

/** RunFinishedEvent.awaitedTasks as a share of the tasks that ended finished or failed. */
export function awaitedShare(end: RunFinishedEvent): number | undefined {
	const ended = end.counts.finished + end.counts.failed;
	return end.awaitedTasks && ended ? end.awaitedTasks / ended : undefined;
}
