/**
 * The four per-task events (submitted, queued, started, finished: ~all of a big run) as columns,
 * for the extension -> webview messages. A message is serialized by the extension host and taken
 * in one go by the webview; columns of numbers and strings cost a fraction of 4,000 objects with
 * repeated keys. Every other event travels as is, in order. Shared by both sides.
 */
import type { PoolEvent, TaskFinishedEvent } from '../engine/protocol/events';

export interface PackedEvents {
	/** One letter per event: s submitted, q queued, b started, f finished, o other. */
	kinds: string;
	t: number[];
	/** Task id (s, q, b, f). */
	id: number[];
	/** Worker id (b, f). */
	w: number[];
	/** Duration ms (f). */
	d: number[];
	/** CPU ms (f; -1 when unknown). */
	c: number[];
	/** Input preview (s), stage (q), result preview (f). */
	s: string[];
	other: PoolEvent[];
}

export function packEvents(events: readonly PoolEvent[]): PackedEvents {
	const p: PackedEvents = { kinds: '', t: [], id: [], w: [], d: [], c: [], s: [], other: [] };
	const kinds: string[] = [];
	for (const e of events) {
		switch (e.type) {
			case 'task.submitted':
				kinds.push('s');
				p.t.push(e.t);
				p.id.push(e.taskId);
				p.s.push(e.input);
				break;
			case 'task.queued':
				kinds.push('q');
				p.t.push(e.t);
				p.id.push(e.taskId);
				p.s.push(e.stage);
				break;
			case 'task.started':
				kinds.push('b');
				p.t.push(e.t);
				p.id.push(e.taskId);
				p.w.push(e.workerId);
				break;
			case 'task.finished':
				kinds.push('f');
				p.t.push(e.t);
				p.id.push(e.taskId);
				p.w.push(e.workerId);
				p.d.push(e.durationMs);
				p.c.push(e.cpuMs ?? -1);
				p.s.push(e.result);
				break;
			default:
				kinds.push('o');
				p.other.push(e);
		}
	}
	p.kinds = kinds.join('');
	return p;
}

/** Reads packed events back a slice at a time (the webview folds a few thousand per frame). */
export class PackedReader {
	public readonly length: number;
	private i = 0;
	private ti = 0;
	private wi = 0;
	private fi = 0;
	private si = 0;
	private oi = 0;

	constructor(private readonly runId: string, private readonly p: PackedEvents) {
		this.length = p.kinds.length;
	}

	public get done(): boolean {
		return this.i >= this.length;
	}

	public get position(): number {
		return this.i;
	}

	public next(max: number): PoolEvent[] {
		const out: PoolEvent[] = [];
		const { p, runId } = this;
		const end = Math.min(this.length, this.i + max);
		for (; this.i < end; this.i++) {
			const k = p.kinds.charCodeAt(this.i);
			if (k === 111 /* o */) {
				out.push(p.other[this.oi++]!);
				continue;
			}
			const t = p.t[this.ti]!;
			const taskId = p.id[this.ti++]!;
			if (k === 115 /* s */) {
				out.push({ type: 'task.submitted', runId, t, taskId, input: p.s[this.si++]! });
			} else if (k === 113 /* q */) {
				out.push({ type: 'task.queued', runId, t, taskId, stage: p.s[this.si++]! });
			} else if (k === 98 /* b */) {
				out.push({ type: 'task.started', runId, t, taskId, workerId: p.w[this.wi++]! });
			} else {
				const cpu = p.c[this.fi]!;
				const e: TaskFinishedEvent = { type: 'task.finished', runId, t, taskId, workerId: p.w[this.wi++]!, durationMs: p.d[this.fi++]!, result: p.s[this.si++]! };
				if (cpu >= 0) {
					e.cpuMs = cpu;
				}
				out.push(e);
			}
		}
		return out;
	}
}
