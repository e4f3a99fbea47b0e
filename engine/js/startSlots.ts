/**
 * What each worker thread runs right now, in shared memory: a worker writes its slot when a task
 * starts and the host reads the slots a few dozen times a second. A message per start cost the
 * host a wake-up and a deserialization per task, about a tenth of the time of a no-op task; the
 * exact start time still rides on the result.
 */

/** Slots per pool; a pool that replaced more workers than this falls back to start messages. */
export const START_SLOTS = 256;

// Int32 layout: [claimed count, then per slot: taskId + 1 (0 = idle), threadId]; Float64: start time per slot.
const HEADER = 1;

export class StartSlots {
	private readonly ints: Int32Array;
	private readonly times: Float64Array;

	constructor(public readonly buffer: SharedArrayBuffer) {
		this.ints = new Int32Array(buffer, 0, HEADER + 2 * START_SLOTS);
		this.times = new Float64Array(buffer, 8 * Math.ceil(((HEADER + 2 * START_SLOTS) * 4) / 8), START_SLOTS);
	}

	public static create(): StartSlots {
		const intBytes = 8 * Math.ceil(((HEADER + 2 * START_SLOTS) * 4) / 8);
		return new StartSlots(new SharedArrayBuffer(intBytes + 8 * START_SLOTS));
	}

	/** A worker's own slot, or undefined when all are taken. */
	public claim(): number | undefined {
		const slot = Atomics.add(this.ints, 0, 1);
		return slot < START_SLOTS ? slot : undefined;
	}

	public started(slot: number, taskId: number, t: number, threadId: number): void {
		this.times[slot] = t;
		Atomics.store(this.ints, HEADER + 2 * slot + 1, threadId);
		Atomics.store(this.ints, HEADER + 2 * slot, taskId + 1);
	}

	public ended(slot: number): void {
		Atomics.store(this.ints, HEADER + 2 * slot, 0);
	}

	/** Whether some worker runs `taskId` now. */
	public isRunning(taskId: number): boolean {
		const used = Math.min(START_SLOTS, Atomics.load(this.ints, 0));
		for (let slot = 0; slot < used; slot++) {
			if (Atomics.load(this.ints, HEADER + 2 * slot) === taskId + 1) {
				return true;
			}
		}
		return false;
	}

	/** Calls `f` for every task running now. */
	public forEachRunning(f: (taskId: number, t: number, threadId: number) => void): void {
		const used = Math.min(START_SLOTS, Atomics.load(this.ints, 0));
		for (let slot = 0; slot < used; slot++) {
			const id = Atomics.load(this.ints, HEADER + 2 * slot);
			if (id === 0) {
				continue;
			}
			const threadId = Atomics.load(this.ints, HEADER + 2 * slot + 1);
			const t = this.times[slot]!;
			// The worker may have moved on between the reads: then the time is not this task's.
			if (Atomics.load(this.ints, HEADER + 2 * slot) === id) {
				f(id - 1, t, threadId);
			}
		}
	}
}
