import type { WorkerModel } from '../../engine/protocol/runModel';

/**
 * The workers of each lane, one after another: a worker that starts after another has exited
 * takes its lane (a replacement: recycled by max_tasks_per_child, or after a crash or a
 * timeout), so a pool that replaced its workers 500 times keeps as many lanes as it had
 * workers at once, not 500. The timeline draws a lane per entry and the workers table lists each
 * lane's latest worker first, so row i and lane i are the same position in the pool.
 */
export function workerLanes(workers: Iterable<WorkerModel>): number[][] {
	const sorted = [...workers].sort((a, b) => a.startedAt - b.startedAt || a.workerId - b.workerId);
	const lanes: { ids: number[]; freeAt: number | undefined }[] = [];
	for (const w of sorted) {
		const lane = lanes.find((l) => l.freeAt !== undefined && l.freeAt <= w.startedAt);
		if (lane) {
			lane.ids.push(w.workerId);
			lane.freeAt = w.exitedAt;
		} else {
			lanes.push({ ids: [w.workerId], freeAt: w.exitedAt });
		}
	}
	return lanes.map((l) => l.ids);
}
