/**
 * The worker side of batchLog.test's race: begins batch after batch as the test says go, and
 * claims (runs) what the log lets it, as a pool's thread does. Writes how many it claimed.
 */
import { workerData } from 'node:worker_threads';
import { BatchLog } from '../../../engine/js/batchLog';

const { log: buffer, sync: syncBuffer, batches, size } = workerData as { log: SharedArrayBuffer; sync: SharedArrayBuffer; batches: number; size: number };
const log = new BatchLog(buffer);
// [batch the host says go for, then per batch: positions claimed + 1 (0 = not yet done)]
const sync = new Int32Array(syncBuffer);
for (let b = 1; b <= batches; b++) {
	while (Atomics.load(sync, 0) < b) {
		Atomics.wait(sync, 0, b - 1, 1000);
	}
	log.begin(0, b);
	let claimed = 0;
	while (claimed < size && log.claim(0, claimed)) {
		log.finished(0, claimed, '1');
		claimed++;
	}
	Atomics.store(sync, b, claimed + 1);
	Atomics.notify(sync, b);
}
