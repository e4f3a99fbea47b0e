/**
 * Folds the event stream of one run into the state every consumer shows: the CLI's summary,
 * the webview's live view, and (as `tallyPacked`, without tasks) the extension host's counts.
 * Pure, no I/O, so it is unit-tested once and trusted everywhere.
 */
import type { PackedEvents } from './eventPacking';
import { appendTerminal } from './terminalText';
import {
	OUTPUT_LIMIT_PER_TASK,
	RUN_OUTPUT_LIMIT,
	WAIT_LETTERS,
	WAIT_LOOK_EVERY_MS,
	WORKER_CPU_WINDOW_MS,
	type ErrorInfo,
	type PoolEvent,
	type RunFinishedEvent,
	type RunStartedEvent,
	type StreamName,
	type TaskCounts,
} from './events';

export type TaskState =
	| 'submitted'
	| 'queued'
	| 'running'
	| 'finished'
	| 'failed'
	| 'cancelled'
	| 'timedOut'
	| 'rejected';

export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set(['finished', 'failed', 'cancelled', 'timedOut', 'rejected']);

export interface TaskModel {
	taskId: number;
	state: TaskState;
	/** Stage name while queued (e.g. 'pending', 'callQueue'). */
	stage?: string;
	input: string;
	workerId?: number;
	submittedAt: number;
	queuedAt?: number;
	startedAt?: number;
	endedAt?: number;
	durationMs?: number;
	cpuMs?: number;
	/**
	 * A task that ended without its CPU time (a timeout, a kill, a broken pool) after running at
	 * least a second: its worker's CPU share in the last second it ran (worker.cpu). A deadlocked
	 * task reads ~0: it waited.
	 */
	lastCpuShare?: number;
	result?: string;
	error?: ErrorInfo;
	cancelReason?: string;
	/** Shared and empty (frozen) until the task prints: most tasks print nothing. */
	output: readonly { stream: StreamName; text: string }[];
	outputChars: number;
	outputTruncated: boolean;
}

export type WorkerState = 'starting' | 'idle' | 'busy' | 'exited';

export interface WorkerModel {
	workerId: number;
	pid?: number;
	threadId?: number;
	state: WorkerState;
	currentTask?: number;
	busySince?: number;
	startedAt: number;
	/** A worker that started `ready: false`: when it could take tasks (its start cost is the gap). */
	readyAt?: number;
	exitedAt?: number;
	exitCode?: number | null;
	exitSignal?: string | null;
	exitReason?: string;
	tasksDone: number;
	busyMs: number;
	/** Process workers: resident memory at the latest sample, and the most seen (bytes). */
	rss?: number;
	peakRss?: number;
	/** JS worker threads: heap in use plus external memory at the latest sample, and the most seen. */
	heap?: number;
	peakHeap?: number;
	/** Its own CPU over the last second, a share of one core (worker.cpu); gone once it exits. */
	cpuShare?: number;
	/** When that share was read (its window ends here). */
	cpuShareAt?: number;
	/** What it was seen doing, every 10 ms (worker.waits, Linux): each look's time, and its WAIT_LETTERS index. */
	looks?: { t: number[]; seen: number[] };
}

export interface CpuPoint {
	t: number;
	total: number;
	perCore: number[];
}

export interface RunModel {
	runId: string;
	started?: RunStartedEvent;
	finished?: RunFinishedEvent;
	tasks: Map<number, TaskModel>;
	workers: Map<number, WorkerModel>;
	counts: TaskCounts;
	/** Tasks in the running state now: workers with a task of their own undercount them (a Python process pool's worker starts its next task before the last one's result has arrived). */
	running: number;
	depths: Record<string, number>;
	fullStages: string[];
	cpu: CpuPoint[];
	/** The run's processes' memory over time (memory.sample): main + workers, bytes. */
	memory: MemoryPoint[];
	/** The run's main process (a Python runner): latest and most seen, bytes. */
	mainRss?: number;
	peakMainRss?: number;
	/** The most the run's processes held together in one sample, bytes. */
	peakRss?: number;
	warnings: string[];
	/** Another run of this window ran at the same time (a run.warning of kind 'overlap'). */
	overlapped?: boolean;
	/** Index in `warnings` of the latest 'stalled' one (engine/stall): shown even past the first few. */
	lastStall?: number;
	/** Indexes in `warnings` of 'stalled' ones a 'stallEnded' followed: over, shown as past. */
	stallsOver?: number[];
	/** Indexes in `warnings` of the 'stallEnded' ones. */
	stallEnds?: number[];
	/** Workers a 'stalled' warning saw waiting in their task (or gone: their process exited under
	 * it), until the stall ended: when it was told, and which. */
	stuckWorkers?: Map<number, { t: number; gone: boolean }>;
	/** Output no task wrote (run.output), consecutive chunks of one source and stream joined. */
	output: RunOutputChunk[];
	outputChars: number;
	outputTruncated: boolean;
	/** Time of the latest event seen. */
	lastT: number;
	/**
	 * Per worker, its ended tasks whose CPU share was read: their wall time, and that share times
	 * it (workerCpuShares). Summed as tasks end: a walk over 100,000 tasks at a run's end was the
	 * panel's longest task then (16-20 ms in Chromium here).
	 */
	cpuByWorker: Map<number, { cpu: number; wall: number }>;
	/**
	 * Per worker, when it ran tasks that ended (start, end, start, end...), and whether one came
	 * out of start order (a late result): what workerLooks counts the looks inside.
	 */
	spansByWorker: Map<number, { spans: number[]; unordered: boolean }>;
	/** Every ended task's duration (the first `n` of `values`) and their range: the summary's histogram. */
	durations: { values: Float64Array; n: number; min: number; max: number };
}

export interface RunOutputChunk {
	/** Absent: the run's main process. */
	workerId?: number;
	stream: StreamName;
	text: string;
}

export interface MemoryPoint {
	t: number;
	/** Main process + live workers, bytes. */
	total: number;
}

const CPU_HISTORY = 2000;

export function createRunModel(runId: string): RunModel {
	return {
		runId,
		tasks: new Map(),
		workers: new Map(),
		counts: { submitted: 0, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 },
		running: 0,
		depths: {},
		fullStages: [],
		cpu: [],
		memory: [],
		warnings: [],
		output: [],
		outputChars: 0,
		outputTruncated: false,
		lastT: 0,
		cpuByWorker: new Map(),
		spansByWorker: new Map(),
		durations: { values: new Float64Array(0), n: 0, min: Infinity, max: -Infinity },
	};
}

/**
 * When a task's work ended: its start plus its measured duration, never later than the event that
 * said so. A Python process-pool result reaches the runner through the result queue, after its
 * worker has started the next task: ending the bar at the event's time drew it over the tasks the
 * worker ran meanwhile, and made a task of 0.02 ms look 28 ms long (the details said 0.02).
 */
export function taskEndTime(eventT: number, startedAt: number | undefined, durationMs: number | undefined): number {
	return startedAt !== undefined && durationMs !== undefined && Number.isFinite(durationMs) ? Math.min(eventT, startedAt + Math.max(0, durationMs)) : eventT;
}

function endTask(model: RunModel, task: TaskModel, state: TaskState, eventT: number): void {
	if (TERMINAL_STATES.has(task.state)) {
		return; // first terminal event wins; a late duplicate must not double-count
	}
	const t = taskEndTime(eventT, task.startedAt, task.durationMs);
	if (task.state === 'running') {
		model.running--;
		lastCpuOf(model, task);
	}
	task.state = state;
	task.endedAt = t;
	task.stage = undefined;
	sumCpu(model, task);
	addSpan(model, task);
	addDuration(model.durations, task.durationMs);
	switch (state) {
		case 'finished': model.counts.finished++; break;
		case 'failed': model.counts.failed++; break;
		case 'cancelled': model.counts.cancelled++; break;
		case 'timedOut': model.counts.timedOut++; break;
		case 'rejected': model.counts.rejected++; break;
		default: break;
	}
	workerEnds(model, task.workerId, task.taskId, state, t, task.durationMs);
}

function addDuration(d: RunModel['durations'], ms: number | undefined): void {
	if (ms === undefined) {
		return;
	}
	if (d.n === d.values.length) {
		const grown = new Float64Array(Math.max(64, 2 * d.n));
		grown.set(d.values);
		d.values = grown;
	}
	d.values[d.n++] = ms;
	d.min = ms < d.min ? ms : d.min;
	d.max = ms > d.max ? ms : d.max;
}

/** A task's CPU share, weighed by its wall time, into its worker's sums (workerCpuShares). */
function sumCpu(model: RunModel, task: TaskModel): void {
	const wall = task.durationMs;
	if (task.workerId === undefined || wall === undefined || wall <= 0) {
		return;
	}
	const share = taskCpuShare(task, model.started?.language);
	if (share !== undefined) {
		let sum = model.cpuByWorker.get(task.workerId);
		if (!sum) {
			model.cpuByWorker.set(task.workerId, (sum = { cpu: 0, wall: 0 }));
		}
		sum.cpu += share * wall;
		sum.wall += wall;
	}
}

function addSpan(model: RunModel, task: TaskModel): void {
	const { workerId, startedAt, endedAt } = task;
	if (workerId === undefined || startedAt === undefined || endedAt === undefined) {
		return;
	}
	let worker = model.spansByWorker.get(workerId);
	if (!worker) {
		model.spansByWorker.set(workerId, (worker = { spans: [], unordered: false }));
	}
	const spans = worker.spans;
	const n = spans.length;
	// Only touching tasks join: the gaps between tiny JS calls (a worker between batches, in
	// epoll) held most of a 100k-call run's looks, none of them its tasks'.
	if (n && startedAt >= spans[n - 2]! && startedAt <= spans[n - 1]!) {
		spans[n - 1] = Math.max(spans[n - 1]!, endedAt);
	} else {
		worker.unordered ||= n > 0 && startedAt < spans[n - 2]!;
		spans.push(startedAt, endedAt);
	}
}

/** An ending without CPU time: its worker's latest share, if it was read wholly within this task. */
function lastCpuOf(model: RunModel, task: TaskModel): void {
	const w = task.workerId === undefined ? undefined : model.workers.get(task.workerId);
	if (task.cpuMs === undefined && task.startedAt !== undefined && w?.currentTask === task.taskId && w.cpuShare !== undefined && w.cpuShareAt !== undefined && w.cpuShareAt - WORKER_CPU_WINDOW_MS >= task.startedAt) {
		task.lastCpuShare = w.cpuShare;
	}
}

/** The worker's side of a task's end: its count of tasks done, its busy time, idle again. */
function workerEnds(model: RunModel, workerId: number | undefined, taskId: number, state: TaskState, t: number, durationMs: number | undefined): void {
	const worker = workerId === undefined ? undefined : model.workers.get(workerId);
	if (!worker) {
		return;
	}
	if (state === 'finished' || state === 'failed' || state === 'timedOut') {
		worker.tasksDone++;
	}
	if (worker.currentTask === taskId) {
		if (worker.busySince !== undefined) {
			worker.busyMs += Math.max(0, t - worker.busySince);
		}
		worker.currentTask = undefined;
		worker.busySince = undefined;
		if (worker.state === 'busy') {
			worker.state = 'idle';
		}
	} else if (durationMs !== undefined) {
		// The worker already started its next task (its result was still in the result
		// queue when the next one began): count this one's time from its own duration.
		worker.busyMs += durationMs;
	}
}

/** The output list of every task that printed nothing: one list per task was ~3 MB per 100k tasks. */
const NO_OUTPUT: readonly { stream: StreamName; text: string }[] = Object.freeze([]);

/**
 * Every field a task gets later is declared here: V8 then keeps them inside the object (added
 * later, they went to a second allocation per task), and every task has the same shape.
 */
function newTask(taskId: number, input: string, t: number): TaskModel {
	return {
		taskId, state: 'submitted', stage: undefined, input, workerId: undefined, submittedAt: t, queuedAt: undefined,
		startedAt: undefined, endedAt: undefined, durationMs: undefined, cpuMs: undefined, result: undefined, output: NO_OUTPUT, outputChars: 0, outputTruncated: false,
	};
}

function taskFor(model: RunModel, taskId: number, t: number): TaskModel {
	let task = model.tasks.get(taskId);
	if (!task) {
		// Tolerate a missing task.submitted (e.g. a truncated trace) rather than lose the event.
		task = newTask(taskId, '', t);
		model.tasks.set(taskId, task);
		model.counts.submitted++;
	}
	return task;
}

/**
 * One small function per kind of event, the per-task ones apart from the rest. As one function of
 * ~4 KB of bytecode, V8's optimizing compiler took 40-60 ms a time to compile the reducer, four or
 * five times in a 100k-task run (each new event shape threw the code away), on the same two cores
 * as the run and the window (trace of 2026-12-05, performance.md).
 */
export function applyEvent(model: RunModel, e: PoolEvent): void {
	if (e.t > model.lastT) {
		model.lastT = e.t;
	}
	switch (e.type) {
		case 'task.submitted':
			return submitTask(model, e.t, e.taskId, e.input);
		case 'task.queued':
			return queueTask(model, e.t, e.taskId, e.stage);
		case 'task.started':
			return startTask(model, e.t, e.taskId, e.workerId);
		case 'task.finished':
			return finishTask(model, e.t, e.taskId, e.workerId, e.durationMs, e.cpuMs, e.result);
		case 'task.failed':
			return taskFailed(model, e);
		case 'task.cancelled':
			return taskCancelled(model, e);
		case 'task.output':
			return taskOutput(model, e);
		default:
			return applyRunEvent(model, e);
	}
}

type TaskEvent = Extract<PoolEvent, { taskId: number }>;
type Of<K extends PoolEvent['type']> = Extract<PoolEvent, { type: K }>;

// The four events of nearly every task, by their fields: the webview folds packed columns
// (eventPacking.ts) with these, without an object per event.

export function submitTask(model: RunModel, t: number, taskId: number, input: string): void {
	if (t > model.lastT) {
		model.lastT = t;
	}
	if (!model.tasks.has(taskId)) {
		model.tasks.set(taskId, newTask(taskId, input, t));
		model.counts.submitted++;
	}
}

export function queueTask(model: RunModel, t: number, taskId: number, stage: string): void {
	if (t > model.lastT) {
		model.lastT = t;
	}
	const task = taskFor(model, taskId, t);
	if (!TERMINAL_STATES.has(task.state) && task.state !== 'running') {
		task.state = 'queued';
		task.stage = stage;
		task.queuedAt ??= t;
	}
}

export function startTask(model: RunModel, t: number, taskId: number, workerId: number): void {
	if (t > model.lastT) {
		model.lastT = t;
	}
	const task = taskFor(model, taskId, t);
	if (TERMINAL_STATES.has(task.state)) {
		return;
	}
	if (task.state !== 'running') {
		model.running++;
	}
	task.state = 'running';
	task.stage = undefined;
	task.startedAt = t;
	task.workerId = workerId;
	workerStarts(model, workerId, taskId, t);
}

export function finishTask(model: RunModel, t: number, taskId: number, workerId: number, durationMs: number, cpuMs: number | undefined, result: string): void {
	if (t > model.lastT) {
		model.lastT = t;
	}
	const task = taskFor(model, taskId, t);
	task.workerId ??= workerId;
	task.durationMs = durationMs;
	task.cpuMs = cpuMs;
	task.result = result;
	task.startedAt ??= t - durationMs;
	endTask(model, task, 'finished', t);
}

function taskFailed(model: RunModel, e: Of<'task.failed'>): void {
	const task = taskFor(model, e.taskId, e.t);
	task.workerId ??= e.workerId;
	task.durationMs = e.durationMs;
	task.cpuMs = e.cpuMs;
	task.error = e.error;
	endTask(model, task, failedState(e.error), e.t);
}

function taskCancelled(model: RunModel, e: Of<'task.cancelled'>): void {
	const task = taskFor(model, e.taskId, e.t);
	task.cancelReason = e.reason;
	endTask(model, task, 'cancelled', e.t);
}

function taskOutput(model: RunModel, e: Of<'task.output'>): void {
	const task = taskFor(model, e.taskId, e.t);
	if (task.outputChars >= OUTPUT_LIMIT_PER_TASK) {
		task.outputTruncated = true;
		return;
	}
	const room = OUTPUT_LIMIT_PER_TASK - task.outputChars;
	const text = e.text.length > room ? e.text.slice(0, room) : e.text;
	task.outputTruncated ||= text.length < e.text.length;
	const output = task.output === NO_OUTPUT ? [] : task.output as { stream: StreamName; text: string }[];
	task.output = output;
	task.outputChars += appendChunk(output, (last) => last.stream === e.stream, (shown) => ({ stream: e.stream, text: shown }), text);
}

/** The events that are not one task's: a few per run, or a few a second. */
function applyRunEvent(model: RunModel, e: Exclude<PoolEvent, TaskEvent>): void {
	switch (e.type) {
		case 'run.started':
			model.started = e;
			for (const stage of e.stages) {
				model.depths[stage] = model.depths[stage] ?? 0;
			}
			break;
		case 'worker.started':
			model.workers.set(e.workerId, {
				workerId: e.workerId, pid: e.pid, threadId: e.threadId, state: e.ready === false ? 'starting' : 'idle', startedAt: e.t, tasksDone: 0, busyMs: 0,
				...(e.ready === false ? {} : { readyAt: e.t }),
			});
			break;
		case 'worker.ready': {
			const w = model.workers.get(e.workerId);
			if (w && w.readyAt === undefined) {
				w.readyAt = e.t;
				if (w.state === 'starting') {
					w.state = 'idle';
				}
			}
			break;
		}
		case 'worker.exited': {
			const w = model.workers.get(e.workerId);
			if (w) {
				if (w.busySince !== undefined) {
					w.busyMs += Math.max(0, e.t - w.busySince);
				}
				w.state = 'exited';
				w.exitedAt = e.t;
				w.exitCode = e.code;
				w.exitSignal = e.signal;
				w.exitReason = e.reason;
				w.busySince = undefined;
				w.currentTask = undefined;
				w.cpuShare = undefined;
			}
			break;
		}
		case 'run.output': {
			const room = RUN_OUTPUT_LIMIT - model.outputChars;
			if (room <= 0) {
				model.outputTruncated = true;
				break;
			}
			const text = e.text.length > room ? e.text.slice(0, room) : e.text;
			model.outputTruncated ||= text.length < e.text.length;
			model.outputChars += appendChunk(
				model.output,
				(last) => last.stream === e.stream && last.workerId === e.workerId,
				(shown) => (e.workerId === undefined ? { stream: e.stream, text: shown } : { workerId: e.workerId, stream: e.stream, text: shown }),
				text,
			);
			break;
		}
		case 'queue.depth':
			Object.assign(model.depths, e.depths);
			model.fullStages = e.full ?? [];
			break;
		case 'cpu.sample':
			model.cpu.push({ t: e.t, total: e.total, perCore: e.perCore });
			if (model.cpu.length > CPU_HISTORY) {
				model.cpu.splice(0, model.cpu.length - CPU_HISTORY);
			}
			break;
		case 'memory.sample': {
			let total = e.main ?? 0;
			if (e.main !== undefined) {
				model.mainRss = e.main;
				model.peakMainRss = Math.max(model.peakMainRss ?? 0, e.main);
			}
			for (const { workerId, rss } of e.workers) {
				total += rss;
				const w = model.workers.get(workerId);
				if (w) {
					w.rss = rss;
					w.peakRss = Math.max(w.peakRss ?? 0, rss);
				}
			}
			for (const { workerId, heap } of e.threads ?? []) {
				const w = model.workers.get(workerId);
				if (w) {
					w.heap = heap;
					w.peakHeap = Math.max(w.peakHeap ?? 0, heap);
				}
			}
			if (e.main === undefined && !e.workers.length) {
				break; // threads only: the run's processes were not sampled
			}
			model.peakRss = Math.max(model.peakRss ?? 0, total);
			model.memory.push({ t: e.t, total });
			if (model.memory.length > CPU_HISTORY) {
				model.memory.splice(0, model.memory.length - CPU_HISTORY);
			}
			break;
		}
		case 'run.warning':
			model.warnings.push(e.detail ? `${e.message}\n${e.detail}` : e.message);
			if (e.kind === 'overlap') {
				model.overlapped = true;
			} else if (e.kind === 'stalled') {
				model.lastStall = model.warnings.length - 1;
				model.stuckWorkers = e.waitingWorkers?.length || e.goneWorkers?.length
					? new Map<number, { t: number; gone: boolean }>([...(e.waitingWorkers ?? []).map((id) => [id, { t: e.t, gone: false }] as const), ...(e.goneWorkers ?? []).map((id) => [id, { t: e.t, gone: true }] as const)])
					: undefined;
			} else if (e.kind === 'stallEnded' && model.lastStall !== undefined) {
				(model.stallsOver ??= []).push(model.lastStall);
				(model.stallEnds ??= []).push(model.warnings.length - 1);
				model.stuckWorkers = undefined;
			}
			break;
		case 'worker.cpu':
			for (const { workerId, share } of e.workers) {
				const w = model.workers.get(workerId);
				if (w && w.state !== 'exited') {
					w.cpuShare = share;
					w.cpuShareAt = e.t;
				}
			}
			break;
		case 'worker.waits':
			for (const { workerId, t, seen } of e.workers) {
				const w = model.workers.get(workerId);
				if (w) {
					const looks = (w.looks ??= { t: [], seen: [] });
					for (let i = 0; i < t.length && i < seen.length; i++) {
						looks.t.push(t[i]!);
						looks.seen.push(LETTER_INDEX[seen[i]!] ?? 0);
					}
				}
			}
			break;
		case 'run.finished':
			model.finished = e;
			break;
		default: {
			const never: never = e;
			void never;
		}
	}
}

/**
 * Output joins the last chunk when it has the same source, else starts one, kept as a terminal
 * leaves it: returns the characters this added to what is kept (a redraw can add fewer).
 */
function appendChunk<C extends { text: string }>(chunks: C[], same: (last: C) => boolean, fresh: (shown: string) => C, text: string): number {
	const last = chunks[chunks.length - 1];
	if (last && same(last)) {
		const before = last.text.length;
		last.text = appendTerminal(last.text, text);
		return last.text.length - before;
	}
	const chunk = fresh(appendTerminal('', text));
	chunks.push(chunk);
	return chunk.text.length;
}

function workerStarts(model: RunModel, workerId: number, taskId: number, t: number): void {
	const w = model.workers.get(workerId);
	if (w) {
		w.state = 'busy';
		w.currentTask = taskId;
		w.busySince = t;
		w.readyAt ??= t; // a task can only start on a ready worker, whatever order the news came in
	}
}

/**
 * Folds a packed message (`eventPacking.ts`) into a model that keeps no tasks: counts, workers,
 * the run's start, warnings and end, without an object per event. The extension host's view of a
 * run; the engine sends exactly one terminal event per task, so counting needs no task table.
 */
export function tallyPacked(model: RunModel, p: PackedEvents): void {
	const kinds = p.kinds;
	let ti = 0;
	let wi = 0;
	let fi = 0;
	let oi = 0;
	for (let i = 0; i < kinds.length; i++) {
		const k = kinds.charCodeAt(i);
		if (k === 111 /* o */) {
			tallyEvent(model, p.other[oi++]!);
			continue;
		}
		const t = p.t[ti]!;
		const taskId = p.id[ti++]!;
		if (t > model.lastT) {
			model.lastT = t;
		}
		if (k === 83 /* S */ || k === 115 /* s */) {
			model.counts.submitted++;
		} else if (k === 98 /* b */) {
			workerStarts(model, p.w[wi++]!, taskId, t);
		} else if (k === 102 /* f */) {
			model.counts.finished++;
			workerEnds(model, p.w[wi++]!, taskId, 'finished', t, p.d[fi++]!);
		}
	}
}

function tallyEvent(model: RunModel, e: PoolEvent): void {
	switch (e.type) {
		case 'task.submitted':
			model.counts.submitted++;
			break;
		case 'task.queued':
		case 'task.output':
		case 'run.output':
			break;
		case 'task.started':
			workerStarts(model, e.workerId, e.taskId, e.t);
			break;
		case 'task.finished':
			model.counts.finished++;
			workerEnds(model, e.workerId, e.taskId, 'finished', e.t, e.durationMs);
			break;
		case 'task.failed': {
			const state = failedState(e.error);
			model.counts[state]++;
			workerEnds(model, e.workerId, e.taskId, state, e.t, e.durationMs);
			break;
		}
		case 'task.cancelled':
			model.counts.cancelled++;
			for (const w of model.workers.values()) {
				if (w.currentTask === e.taskId) {
					workerEnds(model, w.workerId, e.taskId, 'cancelled', e.t, undefined);
				}
			}
			break;
		default:
			applyEvent(model, e);
			return;
	}
	if (e.t > model.lastT) {
		model.lastT = e.t;
	}
}

/** The state a task.failed event ends its task in: a timeout and a full queue are counted apart. */
export function failedState(error: ErrorInfo): 'failed' | 'timedOut' | 'rejected' {
	return error.kind === 'timeout' ? 'timedOut' : error.kind === 'queueFull' ? 'rejected' : 'failed';
}

export function applyEvents(model: RunModel, events: readonly PoolEvent[]): void {
	for (const e of events) {
		applyEvent(model, e);
	}
}

/** Count of tasks per state right now (live; counts in the model are terminal totals). */
export function stateCounts(model: RunModel): Record<TaskState, number> {
	const out: Record<TaskState, number> = {
		submitted: 0, queued: 0, running: 0, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0,
	};
	for (const task of model.tasks.values()) {
		out[task.state]++;
	}
	return out;
}

export function isTerminal(state: TaskState): boolean {
	return TERMINAL_STATES.has(state);
}

/** Below this share of their time, threads waiting for a CPU core (a busy machine) go unmentioned. */
export const CORE_WAIT_WORTH_SAYING = 0.05;

/**
 * Node's CPU clocks (getrusage: `process.threadCpuUsage`, `process.cpuUsage`) advance a scheduler
 * tick at a time (4 ms on this Linux VM, 15.6 ms on Windows): a 1 ms task reads 0 or 4 ms. Below
 * this wall time a JS task's own figure is mostly that step, so it is not shown; sums over a run
 * are still right (comparisons use them). Python reads a precise thread clock.
 */
export const JS_CPU_MIN_WALL_MS = 50;

export function tooCoarse(language: string | undefined, wall: number | undefined): boolean {
	return language !== undefined && language !== 'python' && wall !== undefined && wall < JS_CPU_MIN_WALL_MS;
}

/**
 * An ended task's CPU time over its wall time (0..1), where it was read and is fine enough (not a
 * JS task under 50 ms); one that ended without its CPU time (a timeout, a kill) stands in by its
 * worker's last second (lastCpuShare). The timeline's fill and each worker's CPU share use it.
 */
export function taskCpuShare(t: TaskModel, language: string | undefined): number | undefined {
	if (t.cpuMs === undefined) {
		return t.lastCpuShare;
	}
	const wall = t.durationMs ?? (t.endedAt !== undefined && t.startedAt !== undefined ? t.endedAt - t.startedAt : undefined);
	return wall === undefined || wall <= 0 || tooCoarse(language, wall) ? undefined : Math.min(1, Math.max(0, t.cpuMs / wall));
}

const LETTER_INDEX: Record<string, number> = Object.fromEntries(WAIT_LETTERS.map((l, i) => [l, i]));

/** What each WAIT_LETTERS look means, as the panel says it. */
export const WAIT_LABELS = ['on a CPU', 'waiting for the GIL', 'waiting on a lock, queue or event', 'waiting on a lock or the GIL', 'in I/O or asleep'] as const;

/** Fewer looks inside a task than this say nothing about it (a 20 ms task gets one or two). */
export const LOOKS_MIN = 3;

/** The same, in a word, for a table cell. */
export const WAIT_WORDS = ['CPU', 'GIL', 'lock', 'lock or GIL', 'I/O'] as const;

/**
 * What a busy worker has waited on most in its last second, when that was at least 30% of its
 * looks: its WAIT_LETTERS index; undefined when it mostly computed or was not looked at.
 */
export function waitingOnNow(w: WorkerModel, now: number): { kind: number; looks: number[] } | undefined {
	if (w.state !== 'busy') {
		return undefined;
	}
	const looks = enough(looksBetween(w, now - WORKER_CPU_WINDOW_MS, now));
	const kind = looks && mostWaited(looks, 0.3);
	return kind ? { kind, looks: looks! } : undefined;
}

/** The wait (WAIT_LETTERS index, not the CPU) seen most, when at least `minShare` of the looks. */
export function mostWaited(counts: readonly number[], minShare: number): number | undefined {
	const n = counts.reduce((a, b) => a + b, 0);
	let kind = 0;
	for (let k = 1; k < counts.length; k++) {
		if (counts[k]! > (kind ? counts[kind]! : 0)) {
			kind = k;
		}
	}
	return kind && counts[kind]! >= minShare * n ? kind : undefined;
}

/** Looks over a whole run's (or one worker's) tasks fewer than this say nothing of it. */
const RUN_LOOKS_MIN = 20;

/**
 * What a whole run's (or one worker's) tasks waited on most, when there were RUN_LOOKS_MIN looks
 * or more and that wait was at least a fifth of them: the summary's worker rows and the
 * comparison's "seen" cell say it. `looks` is their count (for the share).
 */
export function runWaited(counts: readonly number[] | undefined): { kind: number | undefined; looks: number } | undefined {
	const looks = counts?.reduce((a, b) => a + b, 0) ?? 0;
	return counts && looks >= RUN_LOOKS_MIN ? { kind: mostWaited(counts, 0.2), looks } : undefined;
}

/** Counts of looks, when there are enough to say something (LOOKS_MIN). */
function enough(counts: number[] | undefined): number[] | undefined {
	return counts && counts.reduce((a, b) => a + b, 0) >= LOOKS_MIN ? counts : undefined;
}

/** A worker's looks between two times, counted by WAIT_LETTERS index; undefined when none fell there. */
export function looksBetween(w: Pick<WorkerModel, 'looks'> | undefined, from: number, to: number): number[] | undefined {
	const looks = w?.looks;
	if (!looks?.t.length) {
		return undefined;
	}
	let lo = 0;
	let hi = looks.t.length;
	while (lo < hi) {
		const mid = (lo + hi) >> 1;
		if (looks.t[mid]! < from) {
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (lo === looks.t.length || looks.t[lo]! > to) {
		return undefined; // most tiny tasks: no array made for them (a 100k-task run's end walks them all)
	}
	const counts = WAIT_LETTERS.map(() => 0);
	let n = 0;
	for (let i = lo; i < looks.t.length && looks.t[i]! <= to; i++) {
		counts[looks.seen[i]!]!++;
		n++;
	}
	return n ? counts : undefined;
}

/** Looks counted by kind, most first: "seen 190 times (every 10 ms): on a CPU 52%, waiting for the GIL 48%". */
export function looksText(counts: readonly number[]): string {
	const n = counts.reduce((a, b) => a + b, 0);
	const parts = counts.map((c, i) => [c, i] as const).filter(([c]) => c > 0).sort((a, b) => b[0] - a[0]);
	return `seen ${n} times (every ${WAIT_LOOK_EVERY_MS} ms): ${parts.map(([c, i]) => `${WAIT_LABELS[i]} ${Math.round((c / n) * 100)}%`).join(', ')}`;
}

/**
 * What a task's worker was seen doing in it: an ended task's whole time; a running one's last
 * WORKER_CPU_WINDOW_MS, as its CPU fill (what it waits on now, not what it waited on at first).
 */
export function taskLooks(task: TaskModel, w: WorkerModel | undefined, now: number): number[] | undefined {
	if (task.startedAt === undefined) {
		return undefined;
	}
	if (task.endedAt === undefined) {
		return task.state === 'running' && w?.currentTask === task.taskId ? looksBetween(w, Math.max(task.startedAt, now - WORKER_CPU_WINDOW_MS), now) : undefined;
	}
	return looksBetween(w, task.startedAt, task.endedAt);
}

/** taskLooks, when there are enough of them to say what the task waited on (LOOKS_MIN). */
export function taskSeen(task: TaskModel, w: WorkerModel | undefined, now: number): number[] | undefined {
	return enough(taskLooks(task, w, now));
}

/**
 * Per worker, what it was seen doing inside its tasks (worker.waits), counts by WAIT_LETTERS
 * index: the CLI's worker lines say which wait its busy time was.
 */
export function workerLooks(model: RunModel): Map<number, number[]> {
	const out = new Map<number, number[]>();
	for (const w of model.workers.values()) {
		const ran = model.spansByWorker.get(w.workerId);
		const looks = w.looks;
		if (!ran || !looks?.t.length) {
			continue;
		}
		const spans = ran.unordered ? inStartOrder(ran.spans) : ran.spans;
		const counts = WAIT_LETTERS.map(() => 0);
		let n = 0;
		let k = 0; // a span's index (its start at 2k): the first whose end is not before the look
		for (let i = 0; i < looks.t.length; i++) {
			const t = looks.t[i]!;
			// Looks are ~100 a second, a worker's tasks up to a million: a search, not a walk, to the next.
			let hi = spans.length / 2;
			while (k < hi) {
				const mid = (k + hi) >> 1;
				if (spans[2 * mid + 1]! < t) {
					k = mid + 1;
				} else {
					hi = mid;
				}
			}
			if (2 * k === spans.length) {
				break;
			}
			if (spans[2 * k]! <= t) {
				counts[looks.seen[i]!]!++;
				n++;
			}
		}
		if (n) {
			out.set(w.workerId, counts);
		}
	}
	return out;
}

/** Spans (start, end, ...) sorted by start; ends stay with their starts. */
function inStartOrder(spans: readonly number[]): number[] {
	const order = Array.from({ length: spans.length / 2 }, (_, k) => k).sort((a, b) => spans[2 * a]! - spans[2 * b]!);
	return order.flatMap((k) => [spans[2 * k]!, spans[2 * k + 1]!]);
}

/**
 * Busy is not computing: per worker of an ended run, the share of its tasks' wall time they spent
 * on a CPU (taskCpuShare, weighed by wall time), where that was read for at least half of its
 * busy time (Python thread pools read one task in 16 when tasks are tiny; JS tasks under 50 ms
 * read none). Four threads taking turns on one Lock are each ~95% busy and ~25% of that on a CPU.
 */
export function workerCpuShares(model: RunModel): Map<number, number> {
	const end = model.finished;
	const shares = new Map<number, number>();
	if (!end) {
		return shares;
	}
	for (const w of end.workers) {
		const sum = model.cpuByWorker.get(w.workerId);
		if (sum && sum.wall > 0 && sum.wall >= 0.5 * w.utilization * end.wallMs) {
			shares.set(w.workerId, sum.cpu / sum.wall);
		}
	}
	return shares;
}

/** When a run's GIL estimate rests on a sample of its tasks (Python thread pools, tiny tasks): how many of how many. */
export function gilSample(end: RunFinishedEvent): { from: number; of: number } | undefined {
	const of = end.counts.finished + end.counts.failed;
	return end.gilFromTasks !== undefined && end.gilFromTasks < of ? { from: end.gilFromTasks, of } : undefined;
}

/** What the summary (panel, CLI) says of calls that awaited (RunFinishedEvent.awaitedTasks): a
 * worker per call is not how async code overlaps its waits (decisions.md). */
export function awaitedWords(language: string | undefined): string {
	return language === 'python'
		? 'calls were coroutines, each run by an asyncio.run of its own: one event loop can await them together (asyncio.gather)'
		: 'calls returned a promise, awaited one at a time by each worker: one event loop can await them together (Promise.all)';
}
