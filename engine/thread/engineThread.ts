/**
 * Runs the engine on a worker thread (`engineThread.worker.ts`) behind the same `startRun`
 * contract, so the thread that owns it (VS Code's extension host, shared by every extension)
 * only receives packed event messages. One thread serves every run; it starts with the first run
 * and ends on `dispose`, after the runs it hosts have ended.
 */
import { Worker } from 'node:worker_threads';
import { now } from '../clock';
import { packEvents, type PackedEvents } from '../protocol/eventPacking';
import type { ErrorInfo, RunFinishedEvent } from '../protocol/events';
import { workerFile } from '../paths';
import { SessionLowering } from '../priority';
import type { CancelTaskResult, RunHandle, RunRequest } from '../runTypes';
import type { EngineThreadData, FromEngineThread, ToEngineThread } from './threadMessages';

/** Receives a run's events as they crossed (`engine/protocol/eventPacking.ts`), to keep or forward as they are. */
export type PackedSink = (packed: PackedEvents) => void;

interface HostedRun {
	readonly request: RunRequest;
	readonly sink: PackedSink;
	readonly resolve: (final: RunFinishedEvent) => void;
	readonly done: Promise<RunFinishedEvent>;
	/** Process workers alive (worker id -> pid), ended by us if the thread dies under them. */
	readonly pids: Map<number, number>;
	lastT: number;
	/** Gives back the host's session priority this run held (SessionLowering), once. */
	release?: () => Promise<void>;
}

export interface EngineThreadOptions {
	/**
	 * While low-priority runs are live, lower this process's session too (engine/priority.ts,
	 * SessionLowering): for a window in another session, as a browser showing code-server is.
	 */
	readonly lowerSessionWhileRunning?: boolean;
}

export class EngineThread {
	private worker: Worker | undefined;
	private readonly runs = new Map<string, HostedRun>();
	private readonly calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
	private nextCall = 1;
	private disposed = false;
	/** The priority the current thread was started with (the first run's `priority`). */
	private lowPriority = false;
	private readonly session: SessionLowering | undefined;

	public constructor(options: EngineThreadOptions = {}) {
		this.session = options.lowerSessionWhileRunning ? new SessionLowering() : undefined;
	}

	public start(request: RunRequest, sink: PackedSink): RunHandle {
		if (this.disposed) {
			throw new Error('the engine thread has been disposed');
		}
		const low = request.priority === 'low';
		if (this.worker && this.lowPriority !== low && this.runs.size === 0) {
			// An idle thread of the other priority is replaced (Linux lets a thread lower its
			// priority, never raise it); while runs share it, it keeps the one it has.
			const old = this.worker;
			this.worker = undefined;
			void old.terminate();
		}
		this.lowPriority = this.worker ? this.lowPriority : low;
		let resolve!: (final: RunFinishedEvent) => void;
		const done = new Promise<RunFinishedEvent>((r) => { resolve = r; });
		this.runs.set(request.runId, { request, sink, resolve, done, pids: new Map(), lastT: 0, release: low ? this.session?.hold() : undefined });
		this.post({ type: 'start', request });
		this.worker?.ref(); // a run keeps its process alive, as it would on the calling thread
		const { runId } = request;
		return {
			runId,
			done,
			cancel: async (reason) => { await this.call({ type: 'cancel', runId, reason, call: 0 }); },
			cancelTask: (taskId) => this.call({ type: 'cancelTask', runId, taskId, call: 0 }) as Promise<CancelTaskResult>,
			snapshotStacks: request.language === 'python' ? () => this.call({ type: 'snapshotStacks', runId, call: 0 }) as Promise<string> : undefined,
		};
	}

	/** Ends the thread once every run it hosts has ended (cancel them first to hurry it). */
	public async dispose(): Promise<void> {
		this.disposed = true;
		await Promise.all([...this.runs.values()].map((r) => r.done));
		await this.worker?.terminate();
		this.worker = undefined;
	}

	private thread(): Worker {
		if (this.worker) {
			return this.worker;
		}
		const worker = new Worker(workerFile('engineThread'), { workerData: { lowPriority: this.lowPriority } satisfies EngineThreadData });
		worker.unref(); // an idle engine keeps nothing alive
		worker.on('message', (m: FromEngineThread) => this.receive(m));
		worker.on('error', (e) => this.lost(worker, `the engine thread failed: ${e.message}`));
		worker.on('exit', (code) => this.lost(worker, `the engine thread exited with code ${code}`));
		this.worker = worker;
		return worker;
	}

	private post(m: ToEngineThread): void {
		this.thread().postMessage(m);
	}

	private call(m: Extract<ToEngineThread, { call: number }>): Promise<unknown> {
		const call = this.nextCall++;
		return new Promise((resolve, reject) => {
			if (!this.runs.has(m.runId)) {
				resolve(m.type === 'cancelTask' ? { ok: false, reason: 'the run has ended' } : undefined);
				return;
			}
			this.calls.set(call, { resolve, reject });
			this.post({ ...m, call });
		});
	}

	private receive(m: FromEngineThread): void {
		switch (m.type) {
			case 'events': {
				const run = this.runs.get(m.runId);
				if (!run) {
					return;
				}
				for (const e of m.packed.other) {
					if (e.type === 'worker.started' && e.pid !== undefined && e.pid !== process.pid) {
						run.pids.set(e.workerId, e.pid);
					} else if (e.type === 'worker.exited') {
						run.pids.delete(e.workerId);
					}
				}
				run.lastT = Math.max(run.lastT, m.packed.t[m.packed.t.length - 1] ?? 0, m.packed.other[m.packed.other.length - 1]?.t ?? 0);
				run.sink(m.packed);
				return;
			}
			case 'startFailed': {
				const run = this.runs.get(m.runId);
				if (run) {
					this.finish(run, failedStart(m.runId, m.name, m.message));
				}
				return;
			}
			case 'done': {
				const run = this.runs.get(m.runId);
				if (run) {
					this.ended(run);
					run.resolve(m.final);
				}
				return;
			}
			case 'reply': {
				const pending = this.calls.get(m.call);
				this.calls.delete(m.call);
				if (m.error !== undefined) {
					pending?.reject(new Error(m.error));
				} else {
					pending?.resolve(m.value);
				}
				return;
			}
		}
	}

	private ended(run: HostedRun): void {
		this.runs.delete(run.request.runId);
		void run.release?.();
		if (this.runs.size === 0) {
			this.worker?.unref();
		}
	}

	/** A run that ended without the engine saying so: its sink gets the final event too. */
	private finish(run: HostedRun, final: RunFinishedEvent): void {
		this.ended(run);
		run.sink(packEvents([final]));
		run.resolve(final);
	}

	/** The thread died (a bug in the engine, or terminated): every run it hosted ends as an error, nothing left running. */
	private lost(worker: Worker, why: string): void {
		if (this.worker !== worker) {
			return; // an earlier thread, already replaced
		}
		this.worker = undefined;
		for (const pending of this.calls.values()) {
			pending.reject(new Error(why));
		}
		this.calls.clear();
		for (const run of [...this.runs.values()]) {
			for (const pid of run.pids.values()) {
				try {
					process.kill(pid, 'SIGKILL');
				} catch {
					// already gone
				}
			}
			this.finish(run, endedInError(run.request.runId, { kind: 'internal', name: 'EngineError', message: why, hint: 'A bug in Poolscope: its workers were ended. Please report it with the output channel\'s log.' }, run.lastT));
		}
	}
}

/** The final event of a run the engine refused before it started (what the panel and the history show). */
export function failedStart(runId: string, name: string, message: string): RunFinishedEvent {
	return endedInError(runId, { kind: 'load', name, message });
}

/** A run's end the engine did not send (no counts, no workers: the extension's tally has those). */
function endedInError(runId: string, error: ErrorInfo, after = 0): RunFinishedEvent {
	return {
		type: 'run.finished', runId, t: Math.max(after, now()), outcome: 'error', wallMs: 0,
		counts: { submitted: 0, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 0, workers: [],
		error,
	};
}
