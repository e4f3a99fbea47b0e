import * as assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { MemorySampleEvent, PoolEvent } from '../../../engine/protocol/events';
import { MemoryWatch, readRss } from '../../../engine/memory/processMemory';

const runId = 'mem';
const started = (pid?: number): PoolEvent => ({ type: 'run.started', runId, t: 0, fn: 'f', file: '/a.py', language: 'python', pool: 'process', workers: 1, options: { workers: 1 }, inputCount: 1, cores: 2, runtime: 'CPython', stages: ['pending', 'executing'], pid });
const finished: PoolEvent = { type: 'run.finished', runId, t: 9, outcome: 'completed', wallMs: 9, counts: { submitted: 0, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 0, workers: [] };

/** A real process that holds `mb` megabytes resident until killed. */
async function holder(mb: number): Promise<ChildProcess> {
	const p = spawn(process.execPath, ['-e', `globalThis.b = Buffer.alloc(${mb} * 1048576, 1); console.log('ready'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
	await once(p.stdout!, 'data');
	return p;
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('process memory (the run\'s processes, sampled by the host)', function () {
	this.timeout(20_000);
	const children: ChildProcess[] = [];
	afterEach(() => {
		for (const c of children.splice(0)) {
			c.kill('SIGKILL');
		}
	});
	before(function () {
		if (process.platform === 'win32') {
			this.skip(); // no reading there (decisions.md)
		}
	});

	it('reads each live process\'s resident memory, and leaves out one that has exited', async () => {
		const big = await holder(120);
		const small = await holder(1);
		children.push(big, small);
		const gone = spawn(process.execPath, ['-e', '']);
		await once(gone, 'exit');
		const rss = await readRss([big.pid!, small.pid!, gone.pid!]);
		assert.ok(!rss.has(gone.pid!), 'an exited process has no memory');
		assert.ok(rss.get(big.pid!)! - rss.get(small.pid!)! > 100 * 1048576, `120 MB held: ${rss.get(big.pid!)} vs ${rss.get(small.pid!)} bytes`);
		const own = (await readRss([process.pid])).get(process.pid)!;
		const truth = process.memoryUsage().rss;
		assert.ok(Math.abs(own - truth) < truth * 0.3, `this process: read ${own}, Node says ${truth}`);
	});

	it('samples the main process and each live worker from the events alone, and nothing after run.finished', async () => {
		const main = await holder(1);
		const w0 = await holder(60);
		const w1 = await holder(1);
		children.push(main, w0, w1);
		const samples: MemorySampleEvent[] = [];
		const watch = new MemoryWatch(100, (batch) => {
			for (const e of batch) {
				assert.equal(e.type, 'memory.sample');
				samples.push(e as MemorySampleEvent);
			}
		});
		watch.observe([started(main.pid), { type: 'worker.started', runId, t: 1, workerId: 0, pid: w0.pid }, { type: 'worker.started', runId, t: 1, workerId: 1, pid: w1.pid }]);
		await wait(450);
		assert.ok(samples.length >= 2, `${samples.length} samples in 450 ms at 100 ms`);
		const last = samples[samples.length - 1]!;
		assert.ok(last.main! > 0);
		const by = new Map(last.workers.map((w) => [w.workerId, w.rss]));
		assert.ok(by.get(0)! - by.get(1)! > 40 * 1048576, `worker 0 holds 60 MB: ${by.get(0)} vs ${by.get(1)}`);
		watch.observe([{ type: 'worker.exited', runId, t: 2, workerId: 1, code: 0, signal: null, reason: 'shutdown' }]);
		await wait(250);
		assert.deepEqual(samples[samples.length - 1]!.workers.map((w) => w.workerId), [0], 'an exited worker is no longer sampled');
		watch.observe([finished]);
		const n = samples.length;
		await wait(350);
		assert.equal(samples.length, n, 'no sample after run.finished');
	});

	it('a run without processes of its own (a JS thread pool) gets no samples', async () => {
		const samples: PoolEvent[] = [];
		const watch = new MemoryWatch(50, (batch) => samples.push(...batch));
		watch.observe([started(undefined), { type: 'worker.started', runId, t: 1, workerId: 0, threadId: 1 }]);
		await wait(250);
		watch.dispose();
		assert.equal(samples.length, 0);
	});
});
