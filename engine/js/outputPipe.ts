/**
 * A JS process worker's console output travels on a pipe of its own, not over IPC: Node queues
 * IPC writes the host has not read inside the worker, and a call printing in a synchronous loop
 * never yields, so that queue only grew (770 MB in 12 s). A blocking write to a pipe waits while
 * the host is behind, as a program printing to a terminal does.
 *
 * A frame is a header line `taskId stream byteLength\n` (taskId -1: the run's output, stream 1 or
 * 2) and that many bytes of UTF-8. The host cannot tell from two channels which came first, so
 * each IPC message carries the pipe bytes written before it (`outBytes`) and waits until the host
 * has read that many (ProcessPool).
 */
import { writeSync } from 'node:fs';
import type { StreamName } from '../protocol/events';

/** The worker's output pipe: fork's stdio[4], next to the IPC channel (stdio[3]). */
export const OUTPUT_FD = 4;
/** Frames of the run itself (outside any task). */
export const RUN_OUTPUT = -1;

/** Worker side: one blocking write a frame (nothing at all for a task that prints nothing). */
export class FrameWriter {
	/** Bytes of whole frames written so far. */
	public written = 0;
	private pause: Int32Array | undefined;
	private broken = false;

	constructor(private readonly fd: number, private readonly hostGone: () => void) {}

	/**
	 * False when the pipe cannot be written (no such descriptor where the worker was started some
	 * other way): the caller sends the text another way rather than lose it or fail the print.
	 */
	public write(taskId: number, stream: StreamName, text: string): boolean {
		if (this.broken) {
			return false;
		}
		if (text.length === 0) {
			return true;
		}
		const body = Buffer.from(text, 'utf8');
		const head = `${taskId} ${stream === 'stdout' ? 1 : 2} ${body.length}\n`;
		const frame = Buffer.allocUnsafe(head.length + body.length);
		frame.write(head, 0, 'latin1');
		body.copy(frame, head.length);
		for (let at = 0; at < frame.length;) {
			try {
				at += writeSync(this.fd, frame, at, frame.length - at);
			} catch (e) {
				const code = (e as NodeJS.ErrnoException).code;
				if (code === 'EAGAIN') {
					// The worker's end of the socketpair is blocking on Linux (checked on Node 20):
					// this is for a platform where it is not. Sleep, do not spin.
					Atomics.wait(this.pause ??= new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
				} else if (code === 'EPIPE') {
					this.hostGone(); // nobody reads: the host is gone
					return true;
				} else if (code !== 'EINTR') {
					this.broken = true;
					return false;
				}
			}
		}
		this.written += frame.length;
		return true;
	}
}

const HEADER = /^(-?\d+) ([12]) (\d+)$/;
/** A header is ~20 bytes: more without a newline is not ours (stop collecting it). */
const MAX_HEADER = 64;

/**
 * Host side: frames from a worker's pipe, whatever the chunks. Whole frames of one task that
 * arrive in one read are delivered as one text (the host's work is per delivery). A frame cut by
 * the worker's death (a timeout's SIGKILL mid-print) is delivered as far as it came: it is what
 * the task printed (`end`).
 */
export class FrameReader {
	/** Bytes read from the pipe so far, whole frames or not. */
	public received = 0;
	private head: Buffer | undefined;
	private body: { taskId: number; stream: StreamName; left: number; parts: Buffer[] } | undefined;
	private ready: { taskId: number; stream: StreamName; parts: Buffer[] } | undefined;

	constructor(private readonly deliver: (taskId: number, stream: StreamName, text: string) => void) {}

	public push(chunk: Buffer): void {
		this.received += chunk.length;
		let at = 0;
		while (at < chunk.length) {
			const body = this.body;
			if (body) {
				const take = Math.min(body.left, chunk.length - at);
				body.parts.push(chunk.subarray(at, at + take));
				body.left -= take;
				at += take;
				if (body.left === 0) {
					this.body = undefined;
					this.complete(body.taskId, body.stream, body.parts);
				}
				continue;
			}
			const nl = chunk.indexOf(10, at);
			if (nl < 0) {
				const rest = chunk.subarray(at);
				this.head = this.head ? Buffer.concat([this.head, rest]) : Buffer.from(rest);
				if (this.head.length > MAX_HEADER) {
					this.head = undefined;
				}
				break;
			}
			const line = (this.head ? Buffer.concat([this.head, chunk.subarray(at, nl)]) : chunk.subarray(at, nl)).toString('latin1');
			this.head = undefined;
			at = nl + 1;
			const m = HEADER.exec(line);
			if (m) {
				this.body = { taskId: Number(m[1]), stream: m[2] === '1' ? 'stdout' : 'stderr', left: Number(m[3]), parts: [] };
				if (this.body.left === 0) {
					this.body = undefined;
				}
			}
			// else: not a header (something else wrote to the pipe): skipped up to its newline.
		}
		this.flush();
	}

	/** The pipe ended: what is left of a cut frame is delivered; a cut header is dropped. */
	public end(): void {
		if (this.body?.parts.length) {
			this.complete(this.body.taskId, this.body.stream, this.body.parts);
		}
		this.body = undefined;
		this.head = undefined;
		this.flush();
	}

	private complete(taskId: number, stream: StreamName, parts: Buffer[]): void {
		const ready = this.ready;
		if (ready && ready.taskId === taskId && ready.stream === stream) {
			ready.parts.push(...parts);
			return;
		}
		this.flush();
		this.ready = { taskId, stream, parts };
	}

	private flush(): void {
		const ready = this.ready;
		if (ready) {
			this.ready = undefined;
			// Whole frames end on whole characters; only a cut frame (`end`) may end mid-character.
			this.deliver(ready.taskId, ready.stream, (ready.parts.length === 1 ? ready.parts[0]! : Buffer.concat(ready.parts)).toString('utf8'));
		}
	}
}
