/**
 * A run as a Chrome trace-event JSON document (the format Perfetto and chrome://tracing open):
 * one thread lane per worker with a slice per task, counters for queue depths and CPU.
 * Pure: used by the panel's export and by the CLI.
 */
import { WAIT_LETTERS, type PoolEvent } from '../protocol/events';
import { failedState, taskEndTime, WAIT_LABELS } from '../protocol/runModel';

export interface TraceEvent {
	name: string;
	ph: 'X' | 'M' | 'C' | 'i';
	/** Microseconds since the run started. */
	ts: number;
	dur?: number;
	pid: number;
	tid?: number;
	cat?: string;
	s?: 'g' | 'p' | 't';
	args?: Record<string, unknown>;
}

export interface ChromeTrace {
	traceEvents: TraceEvent[];
	displayTimeUnit: 'ms';
	metadata: Record<string, unknown>;
}

const PID = 1;
/** Wait slices kept per trace (two GIL-bound threads make ~100 a second each). */
const MAX_WAIT_SLICES = 200_000;
const ENDED = { failed: 'failed', timedOut: 'timed out', rejected: 'rejected' } as const;

export function toChromeTrace(events: readonly PoolEvent[]): ChromeTrace {
	const out: TraceEvent[] = [];
	const t0 = events.find((e) => e.type === 'run.started')?.t ?? events[0]?.t ?? 0;
	const us = (t: number) => Math.max(0, Math.round((t - t0) * 1000));
	const running = new Map<number, { workerId: number; t: number }>();
	const inputs = new Map<number, string>();
	const metadata: Record<string, unknown> = {};
	/** What each worker was seen doing (worker.waits), in order: each look's time and letter. */
	const looks = new Map<number, { t: number[]; seen: string[] }>();
	/** Workers that started not ready: since when (their start is a slice of its own). */
	const starting = new Map<number, number>();
	const end = (taskId: number, eventT: number, durationMs: number | undefined, name: string, args: Record<string, unknown>, workerId?: number) => {
		const start = running.get(taskId);
		if (!start) {
			// Ended on a worker before its start was seen (a JS process worker that died within the
			// start poll): a mark on that lane, not a slice of a length nobody measured.
			if (workerId !== undefined) {
				out.push({ name, cat: 'task', ph: 'i', s: 't', ts: us(eventT), pid: PID, tid: workerId, args: { taskId, input: inputs.get(taskId), ...args } });
			}
			return;
		}
		running.delete(taskId);
		// The work's own end (start + duration), not when its result arrived: slices on a lane never overlap.
		const t = taskEndTime(eventT, start.t, durationMs);
		out.push({ name, cat: 'task', ph: 'X', ts: us(start.t), dur: Math.max(1, us(t) - us(start.t)), pid: PID, tid: start.workerId, args: { taskId, input: inputs.get(taskId), ...args } });
	};
	// Output can come before its task's start (a JS thread's output channel is faster than the
	// start poll): each task's worker is known up front.
	const workerOf = new Map<number, number>();
	for (const e of events) {
		if ((e.type === 'task.started' || e.type === 'task.finished' || e.type === 'task.failed') && e.workerId !== undefined) {
			workerOf.set(e.taskId, e.workerId);
		}
	}
	for (const e of events) {
		switch (e.type) {
			case 'run.started':
				Object.assign(metadata, { fn: e.fn, file: e.file, language: e.language, pool: e.pool, workers: e.workers, cores: e.cores, runtime: e.runtime, startMethod: e.startMethod });
				out.push({ name: 'process_name', ph: 'M', ts: 0, pid: PID, args: { name: `${e.fn} on a ${e.pool} pool (${e.workers} workers)` } });
				break;
			case 'worker.started':
				out.push({ name: 'thread_name', ph: 'M', ts: 0, pid: PID, tid: e.workerId, args: { name: `worker ${e.workerId}${e.pid ? ` (pid ${e.pid})` : e.threadId !== undefined ? ` (thread ${e.threadId})` : ''}` } });
				if (e.ready === false) {
					starting.set(e.workerId, e.t);
				}
				break;
			case 'worker.ready': {
				const from = starting.get(e.workerId);
				if (from !== undefined) {
					starting.delete(e.workerId);
					out.push({ name: 'starting', cat: 'worker', ph: 'X', ts: us(from), dur: Math.max(1, us(e.t) - us(from)), pid: PID, tid: e.workerId, args: {} });
				}
				break;
			}
			case 'task.submitted':
				inputs.set(e.taskId, e.input);
				break;
			case 'task.started':
				running.set(e.taskId, { workerId: e.workerId, t: e.t });
				break;
			case 'task.finished':
				end(e.taskId, e.t, e.durationMs, `task ${e.taskId}`, { result: e.result, cpuMs: e.cpuMs });
				break;
			case 'task.failed':
				// As the panel names its state: a timeout read as "(failed)" in Perfetto.
				end(e.taskId, e.t, e.durationMs, `task ${e.taskId} (${ENDED[failedState(e.error)]})`, { error: `${e.error.name}: ${e.error.message}`, kind: e.error.kind }, e.workerId);
				break;
			case 'task.output': {
				// On the lane of the task's worker; the run's when it never had one.
				const lane = workerOf.get(e.taskId);
				out.push({ name: `output (${e.stream})`, ph: 'i', ts: us(e.t), pid: PID, ...(lane === undefined ? { s: 'p' } : { s: 't', tid: lane }), args: { taskId: e.taskId, text: e.text } });
				break;
			}
			case 'worker.exited':
				// A crash, a kill or a recycling is a mark on the worker's lane; an orderly shutdown is not worth one.
				if (e.reason !== 'shutdown') {
					const how = [e.code !== null ? `code ${e.code}` : '', e.signal ?? ''].filter(Boolean).join(', ');
					out.push({ name: `worker ${e.workerId} exited: ${e.reason}${how ? ` (${how})` : ''}`, ph: 'i', s: 't', ts: us(e.t), pid: PID, tid: e.workerId, args: { code: e.code, signal: e.signal, reason: e.reason } });
				}
				break;
			case 'task.cancelled':
				end(e.taskId, e.t, undefined, `task ${e.taskId} (cancelled)`, { reason: e.reason });
				break;
			case 'queue.depth':
				out.push({ name: 'queue depth', ph: 'C', ts: us(e.t), pid: PID, args: { ...e.depths } });
				break;
			case 'cpu.sample':
				out.push({ name: 'CPU %', ph: 'C', ts: us(e.t), pid: PID, args: { total: Math.round(e.total * 100) } });
				break;
			case 'worker.cpu':
				// One counter track: each worker's own CPU, % of a core (busy is not computing).
				out.push({ name: 'worker CPU % of a core', ph: 'C', ts: us(e.t), pid: PID, args: Object.fromEntries(e.workers.map((w) => [`worker ${w.workerId}`, Math.round(w.share * 100)])) });
				break;
			case 'memory.sample':
				out.push({ name: 'memory MB', ph: 'C', ts: us(e.t), pid: PID, args: Object.fromEntries([
					...(e.main !== undefined ? [['main', mb(e.main)]] : []),
					...e.workers.map((w) => [`worker ${w.workerId}`, mb(w.rss)]),
					...(e.threads ?? []).map((w) => [`worker ${w.workerId} heap`, mb(w.heap)]),
				]) });
				break;
			case 'run.warning':
				out.push({ name: e.message, ph: 'i', s: 'g', ts: us(e.t), pid: PID });
				break;
			case 'worker.waits':
				for (const w of e.workers) {
					let l = looks.get(w.workerId);
					if (!l) {
						looks.set(w.workerId, (l = { t: [], seen: [] }));
					}
					for (let k = 0; k < w.t.length; k++) {
						l.t.push(w.t[k]!);
						l.seen.push(w.seen[k] ?? 'c');
					}
				}
				break;
			case 'run.output':
				// On the lane of the worker that wrote it; the main process's on the run's.
				out.push({ name: `output (${e.stream})`, ph: 'i', ts: us(e.t), pid: PID, ...(e.workerId === undefined ? { s: 'p' } : { s: 't', tid: e.workerId }), args: { text: e.text } });
				break;
			case 'run.finished':
				for (const [taskId] of running) {
					end(taskId, e.t, undefined, `task ${taskId} (unfinished)`, {});
				}
				Object.assign(metadata, { outcome: e.outcome, wallMs: e.wallMs, counts: e.counts, throughput: e.throughput });
				break;
			default:
				break;
		}
	}
	out.push(...waitSlices(out, looks, us));
	return { traceEvents: out, displayTimeUnit: 'ms', metadata };
}

/**
 * Inside each task's slice, a slice per stretch its thread was seen waiting (the GIL, a lock, I/O):
 * Perfetto nests them under the task, as the panel hatches its bar. A stretch runs from its first
 * look to the next look of another kind (or the task's end).
 */
function waitSlices(slices: readonly TraceEvent[], looks: Map<number, { t: number[]; seen: string[] }>, us: (t: number) => number): TraceEvent[] {
	const waits: TraceEvent[] = [];
	const label = (letter: string) => WAIT_LABELS[WAIT_LETTERS.indexOf(letter as (typeof WAIT_LETTERS)[number])] ?? letter;
	for (const task of slices) {
		const l = task.ph === 'X' && task.cat === 'task' && task.tid !== undefined ? looks.get(task.tid) : undefined;
		if (!l) {
			continue;
		}
		const from = task.ts;
		const to = task.ts + (task.dur ?? 0);
		let i = 0;
		let hi = l.t.length;
		while (i < hi) {
			const mid = (i + hi) >> 1;
			if (us(l.t[mid]!) < from) {
				i = mid + 1;
			} else {
				hi = mid;
			}
		}
		while (i < l.t.length && us(l.t[i]!) <= to && waits.length < MAX_WAIT_SLICES) {
			let j = i + 1;
			while (j < l.t.length && l.seen[j] === l.seen[i] && us(l.t[j]!) <= to) {
				j++;
			}
			if (l.seen[i] !== 'c') {
				const start = us(l.t[i]!);
				const end = j < l.t.length ? Math.min(to, us(l.t[j]!)) : to;
				waits.push({ name: label(l.seen[i]!), cat: 'wait', ph: 'X', ts: start, dur: Math.max(1, end - start), pid: task.pid, tid: task.tid });
			}
			i = j;
		}
	}
	return waits;
}

function mb(bytes: number): number {
	return Math.round(bytes / 104_857.6) / 10;
}
