/** Realistic event streams for the panel tests: N tasks on W workers, some failing or cancelled. */
import type { PoolEvent } from '../../engine/protocol/events';

export interface SynthOptions {
	runId?: string;
	tasks: number;
	workers: number;
	fn?: string;
	language?: 'python' | 'javascript';
	pool?: 'thread' | 'process' | 'serial';
	failEvery?: number;
	cancel?: number[];
	taskMs?: number;
	result?: (i: number) => string;
	/** Each task's input preview (default `(i,)`). */
	input?: (i: number) => string;
	errorMessage?: string;
	/** Each worker is replaced after this many tasks (Python max_tasks_per_child): a new id. */
	recycleEvery?: number;
	/** Workers start `ready: false` and are ready this many ms later (a spawn pool's start). */
	startingMs?: number;
	/** Each task's CPU time as a share of its wall time (default 0.9: CPU-bound). */
	cpuShare?: number;
	/** A worker.waits event before the workers exit: per worker, a look every 10 ms from its first task on, the pattern's letters in turn. */
	waits?: (workerId: number) => string;
}

export function synthRun(o: SynthOptions): PoolEvent[] {
	const runId = o.runId ?? 'run-1';
	const t0 = 1_000_000;
	const taskMs = o.taskMs ?? 10;
	const events: PoolEvent[] = [];
	const cancelled = new Set(o.cancel ?? []);
	const file = (o.language ?? 'python') === 'python' ? '/work/samples/python/cpu_bound.py' : '/work/samples/js/cpu.js';
	events.push({ type: 'run.started', runId, t: t0, fn: o.fn ?? 'countdown', file, language: o.language ?? 'python', pool: o.pool ?? 'process', workers: o.workers, options: { workers: o.workers }, inputCount: o.tasks, cores: 2, runtime: 'CPython 3.11.7', ...((o.language ?? 'python') === 'python' ? { executable: '/usr/bin/python3' } : {}), stages: ['pending', 'executing'] });
	for (let w = 0; w < o.workers; w++) {
		events.push({ type: 'worker.started', runId, t: t0 + 1, workerId: w, pid: 4000 + w, ...(o.startingMs ? { ready: false as const } : {}) });
	}
	for (let i = 0; i < o.tasks; i++) {
		events.push({ type: 'task.submitted', runId, t: t0 + 2, taskId: i, input: o.input ? o.input(i) : `(${i},)` });
		events.push({ type: 'task.queued', runId, t: t0 + 2, taskId: i, stage: 'pending' });
	}
	const free = Array.from({ length: o.workers }, () => t0 + 5 + (o.startingMs ?? 0));
	const ids = Array.from({ length: o.workers }, (_, w) => w); // the worker in each position now
	const done = Array.from({ length: o.workers }, () => 0);
	let nextId = o.workers;
	const ordered: PoolEvent[] = [];
	if (o.startingMs) {
		for (let w = 0; w < o.workers; w++) {
			ordered.push({ type: 'worker.ready', runId, t: t0 + 1 + o.startingMs, workerId: w });
		}
	}
	for (let i = 0; i < o.tasks; i++) {
		if (cancelled.has(i)) {
			ordered.push({ type: 'task.cancelled', runId, t: t0 + 3, taskId: i, reason: 'cancelled by user', wasRunning: false });
			continue;
		}
		const w = free.indexOf(Math.min(...free));
		const start = free[w]!;
		const end = start + taskMs * (1 + (i % 3) * 0.5);
		free[w] = end + 0.5;
		const id = ids[w]!;
		ordered.push({ type: 'task.started', runId, t: start, taskId: i, workerId: id });
		if (o.recycleEvery && ++done[w]! === o.recycleEvery) {
			ordered.push({ type: 'worker.exited', runId, t: end + 0.2, workerId: id, code: 0, signal: null, reason: 'recycled' });
			ordered.push({ type: 'worker.started', runId, t: end + 0.4, workerId: nextId, pid: 4000 + nextId });
			ids[w] = nextId++;
			done[w] = 0;
		}
		if (i % 7 === 0) {
			ordered.push({ type: 'task.output', runId, t: start + 1, taskId: i, stream: 'stdout', text: `working on ${i}\n` });
		}
		if (o.failEvery && i % o.failEvery === o.failEvery - 1) {
			ordered.push({
				type: 'task.failed', runId, t: end, taskId: i, workerId: id, durationMs: end - start,
				error: { kind: 'exception', name: 'ValueError', message: o.errorMessage ?? `bad input ${i}`, stack: `Traceback (most recent call last):\n  File "${file}", line 12, in countdown\n    raise ValueError(...)\nValueError: bad input ${i}`, frames: [{ file, line: 12, function: 'countdown', user: true }] },
			});
		} else {
			ordered.push({ type: 'task.finished', runId, t: end, taskId: i, workerId: id, durationMs: end - start, cpuMs: (end - start) * (o.cpuShare ?? 0.9), result: o.result ? o.result(i) : `'done ${i}'` });
		}
	}
	ordered.sort((a, b) => a.t - b.t);
	for (const e of ordered) {
		events.push(e);
	}
	const last = Math.max(...free);
	if (o.waits) {
		const workers = ids.map((workerId) => {
			const pattern = o.waits!(workerId);
			const t: number[] = [];
			let seen = '';
			for (let k = 0, at = t0 + 5 + (o.startingMs ?? 0); at < last; k++, at += 10) {
				t.push(at);
				seen += pattern[k % pattern.length]!;
			}
			return { workerId, t, seen };
		});
		events.push({ type: 'worker.waits', runId, t: last, workers });
	}
	for (const id of ids) {
		events.push({ type: 'worker.exited', runId, t: last, workerId: id, code: 0, signal: null, reason: 'shutdown' });
	}
	const counts = { submitted: o.tasks, finished: 0, failed: 0, cancelled: cancelled.size, timedOut: 0, rejected: 0 };
	for (const e of ordered) {
		if (e.type === 'task.finished') {
			counts.finished++;
		} else if (e.type === 'task.failed') {
			counts.failed++;
		}
	}
	events.push({ type: 'run.finished', runId, t: last + 1, outcome: 'completed', wallMs: last + 1 - t0, counts, throughput: (o.tasks / (last + 1 - t0)) * 1000, workers: Array.from({ length: o.workers }, (_, w) => ({ workerId: w, pid: 4000 + w, tasks: Math.round(o.tasks / o.workers), busyMs: 10, utilization: 0.9 })) });
	return events;
}
