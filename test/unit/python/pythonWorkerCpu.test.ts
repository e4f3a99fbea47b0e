/** Each worker's own CPU, live (engine/cpu/workerCpu.ts), on real Python pools: busy is not computing. */
import * as assert from 'node:assert/strict';
import { applyEvents, createRunModel } from '../../../engine/protocol/runModel';
import { waitFor } from '../../harness/processes';
import { seenPerTask, sharesTogether } from '../engine/jsHelpers';
import { ofType, pyRun, pythonProcesses } from './pyHelpers';

describe('Python: each worker\'s own CPU while the run goes on (worker.cpu)', function () {
	this.timeout(60_000);
	before(function () {
		if (process.platform !== 'linux') {
			this.skip(); // read from /proc
		}
	});
	afterEach(async () => {
		assert.ok(await waitFor(() => pythonProcesses().length === 0, 8_000), `left behind: ${pythonProcesses().join(' | ')}`);
	});

	it('thread pool: two CPU-bound threads take turns on the GIL: about one core between them, never two', async () => {
		const r = pyRun({ fn: 'spin', inputs: '[2.5, 2.5]', pool: 'thread', workers: 2 });
		assert.equal((await r.done).counts.finished, 2);
		const readings = sharesTogether(r.events, 2);
		assert.ok(readings.length >= 1, JSON.stringify(ofType(r.events, 'worker.cpu')));
		const sums = readings.map((s) => s.reduce((a, b) => a + b, 0));
		assert.ok(sums.every((s) => s <= 1.15), `the GIL lets one thread run at a time: ${JSON.stringify(readings)}`);
		assert.ok(sums.some((s) => s >= 0.3), `they computed: ${JSON.stringify(readings)}`);
	});

	it('process pool: two CPU-bound processes each compute on a core of their own', async () => {
		const r = pyRun({ fn: 'spin', inputs: '[2.5, 2.5]', pool: 'process', workers: 2 });
		assert.equal((await r.done).counts.finished, 2);
		const readings = sharesTogether(r.events, 2);
		assert.ok(readings.some((s) => s[0]! + s[1]! > 1.15), `more than one core between them: ${JSON.stringify(readings)}`);
	});

	it('a thread busy sleeping reads about 0% of a core', async () => {
		const r = pyRun({ fn: 'sleepy', inputs: '[(0, 2.5)]', pool: 'thread', workers: 1 });
		assert.equal((await r.done).counts.finished, 1);
		const readings = sharesTogether(r.events, 1);
		assert.ok(readings.length >= 1 && readings.at(-1)![0]! < 0.05, JSON.stringify(readings));
	});

	it('two threads deadlocked until their timeout: each timed-out task keeps its worker\'s last share, about 0 (they waited)', async () => {
		const r = pyRun({ fn: 'deadlock_pair', inputs: 'range(2)', pool: 'thread', workers: 2, timeoutMs: 1800 });
		const end = await r.done;
		assert.equal(end.counts.timedOut, 2, JSON.stringify(end.counts));
		const model = createRunModel(end.runId);
		applyEvents(model, r.events);
		const shares = [...model.tasks.values()].map((t) => t.lastCpuShare);
		assert.ok(shares.every((s) => s !== undefined && s < 0.03), `${JSON.stringify(shares)}; readings ${JSON.stringify(ofType(r.events, 'worker.cpu'))}`);
	});

	it('process pool and serial: what each task\'s process or thread is blocked in (worker.waits): computing on a CPU, asleep', async () => {
		for (const pool of ['process', 'serial'] as const) {
			const r = pyRun({ fn: 'cpu_or_sleep', inputs: "[('cpu', 600), ('sleep', 600)]", pool, workers: pool === 'serial' ? 1 : 2 });
			assert.equal((await r.done).counts.finished, 2);
			const [cpu, asleep] = seenPerTask(r.events);
			assert.ok(cpu!.n >= 20 && cpu!.share['on a CPU']! > 0.8, `${pool}, computing: ${JSON.stringify(cpu)}`);
			assert.ok(asleep!.n >= 20 && asleep!.share['in I/O or asleep']! > 0.8, `${pool}, asleep: ${JSON.stringify(asleep)}`);
		}
	});
});

