import type { EventSink, PoolEvent } from './protocol/events';

/**
 * Hands events to a sink in batches: every `intervalMs` or every `maxBatch` events, whichever
 * comes first, so 100k tasks are a few hundred sink calls, not 600k.
 */
export class EventBatcher {
	private buffer: PoolEvent[] = [];
	private timer: NodeJS.Timeout | undefined;
	private closed = false;

	constructor(private readonly sink: EventSink, private readonly intervalMs = 50, private readonly maxBatch = 2000) {}

	public emit(event: PoolEvent): void {
		if (this.closed) {
			return;
		}
		this.buffer.push(event);
		if (this.buffer.length >= this.maxBatch) {
			this.flush();
		} else if (!this.timer) {
			this.timer = setTimeout(() => this.flush(), this.intervalMs);
		}
	}

	public flush(): void {
		if (this.timer) {
			clearTimeout(this.timer);
			this.timer = undefined;
		}
		if (this.buffer.length) {
			const batch = this.buffer;
			this.buffer = [];
			this.sink(batch);
		}
	}

	/** Flushes and refuses anything later (nothing may follow run.finished). */
	public close(): void {
		this.flush();
		this.closed = true;
	}
}
