import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import type { PoolEvent, RunFinishedEvent } from '../../../engine/protocol/events';
import { applyEvents, createRunModel } from '../../../engine/protocol/runModel';
import type { RunHandle, RunRequest } from '../../../engine/runTypes';
import { startRun } from '../../../engine/startRun';
import { descendantsOf, waitFor } from '../../harness/processes';
import { ofType } from '../engine/jsHelpers';

export { ofType };

export const PY_FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'unit', 'python', 'fixtures');

let seq = 0;

export interface PyRun {
	handle: RunHandle;
	events: PoolEvent[];
	done: Promise<RunFinishedEvent>;
}

export function pyRun(partial: Partial<RunRequest> & Pick<RunRequest, 'fn' | 'inputs'>): PyRun {
	const events: PoolEvent[] = [];
	const handle = startRun({
		runId: `py-${process.pid}-${seq++}`,
		file: join(PY_FIXTURES, 'tasks.py'),
		language: 'python',
		pool: 'thread',
		workers: 2,
		...partial,
	}, (batch) => {
		for (const e of batch) {
			events.push(e);
		}
	});
	return { handle, events, done: handle.done };
}

export function pythonProcesses(): string[] {
	return descendantsOf(process.pid).filter((p) => /python/.test(p.args)).map((p) => `${p.pid} ${p.args}`);
}

export async function noPythonLeft(): Promise<void> {
	assert.ok(await waitFor(() => pythonProcesses().length === 0, 8_000), `left behind: ${pythonProcesses().join(' | ')}`);
}

export function checkProtocol(events: PoolEvent[]): void {
	assert.equal(events[0]?.type, 'run.started');
	assert.equal(events[events.length - 1]?.type, 'run.finished');
	assert.equal(ofType(events, 'run.started').length, 1, 'one run.started');
	assert.equal(ofType(events, 'run.finished').length, 1, 'one run.finished');
	const starts = ofType(events, 'worker.started').map((w) => w.workerId);
	assert.equal(new Set(starts).size, starts.length, `each worker starts once: ${starts.join(', ')}`);
	const end = ofType(events, 'run.finished')[0]!;
	const c = end.counts;
	assert.equal(c.submitted, c.finished + c.failed + c.cancelled + c.timedOut + c.rejected);
	const model = createRunModel(end.runId);
	applyEvents(model, events);
	assert.deepEqual(model.counts, c, 'the shared reducer agrees with the runner');
	const started = new Set(ofType(events, 'worker.started').map((w) => w.workerId));
	for (const e of ofType(events, 'task.started')) {
		assert.ok(started.has(e.workerId), `task ${e.taskId} on unknown worker ${e.workerId}`);
	}
	assert.deepEqual(new Set(ofType(events, 'worker.exited').map((w) => w.workerId)), started);
	// The summary's tasks per worker are the workers table's (the same panel shows both).
	assert.deepEqual(
		Object.fromEntries(end.workers.map((w) => [w.workerId, w.tasks])),
		Object.fromEntries([...model.workers.values()].map((w) => [w.workerId, w.tasksDone])),
		'tasks per worker: run.finished vs the reducer',
	);
}
