/** The host's record of which Python tasks ended (what it fails when the runner dies). */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { TaskEndings } from '../../../engine/python/pythonBackend';

const runId = 'r';
const submitted = (taskId: number): PoolEvent => ({ type: 'task.submitted', runId, t: 1, taskId, input: String(taskId) });
const error = (kind: 'exception' | 'timeout' | 'queueFull') => ({ kind, name: 'E', message: 'm' });

describe('TaskEndings (Python host side)', () => {
	it('open tasks are the submitted ones without an ending; each state is counted once', () => {
		const e = new TaskEndings();
		e.add([
			{ type: 'run.started', runId, t: 5, fn: 'f', file: 'f.py', language: 'python', pool: 'thread', workers: 2, options: { workers: 2 }, inputCount: 6, cores: 2, runtime: 'CPython', stages: [] },
			...[0, 1, 2, 3, 4, 5].map(submitted),
			{ type: 'task.finished', runId, t: 2, taskId: 0, workerId: 0, durationMs: 1, result: 'None' },
			{ type: 'task.failed', runId, t: 2, taskId: 1, error: error('exception') },
			{ type: 'task.failed', runId, t: 2, taskId: 2, error: error('timeout') },
			{ type: 'task.cancelled', runId, t: 2, taskId: 3, reason: 'x' },
			{ type: 'task.finished', runId, t: 3, taskId: 0, workerId: 0, durationMs: 1, result: 'None' }, // a late duplicate
		]);
		assert.equal(e.startedAt, 5);
		assert.deepEqual([...e.open()], [4, 5]);
		assert.deepEqual(e.counts, { submitted: 6, finished: 1, failed: 1, cancelled: 1, timedOut: 1, rejected: 0 });
	});

	it('grows past its first size, and an ending without a submission still counts it', () => {
		const e = new TaskEndings();
		e.add(Array.from({ length: 5000 }, (_, i) => submitted(i)));
		e.add([{ type: 'task.finished', runId, t: 1, taskId: 7000, workerId: 0, durationMs: 1, result: 'None' }]);
		assert.equal(e.counts.submitted, 5001);
		assert.equal(e.counts.finished, 1);
		const open = [...e.open()];
		assert.equal(open.length, 5000);
		assert.equal(open[4999], 4999);
	});
});
