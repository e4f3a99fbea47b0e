import type { RunModel, TaskState } from '../../engine/protocol/runModel';

/** The ended states a bar can have, in the order their busy time is kept. */
const ENDED: readonly TaskState[] = ['finished', 'failed', 'cancelled', 'timedOut', 'rejected'];
const BUCKETS = 2048;

/**
 * Busy time per worker lane in fixed time buckets, folded in as tasks end, so a run of 100k
 * tasks redraws its timeline from a few thousand buckets instead of walking every task (that
 * walk was the panel's slowest frame work while a big run streamed in, and at its end). When the run
 * outgrows the buckets, their width doubles and neighbours merge. Tasks are taken in id order
 * as they start (every pool starts them roughly first in, first out); the ones still running
 * are handed back for an exact bar.
 */
export class TimelineAggregate {
	private bucketMs = 1;
	/** lane (workerId) -> per state, busy ms per bucket */
	private readonly lanes = new Map<number, Float32Array[]>();
	/** Next task id not yet seen started or ended. */
	private cursor = 0;
	/** Started, not ended when last looked at. */
	private readonly open = new Set<number>();
	public folded = 0;

	constructor(public readonly runId: string, private readonly t0: number) {}

	/** Folds in what ended since the last call; returns the tasks running now. */
	public update(model: RunModel): number[] {
		const tasks = model.tasks;
		for (;;) {
			const task = tasks.get(this.cursor);
			if (!task || (task.startedAt === undefined && task.endedAt === undefined)) {
				break;
			}
			this.open.add(this.cursor++);
		}
		const running: number[] = [];
		for (const id of this.open) {
			const task = tasks.get(id)!;
			if (task.endedAt === undefined) {
				running.push(id);
				continue;
			}
			this.open.delete(id);
			const k = ENDED.indexOf(task.state);
			if (task.startedAt !== undefined && task.workerId !== undefined && k >= 0) {
				this.add(task.workerId, k, task.startedAt - this.t0, task.endedAt - this.t0);
				this.folded++;
			}
		}
		return running;
	}

	private add(lane: number, state: number, from: number, to: number): void {
		while (to >= BUCKETS * this.bucketMs) {
			this.widen();
		}
		let rows = this.lanes.get(lane);
		if (!rows) {
			rows = ENDED.map(() => new Float32Array(BUCKETS));
			this.lanes.set(lane, rows);
		}
		const row = rows[state]!;
		const w = this.bucketMs;
		let t = Math.max(0, from);
		// A zero-length task still shows: it takes a sliver of its bucket.
		const end = Math.max(to, t + 1e-6);
		while (t < end) {
			const b = Math.floor(t / w);
			const next = Math.min(end, (b + 1) * w);
			row[b]! += next - t;
			t = next;
		}
	}

	private widen(): void {
		this.bucketMs *= 2;
		for (const rows of this.lanes.values()) {
			for (const row of rows) {
				for (let i = 0; i < BUCKETS / 2; i++) {
					row[i] = row[2 * i]! + row[2 * i + 1]!;
				}
				row.fill(0, BUCKETS / 2);
			}
		}
	}

	/**
	 * Paints each lane: per pixel column, the state with the most busy time there, if any.
	 * `from`/`to` are ms since the run started, `laneY` the top of each lane's bar.
	 */
	public paint(ctx: CanvasRenderingContext2D, lanes: number[][], laneY: (i: number) => number, barH: number, from: number, to: number, width: number, colors: Record<TaskState, string>): void {
		const perPx = (to - from) / width;
		// A lane's workers one after another (replacements): each paints its own buckets.
		lanes.flatMap((ids, i) => ids.map((id) => [id, i] as const)).forEach(([lane, i]) => {
			const rows = this.lanes.get(lane);
			if (!rows) {
				return;
			}
			let runColor = '';
			let runX = 0;
			const flush = (x: number) => {
				if (runColor) {
					ctx.fillStyle = runColor;
					ctx.fillRect(runX, laneY(i), x - runX, barH);
				}
			};
			for (let x = 0; x < width; x++) {
				const b0 = Math.floor((from + x * perPx) / this.bucketMs);
				const b1 = Math.max(b0 + 1, Math.floor((from + (x + 1) * perPx) / this.bucketMs));
				let best = -1;
				let bestMs = 0;
				for (let k = 0; k < rows.length; k++) {
					let sum = 0;
					for (let b = Math.max(0, b0); b < Math.min(BUCKETS, b1); b++) {
						sum += rows[k]![b]!;
					}
					if (sum > bestMs) {
						bestMs = sum;
						best = k;
					}
				}
				const color = best >= 0 ? colors[ENDED[best]!] : '';
				if (color !== runColor) {
					flush(x);
					runColor = color;
					runX = x;
				}
			}
			flush(width);
		});
	}
}
