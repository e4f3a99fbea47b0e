/** What the looks inside tasks add up to (pure: the looks given, no /proc). */
import * as assert from 'node:assert/strict';
import { sharesInTasks, type LooksInTasks } from '../../../engine/cpu/threadWaits';

const RUNNING = 0;
const FUTEX = 1;
const OTHER = 2;
const LOCK = 3;

/** Looks every 10 ms from `from` to before `to`, each seen as `pick(i)`. */
function looks(from: number, to: number, pick: (i: number) => number): Pick<LooksInTasks, 't' | 'seen'> {
	const t: number[] = [];
	const seen: number[] = [];
	for (let x = from, i = 0; x < to; x += 10, i++) {
		t.push(x);
		seen.push(pick(i));
	}
	return { t, seen };
}

describe('thread waits: the shares of the tasks\' time (pure)', () => {
	it('a sleeping task looked at throughout weighs its time, not its looks, beside computing ones looked at for half theirs (it read I/O 45%, GIL 17%)', () => {
		// Two threads computing 0-400 ms (looked at from 200 ms on: running or on the GIL), one asleep 200-500 ms.
		const computing = (): LooksInTasks => ({ ...looks(200, 400, (i) => (i % 2 ? RUNNING : FUTEX)), spans: [0, 400] });
		const sleeping: LooksInTasks = { ...looks(200, 500, () => OTHER), spans: [200, 500] };
		const shares = sharesInTasks([computing(), computing(), sleeping]);
		assert.ok(shares);
		assert.equal(shares.looks, 70);
		// 300 ms asleep of 1,100 ms of tasks; counted look by look it was 30 of 70 (0.43).
		assert.ok(Math.abs(shares.ioShare - 300 / 1100) < 1e-9, `ioShare ${shares.ioShare}`);
		assert.equal(shares.lockShare, 0);
	});

	it('each task span weighs its own duration: a lock wait in a short task counts for that task\'s time', () => {
		// Worker 0: a 100 ms task half on a lock, then a 400 ms task computing; all looked at.
		const w: LooksInTasks = { ...looks(0, 500, (i) => (i < 10 ? (i % 2 ? LOCK : RUNNING) : RUNNING)), spans: [0, 99, 100, 499] };
		const shares = sharesInTasks([w]);
		assert.ok(shares);
		assert.ok(Math.abs(shares.lockShare! - (99 * 0.5) / (99 + 399)) < 1e-9, `lockShare ${shares.lockShare}`);
		assert.equal(shares.ioShare, 0);
	});

	it('looks outside tasks, past the counting limit, or too few say nothing; no lock share before the GIL is known', () => {
		const idleBetween: LooksInTasks = { ...looks(0, 600, (i) => (i >= 25 && i < 35 ? OTHER : RUNNING)), spans: [0, 245, 355, 600] };
		const shares = sharesInTasks([idleBetween], Infinity, false);
		assert.ok(shares);
		assert.equal(shares.ioShare, 0, 'the looks between the two tasks are not theirs');
		assert.equal(shares.lockShare, undefined);
		assert.equal(shares.looks, 49);
		assert.equal(sharesInTasks([idleBetween], 150), undefined, '15 looks before the limit: too few');
		assert.equal(sharesInTasks([{ ...looks(0, 190, () => OTHER), spans: [0, 190] }]), undefined);
		assert.equal(sharesInTasks([{ ...looks(0, 600, () => OTHER), spans: [] }]), undefined);
	});
});
