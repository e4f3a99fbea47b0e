/**
 * Python runs: one runner process per run (engine/python/runner.py), which drives a real
 * concurrent.futures executor and streams protocol events on its fd 3. The runner lives in a
 * process group of its own, so ending the group ends every worker it started, whatever happens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { now } from '../clock';
import { CpuSampler, DEFAULT_CPU_SAMPLE_MS } from '../cpu/cpuSampler';
import { pythonRunnerFile } from '../paths';
import { RUN_OUTPUT_LIMIT, type ErrorInfo, type EventSink, type PoolEvent, type RunFinishedEvent, type StackFrame, type StreamName, type TaskCounts } from '../protocol/events';
import { failedState } from '../protocol/runModel';
import { lowerSession } from '../priority';
import { isSampled, type Backend, type CancelTaskResult, type RunHandle, type RunRequest } from '../runTypes';
import { findPython, interpreterToStart, learnInterpreter } from './interpreter';
import { MarkedStream, withoutMarks } from './runnerOutput';
import { ThreadWaitSampler, type WaitShares } from '../cpu/threadWaits';
import { LoadWatch } from '../stall/loadWatch';

/** How much of the runner's stdout/stderr is kept for the message if it dies. */
const STDERR_TAIL_CHARS = 64 * 1024;

/** After "cancel", how long the runner gets before its whole process group is killed. */
const CANCEL_GRACE_MS = 6000;
/** The same while the runner is still loading the user's module and inputs (no run.started yet). */
const LOAD_CANCEL_GRACE_MS = 1500;
/** Before a task's deadline, how early the runner's stopping may touch the other threads. */
const STOP_MARGIN_MS = 20;
/** How long run.finished waits for the end marks on fd 1 and 2 (user code may have closed them). */
const RAW_END_WAIT_MS = 1000;

/**
 * A thread pool's GIL estimate less the share of task time its threads were seen in I/O or
 * asleep, or waiting on a lock (threadWaits.ts); the runner's estimate stands where they were
 * not looked at.
 */
function splitWaits(end: RunFinishedEvent, seen: WaitShares | undefined): void {
	const off = end.offCpuShare;
	delete end.offCpuShare; // the runner's input to this, not a figure of the run
	if (!seen || end.gilWaitShare === undefined) {
		return;
	}
	if (off !== undefined) { // else the interpreter idled: its waits were no GIL's (0%)
		const rest = off - seen.ioShare - (seen.lockShare ?? 0) - (end.coreWaitShare ?? 0);
		// Lock waits not told apart (the GIL's futex never seen) stay in `rest`; the runner's own
		// figure leaves out tasks that barely computed (asleep, or waiting on a lock), so both
		// count too much, differently: the smaller is the nearer.
		end.gilWaitShare = Math.max(0, Math.min(1, seen.lockShare === undefined ? Math.min(end.gilWaitShare, rest) : rest));
	}
	end.ioWaitShare = seen.ioShare;
	if (seen.lockShare !== undefined) {
		end.lockWaitShare = seen.lockShare;
	}
	end.waitSamples = seen.looks;
}

export const pythonBackend: Backend = {
	start(request: RunRequest, sink: EventSink): RunHandle {
		return new PythonRun(request, sink).handle;
	},
};

class PythonRun {
	public readonly handle: RunHandle;
	private proc: ChildProcess | undefined;
	private finished: RunFinishedEvent | undefined;
	/** Characters of raw output sent as run.output (rawData). */
	private rawChars = 0;
	/** Set as run.finished goes to the sink: no raw output after it. */
	private rawClosed = false;
	private pendingEnd: PoolEvent[] | undefined;
	private started = false;
	/**
	 * The runner said it is about to load the user's file (`{"loading": true}`): a process that
	 * exits after this is our runner ended by what the file or its inputs ran, not a program that
	 * is no Python (a module calling os._exit(0) at import read "is not a Python interpreter").
	 */
	private loading = false;
	/** Tells a module that never finishes importing (engine/stall/loadWatch.ts). */
	private loadWatch: LoadWatch | undefined;
	/** The runner's fd 1 and 2, each read up to its end mark (runnerOutput.ts). */
	private readonly raw = { stdout: new MarkedStream(), stderr: new MarkedStream() };
	private rawEndTimer: NodeJS.Timeout | undefined;
	/** Raw output after its start mark but before run.started reached the sink: sent right after it. */
	private rawEarly: PoolEvent[] = [];
	/** The runner's last words (stdout and stderr): a crash dump of many threads fits. */
	private stderrTail = '';
	private readonly replies = new Map<number, (reply: Record<string, unknown>) => void>();
	private nextId = 1;
	private resolveDone!: (e: RunFinishedEvent) => void;
	private exited = false;
	private cancelRequested = false;
	/** What cancelled tasks say: the cancel's own reason (the CLI's Ctrl-C), else "run cancelled". */
	private cancelReason: string | undefined;
	/** Asked to cancel, and how long the runner gets before its group is killed. */
	private cancelling = false;
	private graceMs = CANCEL_GRACE_MS;
	private pythonPath = '';
	private cpu: CpuSampler | undefined;
	private waits: ThreadWaitSampler | undefined;
	/** Which tasks ended, so a runner that dies mid-run still gets every task an ending. */
	private readonly endings = new TaskEndings();

	constructor(private readonly request: RunRequest, private readonly sink: EventSink) {
		const done = new Promise<RunFinishedEvent>((r) => { this.resolveDone = r; });
		this.handle = {
			runId: request.runId,
			done,
			cancelTask: (taskId) => this.cancelTask(taskId),
			cancel: (reason) => this.cancel(reason),
			snapshotStacks: () => this.stacks(),
		};
		this.begin();
	}

	private begin(): void {
		const python = findPython(this.request.pythonPath);
		if (!python.ok) {
			this.fail({ kind: 'load', name: 'PythonNotFound', message: python.message, hint: python.hint });
			return;
		}
		this.spawnRunner(python, interpreterToStart(python.path, this.request.workspaceRoot));
	}

	/** `python.path` is what the user chose (messages name it); `exe` is what runs. */
	private spawnRunner(python: { path: string }, exe: string): void {
		if (this.finished) {
			return;
		}
		this.pythonPath = python.path;
		const proc = spawn(exe, runnerArgs(), {
			stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
			detached: true,
			cwd: this.request.workspaceRoot,
			env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
		});
		this.proc = proc;
		if (this.request.priority === 'low' && proc.pid !== undefined) {
			// The runner lowers its own nice; its session's (detached) is ours to lower.
			void lowerSession(proc.pid);
		}
		let spawnError: Error | undefined;
		proc.on('error', (e) => {
			spawnError = e;
		});
		const events = proc.stdio[3] as Readable;
		createInterface({ input: events }).on('line', (line) => this.line(line));
		for (const [name, stream] of [['stdout', proc.stdout], ['stderr', proc.stderr]] as const) {
			stream?.setEncoding('utf8').on('data', (text: string) => {
				this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL_CHARS);
				this.rawData(name, text);
			});
		}
		// A runner killed or crashed mid-run leaves its worker processes holding its pipes: no
		// 'close' would ever come, and they would live on. Its group ends the moment it exits.
		proc.on('exit', () => this.killGroup());
		proc.on('close', (code, signal) => {
			for (const name of ['stdout', 'stderr'] as const) {
				this.rawOutput(name, this.raw[name].rest());
			}
			this.sendEnd();
			this.exited = true;
			this.loadWatch?.dispose();
			this.cpu?.dispose();
			this.waits?.dispose();
			this.killGroup(); // workers the runner could not end itself
			removeStackDirs(proc.pid); // a runner killed mid-run could not remove its own
			if (!this.finished) {
				const tail = withoutMarks(this.stderrTail).trim();
				if (this.cancelling && signal === 'SIGKILL') {
					this.endFromHost(undefined); // ended by us, after the cancel's grace
				} else if (spawnError) {
					const enoent = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
					this.fail({ kind: 'load', name: 'PythonNotFound', message: enoent ? `Python not found at ${python.path}` : `${python.path} could not start: ${spawnError.message}` });
				} else if (/POOLSCOPE_PYTHON_TOO_OLD (\S+)/.test(tail) || /SyntaxError/.test(tail) && !this.started) {
					const version = /POOLSCOPE_PYTHON_TOO_OLD (\S+)/.exec(tail)?.[1] ?? 'older than 3.9';
					this.fail({ kind: 'load', name: 'PythonTooOld', message: `${python.path} is Python ${version}; Poolscope needs Python 3.9 or newer`, hint: 'Set poolscope.pythonPath (the CLI: --python) to a newer interpreter.' });
				} else if (this.loading && !this.started && !signal && !/Traceback|Fatal Python error/.test(tail)) {
					this.fail(exitedWhileLoading(code, tail, this.request.file));
				} else if (!this.loading && !this.started && !signal && (code === 0 || !/Traceback|Python|python/.test(tail))) {
					// Gone before our runner's first line, without a word from Python or with exit
					// code 0: not an interpreter (/bin/ls read "RunnerExited ... invalid option --
					// 'W'", a script echoing "Python 3.8.10" read "RunnerExited ... code 0").
					this.fail({
						kind: 'load', name: 'NotPython',
						message: `${python.path} is not a Python interpreter: it exited with code ${code} without running Poolscope's runner${tail ? ` (it said: ${tail.split('\n').slice(-3).join(' ').slice(0, 300)})` : ''}`,
						hint: 'Set poolscope.pythonPath (the CLI: --python) to a Python 3.9 or newer (e.g. /usr/bin/python3 or .venv/bin/python), or clear it to use python3 from PATH.',
					});
				} else {
					this.fail(runnerExited(code, signal, tail, this.request.file));
				}
			} else {
				this.resolveDone(this.finished);
			}
		});
		(proc.stdin as Writable).on('error', () => undefined); // a dead runner is handled by 'close'
		this.send({ ...this.request });
		if (this.cancelRequested) {
			void this.command({ cmd: 'cancel', reason: this.cancelReason });
		}
	}

	private send(obj: unknown): void {
		const stdin = this.proc?.stdin;
		if (stdin && !stdin.destroyed && !this.exited) {
			stdin.write(`${JSON.stringify(obj)}\n`);
		}
	}

	/**
	 * What reaches the runner's own stdout and stderr below Python's sys.stdout (os.system(), a C
	 * extension, sys.__stdout__, a crash dump) between the runner's marks is the run's output:
	 * nothing else would show it (runnerOutput.ts). Before them it is the launcher's.
	 */
	private rawData(stream: StreamName, text: string): void {
		const raw = this.raw[stream];
		this.rawOutput(stream, raw.take(text));
		if (raw.ended && this.raw.stdout.ended && this.raw.stderr.ended) {
			this.sendEnd(); // if it came first
		}
	}

	private rawOutput(stream: StreamName, text: string): void {
		if (!text || this.rawClosed || this.rawChars > RUN_OUTPUT_LIMIT) {
			return;
		}
		const kept = text.slice(0, RUN_OUTPUT_LIMIT + 1 - this.rawChars);
		this.rawChars += kept.length;
		const output: PoolEvent = { type: 'run.output', runId: this.request.runId, t: now(), stream, text: kept };
		if (this.started) {
			this.sink([output]);
		} else {
			this.rawEarly.push(output);
		}
	}

	/** run.finished, held by line() until fd 1 and 2 are read up to their end marks. */
	private sendEnd(): void {
		const last = this.pendingEnd;
		if (!last) {
			return;
		}
		clearTimeout(this.rawEndTimer);
		this.pendingEnd = undefined;
		this.rawClosed = true;
		this.endings.add(last);
		this.sink(last);
		this.proc?.stdin?.end(); // the runner exits on stdin EOF once it is done
	}

	private line(line: string): void {
		let msg: { events?: (PoolEvent | CompactEvent)[]; reply?: Record<string, unknown>; loading?: boolean };
		try {
			msg = JSON.parse(line) as typeof msg;
		} catch {
			return;
		}
		if (msg.events) {
			const batch = this.finished ? [] : expandCompact(this.request.runId, msg.events);
			let loadEnded: PoolEvent | undefined;
			let lastLooks: PoolEvent | undefined;
			for (const e of batch) {
				if (e.type === 'run.started') {
					this.started = true;
					loadEnded = this.loadWatch?.stop();
					this.loadWatch = undefined;
					if (e.executable) {
						learnInterpreter(this.pythonPath, this.request.workspaceRoot, e.executable);
					}
					// The machine's CPU during the run, sampled here so the runner stays small.
					if (this.request.cpuSampleMs !== 0) {
						this.cpu = new CpuSampler(this.request.cpuSampleMs ?? DEFAULT_CPU_SAMPLE_MS, (s) => {
							if (!this.finished) {
								const sample: PoolEvent = { type: 'cpu.sample', runId: this.request.runId, t: s.t, total: s.total, perCore: s.perCore };
								this.sink([sample]);
							}
						});
					}
					if (e.pool === 'thread' && e.pid !== undefined) {
						// Sent while any sampling is on, as startRun looks at every other run's workers.
						this.waits = new ThreadWaitSampler(e.pid, now, !isSampled(this.request) ? undefined : (workers) => {
							if (!this.finished) {
								this.sink([{ type: 'worker.waits', runId: this.request.runId, t: now(), workers }]);
							}
						});
						if (e.gilProbeThreadId !== undefined) {
							this.waits.watchProbe(e.gilProbeThreadId);
						}
					}
					delete e.gilProbeThreadId;
				} else if (e.type === 'worker.started') {
					if (e.threadId !== undefined) {
						this.waits?.watch(e.workerId, e.threadId);
					}
				} else if (e.type === 'task.finished' || e.type === 'task.failed') {
					if (e.workerId !== undefined && e.durationMs !== undefined) {
						this.waits?.taskRan(e.workerId, e.t - e.durationMs, e.t);
					}
					if (e.type === 'task.failed' && failedState(e.error) === 'timedOut') {
						// From when the runner began to stop it (a poll after its deadline; it may
						// report the end 100 ms later): the other threads' waits then are on our locks.
						const start = e.durationMs !== undefined ? e.t - e.durationMs : e.t;
						this.waits?.stopCountingAt(Math.min(e.t, start + (this.request.timeoutMs ?? 0) - STOP_MARGIN_MS));
					}
				} else if (e.type === 'run.finished') {
					this.finished = e;
					this.cpu?.dispose();
					const looks = !isSampled(this.request) ? [] : this.waits?.unsent(true) ?? [];
					if (looks.length) {
						lastLooks = { type: 'worker.waits', runId: this.request.runId, t: e.t, workers: looks };
					}
					splitWaits(e, this.waits?.finish());
				}
			}
			if (loadEnded) {
				batch.splice(batch.findIndex((e) => e.type === 'run.started') + 1, 0, loadEnded);
			}
			if (lastLooks) {
				batch.splice(batch.findIndex((e) => e.type === 'run.finished'), 0, lastLooks);
			}
			const end = batch.findIndex((e) => e.type === 'run.finished');
			const before = end < 0 ? batch : batch.slice(0, end);
			if (before.length) {
				this.endings.add(before);
				this.sink(before);
			}
			if (this.started && this.rawEarly.length) {
				const early = this.rawEarly;
				this.rawEarly = [];
				this.sink(early);
			}
			if (end >= 0) {
				// What tasks wrote below sys.stdout just before the end is in other pipes, which a
				// busy host may read later: the end goes out once they are read up to its mark.
				this.pendingEnd = batch.slice(end);
				if (this.raw.stdout.ended && this.raw.stderr.ended) {
					this.sendEnd();
				} else {
					this.rawEndTimer = setTimeout(() => this.sendEnd(), RAW_END_WAIT_MS);
				}
			}
		} else if (msg.loading) {
			this.loading = true;
			// Off where sampling is off (a bench's measured run), or the stall window is 0, as the task stall watch is.
			const pid = this.proc?.pid;
			if (pid !== undefined && (this.request.memorySampleMs ?? this.request.cpuSampleMs) !== 0 && this.request.stallMs !== 0 && !this.loadWatch) {
				this.loadWatch = new LoadWatch(this.sink, this.request.runId, pid, basename(this.request.file), () => this.stacks(), this.request.stallMs);
			}
		} else if (msg.reply) {
			const id = Number(msg.reply.id);
			this.replies.get(id)?.(msg.reply);
			this.replies.delete(id);
		}
	}

	private command(cmd: Record<string, unknown>, timeoutMs = 5000): Promise<Record<string, unknown> | undefined> {
		if (!this.proc || this.exited || this.finished) {
			return Promise.resolve(undefined);
		}
		const id = this.nextId++;
		return new Promise((resolve) => {
			const timer = setTimeout(() => {
				this.replies.delete(id);
				resolve(undefined);
			}, timeoutMs);
			this.replies.set(id, (r) => {
				clearTimeout(timer);
				resolve(r);
			});
			this.send({ ...cmd, id });
		});
	}

	private async cancelTask(taskId: number): Promise<CancelTaskResult> {
		const r = await this.command({ cmd: 'cancelTask', taskId });
		if (!r) {
			return { ok: false, reason: 'the run has ended' };
		}
		return r.ok === true ? { ok: true } : { ok: false, reason: String(r.reason ?? 'refused') };
	}

	private async cancel(reason?: string): Promise<void> {
		this.cancelReason ??= reason;
		if (!this.proc && !this.finished) {
			this.cancelRequested = true; // the runner is not started yet: it is told as soon as it is
		}
		if (this.finished || !this.proc) {
			await this.handle.done;
			return;
		}
		void this.command({ cmd: 'cancel', reason: this.cancelReason });
		this.cancelling = true;
		// Before run.started the runner is loading the user's code: nothing of the run to save.
		this.graceMs = this.started ? CANCEL_GRACE_MS : LOAD_CANCEL_GRACE_MS;
		const timer = setTimeout(() => this.killGroup(), this.graceMs);
		await this.handle.done;
		clearTimeout(timer);
	}

	private async stacks(): Promise<string> {
		const r = await this.command({ cmd: 'stacks' });
		if (!r) {
			throw new Error('the run has ended');
		}
		return String(r.text ?? '');
	}

	private killGroup(): void {
		const pid = this.proc?.pid;
		if (pid) {
			try {
				process.kill(-pid, 'SIGKILL');
			} catch {
				// the group is already empty
			}
		}
	}

	/** Ends the run from the host side (no interpreter, or the runner died). */
	private fail(error: ErrorInfo): void {
		this.endFromHost(error);
	}

	/**
	 * Ends the run from the host side: with an error (no interpreter, the runner died), or as
	 * cancelled when the runner had to be ended because it did not stop in time after a cancel
	 * (stuck importing the module or evaluating the inputs, or in tasks that ignore it).
	 */
	private endFromHost(error: ErrorInfo | undefined): void {
		if (this.finished) {
			return;
		}
		const t = now();
		const events: PoolEvent[] = [];
		const r = this.request;
		if (!this.started) {
			events.push({ type: 'run.started', runId: r.runId, t, fn: r.fn, file: r.file, language: 'python', pool: r.pool, workers: r.workers ?? 0, options: { workers: r.workers ?? 0 }, inputCount: 0, cores: 0, runtime: 'python (not started)', stages: [] });
		}
		if (error) {
			const failure = { ...error, message: `the runner died before this task ended: ${error.message}` };
			for (const taskId of this.endings.open()) {
				events.push({ type: 'task.failed', runId: r.runId, t, taskId, error: failure });
			}
			// Its workers went with it (its threads; its processes, by their group): they are not idle.
			for (const workerId of this.endings.workers) {
				events.push({ type: 'worker.exited', runId: r.runId, t, workerId, code: null, signal: null, reason: 'crash' });
			}
		} else {
			const busy = this.started ? 'its tasks did not stop' : 'it was still importing the module or evaluating the inputs';
			for (const taskId of this.endings.open()) {
				events.push({ type: 'task.cancelled', runId: r.runId, t, taskId, reason: `${this.cancelReason ?? 'run cancelled'}: the runner was ended`, wasRunning: false });
			}
			events.push({ type: 'run.warning', runId: r.runId, t, message: `The runner did not stop within ${(this.graceMs / 1000).toFixed(1)} s of the cancel (${busy}), so it was ended with its workers.` });
		}
		this.endings.add(events);
		const started = this.endings.startedAt ?? t;
		this.finished = {
			type: 'run.finished', runId: r.runId, t, outcome: error ? 'error' : 'cancelled', wallMs: t - started,
			counts: { ...this.endings.counts }, throughput: 0, workers: [], ...(error ? { error } : {}),
		};
		events.push(this.finished);
		this.rawClosed = true;
		this.sink(events);
		if (!this.proc || this.exited) {
			this.resolveDone(this.finished);
		}
	}
}

/**
 * The runner exited by itself while it imported the user's file or made the inputs (no signal, no
 * traceback): code there called os._exit (sys.exit only raises SystemExit, reported as a load error).
 */
export function exitedWhileLoading(code: number | null, stderrTail: string, userFile: string): ErrorInfo {
	return {
		kind: 'load', name: 'ModuleExited',
		message: `the Python interpreter exited with code ${code} while Poolscope imported ${basename(userFile)} and made the inputs, before any task ran: code there ended it (os._exit at the top level of the file, say)${stderrTail ? `. It printed:\n${stderrTail.slice(-2000)}` : ''}`,
		hint: 'The top level of a module runs when Poolscope imports it (and again in every spawn or forkserver worker): put what the file does as a script under if __name__ == "__main__":.',
	};
}

/**
 * Why the runner ended before its run did. A crash of the interpreter itself (a segfault in native
 * code called by a task, an abort) comes with faulthandler's dump of every thread on stderr
 * (runner.py enables it): its frames point at the function and line that crashed.
 */
export function runnerExited(code: number | null, signal: NodeJS.Signals | null, stderrTail: string, userFile: string): ErrorInfo {
	const how = `the Python runner ended ${signal ? `by ${signal}` : `with code ${code}`} before the run finished`;
	const fatal = stderrTail.indexOf('Fatal Python error:');
	if (fatal < 0) {
		return { kind: 'internal', name: 'RunnerExited', message: stderrTail ? `${how}:\n${stderrTail.slice(-2000)}` : how };
	}
	const dump = stderrTail.slice(fatal).trim();
	const headline = dump.split('\n', 1)[0]!;
	// The thread that crashed is faulthandler's "Current thread"; the others were elsewhere.
	const current = /^Current thread .*\n((?:\s+File .*\n?)+)/m.exec(dump)?.[1] ?? dump;
	const frames: StackFrame[] = [];
	for (const m of current.matchAll(/^\s+File "(.+)", line (\d+) in (.+)$/gm)) {
		const file = m[1]!;
		frames.push({ file, line: Number(m[2]), function: m[3]!.trim(), user: file === userFile || !(file.startsWith('<') || /[\\/]poolscope_\w+\.py$|[\\/]lib[\\/]python[\d.]+[\\/]/.test(file)) });
	}
	const crashed = frames.find((f) => f.user);
	return {
		kind: 'workerExited', name: 'RunnerExited',
		message: `${how}: ${headline}${crashed ? ` in ${crashed.function ?? '?'} (${crashed.file}:${crashed.line})` : ''}`,
		stack: dump.slice(0, 8000),
		frames,
		hint: 'The interpreter itself crashed, so every thread of it ended: in a thread pool that is every task. In a process pool the crash ends one worker (and breaks the pool), and the panel names the task.',
	};
}

/**
 * A byte per task (submitted, ended) and the counts: all the host needs to end a run whose runner
 * died. The run model it replaced kept an object per task, ~27 MB and ~2.5 us a task at 100k.
 */
export class TaskEndings {
	private state = new Uint8Array(1024);
	private ids = 0; // task ids seen are below this
	startedAt: number | undefined;
	readonly counts: TaskCounts = { submitted: 0, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 };
	/** Workers announced and not yet exited. */
	readonly workers = new Set<number>();

	add(events: readonly PoolEvent[]): void {
		for (const e of events) {
			switch (e.type) {
				case 'run.started':
					this.startedAt = e.t;
					break;
				case 'worker.started':
					this.workers.add(e.workerId);
					break;
				case 'worker.exited':
					this.workers.delete(e.workerId);
					break;
				case 'task.submitted':
					this.see(e.taskId);
					break;
				case 'task.finished':
					this.end(e.taskId, 'finished');
					break;
				case 'task.failed':
					this.end(e.taskId, failedState(e.error));
					break;
				case 'task.cancelled':
					this.end(e.taskId, 'cancelled');
					break;
				default:
					break;
			}
		}
	}

	/** Task ids submitted and not ended. */
	*open(): Generator<number> {
		for (let id = 0; id < this.ids; id++) {
			if (this.state[id] === SUBMITTED) {
				yield id;
			}
		}
	}

	private see(taskId: number): void {
		if (taskId >= this.state.length) {
			const grown = new Uint8Array(Math.max(taskId + 1, 2 * this.state.length));
			grown.set(this.state);
			this.state = grown;
		}
		if (!this.state[taskId]) {
			this.state[taskId] = SUBMITTED;
			this.counts.submitted++;
			this.ids = Math.max(this.ids, taskId + 1);
		}
	}

	/** The first ending counts, like the run model's: a late duplicate must not count twice. */
	private end(taskId: number, state: Exclude<keyof TaskCounts, 'submitted'>): void {
		this.see(taskId);
		if (this.state[taskId] === SUBMITTED) {
			this.state[taskId] = ENDED;
			this.counts[state]++;
		}
	}
}

/**
 * How the runner is started. The filter reaches multiprocessing's resource tracker too (it is
 * started with our -W options): at our exit it could warn on our stderr about our own queues'
 * semaphores ("There appear to be 3 leaked semaphore objects"), which was taken for run output.
 */
export function runnerArgs(): string[] {
	return ['-u', '-W', 'ignore:resource_tracker:UserWarning:multiprocessing.resource_tracker', pythonRunnerFile()];
}

const SUBMITTED = 1;
const ENDED = 2;

/** The runner's short form of the per-task events (runner.py, Emitter.compact). */
type CompactEvent =
	/**
	 * tasks submitted together: [S, t, first taskId, an input preview per task], or the number of
	 * tasks when the inputs were a count (each task's input is its own id)
	 */
	| ['S', number, number, string[] | number]
	| ['q', number, number, string]
	| ['b', number, number, number]
	/**
	 * Thread-pool tasks that returned: [T, numbers, results]. `numbers` is base64 of doubles
	 * (the runner's machine byte order, which is ours), six a task: start, taskId, workerId, end,
	 * cpuMs (NaN when the thread's CPU clock was not read: a sample of very short tasks), and 1
	 * when task.started was announced already (a long task), else 0.
	 */
	| ['T', string, string[]]
	/**
	 * Process-pool results: [P, numbers, results], seven numbers a task as in T: start, taskId,
	 * workerId, end (left the worker), cpuMs, t (arrived), seen; seen: 1 = its start was
	 * announced already, 2 = its wait in the result queue.
	 */
	| ['P', string, string[]];

/**
 * Where packed records are decoded, reused: a fresh buffer per record (and a copy, since a small
 * Buffer sits in a shared pool at an offset a Float64Array may not take) cost ~4 ms of host CPU
 * per 5,000-task run, mostly first-touch page faults of memory used once.
 */
let scratch = new ArrayBuffer(64 * 1024);

/**
 * A packed record's numbers: base64 of doubles in this machine's byte order (the runner's). The
 * view is valid until the next call: read it before decoding another record.
 */
function doubles(base64: string): Float64Array {
	const bytes = Buffer.byteLength(base64, 'base64');
	if (bytes > scratch.byteLength) {
		scratch = new ArrayBuffer(Math.max(bytes, 2 * scratch.byteLength));
	}
	const written = Buffer.from(scratch).write(base64, 'base64');
	return new Float64Array(scratch, 0, written >> 3);
}

/** Back to protocol events: `s` is a submission, which is also a queued "pending". */
export function expandCompact(runId: string, events: readonly (PoolEvent | CompactEvent)[]): PoolEvent[] {
	const out: PoolEvent[] = [];
	for (const e of events) {
		if (!Array.isArray(e)) {
			out.push(e);
			continue;
		}
		switch (e[0]) {
			case 'S': {
				const inputs = e[3];
				const n = typeof inputs === 'number' ? inputs : inputs.length;
				for (let i = 0; i < n; i++) {
					const taskId = e[2] + i;
					out.push({ type: 'task.submitted', runId, t: e[1], taskId, input: typeof inputs === 'number' ? String(taskId) : inputs[i]! });
					out.push({ type: 'task.queued', runId, t: e[1], taskId, stage: 'pending' });
				}
				break;
			}
			case 'q':
				out.push({ type: 'task.queued', runId, t: e[1], taskId: e[2], stage: e[3] });
				break;
			case 'b':
				out.push({ type: 'task.started', runId, t: e[1], taskId: e[2], workerId: e[3] });
				break;
			case 'P': {
				const n = doubles(e[1]);
				for (let i = 0, k = 0; k < e[2].length; i += 7, k++) {
					const start = n[i]!, taskId = n[i + 1]!, workerId = n[i + 2]!, end = n[i + 3]!, cpu = n[i + 4]!, seen = n[i + 6]!;
					if (!(seen & 1)) {
						out.push({ type: 'task.started', runId, t: start, taskId, workerId });
					}
					if (!(seen & 2)) {
						out.push({ type: 'task.queued', runId, t: end, taskId, stage: 'resultQueue' });
					}
					out.push({ type: 'task.finished', runId, t: n[i + 5]!, taskId, workerId, durationMs: end - start, cpuMs: Number.isNaN(cpu) ? undefined : cpu, result: e[2][k]! });
				}
				break;
			}
			case 'T': {
				const n = doubles(e[1]);
				for (let i = 0, k = 0; k < e[2].length; i += 6, k++) {
					const start = n[i]!, taskId = n[i + 1]!, workerId = n[i + 2]!, end = n[i + 3]!, cpu = n[i + 4]!;
					if (!n[i + 5]) {
						out.push({ type: 'task.started', runId, t: start, taskId, workerId });
					}
					out.push({ type: 'task.finished', runId, t: end, taskId, workerId, durationMs: end - start, cpuMs: Number.isNaN(cpu) ? undefined : cpu, result: e[2][k]! });
				}
				break;
			}
		}
	}
	return out;
}

/** The stack folders of the runner `pid` (poolscope_runner.py names them after it): it removes its own as it ends. */
function removeStackDirs(pid: number | undefined): void {
	if (pid === undefined) {
		return;
	}
	try {
		for (const name of readdirSync(tmpdir())) {
			if (name.startsWith(`poolscope-stacks-${pid}-`)) {
				rmSync(join(tmpdir(), name), { recursive: true, force: true });
			}
		}
	} catch {
		// nothing to remove
	}
}
