import { join } from 'node:path';
import type { PoolEvent, RunFinishedEvent } from '../../../engine/protocol/events';
import type { RunHandle, RunRequest } from '../../../engine/runTypes';
import { startRun } from '../../../engine/startRun';
import { descendantsOf } from '../../harness/processes';

export { ofType } from '../engine/jsHelpers';

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
