/** A stand-in for the extension host in the orphan test: starts a Python run, then waits to be killed. */
import type { PoolEvent } from '../../../engine/protocol/events';
import { startRun as engineStart } from '../../../engine/startRun';

export function startRun(file: string): void {
	let said = false;
	engineStart({ runId: 'orphan-test', file, fn: 'forever', inputs: 'range(4)', language: 'python', pool: 'process', workers: 2 }, (batch: readonly PoolEvent[]) => {
		if (!said && batch.filter((e) => e.type === 'task.started').length > 0) {
			said = true;
			process.stdout.write('started\n');
		}
	});
}
