/** How far a JS thread worker's output may run ahead of the host (engine/js/outputBacklog.ts). */
import * as assert from 'node:assert/strict';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { OutputBacklog, outputUnits } from '../../../engine/js/outputBacklog';

/** Whether a worker thread's reserve(units) on this backlog returns within ms (it blocks while the host is behind). */
function reserveReturns(backlog: OutputBacklog, units: number, ms: number): Promise<boolean> {
	// This very file, as the worker: it runs the class's own reserve (below, when not the main thread).
	const w = new Worker(__filename, { workerData: { buffer: backlog.buffer, units } });
	return new Promise((resolve) => {
		const timer = setTimeout(() => { void w.terminate(); resolve(false); }, ms);
		w.once('message', () => { clearTimeout(timer); void w.terminate(); resolve(true); });
	});
}

if (!isMainThread) {
	const { buffer, units } = workerData as { buffer: SharedArrayBuffer; units: number };
	new OutputBacklog(buffer).reserve(units);
	parentPort!.postMessage('reserved');
} else {
	describe('OutputBacklog', () => {
		it('a KB of text is a unit, at least one a message', () => {
			assert.equal(outputUnits(''), 1);
			assert.equal(outputUnits('x'.repeat(1023)), 1);
			assert.equal(outputUnits('x'.repeat(64 * 1024)), 65);
		});

		it('a worker waits while the host is more than ~4 MB behind, and goes on once it reads', async () => {
			const backlog = OutputBacklog.create();
			backlog.reserve(4097);
			assert.equal(backlog.behind(), 4097);
			assert.equal(await reserveReturns(backlog, 1, 400), false, 'over the limit: the worker waits');
			backlog.read(4097);
			assert.equal(await reserveReturns(backlog, 1, 2000), true);
		});

		it('what a worker ended mid-print posted and never delivered is written off (settle), else it held every later print back for good', async () => {
			// 40 threads ended by their timeout while printing 1 KB lines left 2,646 units posted and
			// never read: enough such runs' worth and every printing call of the pool waited forever.
			const backlog = OutputBacklog.create();
			backlog.reserve(5000); // posted by a worker that was then terminated: never read
			assert.equal(await reserveReturns(backlog, 1, 400), false);
			backlog.settle();
			assert.equal(backlog.behind(), 0);
			assert.equal(await reserveReturns(backlog, 1, 2000), true);
			// Output still on its way from live workers arrives on credit: never negative room.
			backlog.read(10);
			assert.ok(backlog.behind() <= 1);
			assert.equal(await reserveReturns(backlog, 1, 2000), true);
		});
	});
}
