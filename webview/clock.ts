import type { RunModel } from '../engine/protocol/runModel';

/**
 * The host's monotonic clock, estimated in the webview: the latest event time plus the time
 * this page has seen pass since it arrived (elapsed times keep moving between batches).
 */
const seen = new WeakMap<RunModel, { t: number; at: number }>();

export function now(model: RunModel): number {
	const last = seen.get(model);
	if (!last || last.t !== model.lastT) {
		seen.set(model, { t: model.lastT, at: performance.now() });
		return model.lastT;
	}
	return last.t + (performance.now() - last.at);
}
