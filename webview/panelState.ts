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
		this.sameInputsOf.clear();
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
