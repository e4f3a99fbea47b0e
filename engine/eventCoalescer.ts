/**
 * Collects engine event batches per run and hands them on at most once per interval, so a
 * 100k-task run costs the panel ~30 messages a second, not one per engine flush. Each batch is
 * packed as it arrives (`eventPacking.ts`) and the parts joined at the flush: kept as objects for
 * the interval, a 100k-task run's 400k events outlived two scavenges and went to the old
 * generation, which made the engine thread's collections its largest cost. Plain TypeScript (no
 * vscode): unit-tested in Node.
 */
import { concatPacked, packEvents, type PackedEvents } from './protocol/eventPacking';
import type { PoolEvent } from './protocol/events';

export type CoalescedListener = (runId: string, packed: PackedEvents) => void;

/**
 * Events per delivered message. A webview takes a message in one go (its clone is not sliced):
 * the burst of a 100k-task submission (200k events, as objects then) as one message blocked the
 * real panel for hundreds of ms. Packed in columns, 16,000 events clone in well under a ms, and
 * the webview folds them in slices; fewer messages are fewer tasks for code-server's workbench,
 * which relays each one on the webview's own thread (12 runs each at 100k tasks: missed vsyncs
 * 15 against 21, frames over 33 ms in 1 run against 6, with 4,000).
 */
export const MAX_MESSAGE_EVENTS = 16_000;

/**
 * Messages per run a timed flush hands on; the rest wait for the next interval. A 100k-task
 * submission (200k events) was 13 messages at once, and code-server's window took them in a row
 * (12-17 ms of its thread each, the panel's frames missed meanwhile); the webview folds a few
 * thousand events a frame, so spreading them over ~7 intervals shows nothing later. The run's
 * end (and `flush`) still hands on everything.
 */
export const MAX_MESSAGES_PER_INTERVAL = 2;

export class EventCoalescer {
	/** Per run, the messages to deliver: each a list of packed parts of at most MAX_MESSAGE_EVENTS events in all. */
	private readonly pending = new Map<string, { parts: PackedEvents[][]; count: number }>();
	private timer: NodeJS.Timeout | undefined;
	private lastFlush = 0;
	private disposed = false;

	constructor(private readonly listener: CoalescedListener, private readonly intervalMs = 33) {}

	public push(runId: string, events: readonly PoolEvent[]): void {
		if (this.disposed || events.length === 0) {
			return;
		}
		let run = this.pending.get(runId);
		if (!run) {
			this.pending.set(runId, (run = { parts: [[]], count: 0 }));
		}
		for (let i = 0; i < events.length;) {
			if (run.count === MAX_MESSAGE_EVENTS) {
				run.parts.push([]);
				run.count = 0;
			}
			const take = Math.min(events.length - i, MAX_MESSAGE_EVENTS - run.count);
			run.parts[run.parts.length - 1]!.push(packEvents(take === events.length ? events : events.slice(i, i + take)));
			run.count += take;
			i += take;
		}
		// The end of a run is shown at once: nobody should wait 33 ms to see "done".
		if (events[events.length - 1]?.type === 'run.finished') {
			this.flush();
			return;
		}
		this.schedule();
	}

	/** Delivers everything buffered now. */
	public flush(): void {
		this.deliver(Infinity);
	}

	/** Up to `perRun` messages of each run, oldest first; what is left goes in a later interval. */
	private deliver(perRun: number): void {
		if (this.timer) {
			clearTimeout(this.timer);
			this.timer = undefined;
		}
		this.lastFlush = Date.now();
		const runs = [...this.pending];
		this.pending.clear();
		for (const [runId, run] of runs) {
			const n = Math.min(run.parts.length, perRun);
			if (n < run.parts.length) {
				this.pending.set(runId, { parts: run.parts.slice(n), count: run.count });
			}
			for (let i = 0; i < n; i++) {
				const message = run.parts[i]!;
				if (message.length) {
					this.listener(runId, concatPacked(message));
				}
			}
		}
		if (this.pending.size && !this.disposed) {
			this.schedule();
		}
	}

	public dispose(): void {
		this.flush();
		this.disposed = true;
	}

	private schedule(): void {
		if (this.timer) {
			return;
		}
		const wait = Math.max(0, this.intervalMs - (Date.now() - this.lastFlush));
		this.timer = setTimeout(() => {
			this.timer = undefined;
			this.deliver(MAX_MESSAGES_PER_INTERVAL);
		}, wait);
	}
}
