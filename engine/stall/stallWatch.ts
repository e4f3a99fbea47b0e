/**
 * A run that has stopped moving: tasks running, none starting, ending or printing for a while.
 * The host follows the run's events (as MemoryWatch does) and, only once a stall is suspected,
 * reads the busy workers' CPU time from /proc, to tell a long computation from a hang (a
 * deadlock, a lock nobody releases, a queue or I/O that never delivers). One run.warning per
 * stall; Python runs get the stack snapshot of every worker as its detail.
 */
import { basename } from 'node:path';
import { now } from '../clock';
import type { EventSink, PoolEvent } from '../protocol/events';
import { cpuSourceOf, readCpuMs, type CpuSource, type WorkerWhere } from '../cpu/workerCpu';
import { DEFAULT_STALL_MS } from '../runTypes';

/** A window this many times the longest task seen so far: long tasks are not a stall. */
export const LONGEST_TASK_FACTOR = 5;
/** A worker under this share of one core (and under MIN_CPU_MS) in the window is waiting. */
export const IDLE_CPU_SHARE = 0.03;
const MIN_CPU_MS = 30;
/** The stack snapshot (Python) must not hold the warning back for long. */
export const SNAPSHOT_LIMIT_MS = 3000;
/** The key of the host process's own CPU time among the tasks' readings. */
const HOST = -1;

export function stallWindowMs(baseMs: number, longestTaskMs: number): number {
	return Math.max(baseMs, LONGEST_TASK_FACTOR * longestTaskMs);
}

/** One running task, where it runs and what its worker used in the measured time. */
export interface BusyTask {
	taskId: number;
	workerId: number;
	/** "thread 4412", "process 4242", "worker thread 3". */
	where: string;
	/** CPU ms in `spanMs`; undefined: could not be read. */
	cpuMs?: number;
	/** Its worker process has exited (or is a zombie) while the pool still has the task running. */
	gone?: boolean;
}

export type StallVerdict = 'waiting' | 'computing' | 'mixed' | 'unknown';

export function isIdle(cpuMs: number, spanMs: number): boolean {
	return cpuMs < Math.max(MIN_CPU_MS, IDLE_CPU_SHARE * spanMs);
}

/** All busy workers idle: waiting; all using CPU: computing; some of each: mixed. */
export function classify(tasks: readonly BusyTask[], spanMs: number): StallVerdict {
	if (!tasks.length || tasks.some((t) => t.cpuMs === undefined)) {
		// One unread worker could be the one computing: say what is known, no verdict.
		const known = tasks.filter((t) => t.cpuMs !== undefined);
		return known.length && known.some((t) => isIdle(t.cpuMs!, spanMs)) ? 'mixed' : 'unknown';
	}
	const idle = tasks.filter((t) => isIdle(t.cpuMs!, spanMs)).length;
	return idle === tasks.length ? 'waiting' : idle === 0 ? 'computing' : 'mixed';
}

export function secs(ms: number): string {
	return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`;
}

/** "0", "0 and 1", "0, 1 and 2" */
function list(items: readonly (string | number)[]): string {
	const s = items.map(String);
	return s.length <= 1 ? (s[0] ?? '') : `${s.slice(0, -1).join(', ')} and ${s[s.length - 1]}`;
}

/** "tasks 0 and 1 are running on threads 4412 and 4413" */
function running(tasks: readonly BusyTask[], verb = 'running on'): string {
	const one = tasks.length === 1;
	const wheres = tasks.map((t) => t.where);
	// "threads 1 and 2" when every place is "<kind> <number>" of one kind, else each named in full.
	const parts = wheres.map((w) => /^(\D+) (\d+)$/.exec(w));
	const kind = parts[0]?.[1];
	const same = !one && parts.every((m) => m && m[1] === kind);
	const on = same ? `${kind === 'process' ? 'processes' : `${kind}s`} ${list(parts.map((m) => m![2]!))}` : list(wheres);
	return `${one ? 'task' : 'tasks'} ${list(tasks.map((t) => t.taskId))} ${one ? 'is' : 'are'} ${verb} ${on}`;
}

export interface StallFacts {
	/** Since the last task started, ended or printed. */
	quietMs: number;
	/** The time the CPU was measured over (the window's later part). */
	spanMs: number;
	tasks: readonly BusyTask[];
	/** A stack snapshot comes with the warning (Python). */
	stacks: boolean;
	/** Why the CPU could not be read, for 'unknown'. */
	unknownWhy?: string;
}

/** The stall warning's last sentence: what to do about a hang (the CLI drops it once the stall is over). */
export const STALL_ADVICE = 'Cancel the run, or give tasks a timeout to have such ones stopped.';
/** Where the stall warning's stacks are (the CLI prints them under it). */
export const STACKS_SHOWN = 'The stacks taken then (the details) show';

/** The warning's sentence, or undefined when there is nothing to say (all computing). */
export function stallMessage(f: StallFacts): string | undefined {
	const head = `No task has started, ended or printed for ${secs(f.quietMs)}`;
	const where = f.stacks ? `${STACKS_SHOWN} where ${f.tasks.length === 1 ? 'it' : 'each one'} is.` : '';
	const tail = (s: string) => [s, where, STALL_ADVICE].filter(Boolean).join(' ');
	// A worker that died under a task the pool still runs: the executor no longer answers for it.
	const gone = f.tasks.filter((t) => t.gone);
	const tasks = f.tasks.filter((t) => !t.gone);
	const goneText = gone.length ? `${running(gone, 'still running, the pool says, on')}, which ${gone.length === 1 ? 'has' : 'have'} exited: the pool has not noticed (an executor that no longer answers)` : '';
	const join = (s: string) => (goneText ? `${head}: ${goneText}${s ? `; ${s}` : ''}.` : `${head}: ${s}.`);
	if (!tasks.length) {
		return tail(join(''));
	}
	const verdict = classify(tasks, f.spanMs);
	const one = tasks.length === 1;
	switch (verdict) {
		case 'computing':
			// Long tasks at work: the panel's busy workers say so already.
			return goneText ? tail(join(`${running(tasks)} and ${one ? 'is' : 'are'} computing`)) : undefined;
		case 'waiting':
			return tail(join(`${running(tasks)}, which used no CPU in the last ${secs(f.spanMs)}: ${one ? 'it is' : 'they are'} waiting${one ? '' : ', on each other (a deadlock),'} on a lock, a queue, a sleep or I/O that does not come`));
		case 'mixed': {
			const idle = tasks.filter((t) => t.cpuMs !== undefined && isIdle(t.cpuMs, f.spanMs));
			const busy = tasks.filter((t) => t.cpuMs !== undefined && !isIdle(t.cpuMs, f.spanMs));
			const unread = tasks.filter((t) => t.cpuMs === undefined);
			const parts = [`${running(idle)} and used no CPU in the last ${secs(f.spanMs)}: ${idle.length === 1 ? 'it is' : 'they are'} waiting (on another task, a lock, a queue, a sleep or I/O)`];
			if (busy.length) {
				parts.push(`${running(busy)} and ${busy.length === 1 ? 'is' : 'are'} computing (${list(busy.map((t) => `${Math.round((100 * t.cpuMs!) / f.spanMs)}% of a core`))})`);
			}
			if (unread.length) {
				parts.push(`${running(unread)}; whether ${unread.length === 1 ? 'it computes' : 'they compute'} could not be told`);
			}
			return tail(join(parts.join('; ')));
		}
		case 'unknown':
			return tail(`${join(`${running(tasks)}; Poolscope could not tell whether ${one ? 'it computes or waits' : 'they compute or wait'} (${f.unknownWhy ?? 'their CPU time could not be read'})`)} A long task is fine; one waiting on a lock, a queue or I/O is a hang.`);
	}
}


export interface StallOptions {
	/** The base window (RunRequest.stallMs); absent: DEFAULT_STALL_MS. */
	stallMs?: number;
	/** The run's stacks, for the warning's detail (Python). */
	snapshot?: () => Promise<string>;
}

/**
 * Follows a run's events; one timer (a quarter of the window, at most 1 s) compares the time
 * since the last task started, ended or printed with the window. Nothing is read while tasks
 * move: at half the window the busy workers' CPU time is read once, at the window again.
 */
export class StallWatch {
	private runId = '';
	private language: string | undefined;
	private runnerPid: number | undefined;
	private readonly workers = new Map<number, WorkerWhere>();
	/** taskId -> workerId of each running task. */
	private readonly running = new Map<number, number>();
	private lastMove = 0;
	private longestMs = 0;
	/** CPU read at half the window: when, and per task. */
	private baseline: { t: number; cpu: Map<number, number | undefined> } | undefined;
	private warned = false;
	/** Since when the run had not moved, once a stall warning went out; until a task moves again. */
	private toldStallSince: number | undefined;
	private checking = false;
	private timer: ReturnType<typeof setInterval> | undefined;
	private ended = false;
	private readonly baseMs: number;
	/** The run's file and input count (from run.started), for a JS run whose workers never load it. */
	private file = '';
	private inputs = 0;
	/** A worker has loaded the user's module (or a task started): the run is past loading. */
	private anyReady = false;
	/** The loading workers' CPU at the start of the half window being measured. */
	private loadBase: { t: number; cpu: number | undefined } | undefined;

	constructor(private readonly sink: EventSink, private readonly options: StallOptions = {}) {
		this.baseMs = Math.max(100, options.stallMs ?? DEFAULT_STALL_MS);
	}

	/**
	 * Returns the batch to pass on: as it came, or, when a task moved after a stall warning, with
	 * a 'stallEnded' warning right after that task's event (before a run.finished in the same batch).
	 */
	public observe(batch: readonly PoolEvent[]): readonly PoolEvent[] {
		// Once a batch, not per event: 100k tasks stream through here.
		let moved = false;
		let how: { at: number; what: string; t: number } | undefined;
		for (let i = 0; i < batch.length; i++) {
			const e = batch[i]!;
			if (this.toldStallSince !== undefined && !how) {
				const what = moveText(e);
				how = what ? { at: i, what, t: e.t } : undefined;
			}
			switch (e.type) {
				case 'run.started':
					this.runId = e.runId;
					this.language = e.language;
					this.runnerPid = e.pid;
					this.file = e.file;
					this.inputs = e.inputCount;
					this.lastMove = now();
					if (!this.timer && !this.ended) {
						const tick = Math.min(1000, Math.max(50, this.baseMs / 4));
						this.timer = setInterval(() => void this.check(), tick);
						this.timer.unref();
					}
					break;
				case 'worker.started':
					this.workers.set(e.workerId, { pid: e.pid, threadId: e.threadId, tid: e.tid });
					this.anyReady ||= e.ready !== false;
					break;
				case 'worker.ready':
					this.anyReady = true;
					if (e.tid !== undefined) {
						this.workers.set(e.workerId, { ...this.workers.get(e.workerId), tid: e.tid });
					}
					break;
				case 'task.started':
					this.anyReady = true;
					this.running.set(e.taskId, e.workerId);
					moved = true;
					break;
				case 'task.finished':
					this.longestMs = Math.max(this.longestMs, e.durationMs);
					this.running.delete(e.taskId);
					moved = true;
					break;
				case 'task.failed':
					// A timeout's duration is the limit, not how long tasks take.
					if (e.durationMs !== undefined && e.error.kind !== 'timeout') {
						this.longestMs = Math.max(this.longestMs, e.durationMs);
					}
					this.running.delete(e.taskId);
					moved = true;
					break;
				case 'task.cancelled':
					this.running.delete(e.taskId);
					moved = true;
					break;
				case 'task.output':
					moved = true; // a task that prints is alive, whatever its CPU
					break;
				case 'run.finished':
					this.dispose();
					break;
				default:
					break;
			}
		}
		if (!moved) {
			return batch;
		}
		this.moved();
		const since = this.toldStallSince;
		this.toldStallSince = undefined;
		if (since === undefined || !how) {
			return batch;
		}
		const message = `No longer stalled: ${how.what} after ${secs(Math.max(0, how.t - since))} in which no task started, ended or printed.`;
		const ended: PoolEvent = { type: 'run.warning', runId: this.runId, t: how.t, kind: 'stallEnded', message };
		return [...batch.slice(0, how.at + 1), ended, ...batch.slice(how.at + 1)];
	}

	private moved(): void {
		this.lastMove = now();
		this.baseline = undefined;
		this.warned = false;
	}

	/** cpuSourceOf; without one, the host process's whole CPU stands in (readAll): if the host used none, no thread of it did. */
	private source(workerId: number): CpuSource {
		const w = this.workers.get(workerId);
		return w ? cpuSourceOf(w, this.language, this.runnerPid) : undefined;
	}

	private where(workerId: number): string {
		const w = this.workers.get(workerId);
		if (w?.pid !== undefined) {
			return `process ${w.pid}`;
		}
		if (this.language === 'python' && w?.threadId !== undefined) {
			return `thread ${w.threadId}`;
		}
		// A JS worker's number is the panel's; its OS thread id is what top -H shows.
		return w?.tid !== undefined ? `thread ${w.tid} (worker ${workerId})` : `worker thread ${workerId}`;
	}

	/** CPU ms per running task's worker; under HOST, the host process's own (JS threads). */
	private async readAll(): Promise<Map<number, number | undefined>> {
		const out = new Map<number, number | undefined>();
		let host = false;
		await Promise.all([...this.running].map(async ([taskId, workerId]) => {
			const src = this.source(workerId);
			host ||= !src && this.inHost();
			out.set(taskId, src ? await readCpuMs(src) : undefined);
		}));
		if (host) {
			out.set(HOST, await readCpuMs({ pid: process.pid }));
		}
		return out;
	}

	/** JS thread (and serial) pools run their workers inside this process. */
	private inHost(): boolean {
		return this.language !== 'python' && this.runnerPid === undefined;
	}

	/** Each tick: nothing to do unless tasks run and none moved for half the window. */
	public async check(): Promise<void> {
		if (this.ended || this.checking || this.warned) {
			return;
		}
		if (!this.running.size) {
			this.checking = true;
			try {
				await this.checkLoading();
			} finally {
				this.checking = false;
			}
			return;
		}
		const windowMs = stallWindowMs(this.baseMs, this.longestMs);
		const quiet = now() - this.lastMove;
		if (quiet < windowMs / 2) {
			return;
		}
		const moves = this.lastMove;
		this.checking = true;
		try {
			if (!this.baseline) {
				const t = now();
				const cpu = await this.readAll();
				if (this.lastMove === moves) {
					this.baseline = { t, cpu }; // not one a task's move made stale while we read
				}
				return;
			}
			if (now() - this.baseline.t < windowMs / 2) {
				return;
			}
			const t = now();
			const cpu = await this.readAll();
			if (this.lastMove !== moves || this.ended) {
				return; // a task moved while we read
			}
			const spanMs = t - this.baseline.t;
			const delta = (key: number): number | undefined => {
				const before = this.baseline!.cpu.get(key);
				const after = cpu.get(key);
				return before !== undefined && after !== undefined ? Math.max(0, after - before) : undefined;
			};
			// A JS thread's own CPU is not known; the host's whole process used (almost) none: then none of its threads did.
			const host = delta(HOST);
			const hostIdle = host !== undefined && isIdle(host, spanMs) ? host : undefined;
			const tasks: BusyTask[] = [...this.running].sort((a, b) => a[0] - b[0]).map(([taskId, workerId]) => {
				const src = this.source(workerId);
				const cpuMs = src ? delta(taskId) : hostIdle;
				// On Linux an unreadable worker process is one that has exited (or a zombie).
				const gone = process.platform === 'linux' && src !== undefined && src.tid === undefined && cpu.get(taskId) === undefined;
				return { taskId, workerId, where: this.where(workerId), ...(cpuMs !== undefined ? { cpuMs } : {}), ...(gone ? { gone } : {}) };
			});
			const stacks = Boolean(this.options.snapshot);
			const unknownWhy = process.platform !== 'linux'
				? 'CPU time per worker is read from /proc, on Linux only'
				: this.inHost()
					? `JS worker threads run inside Poolscope's own process and Node does not tell a worker thread's OS thread id, so only the whole process's CPU can be read${host !== undefined ? `, and it used ${Math.round((100 * host) / spanMs)}% of a core` : ''}`
					: 'their CPU time could not be read';
			const message = stallMessage({ quietMs: now() - this.lastMove, spanMs, tasks, stacks, unknownWhy });
			if (message === undefined) {
				// All computing: look again a window later (a task may compute, then block).
				this.baseline = { t, cpu };
				return;
			}
			this.warned = true;
			let detail: string | undefined;
			if (this.options.snapshot) {
				detail = await withLimit(this.options.snapshot(), SNAPSHOT_LIMIT_MS).then((s) => s ? `Stacks when the stall was seen:\n${s.trimEnd()}` : undefined, () => undefined);
			}
			if (this.ended || this.lastMove !== moves) {
				// Nothing after run.finished; and a task that moved while the stacks were taken
				// ended the stall before it was told (told then, it stayed with nothing to end it).
				return;
			}
			this.toldStallSince = moves;
			const waitingWorkers = [...new Set(tasks.filter((t) => !t.gone && t.cpuMs !== undefined && isIdle(t.cpuMs, spanMs)).map((t) => t.workerId))];
			const goneWorkers = [...new Set(tasks.filter((t) => t.gone).map((t) => t.workerId))];
			this.sink([{ type: 'run.warning', runId: this.runId, t: now(), kind: 'stalled', message: detail || !stacks ? message : message.replace(STACKS_SHOWN, 'Stacks (the run\'s button) shows'), ...(detail ? { detail } : {}), ...(waitingWorkers.length ? { waitingWorkers } : {}), ...(goneWorkers.length ? { goneWorkers } : {}) }]);
		} finally {
			this.checking = false;
		}
	}

	/**
	 * A JS run whose workers never finish loading the user's module (a top-level await that never
	 * settles, a server started at the top of the file): tasks wait, none runs, and the workers
	 * only read "starting". Told once the window has passed since the run started and the workers
	 * used no CPU in its second half (a worker still booting, or a module computing, uses CPU).
	 * (A Python runner imports the file before its run starts: engine/stall/loadWatch.ts.)
	 */
	private async checkLoading(): Promise<void> {
		if (this.language !== 'javascript' || this.anyReady || !this.workers.size || !this.inputs) {
			return;
		}
		const quiet = now() - this.lastMove;
		if (quiet < this.baseMs / 2) {
			return;
		}
		const t = now();
		const cpu = await this.loadingCpu();
		if (this.anyReady || this.ended) {
			return;
		}
		const base = this.loadBase;
		if (!base || cpu === undefined || base.cpu === undefined || t - base.t < this.baseMs / 2 || !isIdle(cpu - base.cpu, t - base.t)) {
			if (!base || t - base.t >= this.baseMs / 2) {
				this.loadBase = { t, cpu }; // the first look, or busy: measure the next half window
			}
			return;
		}
		this.warned = true;
		this.toldStallSince = this.lastMove;
		const n = this.workers.size;
		const message = `No task can start: ${n === 1 ? 'the worker has' : `none of the ${n} workers has`} finished loading ${basename(this.file)} in ${secs(now() - this.lastMove)}, and ${n === 1 ? 'it' : 'they'} used no CPU in the last ${secs(t - base.t)}: code at the top level of the file is waiting (a top-level await that never settles, a server it starts, I/O that does not come). Each worker loads the file before its first task; run a script's own work only when the file is run directly: if (require.main === module) main(); (an ES module: if (import.meta.url === pathToFileURL(process.argv[1]).href) main();). Cancel the run to end it.`;
		this.sink([{ type: 'run.warning', runId: this.runId, t: now(), kind: 'stalled', message }]);
	}

	/** The loading workers' CPU ms: their processes', or (threads) the host process's whole. */
	private async loadingCpu(): Promise<number | undefined> {
		const pids = [...this.workers.values()].map((w) => w.pid).filter((p): p is number => p !== undefined);
		if (!pids.length) {
			return this.inHost() ? readCpuMs({ pid: process.pid }) : undefined;
		}
		const each = await Promise.all(pids.map((pid) => readCpuMs({ pid })));
		return each.some((c) => c === undefined) ? undefined : each.reduce((a, b) => a! + b!, 0);
	}

	public dispose(): void {
		this.ended = true;
		clearInterval(this.timer);
	}
}

/** What a task did that ended a stall, for its message; undefined: not a task's own move (a cancel is the user's, not the run moving again). */
function moveText(e: PoolEvent): string | undefined {
	switch (e.type) {
		case 'task.started':
			return `task ${e.taskId} started`;
		case 'task.finished':
			return `task ${e.taskId} ended`;
		case 'task.failed':
			return `task ${e.taskId} ${e.error.kind === 'timeout' ? 'timed out' : 'failed'}`;
		case 'task.output':
			return `task ${e.taskId} printed`;
		default:
			return undefined;
	}
}

export function withLimit<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	return Promise.race([p, new Promise<undefined>((r) => {
		timer = setTimeout(() => r(undefined), ms);
		timer.unref();
	})]).finally(() => clearTimeout(timer));
}
