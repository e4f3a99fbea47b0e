import * as vscode from 'vscode';
import { packedLength, packEvents, PackedReader, type PackedEvents } from '../../engine/protocol/eventPacking';
import type { EventSink, PoolEvent, RunFinishedEvent } from '../../engine/protocol/events';
import { createRunModel, tallyPacked, type RunModel } from '../../engine/protocol/runModel';
import type { CancelTaskResult, RunHandle, RunRequest } from '../../engine/runTypes';
import { failedStart, type PackedSink } from '../../engine/thread/engineThread';
import { Disposable } from '../util/disposable';
import { EventLog } from './eventLog';

/** The engine, on its own thread (`engine/thread/engineThread.ts`): events arrive packed and coalesced. */
export type StartRun = (request: RunRequest, sink: PackedSink) => RunHandle;

/** Events kept per run for replays (a re-shown or reloaded panel); beyond it the replay is partial. */
const MAX_EVENTS_PER_RUN = 600_000;
/** Finished runs kept in memory for the panel's run list. */
const MAX_RUNS = 12;
/** What the tasks of a run still going when the window closes or reloads say (the history keeps it). */
export const SHUTDOWN_REASON = 'VS Code closed or reloaded the window';

export interface RunRecord {
	readonly request: RunRequest;
	/** Counts, workers, start and end; no tasks (`tallyPacked`: the panel and the history have those). */
	readonly model: RunModel;
	readonly log: EventLog;
	truncated: boolean;
	handle?: RunHandle;
	/** Read back from the history: its times are on another session's clock. */
	adopted?: boolean;
	finished?: RunFinishedEvent;
}

/**
 * Owns every run of the window: starts them on the engine, keeps their events for the panel,
 * coalesces the live stream, and ends them all on dispose. The only place the extension
 * touches the engine's run API.
 */
export class RunController extends Disposable {
	private readonly _runs = new Map<string, RunRecord>();

	private readonly _onEvents = this._register(new vscode.EventEmitter<{ runId: string; packed: PackedEvents }>());
	/** Live events as the engine thread sent them: at most ~30 messages a second, each ready for the panel. */
	public readonly onEvents = this._onEvents.event;
	private readonly _onDidStart = this._register(new vscode.EventEmitter<RunRecord>());
	public readonly onDidStart = this._onDidStart.event;
	private readonly _onDidFinish = this._register(new vscode.EventEmitter<RunRecord>());
	public readonly onDidFinish = this._onDidFinish.event;

	constructor(private readonly _startRun: StartRun, private readonly _log: (line: string) => void) {
		super();
	}

	public get runs(): readonly RunRecord[] {
		return [...this._runs.values()];
	}

	public get(runId: string): RunRecord | undefined {
		return this._runs.get(runId);
	}

	public get active(): RunRecord[] {
		return this.runs.filter((r) => !r.finished);
	}

	/** `also` sees the run's raw batches too (a comparison measures CPU share from them). */
	public start(request: RunRequest, also?: EventSink): RunRecord {
		const record: RunRecord = { request, model: createRunModel(request.runId), log: new EventLog(request.runId), truncated: false };
		this._runs.set(request.runId, record);
		this.prune();
		const sink: PackedSink = (packed) => {
			if (also) {
				const reader = new PackedReader(request.runId, packed);
				also(reader.next(reader.length));
			}
			this.accept(record, packed);
		};
		this._onDidStart.fire(record);
		try {
			record.handle = this._startRun(request, sink);
		} catch (e) {
			// Bad requests throw synchronously; they end as a failed run the panel can show.
			this.accept(record, packEvents([failedStart(request.runId, e instanceof Error ? e.name : 'Error', e instanceof Error ? e.message : String(e))]));
			return record;
		}
		void record.handle.done.then((final) => {
			if (!record.finished) {
				this.accept(record, packEvents([final])); // a backend that resolved without emitting it
			}
		});
		return record;
	}

	/**
	 * A finished run read back from the history joins the runs the panel can show (and rerun),
	 * kept and counted from its packed batches as a live run's are (no object per event: a
	 * 100k-task run is adopted in ~0.1 s).
	 */
	public adopt(request: RunRequest, batches: readonly PackedEvents[], truncated: boolean): RunRecord {
		const existing = this._runs.get(request.runId);
		if (existing) {
			return existing;
		}
		const record: RunRecord = { request, model: createRunModel(request.runId), log: new EventLog(request.runId), truncated, adopted: true };
		for (const batch of batches) {
			tallyPacked(record.model, batch);
			record.log.appendPacked(batch);
		}
		record.finished = record.model.finished;
		this._runs.set(request.runId, record);
		this.prune();
		return record;
	}

	public async cancel(runId: string, reason = 'cancelled by user'): Promise<void> {
		await this._runs.get(runId)?.handle?.cancel(reason);
	}

	public async cancelTask(runId: string, taskId: number): Promise<CancelTaskResult> {
		const handle = this._runs.get(runId)?.handle;
		if (!handle) {
			return { ok: false, reason: 'the run is not known any more' };
		}
		return handle.cancelTask(taskId);
	}

	public replay(): { runId: string; batches: PackedEvents[] }[] {
		return this.runs.map((r) => ({ runId: r.request.runId, batches: r.log.batches() }));
	}

	/**
	 * Cancels every active run and waits until all their workers and processes have ended; resolves
	 * with those runs, ended (cancelled), for the history to keep: by then VS Code has disposed this
	 * controller's events (it disposes the subscriptions without waiting for `deactivate`).
	 */
	public async shutdown(): Promise<RunRecord[]> {
		const active = this.active.filter((r) => r.handle);
		await Promise.all(active.map(async (r) => {
			// The cancel's reply is lost when VS Code's disposing ends the engine thread right after
			// the run: the run's end (which never rejects) is what counts.
			await r.handle!.cancel(SHUTDOWN_REASON).catch(() => undefined);
			await r.handle!.done;
		}));
		return active.filter((r) => r.finished);
	}

	public override dispose(): void {
		for (const r of this.active) {
			void r.handle?.cancel('the extension was deactivated');
		}
		super.dispose();
	}

	private accept(record: RunRecord, packed: PackedEvents): void {
		if (record.finished) {
			return; // nothing after the end: the panel's counts are final
		}
		const end = packed.other.find((e): e is RunFinishedEvent => e.type === 'run.finished');
		const overlap = end && this.overlapWarning(record, end);
		if (overlap) {
			this.accept(record, packEvents([overlap]));
		}
		tallyPacked(record.model, packed);
		const length = packedLength(packed);
		if (record.log.length + length <= MAX_EVENTS_PER_RUN) {
			record.log.appendPacked(packed, length);
		} else {
			record.truncated = true;
			if (end) {
				record.log.append([end]); // the replay needs the run's end for its summary
			}
		}
		this._onEvents.fire({ runId: record.request.runId, packed });
		if (end) {
			record.finished = end;
			// The history first: a log line that threw (a channel closed with the window) lost the
			// run. The extension's channel no longer throws (guardedOutput); the order stays.
			this._onDidFinish.fire(record);
			const c = end.counts;
			this._log(`run ${record.request.runId} ${end.outcome}: ${c.finished} finished, ${c.failed} failed, ${c.cancelled} cancelled, ${c.timedOut} timed out, ${c.rejected} rejected in ${(end.wallMs / 1000).toFixed(2)} s${end.error ? ` (${end.error.name}: ${end.error.message})` : ''}`);
		}
	}

	/**
	 * Runs of this window that were live while `record` ran (the engine's clock, one for every
	 * run): they shared the cores, so its wall time, and a speedup against it, measure both. Said
	 * at its end; each of two overlapping runs says it of the other.
	 */
	private overlapWarning(record: RunRecord, end: RunFinishedEvent): PoolEvent | undefined {
		const from = record.model.started?.t;
		if (from === undefined) {
			return undefined;
		}
		const others = this.runs.filter((o) => o !== record && !o.adopted && o.model.started !== undefined
			&& o.model.started.t < end.t && (o.finished?.t ?? Infinity) > from);
		if (!others.length) {
			return undefined;
		}
		const names = others.map((o) => `${o.request.fn} (${o.request.pool === 'serial' ? 'serially' : `${o.request.pool} pool`})`).join(', ');
		return {
			type: 'run.warning', runId: record.request.runId, t: end.t, kind: 'overlap',
			message: `Another run shared the machine with this one: ${names}. Its times (and a speedup computed from them) count that run's work too; run one at a time to measure.`,
		};
	}

	private prune(): void {
		const finished = this.runs.filter((r) => r.finished);
		while (this._runs.size > MAX_RUNS && finished.length) {
			this._runs.delete(finished.shift()!.request.runId);
		}
	}
}
