/** Running real JS pools from tests: collects every event and the OS-level process picture. */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import type { PoolEvent, RunFinishedEvent } from '../../../engine/protocol/events';
import { applyEvents, createRunModel, taskLooks, WAIT_LABELS } from '../../../engine/protocol/runModel';
import type { RunHandle, RunRequest } from '../../../engine/runTypes';
import { startRun } from '../../../engine/startRun';
import { descendantsOf } from '../../harness/processes';

export const JS_FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'unit', 'engine', 'fixtures', 'js');

let seq = 0;

export interface CollectedRun {
	handle: RunHandle;
	events: PoolEvent[];
	done: Promise<RunFinishedEvent>;
}

export function run(partial: Partial<RunRequest> & Pick<RunRequest, 'fn' | 'inputs'>): CollectedRun {
	const events: PoolEvent[] = [];
	const request: RunRequest = {
		runId: `test-${process.pid}-${seq++}`,
		file: join(JS_FIXTURES, 'tasks.js'),
		language: 'javascript',
		pool: 'thread',
		workers: 2,
		cpuSampleMs: 0,
		...partial,
	};
	const handle = startRun(request, (batch) => {
		for (const e of batch) {
			events.push(e);
		}
	});
	return { handle, events, done: handle.done };
}

export function ofType<T extends PoolEvent['type']>(events: PoolEvent[], type: T): Extract<PoolEvent, { type: T }>[] {
	return events.filter((e): e is Extract<PoolEvent, { type: T }> => e.type === type);
}

/**
 * Child processes of this test process, from the OS table. esbuild's service process is left
 * out: esbuild keeps one per host process on purpose and it ends with its parent.
 */
export function childProcesses(): string[] {
	return descendantsOf(process.pid).filter((p) => !/esbuild --service/.test(p.args)).map((p) => `${p.pid} ${p.args}`);
}

/**
 * For each worker.cpu event, every worker's latest share read within 600 ms before it, when all
 * `n` workers have one (workers that started at different times are read at different ticks).
 */
export function sharesTogether(events: PoolEvent[], n: number): number[][] {
	const readings = ofType(events, 'worker.cpu');
	const out: number[][] = [];
	for (const e of readings) {
		const latest = new Map<number, number>();
		for (const r of readings) {
			if (r.t <= e.t && r.t >= e.t - 600) {
				for (const w of r.workers) {
					latest.set(w.workerId, w.share);
				}
			}
		}
		if (latest.size === n) {
			out.push([...latest.keys()].sort((a, b) => a - b).map((id) => latest.get(id)!));
		}
	}
	return out;
}

/**
 * Per task of an ended run (by id), what its worker was seen doing in it (worker.waits): how many
 * looks, and each kind's share by WAIT_LABELS. Also checks the looks at each worker came once
 * each, in time order (one sampler per worker, not two).
 */
export function seenPerTask(events: readonly PoolEvent[]): { n: number; share: Record<string, number> }[] {
	const model = createRunModel(events[0]!.runId);
	applyEvents(model, events);
	for (const [workerId, w] of model.workers) {
		const t = w.looks?.t ?? [];
		assert.ok(t.every((x, i) => i === 0 || x > t[i - 1]!), `worker ${workerId}'s looks come once each, in order`);
	}
	return [...model.tasks.values()].sort((a, b) => a.taskId - b.taskId).map((task) => {
		const counts = taskLooks(task, model.workers.get(task.workerId!), Infinity) ?? [];
		const n = counts.reduce((a, b) => a + b, 0);
		return { n, share: Object.fromEntries(counts.map((c, i) => [WAIT_LABELS[i]!, n ? c / n : 0])) };
	});
}
