/**
 * Collects engine event batches per run and hands them on at most once per interval, so a
 * 100k-task run costs the panel ~30 messages a second, not one per engine flush. Plain
 * TypeScript (no vscode): unit-tested in Node.
 */
import type { PoolEvent } from './protocol/events';

export type CoalescedListener = (runId: string, events: PoolEvent[]) => void;

/**
 * Events per delivered message. A webview takes a message in one go (its clone is not sliced):
 * the burst of a 100k-task submission (200k events, as objects then) as one message blocked the
 * real panel for hundreds of ms. Packed in columns, 16,000 events clone in well under a ms, and
 * the webview folds them in slices; fewer messages are fewer tasks for code-server's workbench,
 * which relays each one on the webview's own thread (12 runs each at 100k tasks: missed vsyncs
 * 15 against 21, frames over 33 ms in 1 run against 6, with 4,000).
 */
export const MAX_MESSAGE_EVENTS = 16_000;

export class EventCoalescer {
	private readonly pending = new Map<string, PoolEvent[]>();
	private timer: NodeJS.Timeout | undefined;
	private lastFlush = 0;
	private disposed = false;

	constructor(private readonly listener: CoalescedListener, private readonly intervalMs = 33) {}

	public push(runId: string, events: readonly PoolEvent[]): void {
		if (this.disposed || events.length === 0) {
			return;
		}
		const list = this.pending.get(runId);
		if (list) {
			for (const e of events) {
				list.push(e);
			}
		} else {
			this.pending.set(runId, events.slice());
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
		if (this.timer) {
			clearTimeout(this.timer);
			this.timer = undefined;
		}
		this.lastFlush = Date.now();
		const batches = [...this.pending];
		this.pending.clear();
		for (const [runId, events] of batches) {
			for (let i = 0; i < events.length; i += MAX_MESSAGE_EVENTS) {
				this.listener(runId, events.length <= MAX_MESSAGE_EVENTS ? events : events.slice(i, i + MAX_MESSAGE_EVENTS));
			}
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
			this.flush();
		}, wait);
	}
}
