/**
 * The batch log (engine/js/batchLog.ts): what the host learns when it revokes a batch must hold
 * for the thread running it, whatever the order of the two. A CI run cancelled mid-batch reported
 * a call as "never started" that had run: the batch was revoked while its message was on the way
 * to its thread, which then began it and ran calls until it was terminated.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { BatchLog } from '../../../engine/js/batchLog';

describe('batchLog: revoking a batch', () => {
	it('a batch revoked before its thread began it starts nothing when it begins', () => {
		const log = BatchLog.create();
		assert.equal(log.revoke(7), undefined, 'not begun: nothing to say');
		log.begin(0, 7);
		assert.equal(log.claim(0, 0), false, 'its first call must not start');
	});

	it('a batch revoked while it runs: the calls that started and the results logged, and no further start', () => {
		const log = BatchLog.create();
		log.begin(3, 8);
		assert.ok(log.claim(3, 0));
		log.finished(3, 0, '"a"');
		assert.ok(log.claim(3, 1));
		assert.deepEqual(log.revoke(8), { started: 2, finished: ['"a"'] });
		assert.equal(log.claim(3, 2), false);
		log.begin(3, 9);
		assert.ok(log.claim(3, 0), 'the next batch on that slot starts as usual');
	});

	it('raced by a real thread, batch after batch: a revoke never hears fewer starts than the thread made', async function () {
		this.timeout(60_000);
		const batches = 3000;
		const size = 64;
		const log = BatchLog.create();
		const sync = new Int32Array(new SharedArrayBuffer(4 * (batches + 1)));
		const worker = new Worker(join(__dirname, 'batchLogRacer.entry.js'), { workerData: { log: log.buffer, sync: sync.buffer, batches, size } });
		const exited = new Promise<number>((resolve, reject) => { worker.on('exit', resolve); worker.on('error', reject); });
		const heard: number[] = [];
		let before = 0;
		for (let b = 1; b <= batches; b++) {
			Atomics.store(sync, 0, b);
			Atomics.notify(sync, 0);
			// From at once (the thread has not woken yet) to well after it began.
			const until = performance.now() + (b % 4) * Math.random() * 0.05;
			while (performance.now() < until) { /* spin */ }
			const got = log.revoke(b);
			heard.push(got?.started ?? 0);
			if (got === undefined) {
				before++;
			}
			while (Atomics.load(sync, b) === 0) {
				Atomics.wait(sync, b, 0, 1000);
			}
		}
		assert.equal(await exited, 0);
		const wrong = heard.flatMap((started, i) => (Atomics.load(sync, i + 1) - 1 > started ? [`batch ${i + 1}: ${Atomics.load(sync, i + 1) - 1} ran, ${started} heard`] : []));
		assert.ok(before > 0, 'some revokes came before their batch began (the race this is about)');
		assert.ok(heard.some((n) => n > 0), 'some came while it ran');
		assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${batches} batches ran calls the host was told never started`);
	});
});
