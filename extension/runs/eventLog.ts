/**
 * A run's events as the extension keeps them for replays, the history and exports: packed in
 * batches of the panel's message size (`engine/protocol/eventPacking.ts`), small messages
 * joined as they are into batches. As objects, a 100k-task run's 400k events took ~47 MB of the
 * extension host's heap (and every major GC walked them); packed they take a few MB. Plain
 * TypeScript (no vscode): unit-tested in Node.
 */
import type { PoolEvent } from '../../engine/protocol/events';
import { concatPacked, packedLength, packEvents, PackedReader, type PackedEvents } from '../../engine/protocol/eventPacking';
import { MAX_MESSAGE_EVENTS } from '../../engine/eventCoalescer';

const SMALL_MESSAGE = MAX_MESSAGE_EVENTS / 4;

export class EventLog {
	private readonly packed: PackedEvents[] = [];
	/**
	 * Small messages not yet joined into a batch, kept packed: reading each back into events and
	 * packing them again took ~160 ms of the extension host's thread over a 100k-task run.
	 */
	private pending: PackedEvents[] = [];
	private pendingCount = 0;
	private count = 0;

	constructor(private readonly runId: string, events: readonly PoolEvent[] = []) {
		this.append(events);
	}

	public get length(): number {
		return this.count;
	}

	public append(events: readonly PoolEvent[]): void {
		for (let i = 0; i < events.length; i += SMALL_MESSAGE) {
			const part = packEvents(events.slice(i, i + SMALL_MESSAGE));
			this.addSmall(part, packedLength(part));
		}
	}

	/**
	 * A message as it came from the engine thread, kept as it is; small ones are joined, so a
	 * slow run's log is not thousands of tiny batches.
	 */
	public appendPacked(p: PackedEvents, length = packedLength(p)): void {
		if (length < SMALL_MESSAGE) {
			this.addSmall(p, length);
			return;
		}
		this.seal();
		this.packed.push(p);
		this.count += length;
	}

	/** The whole log as messages for the panel, each of at most MAX_MESSAGE_EVENTS events. */
	public batches(): PackedEvents[] {
		this.seal();
		return [...this.packed];
	}

	/** The events as objects one stored message at a time (a 100k-task run's 400k never all at once). */
	public *slices(): Generator<PoolEvent[]> {
		this.seal();
		for (const p of [...this.packed]) {
			const reader = new PackedReader(this.runId, p);
			yield reader.next(reader.length);
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

	private addSmall(p: PackedEvents, length: number): void {
		if (length === 0) {
			return;
		}
		if (this.pendingCount + length > MAX_MESSAGE_EVENTS) {
			this.seal();
		}
		this.pending.push(p);
		this.pendingCount += length;
		this.count += length;
	}

	/** What is pending becomes one batch (under MAX_MESSAGE_EVENTS: addSmall sees to it). */
	private seal(): void {
		if (this.pending.length) {
			this.packed.push(concatPacked(this.pending));
			this.pending = [];
			this.pendingCount = 0;
		}
	}
}
