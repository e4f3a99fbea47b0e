/**
 * Thread pools hand short tasks to piscina in batches (one message for many tasks: a message per
 * task cost the host more than a no-op task). A batch's results come back together when it
 * ends, so a worker ended in the middle of one (timeout, crash, cancelled run) would take the
 * results of its finished tasks with it. Each worker therefore logs every finished task of a
 * batch here, in shared memory, and claims each task before starting it: the host, when a batch
 * is lost, revokes it (no further task starts) and reads exactly which tasks finished (their
 * results), which one was running, and which never started (run again elsewhere).
 */
import { START_SLOTS } from './startSlots';

/** Tasks per batch at most. */
export const MAX_BATCH = 64;
/** Results text a slot holds per batch; a batch ends early rather than finish a task it cannot log. */
const TEXT_BYTES = 16 * 1024;

// Int32 per slot: [batch id, next position to start (REVOKED once revoked), finished count, then
// the text end offset of each finished task]; then a text area per slot.
const BATCH = 0;
const NEXT = 1;
const DONE = 2;
const HEADER = 3;
const INTS = HEADER + MAX_BATCH;
const REVOKED = 1 << 30;
// Then a ring of revoked batch ids (at id % RING): a batch revoked before its worker began it
// is found there by begin(). Batches in flight at once are a few per worker, far fewer than this.
const RING = 4096;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface RevokedBatch {
	/** Tasks that started (claimed positions), in batch order. */
	started: number;
	/** The results of the tasks that finished, in batch order (JSON, as the worker logged them). */
	finished: string[];
}

export class BatchLog {
	private readonly ints: Int32Array;
	private readonly text: Uint8Array;

	constructor(public readonly buffer: SharedArrayBuffer) {
		this.ints = new Int32Array(buffer, 0, INTS * START_SLOTS + RING);
		this.text = new Uint8Array(buffer, 4 * (INTS * START_SLOTS + RING), TEXT_BYTES * START_SLOTS);
	}

	public static create(): BatchLog {
		return new BatchLog(new SharedArrayBuffer(4 * (INTS * START_SLOTS + RING) + TEXT_BYTES * START_SLOTS));
	}

	// ---- the worker's side ----

	/**
	 * `batch` ids start at 1 (0 is a slot that never ran one). A batch the host revoked before this
	 * (its run cancelled while the batch's message was on its way) starts nothing: the host has
	 * already said none of its tasks ran. The slot is named before the ring is read, and revoke()
	 * marks the ring before it reads the slots, so one of the two always sees the other.
	 */
	public begin(slot: number, batch: number): void {
		const base = slot * INTS;
		Atomics.store(this.ints, base + DONE, 0);
		Atomics.store(this.ints, base + NEXT, 0);
		Atomics.store(this.ints, base + BATCH, batch);
		if (Atomics.load(this.ints, INTS * START_SLOTS + (batch % RING)) === batch) {
			Atomics.store(this.ints, base + NEXT, REVOKED);
		}
	}

	/** Whether the task at `position` may start: false once the host has revoked the batch. */
	public claim(slot: number, position: number): boolean {
		return Atomics.compareExchange(this.ints, slot * INTS + NEXT, position, position + 1) === position;
	}

	/** Logs a finished task's result; false when it does not fit (the batch should end after it). */
	public finished(slot: number, position: number, json: string): boolean {
		const base = slot * INTS;
		const from = position === 0 ? 0 : this.ints[base + HEADER + position - 1]!;
		const area = this.text.subarray(slot * TEXT_BYTES + from, (slot + 1) * TEXT_BYTES);
		const { read, written } = encoder.encodeInto(json, area);
		if (read < json.length) {
			return false;
		}
		this.ints[base + HEADER + position] = from + written;
		Atomics.store(this.ints, base + DONE, position + 1);
		return TEXT_BYTES - from - written > 1024;
	}

	// ---- the host's side ----

	/**
	 * Stops a batch where it is (lost, or its call runs long) and says how far it got; undefined if
	 * it never started, and then it never will. Once revoked, a second call finds no start count
	 * (the caller keeps it).
	 */
	public revoke(batch: number): RevokedBatch | undefined {
		Atomics.store(this.ints, INTS * START_SLOTS + (batch % RING), batch);
		for (let slot = 0; slot < START_SLOTS; slot++) {
			const base = slot * INTS;
			if (Atomics.load(this.ints, base + BATCH) !== batch) {
				continue;
			}
			const next = Atomics.exchange(this.ints, base + NEXT, REVOKED);
			const started = next === REVOKED ? 0 : next;
			const done = Atomics.load(this.ints, base + DONE);
			const finished: string[] = [];
			let from = 0;
			for (let i = 0; i < done; i++) {
				const to = this.ints[base + HEADER + i]!;
				// TextDecoder does not read shared memory: copy first.
				finished.push(decoder.decode(this.text.slice(slot * TEXT_BYTES + from, slot * TEXT_BYTES + to)));
				from = to;
			}
			return { started, finished };
		}
		return undefined;
	}
}
