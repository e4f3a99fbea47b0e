/**
 * What a Python task raises is not trusted (real interpreter, real executors): an exception whose
 * __str__ raises or returns no string once left its task without an ending and the run waiting
 * forever; a message of megabytes travelled whole; a process task failing before the runner's poll
 * saw it start was charged to no worker; a worker's death was timed after the runner's own waits.
 */
import * as assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR_MESSAGE_LIMIT, ERROR_STACK_LIMIT } from '../../../engine/protocol/events';
import { findPython } from '../../../engine/python/interpreter';
import { applyEvents, createRunModel } from '../../../engine/protocol/runModel';
import { toChromeTrace } from '../../../engine/trace/chromeTrace';
import { waitFor } from '../../harness/processes';
import { ofType, PY_FIXTURES, pyRun, pythonProcesses } from './pyHelpers';

const FILE = join(PY_FIXTURES, 'untrusted.py');
const POOLS = ['thread', 'process', 'serial'] as const;

async function ended(fn: string, pool: (typeof POOLS)[number], inputs: string, workers = 2) {
	const r = pyRun({ file: FILE, fn, inputs, pool, workers });
	const end = await r.done;
	assert.ok(await waitFor(() => pythonProcesses().length === 0, 8_000), `left behind: ${pythonProcesses().join(' | ')}`);
	return { end, events: r.events };
}

describe('Python pools: what a task raises is not trusted', function () {
	this.timeout(60_000);

	before(function () {
		if (!findPython().ok) {
			this.skip();
		}
	});

	for (const pool of POOLS) {
		it(`${pool}: an exception whose __str__ raises, or returns no string, fails its task saying so (as traceback does), at the user's line; the run ends`, async () => {
			for (const [fn, line, why] of [['str_raises', 17, /^<exception str\(\) failed: ValueError: str broke>$/], ['str_not_text', 21, /^<exception str\(\) failed: TypeError: __str__ returned non-string \(type int\)>$/]] as const) {
				const { end, events } = await ended(fn, pool, '[1, 2]');
				assert.equal(end.outcome, 'completed');
				assert.equal(end.counts.failed, 2, fn);
				for (const f of ofType(events, 'task.failed')) {
					assert.equal(f.error.kind, 'exception');
					assert.match(f.error.message, why);
					assert.ok(f.error.frames?.some((fr) => fr.file === FILE && fr.line === line && fr.user), JSON.stringify(f.error.frames));
				}
			}
		});
	}

	for (const pool of ['thread', 'process'] as const) {
		it(`${pool}: a message of 2 MB is cut, saying by how much; the traceback is bounded and keeps the user's frame`, async () => {
			const { events } = await ended('huge_message', pool, '[1, 2]');
			const failed = ofType(events, 'task.failed');
			assert.equal(failed.length, 2);
			for (const f of failed) {
				assert.ok(/^m{8192}… \(1,991,808 more characters cut\)$/.test(f.error.message), f.error.message.slice(-80));
				assert.ok(f.error.message.length < ERROR_MESSAGE_LIMIT + 100);
				assert.ok((f.error.stack ?? '').length < ERROR_STACK_LIMIT + 100, `stack of ${f.error.stack?.length}`);
				assert.ok(f.error.frames?.some((fr) => fr.file === FILE && fr.line === 25), JSON.stringify(f.error.frames));
			}
		});
	}

	it('process: tasks that fail at once (before the runner\'s poll sees them start) are charged to the worker that ran them, with their own time', async () => {
		const { end, events } = await ended('odd_ones_fail', 'process', 'range(6)');
		assert.deepEqual([end.counts.finished, end.counts.failed], [3, 3]);
		const workers = new Set(ofType(events, 'worker.started').map((w) => w.workerId));
		for (const f of ofType(events, 'task.failed')) {
			assert.ok(f.workerId !== undefined && workers.has(f.workerId), `task ${f.taskId} names worker ${f.workerId}`);
			assert.ok(typeof f.durationMs === 'number' && f.durationMs < 1_000, `task ${f.taskId}: ${f.durationMs} ms`);
			assert.ok(ofType(events, 'task.started').some((s) => s.taskId === f.taskId && s.workerId === f.workerId), `task ${f.taskId} has a start on its worker`);
		}
		assert.equal(end.workers.reduce((n, w) => n + w.tasks, 0), 6, JSON.stringify(end.workers));
	});

	it('process: when a worker dies, the futures it breaks end when the break was known, not after the runner\'s wait for exit codes', async () => {
		const { end, events } = await ended('second_dies', 'process', '[1, 2, 3, 4]');
		const running = ofType(events, 'task.failed').filter((f) => f.durationMs !== undefined);
		assert.equal(running.length, 2, JSON.stringify(ofType(events, 'task.failed')));
		const starts = new Map(ofType(events, 'task.started').map((s) => [s.taskId, s.t]));
		const ends = running.map((f) => starts.get(f.taskId)! + f.durationMs!);
		assert.ok(Math.abs(ends[0]! - ends[1]!) < 1, `both end at the break: ${ends.join(', ')}`);
		for (const w of end.workers) {
			assert.ok(w.busyMs <= end.wallMs, `worker ${w.workerId} busy ${w.busyMs} ms of a ${end.wallMs} ms run`);
		}
	});

	it('an exception group\'s traceback shows the user\'s frames only (the runner\'s are dropped behind the group\'s "|" margin too)', async function () {
		for (const pool of ['thread', 'process'] as const) {
			const { events } = await ended('group', pool, '[1]');
			const [major, minor] = (/(\d+)\.(\d+)/.exec(ofType(events, 'run.started')[0]!.runtime ?? '') ?? []).slice(1).map(Number);
			if (major! * 100 + minor! < 311) {
				this.skip(); // ExceptionGroup is 3.11+
			}
			const stack = ofType(events, 'task.failed')[0]!.error.stack ?? '';
			assert.match(stack, /ExceptionGroup: many \(2 sub-exceptions\)/);
			assert.match(stack, /raise ExceptionGroup/);
			assert.doesNotMatch(stack, /self\.fn\(\*args\)|call_item\.fn|value = fn\(\*args\)|poolscope_/, stack);
		}
	});

	for (const pool of ['thread', 'serial'] as const) {
		it(`${pool}: a thread a task started that is not a daemon gets the grace a process worker gets, then is named (with its stack) as ended with the runner; one that ends within it finishes its work`, async () => {
			const left = await ended('leaves_thread', pool, '[1]');
			const warnings = ofType(left.events, 'run.warning').filter((w) => /thread/.test(w.message));
			assert.equal(warnings.length, 1, JSON.stringify(ofType(left.events, 'run.warning')));
			assert.match(warnings[0]!.message, /^1 thread that tasks started was still running 2 s after the run's last task, and was ended with the runner: 'left-behind-1'/);
			assert.match(warnings[0]!.detail ?? '', /Thread 'left-behind-1'[\s\S]*time\.sleep\(3\)/);
			const short = await ended('short_thread', pool, '[1]');
			assert.equal(ofType(short.events, 'run.warning').length, 0, JSON.stringify(ofType(short.events, 'run.warning')));
			assert.match(ofType(short.events, 'task.output').map((o) => o.text).join('') + ofType(short.events, 'run.output').map((o) => o.text).join(''), /short thread done 1/);
		});
	}

	it('a function defined under `if __name__ == "__main__":` is named as such, with the line and the fix (not "no top-level functions")', async () => {
		const r = pyRun({ file: join(PY_FIXTURES, 'guarded_script.py'), fn: 'work', inputs: '[1]', pool: 'thread' });
		const end = await r.done;
		assert.equal(end.outcome, 'error');
		assert.equal(end.error?.name, 'FunctionNotFound');
		assert.equal(end.error?.message, 'work is defined under `if __name__ == "__main__":` (line 9 of guarded_script.py), which is false when a pool imports the file, so it does not exist there');
		assert.match(end.error?.hint ?? '', /^Move the function above the guard, to the top level.*Functions in this file: helper$/);
	});

	it('process: four tasks past their timeout at once are each stopped at their limit (the stack snapshots no longer queue 0.3 s each), with their stacks; the runner leaves no stack folder behind', async () => {
		const r = pyRun({ file: FILE, fn: 'sleeps_long', inputs: '4', pool: 'process', workers: 4, timeoutMs: 200 });
		const end = await r.done;
		assert.equal(end.counts.timedOut, 4, JSON.stringify(end.counts));
		for (const f of ofType(r.events, 'task.failed')) {
			assert.equal(f.error.kind, 'timeout');
			assert.ok(f.durationMs! >= 200 && f.durationMs! < 600, `task ${f.taskId} stopped after ${f.durationMs} ms`);
			assert.match(f.error.stack ?? '', /line \d+ in sleeps_long/);
		}
		const runner = ofType(r.events, 'run.started')[0]!.pid;
		assert.ok(await waitFor(() => pythonProcesses().length === 0, 8_000));
		assert.deepEqual(readdirSync(tmpdir()).filter((d) => d.startsWith(`poolscope-stacks-${runner}-`)), [], 'the run\'s stack folder is removed');
	});

	it('process: a task ends on its worker\'s lane at its start plus its own duration, not when its result arrived: no two tasks of a worker overlap, in the panel\'s model and in the trace export', async () => {
		const { events } = await ended('odd_ones_fail', 'process', 'range(40)');
		const model = createRunModel(ofType(events, 'run.started')[0]!.runId);
		applyEvents(model, events);
		const byWorker = new Map<number, [number, number][]>();
		for (const task of model.tasks.values()) {
			assert.ok(task.startedAt !== undefined && task.endedAt !== undefined && task.durationMs !== undefined && task.workerId !== undefined, JSON.stringify(task));
			assert.ok(Math.abs(task.endedAt - task.startedAt - task.durationMs) < 1e-6, `task ${task.taskId}: ${task.endedAt - task.startedAt} ms drawn, ${task.durationMs} ms measured`);
			byWorker.set(task.workerId, [...(byWorker.get(task.workerId) ?? []), [task.startedAt, task.endedAt]]);
		}
		const overlaps = (spans: [number, number][]) => spans.sort((a, b) => a[0] - b[0]).some((s, i, all) => i > 0 && s[0] < all[i - 1]![1] - 1e-6);
		for (const [worker, spans] of byWorker) {
			assert.ok(!overlaps(spans), `worker ${worker}: ${JSON.stringify(spans)}`);
		}
		const trace = toChromeTrace(events).traceEvents.filter((e) => e.ph === 'X' && e.cat === 'task');
		assert.equal(trace.length, 40);
		for (const tid of new Set(trace.map((e) => e.tid))) {
			assert.ok(!overlaps(trace.filter((e) => e.tid === tid).map((e) => [e.ts, e.ts + (e.dur ?? 0)])), `trace lane ${tid}`);
		}
	});

	it('a count written as an expression (1_0, 2 ** 3, 1e1) is a count, as in JS; 2.5 and -1 are refused saying what a count is', async () => {
		for (const [inputs, n] of [['1_0', 10], ['2 ** 3', 8], ['1e1', 10]] as const) {
			const { end, events } = await ended('odd_ones_fail', 'thread', inputs);
			assert.equal(end.counts.submitted, n, inputs);
			assert.deepEqual(ofType(events, 'task.submitted').slice(0, 3).map((t) => t.input), ['0', '1', '2'], inputs);
		}
		for (const inputs of ['2.5', '-1']) {
			const { end } = await ended('odd_ones_fail', 'thread', inputs);
			assert.equal(end.outcome, 'error', inputs);
			assert.match(end.error?.message ?? '', /a count must be a whole number, 0 or more/);
		}
	});
});
