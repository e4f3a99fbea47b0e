/**
 * The four per-task events (submitted, queued, started, finished: ~all of a big run) as columns,
 * for the extension -> webview messages. Numbers travel in typed arrays, which VS Code carries as
 * binary buffers (no JSON text to write and parse in the extension host, the window and the
 * webview); strings and every other event travel as JSON, in order. Shared by both sides.
 */
import type { PoolEvent, TaskFinishedEvent, TaskQueuedEvent } from './events';

export interface PackedEvents {
	/**
	 * One letter per event: S submitted and queued as pending (two events), s submitted, q queued,
	 * b started, f finished, o other.
	 */
	kinds: string;
	t: Float64Array;
	/** Task id (S, s, q, b, f). */
	id: Int32Array;
	/** Worker id (b, f). */
	w: Int32Array;
	/** Duration ms (f). */
	d: Float64Array;
	/** CPU ms (f; -1 when unknown). */
	c: Float64Array;
	/**
	 * Input preview (S, s), stage (q), result preview (f), joined into one string, with each
	 * one's length (UTF-16 units) in `len`. The window parses a webview message's JSON with a
	 * reviver (called for every value): thousands of small strings were its largest cost.
	 */
	text: string;
	len: Int32Array;
	other: PoolEvent[];
}

export function packEvents(events: readonly PoolEvent[]): PackedEvents {
	const t: number[] = [];
	const id: number[] = [];
	const w: number[] = [];
	const d: number[] = [];
	const c: number[] = [];
	const s: string[] = [];
	const other: PoolEvent[] = [];
	const kinds: string[] = [];
	/** The columns every per-task entry has. */
	const entry = (kind: string, e: { t: number; taskId: number }) => {
		kinds.push(kind);
		t.push(e.t);
		id.push(e.taskId);
	};
	for (let i = 0; i < events.length; i++) {
		const e = events[i]!;
		switch (e.type) {
			case 'task.submitted': {
				const next = events[i + 1];
				// Every task is queued as pending the moment it is submitted: one entry for both.
				const pending = next?.type === 'task.queued' && next.taskId === e.taskId && next.t === e.t && next.stage === 'pending';
				entry(pending ? 'S' : 's', e);
				s.push(e.input);
				if (pending) {
					i++;
				}
				break;
			}
			case 'task.queued':
				entry('q', e);
				s.push(e.stage);
				break;
			case 'task.started':
				entry('b', e);
				w.push(e.workerId);
				break;
			case 'task.finished':
				entry('f', e);
				w.push(e.workerId);
				d.push(e.durationMs);
				c.push(e.cpuMs ?? -1);
				s.push(e.result);
				break;
			default:
				kinds.push('o');
				other.push(e);
		}
	}
	return { kinds: kinds.join(''), t: Float64Array.from(t), id: Int32Array.from(id), w: Int32Array.from(w), d: Float64Array.from(d), c: Float64Array.from(c), text: s.join(''), len: Int32Array.from(s, (x) => x.length), other };
}

/** Packed messages as one, in order, without reading them back into events. */
export function concatPacked(parts: readonly PackedEvents[]): PackedEvents {
	if (parts.length === 1) {
		return parts[0]!;
	}
	const join = <A extends Float64Array | Int32Array>(make: new (n: number) => A, pick: (p: PackedEvents) => A): A => {
		const out = new make(parts.reduce((n, p) => n + pick(p).length, 0));
		let at = 0;
		for (const p of parts) {
			out.set(pick(p), at);
			at += pick(p).length;
		}
		return out;
	};
	return {
		kinds: parts.map((p) => p.kinds).join(''),
		t: join(Float64Array, (p) => p.t),
		id: join(Int32Array, (p) => p.id),
		w: join(Int32Array, (p) => p.w),
		d: join(Float64Array, (p) => p.d),
		c: join(Float64Array, (p) => p.c),
		text: parts.map((p) => p.text).join(''),
		len: join(Int32Array, (p) => p.len),
		other: parts.flatMap((p) => p.other),
	};
}

/** How many events a packed message holds (an S entry is two). */
export function packedLength(p: PackedEvents): number {
	let n = p.kinds.length;
	for (let i = 0; i < p.kinds.length; i++) {
		if (p.kinds.charCodeAt(i) === 83 /* S */) {
			n++;
		}
	}
	return n;
}

/** Reads packed events back a slice at a time (the webview folds a few thousand per frame). */
export class PackedReader {
	/** Events in the message. */
	public readonly length: number;
	private i = 0;
	private ti = 0;
	private wi = 0;
	private fi = 0;
	private si = 0;
	/** Where the next string starts in `text`. */
	private at = 0;
	private oi = 0;
	/** The queued half of an S entry, owed to the next slice. */
	private owed: PoolEvent | undefined;

	constructor(private readonly runId: string, private readonly p: PackedEvents) {
		this.length = packedLength(p);
	}

	private str(): string {
		const from = this.at;
		this.at += this.p.len[this.si++]!;
		return this.p.text.slice(from, this.at);
	}

	public get done(): boolean {
		return this.i >= this.p.kinds.length && !this.owed;
	}

	/** Up to `max` events (one more when an S entry ends the slice). */
	public next(max: number): PoolEvent[] {
		const out: PoolEvent[] = [];
		if (this.owed) {
			out.push(this.owed);
			this.owed = undefined;
		}
		const runId = this.runId;
		this.visit(max - out.length, {
			submitted: (t, taskId, input) => out.push({ type: 'task.submitted', runId, t, taskId, input }),
			queued: (t, taskId, stage) => {
				const e: PoolEvent = { type: 'task.queued', runId, t, taskId, stage };
				if (out.length < max) {
					out.push(e);
				} else {
					this.owed = e; // the queued half of an S entry that ended the slice
				}
			},
			started: (t, taskId, workerId) => out.push({ type: 'task.started', runId, t, taskId, workerId }),
			finished: (t, taskId, workerId, durationMs, cpuMs, result) => {
				const e: TaskFinishedEvent = { type: 'task.finished', runId, t, taskId, workerId, durationMs, result };
				if (cpuMs !== undefined) {
					e.cpuMs = cpuMs;
				}
				out.push(e);
			},
			other: (e) => out.push(e),
		});
		return out;
	}

	/**
	 * Up to `max` events (an S entry, two, is never split) handed to `v` as they are stored, with
	 * no object per event: the webview folds them straight into its model. Returns how many.
	 */
	public visit(max: number, v: PackedVisitor): number {
		const p = this.p;
		const kinds = p.kinds;
		let n = 0;
		if (this.owed && max > 0) {
			const e = this.owed as TaskQueuedEvent;
			this.owed = undefined;
			v.queued(e.t, e.taskId, e.stage);
			n++;
		}
		while (n < max && this.i < kinds.length) {
			const k = kinds.charCodeAt(this.i++);
			n++;
			if (k === 111 /* o */) {
				v.other(p.other[this.oi++]!);
				continue;
			}
			const t = p.t[this.ti]!;
			const taskId = p.id[this.ti++]!;
			if (k === 83 /* S */) {
				v.submitted(t, taskId, this.str());
				v.queued(t, taskId, 'pending');
				n++;
			} else if (k === 115 /* s */) {
				v.submitted(t, taskId, this.str());
			} else if (k === 113 /* q */) {
				v.queued(t, taskId, this.str());
			} else if (k === 98 /* b */) {
				v.started(t, taskId, p.w[this.wi++]!);
			} else {
				const cpu = p.c[this.fi]!;
				v.finished(t, taskId, p.w[this.wi++]!, p.d[this.fi++]!, cpu >= 0 ? cpu : undefined, this.str());
			}
		}
		return n;
	}
}

/** What `PackedReader.visit` hands each event to, field by field. */
export interface PackedVisitor {
	submitted(t: number, taskId: number, input: string): void;
	queued(t: number, taskId: number, stage: string): void;
	started(t: number, taskId: number, workerId: number): void;
	finished(t: number, taskId: number, workerId: number, durationMs: number, cpuMs: number | undefined, result: string): void;
	other(e: PoolEvent): void;
}
