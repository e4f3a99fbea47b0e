/** Every run the panel knows, folded with the engine's own reducer. */
import type { PoolEvent } from '../engine/protocol/events';
import type { PackedReader } from '../engine/protocol/eventPacking';
import { applyEvent, applyEvents, createRunModel, finishTask, queueTask, startTask, submitTask, type RunModel, type TaskModel, type TaskState } from '../engine/protocol/runModel';

/**
 * A task's state as the panel shows it: a future in a Python process pool's call queue is
 * 'queued' to the model but no longer cancellable, bounded and waiting on a worker, so it is told
 * apart from the pending ones.
 */
export type ShownState = TaskState | 'callQueue';

export function shownState(task: TaskModel): ShownState {
	return task.stage === 'callQueue' ? 'callQueue' : task.state;
}

export const STATE_LABELS: Record<ShownState, string> = {
	submitted: 'submitted',
	queued: 'pending',
	callQueue: 'in call queue',
	running: 'running',
	finished: 'finished',
	failed: 'failed',
	cancelled: 'cancelled',
	timedOut: 'timed out',
	rejected: 'rejected',
};

export class PanelState {
	public readonly runs = new Map<string, RunModel>();
	public order: string[] = [];
	public cpuNow: { total: number; perCore: number[] } | undefined;
	public cores = 0;
	/** Bumped on every change; views redraw when it moved. */
	public version = 0;

	/**
	 * Per run, the tasks in the call queue now: its chip's count without walking 100k tasks (the
	 * model keeps no per-stage count). At most a few more than the pool's workers.
	 */
	private readonly callQueued = new WeakMap<RunModel, Set<number>>();

	public reset(): void {
		this.runs.clear();
		this.sameInputsOf.clear();
		this.order = [];
		this.version++;
	}

	public apply(runId: string, events: readonly PoolEvent[]): RunModel {
		const model = this.model(runId);
		// A task can only enter the call queue by a task.queued, and leave it by an event of its own.
		const set = this.callQueued.get(model);
		let touched: number[] | undefined;
		for (const e of events) {
			if ((e.type === 'task.queued' && e.stage === 'callQueue') || (set?.size && 'taskId' in e && set.has(e.taskId))) {
				(touched ??= []).push((e as { taskId: number }).taskId);
			}
		}
		applyEvents(model, events);
		this.settle(model, touched);
		return model;
	}

	/**
	 * The same for up to `max` packed events, folded from their columns with no object per event
	 * (the live path: a 100k-task run is ~300k of them); returns how many it took.
	 */
	public applyPacked(runId: string, reader: PackedReader, max: number): number {
		const model = this.model(runId);
		const set = this.callQueued.get(model);
		let touched: number[] | undefined;
		const seen = (taskId: number) => {
			if (set?.size && set.has(taskId)) {
				(touched ??= []).push(taskId);
			}
		};
		const n = reader.visit(max, {
			submitted: (t, taskId, input) => submitTask(model, t, taskId, input),
			queued: (t, taskId, stage) => {
				if (stage === 'callQueue') {
					(touched ??= []).push(taskId);
				} else {
					seen(taskId);
				}
				queueTask(model, t, taskId, stage);
			},
			started: (t, taskId, workerId) => {
				seen(taskId);
				startTask(model, t, taskId, workerId);
			},
			finished: (t, taskId, workerId, durationMs, cpuMs, result) => {
				seen(taskId);
				finishTask(model, t, taskId, workerId, durationMs, cpuMs, result);
			},
			other: (e) => {
				if ('taskId' in e) {
					seen(e.taskId);
				}
				applyEvent(model, e);
			},
		});
		this.settle(model, touched);
		return n;
	}

	private model(runId: string): RunModel {
		let model = this.runs.get(runId);
		if (!model) {
			model = createRunModel(runId);
			this.runs.set(runId, model);
			this.order.push(runId);
		}
		return model;
	}

	/** The call-queue set after the tasks touched left or entered it; and the version moves. */
	private settle(model: RunModel, touched: number[] | undefined): void {
		if (touched) {
			let set = this.callQueued.get(model);
			if (!set) {
				set = new Set();
				this.callQueued.set(model, set);
			}
			for (const id of touched) {
				if (model.tasks.get(id)?.stage === 'callQueue') {
					set.add(id);
				} else {
					set.delete(id);
				}
			}
		}
		this.version++;
	}

	/** How many of a run's futures are in the call queue now (what its chip filters to). */
	public inCallQueue(model: RunModel): number {
		return this.callQueued.get(model)?.size ?? 0;
	}

	/**
	 * The latest finished serial run of the same function and inputs, for the speedup of a
	 * finished run. The same number of inputs is not enough: `[(1000,)] * 4` serially against
	 * `[(10_000_000,)] * 4` on a pool read as a 0.01x "speedup".
	 */
	public serialBaseline(model: RunModel): RunModel | undefined {
		const s = model.started;
		if (!s || s.pool === 'serial' || !model.finished) {
			return undefined;
		}
		let best: RunModel | undefined;
		for (const id of this.order) {
			const m = this.runs.get(id)!;
			const o = m.started;
			if (o && m.finished?.outcome === 'completed' && o.pool === 'serial' && o.fn === s.fn && o.file === s.file && o.inputCount === s.inputCount && this.sameInputs(model, m)) {
				best = m;
			}
		}
		return best;
	}

	/** Two finished runs' inputs compared once (a walk of both runs' tasks), then remembered. */
	private readonly sameInputsOf = new Map<string, boolean>();

	private sameInputs(a: RunModel, b: RunModel): boolean {
		const key = `${a.runId}\n${b.runId}`;
		let same = this.sameInputsOf.get(key);
		if (same === undefined) {
			same = a.tasks.size === b.tasks.size;
			for (const [id, t] of a.tasks) {
				const u = b.tasks.get(id);
				if (!same || !u || plainInput(u.input) !== plainInput(t.input)) {
					same = false;
					break;
				}
			}
			this.sameInputsOf.set(key, same);
		}
		return same;
	}
}

/** An input's preview without object addresses (`<function <lambda> at 0x7f...>`), which differ from run to run. */
function plainInput(preview: string): string {
	return preview.includes(' at 0x') ? preview.replace(/ at 0x[0-9a-fA-F]+/g, '') : preview;
}
