import { fork, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { now } from '../clock';
import { workerFile } from '../paths';
import { lowerProcess, lowerSession } from '../priority';
import { endGroup, leftoverWarning } from './leftoverChildren';
import { FrameReader, RUN_OUTPUT } from './outputPipe';
import { forkThroughLauncher } from './parentDeath';
import type { ErrorInfo } from '../protocol/events';
import type { HostToProcess, ProcessToHost, TaskSpec } from './taskMessages';
import { outOfMemoryError, type PoolCallbacks, type WorkerIdentity, type WorkerPool } from './workerPool';

/** How often the host looks at what the workers run: live enough for a panel at 30 frames a second. */
const START_POLL_MS = 20;
/**
 * Batches a worker holds at once: the one it runs and the next, which it starts the moment the
 * first ends instead of idling through a round trip to the host (like piscina's queue for threads).
 */
const BATCHES_PER_WORKER = 2;
/**
 * While tasks take under SHORT_TASK_MS, a worker holds more: the round trip then costs more than
 * the task (an IPC write wakes a sleeping process: ~40 us on a small VM), and a task held behind
 * a short one waits little. Longer tasks keep 2, so few wait behind a straggler.
 */
const BATCHES_PER_WORKER_SHORT = 4;
const SHORT_TASK_MS = 1;
/** Calls this long go one per worker (`depthFor`): the round trip a second would save is under 1% of one. */
const LONG_TASK_MS = 50;
/**
 * How long a dead worker's output pipe may stay open (a process it forked without exec holds
 * it) before the host stops waiting for the rest of its output and ends its tasks.
 */
const PIPE_AFTER_EXIT_MS = 1000;

export interface ProcessPoolOptions {
	workers: number;
	fn: string;
	maxHeapMb?: number;
	lowPriority?: boolean;
	/** Extra environment for the workers (the harness marker travels this way too). */
	env?: NodeJS.ProcessEnv;
}

interface Child {
	proc: ChildProcess;
	identity: WorkerIdentity;
	ready: boolean;
	/** Tasks handed to it and not yet ended, in order: the first one is running. */
	assigned: number[];
	/** Sizes of the batches in `assigned`, in order (what is left of the first). */
	batches: number[];
	/** When the first of `assigned` started (see `readStarts`). */
	headSince: number;
	/** Its task.started is out. */
	headAnnounced: boolean;
	killed?: { taskId: number; reason: 'timeout' | 'cancelled' };
	/** The process is gone; its tasks are ended once its output pipe is read to the end (`gone`). */
	exited: boolean;
	/** Resolved once its exit is handled (`exited`): what it printed, then its tasks' ends. */
	gone: Promise<void>;
	/** Its output pipe (outputPipe.ts). */
	frames: FrameReader;
	/** IPC messages waiting for the output written before them, in order. */
	held: ProcessToHost[];
	/** V8 said on stderr it hit the heap limit (the exit that follows is its abort). */
	outOfMemory?: boolean;
	/** Tasks dispatched in this turn of the event loop, sent together at its end (`sendTasks`). */
	unsent: TaskSpec[];
}

/**
 * A small pool of forked Node processes (see docs/design.md for why not tinypool's
 * child_process runtime): we own every pid, can SIGKILL the one running a task, hear each
 * task end over IPC and read what it prints from a pipe of its own (outputPipe.ts).
 */
export class ProcessPool implements WorkerPool {
	private readonly children = new Set<Child>();
	private closing = false;
	private loadFailed = false;
	private saidUserSend = false;
	/** The function killed too many workers (the run stopped starting new ones): a dead worker is not replaced. */
	private noReplacements = false;
	private poll: NodeJS.Timeout | undefined;

	/** Given by `load` once written: the workers boot while the user's file is bundled. */
	private bundle: string | undefined;
	/** Recent task duration (moving average; unknown until the first ends). */
	private recentMs = Infinity;

	constructor(private readonly options: ProcessPoolOptions, private readonly cb: PoolCallbacks) {
		for (let i = 0; i < options.workers; i++) {
			this.spawn();
		}
	}

	/** The user's bundle is written: every worker loads it (and says "ready" once it has). */
	public load(bundle: string): void {
		this.bundle = bundle;
		for (const child of this.children) {
			this.send(child, { type: 'init', bundle, fn: this.options.fn });
		}
	}

	public freeSlots(waiting: number): number {
		if (this.closing) {
			return 0;
		}
		this.replaceDead(waiting);
		let n = 0;
		const depth = this.depthFor(waiting);
		for (const c of this.children) {
			if (c.ready && !c.exited) {
				n += Math.max(0, depth - c.batches.length);
			}
		}
		return n;
	}

	/**
	 * Batches a worker may hold. A batch held ahead is tied to its worker: behind a long call it
	 * waits all of it while another worker may idle, and nothing can move it (a worker running a
	 * call reads no message). So none is held ahead while a worker is still starting (it wants work
	 * the moment it is ready), at the end of the queue (no more left than workers to take it),
	 * or while calls take 50 ms or more (or no call has ended yet). Before these rules, two calls
	 * of 600 ms on two fresh workers both went to the first one ready (1.29 s, not 0.69), and ten
	 * calls of 1 ms then two of 1 s took 2.1 s instead of 1.1 (both long ones on one worker).
	 */
	private depthFor(waiting: number): number {
		if (!(this.recentMs < LONG_TASK_MS) || waiting <= this.live() || this.starting()) {
			return 1;
		}
		return this.recentMs < SHORT_TASK_MS ? BATCHES_PER_WORKER_SHORT : BATCHES_PER_WORKER;
	}

	/**
	 * A worker that died (a crash, a timeout) is replaced once tasks wait that no live worker can
	 * take, not as it dies: with nothing left to run, the replacement booted for nothing (~100-150
	 * ms of a Node start) and the run waited for it before it could end, its wall time with it.
	 */
	private replaceDead(waiting: number): void {
		if (this.loadFailed || this.noReplacements) {
			return;
		}
		for (let n = Math.min(waiting, this.options.workers - this.live()); n > 0; n--) {
			this.spawn();
		}
	}

	private live(): number {
		let n = 0;
		for (const c of this.children) {
			n += c.exited ? 0 : 1;
		}
		return n;
	}

	private starting(): boolean {
		for (const c of this.children) {
			if (!c.ready && !c.exited) {
				return true;
			}
		}
		return false;
	}

	private noteDuration(ms: number): void {
		this.recentMs = this.recentMs === Infinity ? ms : 0.8 * this.recentMs + 0.2 * ms;
	}

	public dispatch(tasks: TaskSpec[], waiting: number): void {
		let child: Child | undefined;
		const depth = this.depthFor(waiting);
		for (const c of this.children) {
			if (c.ready && !c.exited && c.batches.length < depth && (!child || c.batches.length < child.batches.length)) {
				child = c; // the least busy: an idle worker before a second batch for a busy one
			}
		}
		if (!child) {
			this.cb.requeue(tasks.map((t) => t.taskId));
			return;
		}
		if (child.assigned.length === 0) {
			child.headSince = now();
			child.headAnnounced = false;
		}
		child.assigned.push(...tasks.map((t) => t.taskId));
		child.batches.push(tasks.length);
		this.sendTasks(child, tasks);
		this.poll ??= setInterval(() => this.readStarts(), START_POLL_MS).unref();
	}

	/**
	 * Live starts without a message per task (that message cost a tenth of a no-op task's
	 * throughput): a worker starts a batch as it arrives and each next task as the previous one
	 * ends, so a task still running at a poll is announced from then; one that ends sooner
	 * starts with its result, at the worker's own clock reading.
	 */
	private readStarts(): void {
		let busy = false;
		for (const c of this.children) {
			const head = c.assigned[0];
			if (head === undefined || c.exited) {
				continue;
			}
			busy = true;
			if (!c.headAnnounced) {
				c.headAnnounced = true;
				this.cb.taskStarted(head, c.identity, c.headSince);
			}
		}
		if (!busy || this.closing) {
			clearInterval(this.poll);
			this.poll = undefined;
		}
	}

	public stopReplacing(): void {
		this.noReplacements = true;
	}

	public kill(taskId: number, reason: 'timeout' | 'cancelled'): void {
		for (const c of this.children) {
			if (c.assigned.includes(taskId) && !c.exited) {
				c.killed ??= { taskId, reason };
				c.proc.kill('SIGKILL');
			}
		}
	}

	public async close(): Promise<void> {
		this.closing = true;
		clearInterval(this.poll);
		this.poll = undefined;
		// Dead ones too: their exit may wait for the rest of their output.
		const all = [...this.children];
		for (const c of all) {
			if (c.assigned.length && !c.exited) {
				// Killed to stop the task it runs (a cancelled or stopped run): its exit says so, as a
				// thread's does, not "shutdown" (SIGKILL).
				c.killed ??= { taskId: c.assigned[0]!, reason: 'cancelled' };
			}
		}
		await Promise.all(all.map((c) => {
			if (!c.exited) {
				// Idle workers leave on disconnect; one stuck in a task gets SIGKILL after a grace.
				try {
					c.proc.disconnect();
				} catch {
					// already disconnected
				}
				const grace = setTimeout(() => c.proc.kill('SIGKILL'), c.assigned.length ? 0 : 2000);
				c.proc.once('exit', () => clearTimeout(grace));
			}
			return c.gone;
		}));
	}

	private spawn(): void {
		const execArgv = this.options.maxHeapMb ? [`--max-old-space-size=${this.options.maxHeapMb}`] : [];
		const proc = fork(workerFile('processTask'), [], {
			// stdio[4]: what its calls print (outputPipe.ts), OUTPUT_FD in the worker.
			stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'],
			serialization: 'advanced',
			// Its own process group: what its tasks start is ended with it (leftoverChildren.ts).
			detached: process.platform !== 'win32',
			...forkThroughLauncher(['--enable-source-maps', ...execArgv]),
			env: { ...process.env, ...this.options.env },
		});
		if (this.options.lowPriority && proc.pid !== undefined) {
			lowerProcess(proc.pid);
			void lowerSession(proc.pid); // it leads a session of its own (detached)
		}
		const identity: WorkerIdentity = { key: `p${proc.pid}`, pid: proc.pid };
		const frames = new FrameReader((taskId, stream, text) => {
			if (taskId === RUN_OUTPUT) {
				this.cb.runOutput(identity, stream, text);
			} else {
				this.cb.taskOutput(taskId, stream, text);
			}
		});
		let gone = () => undefined as void;
		const child: Child = { proc, identity, ready: false, assigned: [], batches: [], headSince: 0, headAnnounced: false, exited: false, unsent: [], frames, held: [], gone: new Promise<void>((resolve) => { gone = resolve; }) };
		this.children.add(child);
		this.cb.workerStarting(child.identity, now());
		// Output that bypassed console (native code, a crash message) still belongs to a task.
		for (const stream of ['stdout', 'stderr'] as const) {
			proc[stream]?.setEncoding('utf8').on('data', (text: string) => {
				if (stream === 'stderr' && /JavaScript heap out of memory|Reached heap limit|<--- Last few GCs --->/.test(text)) {
					child.outOfMemory = true; // V8's last words before it aborts the process
				}
				if (stream === 'stderr' && child.outOfMemory) {
					return; // its GC log and native stack (~35 lines a task): the task's OutOfMemory error says it
				}
				const current = child.assigned[0];
				if (current !== undefined) {
					this.cb.taskOutput(current, stream, text);
				} else {
					this.cb.runOutput(child.identity, stream, text);
				}
			});
		}
		proc.on('message', (m: ProcessToHost) => {
			if (child.held.length || (m.outBytes ?? 0) > frames.received) {
				child.held.push(m); // the output printed before it is still in the pipe
			} else {
				this.handle(child, m);
			}
		});
		const pipe = proc.stdio[4] as Readable | null;
		let pipeOpen = pipe !== null;
		let exit: [number | null, NodeJS.Signals | null] | undefined;
		let pipeWait: NodeJS.Timeout | undefined;
		const settle = () => {
			if (exit && !pipeOpen) {
				frames.end();
				this.release(child, true);
				this.exited(child, ...exit);
				gone();
			}
		};
		pipe?.on('data', (chunk: Buffer) => {
			frames.push(chunk);
			this.release(child, false);
		});
		pipe?.on('error', () => undefined); // 'close' follows
		pipe?.on('close', () => {
			pipeOpen = false;
			clearTimeout(pipeWait);
			settle();
		});
		proc.on('error', () => undefined); // 'exit' follows and says what happened
		proc.on('exit', (code, signal) => {
			// Not to be given tasks from now on; what it printed last may still be in the pipe.
			child.exited = true;
			exit = [code, signal];
			if (pipeOpen) {
				pipeWait = setTimeout(() => pipe?.destroy(), PIPE_AFTER_EXIT_MS).unref();
			}
			settle();
		});
		if (this.bundle !== undefined) {
			this.send(child, { type: 'init', bundle: this.bundle, fn: this.options.fn });
		}
	}

	/**
	 * Batches dispatched to one worker in the same turn (several results arrive in one read, and
	 * each frees a slot) travel in one IPC message: every write wakes the worker process, ~40 us
	 * here. The worker runs its tasks in order either way; the host still counts the batches
	 * apart, and a worker that dies first has them all in `assigned` to requeue.
	 */
	private sendTasks(child: Child, tasks: TaskSpec[]): void {
		if (child.unsent.length === 0) {
			queueMicrotask(() => {
				const all = child.unsent;
				child.unsent = [];
				this.send(child, { type: 'run', tasks: all });
			});
		}
		child.unsent.push(...tasks);
	}

	private send(child: Child, m: HostToProcess): void {
		if (child.proc.connected) {
			child.proc.send(m);
		}
	}

	/** Held messages whose output has been read (all of them once the pipe has ended). */
	private release(child: Child, all: boolean): void {
		while (child.held.length && (all || (child.held[0]!.outBytes ?? 0) <= child.frames.received)) {
			this.handle(child, child.held.shift()!);
		}
	}

	private handle(child: Child, m: ProcessToHost): void {
		try {
			this.message(child, m);
		} catch (e) {
			// Only our worker writes to this channel (it takes process.send from the user's code),
			// but whatever arrives must not end the engine and every run in it.
			this.cb.warning(`worker process ${child.identity.pid} sent a message Poolscope could not read (${e instanceof Error ? e.message : String(e)}); it was ignored`);
		}
	}

	private message(child: Child, m: ProcessToHost): void {
		switch (m.type) {
			case 'ready':
				child.ready = true;
				this.cb.workerStarted(child.identity, now());
				this.cb.idle();
				break;
			case 'loadError':
				if (!this.loadFailed) {
					this.loadFailed = true;
					this.cb.fatal(m.error);
				}
				break;
			case 'start':
				if (m.taskId === child.assigned[0] && !child.headAnnounced) {
					child.headAnnounced = true;
					this.cb.taskStarted(m.taskId, child.identity, m.t);
				}
				break;
			case 'output':
				this.cb.taskOutput(m.taskId, m.stream, m.text);
				break;
			case 'runOutput':
				this.cb.runOutput(child.identity, m.stream, m.text);
				break;
			case 'moduleExit':
				this.cb.fatal(m.error);
				break;
			case 'late':
				this.cb.lateError(m);
				break;
			case 'userSend':
				if (!this.saidUserSend) {
					this.saidUserSend = true;
					const who = m.taskId !== undefined ? `task ${m.taskId}` : 'code outside any task (the module\'s own)';
					this.cb.warning(`${who} called process.send(${m.value}): in a Poolscope process pool the parent is Poolscope, which does not read your code's messages, so it was dropped (and so are any later ones, without another warning). Return the value instead: it becomes the task's result.`);
				}
				break;
			case 'done':
				child.assigned = child.assigned.filter((id) => id !== m.result.taskId);
				// A worker runs its tasks in order: the next one started as this one ended.
				child.headSince = m.result.endT;
				child.headAnnounced = false;
				this.noteDuration(Math.max(0, m.result.endT - m.result.startT));
				this.cb.taskResult(m.result, child.identity);
				if (child.batches.length && --child.batches[0]! <= 0) {
					child.batches.shift();
					this.cb.idle(); // room for another batch
				}
				break;
		}
	}

	private exited(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
		this.children.delete(child);
		const pid = child.identity.pid;
		const ended = pid !== undefined && process.platform !== 'win32' ? endGroup(pid) : [];
		if (ended.length) {
			this.cb.warning(leftoverWarning(ended, () => `worker process ${pid}'s tasks`));
		}
		const killed = child.killed;
		const reason = this.closing && !killed ? 'shutdown' : killed ? killed.reason : child.outOfMemory ? 'outOfMemory' : 'crash';
		if (child.ready) {
			this.cb.workerExited(child.identity.key, code, signal, reason);
		}
		// It only ever gets tasks while alive and idle, so the first one was running.
		const running = child.assigned.slice(0, 1);
		const notStarted = child.assigned.slice(1);
		for (const taskId of running) {
			if (!child.headAnnounced) {
				// Died before the start poll saw it run: the start the poll would have given, so the
				// task has its bar and its duration (it had neither).
				child.headAnnounced = true;
				this.cb.taskStarted(taskId, child.identity, child.headSince);
			}
			this.cb.taskLost(taskId, this.lossError(taskId, child, code, signal), child.identity.key);
		}
		if (notStarted.length) {
			this.cb.requeue(notStarted);
		}
		child.assigned = [];
		child.batches = [];
		if (!this.closing) {
			this.cb.idle(); // a replacement if tasks wait for one (replaceDead)
		}
	}

	private lossError(taskId: number, child: Child, code: number | null, signal: string | null): ErrorInfo {
		// What became of the worker; jsBackend puts the task and its limit in front.
		if (child.killed?.taskId === taskId && child.killed.reason === 'timeout') {
			return { kind: 'timeout', name: 'TimeoutError', message: `worker process ${child.identity.pid} was killed and replaced` };
		}
		if (child.killed?.reason === 'cancelled' || this.closing) {
			return { kind: 'exception', name: 'Cancelled', message: `cancelled while running; worker process ${child.identity.pid} was killed` };
		}
		if (child.outOfMemory) {
			return outOfMemoryError(`worker process ${child.identity.pid}`, this.options.maxHeapMb);
		}
		return {
			kind: 'workerExited', name: 'WorkerExited',
			message: signal ? `worker process ${child.identity.pid} was killed by ${signal}` : `worker exited with code ${code} (process ${child.identity.pid})`,
			hint: signal ? undefined : 'process.exit() in a task ends its worker process; return or throw instead.',
		};
	}
}
