/** What crosses from the engine's thread to the extension host of a task's (or the run's) output. */
import * as assert from 'node:assert/strict';
import { OutputBudget } from '../../../engine/outputBudget';
import { OUTPUT_LIMIT_PER_TASK, RUN_OUTPUT_LIMIT, type PoolEvent } from '../../../engine/protocol/events';

const out = (taskId: number, chars: number): PoolEvent => ({ type: 'task.output', runId: 'r', t: 1, taskId, stream: 'stdout', text: 'x'.repeat(chars) });
const loose = (chars: number): PoolEvent => ({ type: 'run.output', runId: 'r', t: 1, stream: 'stderr', text: 'y'.repeat(chars) });
const chars = (events: readonly PoolEvent[], type: string) => events.reduce((n, e) => n + (e.type === type && 'text' in e ? e.text.length : 0), 0);

describe('OutputBudget', () => {
	it('passes each task up to one character past what consumers keep, then nothing of it; other tasks and events untouched', () => {
		const budget = new OutputBudget();
		const started: PoolEvent = { type: 'task.started', runId: 'r', t: 1, taskId: 1, workerId: 0 };
		const first = budget.trim([started, out(1, 40_000), out(2, 10)]);
		assert.equal(chars(first, 'task.output'), 40_010);
		const second = budget.trim([out(1, 40_000), started, out(1, 5), out(2, 20)]);
		assert.deepEqual(second.map((e) => e.type === 'task.output' ? `${e.taskId}:${e.text.length}` : e.type), [`1:${OUTPUT_LIMIT_PER_TASK + 1 - 40_000}`, 'task.started', '2:20']);
		assert.deepEqual(budget.trim([out(1, 3), started]), [started]);
	});

	it('a batch with nothing to cut is passed as it is (no copy)', () => {
		const batch = [out(1, 10), loose(10)];
		assert.equal(new OutputBudget().trim(batch), batch);
	});

	it('caps the run\'s own output (run.output) the same way', () => {
		const budget = new OutputBudget();
		const kept = [...budget.trim([loose(RUN_OUTPUT_LIMIT)]), ...budget.trim([loose(100), loose(100)])];
		assert.equal(chars(kept, 'run.output'), RUN_OUTPUT_LIMIT + 1);
	});
});
