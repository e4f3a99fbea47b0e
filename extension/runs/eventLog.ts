/**
 * A run's events as the extension keeps them for replays, the history and exports: packed in
 * batches of the panel's message size (`webview/eventPacking.ts`), the newest ones unpacked
 * until a batch is full. As objects, a 100k-task run's 400k events took ~47 MB of the extension
 * host's heap (and every major GC walked them); packed they take a few MB. Plain TypeScript (no
 * vscode): unit-tested in Node.
 */
import type { PoolEvent } from '../../engine/protocol/events';
import { packedLength, packEvents, PackedReader, type PackedEvents } from '../../engine/protocol/eventPacking';
import { MAX_MESSAGE_EVENTS } from '../../engine/eventCoalescer';

const SMALL_MESSAGE = MAX_MESSAGE_EVENTS / 4;

export class EventLog {
	private readonly packed: PackedEvents[] = [];
	private tail: PoolEvent[] = [];
	private count = 0;

	constructor(private readonly runId: string, events: readonly PoolEvent[] = []) {
		this.append(events);
	}

	public get length(): number {
		return this.count;
	}

	public append(events: readonly PoolEvent[]): void {
		for (const e of events) {
			this.tail.push(e);
		}
		this.count += events.length;
		if (this.tail.length >= MAX_MESSAGE_EVENTS) {
			let i = 0;
			for (; i + MAX_MESSAGE_EVENTS <= this.tail.length; i += MAX_MESSAGE_EVENTS) {
				this.packed.push(packEvents(this.tail.slice(i, i + MAX_MESSAGE_EVENTS)));
			}
			this.tail = this.tail.slice(i);
		}
	}

	/**
	 * A message as it came from the engine thread, kept as it is; a small one joins the tail, so
	 * a slow run's log is not thousands of tiny batches.
	 */
	public appendPacked(p: PackedEvents, length = packedLength(p)): void {
		if (length < SMALL_MESSAGE) {
			const reader = new PackedReader(this.runId, p);
			this.append(reader.next(length));
			return;
		}
		if (this.tail.length) {
			this.packed.push(packEvents(this.tail));
			this.tail = [];
		}
		this.packed.push(p);
		this.count += length;
	}

	/** The whole log as messages for the panel, each of at most MAX_MESSAGE_EVENTS events. */
	public batches(): PackedEvents[] {
		return this.tail.length ? [...this.packed, packEvents(this.tail)] : [...this.packed];
	}

	/** The events as objects one stored message at a time (a 100k-task run's 400k never all at once). */
	public *slices(): Generator<PoolEvent[]> {
		for (const p of this.packed) {
			const reader = new PackedReader(this.runId, p);
			yield reader.next(reader.length);
		}
		if (this.tail.length) {
			yield this.tail.slice();
		}
	}

	/** Every event as an object, built on demand (saving to the history, a trace, a measurement). */
	public events(): PoolEvent[] {
		const out: PoolEvent[] = [];
		for (const slice of this.slices()) {
			for (const e of slice) {
				out.push(e);
			}
		}
		return out;
	}
}
