/** Every run the panel knows, folded with the engine's own reducer. */
import type { PoolEvent } from '../engine/protocol/events';
import { applyEvents, createRunModel, type RunModel, type TaskState } from '../engine/protocol/runModel';

export const STATE_LABELS: Record<TaskState, string> = {
	submitted: 'submitted',
	queued: 'pending',
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

	public reset(): void {
		this.runs.clear();
		this.order = [];
		this.version++;
	}

	public apply(runId: string, events: readonly PoolEvent[]): RunModel {
		let model = this.runs.get(runId);
		if (!model) {
			model = createRunModel(runId);
			this.runs.set(runId, model);
			this.order.push(runId);
		}
		applyEvents(model, events);
		this.version++;
		return model;
	}

	/** The latest finished serial run of the same function and inputs, for the speedup. */
	public serialBaseline(model: RunModel): RunModel | undefined {
		const s = model.started;
		if (!s || s.pool === 'serial') {
			return undefined;
		}
		let best: RunModel | undefined;
		for (const id of this.order) {
			const m = this.runs.get(id)!;
			const o = m.started;
			if (o && m.finished?.outcome === 'completed' && o.pool === 'serial' && o.fn === s.fn && o.file === s.file && o.inputCount === s.inputCount) {
				best = m;
			}
		}
		return best;
	}
}
