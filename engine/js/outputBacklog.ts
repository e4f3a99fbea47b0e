/**
 * How far a thread worker's output may run ahead of the host's reading. Output travels as
 * messages to the host, and a port has no back-pressure: a call printing in a loop queued
 * messages faster than the host read them, and the queue grew in the host's process (the
 * extension host's, in the editor) without bound: 3 GB after 15 s of two threads printing.
 * A worker now waits, as a write to a full pipe does, while the host is more than this behind.
 * A worker ended mid-print loses what it posted last (40 threads ended by their timeout while
 * printing 1 KB lines left 2,646 units posted and never read): the host forgets them once it
 * handles such a loss (settle), or enough timeouts would stall every printing call for good.
 */
const LIMIT_UNITS = 4096; // ~4 MB of text
const POSTED = 0;
const READ = 1;

/** A message's weight: about one unit per KB, at least one. */
export function outputUnits(text: string): number {
	return 1 + (text.length >> 10);
}

export class OutputBacklog {
	private readonly ints: Int32Array;

	constructor(public readonly buffer: SharedArrayBuffer) {
		this.ints = new Int32Array(buffer);
	}

	public static create(): OutputBacklog {
		return new OutputBacklog(new SharedArrayBuffer(8));
	}

	/** Units posted and not yet read. */
	public behind(): number {
		return (Atomics.load(this.ints, POSTED) - Atomics.load(this.ints, READ)) | 0;
	}

	/** Worker, before posting output: blocks while the host is too far behind. */
	public reserve(units: number): void {
		for (;;) {
			const read = Atomics.load(this.ints, READ);
			if (((Atomics.load(this.ints, POSTED) - read) | 0) <= LIMIT_UNITS) {
				break;
			}
			// Short waits: a worker ended meanwhile (terminate) need not be woken.
			Atomics.wait(this.ints, READ, read, 100);
		}
		Atomics.add(this.ints, POSTED, units);
	}

	/** Host, once a worker was ended: what it posted and never delivered is written off. What
	 * is still on its way then arrives on credit (9,700 units after the 40 timeouts above): a few
	 * MB more room for a while, against a pool stalled for good. */
	public settle(): void {
		Atomics.store(this.ints, READ, Atomics.load(this.ints, POSTED));
		Atomics.notify(this.ints, READ);
	}

	/** Host, on each output message read. */
	public read(units: number): void {
		Atomics.add(this.ints, READ, units);
		Atomics.notify(this.ints, READ);
	}
}
