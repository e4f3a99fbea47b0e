/** The runner's packed records read back into protocol events (pythonBackend.ts expandCompact). */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../../engine/protocol/events';
import { expandCompact } from '../../../engine/python/pythonBackend';

/** A packed record as the runner writes it: `width` doubles a task, base64, native byte order. */
function packed(rows: number[][]): string {
	return Buffer.from(new Float64Array(rows.flat()).buffer).toString('base64');
}

const finished = (events: PoolEvent[]) => events.flatMap((e) => (e.type === 'task.finished' ? [e] : []));

describe('Packed task records', () => {
	it('several T and P records in one batch, one larger than the first decode buffer, each read to its own numbers', () => {
		// 3,000 tasks x 48 bytes: past the 64 KB the decoder starts with, so it grows mid-batch;
		// the records after it must not read what the earlier ones left there.
		const big = Array.from({ length: 3000 }, (_, i) => [1000 + i, i, i % 2, 1001.5 + i, i % 16 ? NaN : 0.25, 0]);
		const small = [[5, 3000, 1, 9, 2, 1], [6, 3001, 0, 7, NaN, 0]];
		const proc = [[10, 3002, 4, 12, 1.5, 13, 0], [11, 3003, 5, 14, NaN, 15, 3]];
		const events = expandCompact('r', [
			['T', packed(small), ['a', 'b']],
			['T', packed(big), big.map((_, i) => `r${i}`)],
			['P', packed(proc), ['p', 'q']],
			['T', packed(small.map((r) => [r[0]! + 100, r[1]! + 10, ...r.slice(2)])), ['c', 'd']],
		]);
		const done = finished(events);
		assert.equal(done.length, 2 + 3000 + 2 + 2);
		assert.deepEqual(done.slice(0, 2).map((e) => [e.taskId, e.workerId, e.t, e.durationMs, e.cpuMs, e.result]), [[3000, 1, 9, 4, 2, 'a'], [3001, 0, 7, 1, undefined, 'b']]);
		const bigDone = done.slice(2, 3002);
		assert.ok(bigDone.every((e, i) => e.taskId === i && e.workerId === i % 2 && e.durationMs === 1.5 && e.cpuMs === (i % 16 ? undefined : 0.25) && e.result === `r${i}`), 'the large record read back wrong');
		assert.deepEqual(done.slice(3002, 3004).map((e) => [e.taskId, e.workerId, e.t, e.durationMs, e.cpuMs, e.result]), [[3002, 4, 13, 2, 1.5, 'p'], [3003, 5, 15, 3, undefined, 'q']]);
		assert.deepEqual(done.slice(3004).map((e) => [e.taskId, e.t, e.result]), [[3010, 9, 'c'], [3011, 7, 'd']]);
		// A task's start is announced from the record unless it was already (the sixth number),
		// and a process task's wait in the result queue unless it was told (bit 2 of the seventh).
		const started = events.flatMap((e) => (e.type === 'task.started' ? [e.taskId] : []));
		assert.equal(started.length, 1 + 3000 + 1 + 1);
		assert.ok(!started.includes(3000) && started.includes(3001) && started.includes(3002) && !started.includes(3003));
		const resultQueue = events.flatMap((e) => (e.type === 'task.queued' && e.stage === 'resultQueue' ? [e.taskId] : []));
		assert.deepEqual(resultQueue, [3002]);
	});
});
