/**
 * A stand-in for the extension host in the orphan tests: starts a run of `forever` (Python or JS,
 * a process pool unless told), says "started" once a task runs, then waits to be killed.
 */
import type { PoolEvent } from '../../../engine/protocol/events';
import { startRun as engineStart } from '../../../engine/startRun';

export function startRun(file: string, fn = 'forever', pool: 'thread' | 'process' = 'process'): void {
	let said = false;
	const language = file.endsWith('.py') ? 'python' : 'javascript';
	engineStart({ runId: 'orphan-test', file, fn, inputs: '4', language, pool, workers: 2 }, (batch: readonly PoolEvent[]) => {
		if (!said && batch.filter((e) => e.type === 'task.started').length > 0) {
			said = true;
			process.stdout.write('started\n');
		}
	});
}
