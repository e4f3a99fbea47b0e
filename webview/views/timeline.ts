import { megabytes } from '../../engine/protocol/events';
import { looksText, taskCpuShare, taskSeen, tooCoarse, WAIT_LABELS, type RunModel, type TaskModel, type WorkerModel } from '../../engine/protocol/runModel';
import { cssVar, h, observedSize, sizedContext } from '../dom';
import { ms } from '../format';
import { inkOn, stateColors, waitColors } from './colors';
import { TimelineAggregate } from './timelineAggregate';
import { workerLanes } from './workerLanes';

/**
 * Above this many tasks the unzoomed timeline is drawn from per-lane buckets (bars are then far
 * narrower than a pixel anyway); zoomed in, it draws every bar in view.
 */
const AGGREGATE_ABOVE = 2000;

const LANE = 18;
/** A bar at least this wide (px) shows its task's id. */
const LABEL_BAR = 24;
const CPU_H = 44;
const AXIS = 16;
/**
 * A task that spent at least this share of its wall time on a CPU is drawn solid (CPU-bound);
 * below it, pale with its CPU share filled from the bottom, so threads that take turns on the
 * GIL or a lock, or wait on I/O, do not look like threads computing side by side.
 */
const ON_CPU = 0.85;

/**
 * An ended task's share on a CPU (taskCpuShare); a running task's, its worker's own CPU over the
 * last second (worker.cpu): a GIL-bound run is pale while it runs, a deadlock once it ends.
 */
function cpuFill(task: TaskModel, language: string | undefined, worker: WorkerModel | undefined): number | undefined {
	if (task.endedAt === undefined) {
		return task.state === 'running' && worker?.currentTask === task.taskId ? worker.cpuShare : undefined;
	}
	return taskCpuShare(task, language);
}

/**
 * A wait is drawn hatched in its colour over the pale bar: solid colours are task states (a
 * timed-out task is orange too), stripes say "waiting". One tile per colour, kept.
 */
const hatches = new Map<string, CanvasPattern | string>();
function hatch(ctx: CanvasRenderingContext2D, color: string): CanvasPattern | string {
	let p = hatches.get(color);
	if (p === undefined) {
		const tile = document.createElement('canvas');
		tile.width = tile.height = 6;
		const t = tile.getContext('2d');
		if (t) {
			t.strokeStyle = color;
			t.lineWidth = 2.5;
			t.beginPath();
			for (const d of [-6, 0, 6]) {
				t.moveTo(d, 6);
				t.lineTo(d + 6, 0);
			}
			t.stroke();
		}
		p = (t && ctx.createPattern(tile, 'repeat')) ?? color;
		hatches.set(color, p);
	}
	return p;
}

/** Where a worker's start ends: its ready, or (still starting) its exit or now; its start when it was ready at once. */
function startEnd(w: WorkerModel, now: number): number {
	return w.readyAt ?? (w.state === 'starting' ? w.exitedAt ?? now : w.startedAt);
}

/** Left of the lanes: each lane's worker ("#3"), as the workers table names them. */
const GUTTER = 30;
/** The narrowest window zooming reaches, ms (10 µs). */
const MIN_WINDOW_MS = 0.01;

/**
 * One lane per worker, a bar per task, CPU utilization and the run's memory under it. Wheel
 * zooms around the pointer, drag pans, double-click fits; hover names the task.
 */
export class TimelineView {
	public readonly el = h('section', { class: 'timeline', 'data-testid': 'timeline', 'aria-label': 'Timeline' });
	private readonly canvas = h('canvas', { class: 'timeline-canvas', 'data-testid': 'timeline-canvas', tabindex: '0', 'aria-label': 'Timeline: + and - zoom, arrows pan, 0 fits, [ and ] select the previous or next task on the selected task\'s worker' });
	private readonly tip = h('div', { class: 'tooltip', role: 'status' });
	private readonly legendKinds = h('span', { 'data-testid': 'timeline-legend-waits' });
	private readonly legend = h('div', { class: 'muted timeline-legend', 'data-testid': 'timeline-legend' }, 'A bar filled only partly, from the bottom: its task was on a CPU for that share of its time (while it runs: of the last second) and waited the rest (for the GIL, a lock, I/O or a free core).', this.legendKinds);
	/** The wait kinds the legend lists now (WAIT_LETTERS indexes), to rebuild it only on a change. */
	private legendShown = '';
	private model: RunModel | undefined;
	private nowT = 0;
	private drag: { x: number; from: number; to: number } | undefined;
	private aggregate: TimelineAggregate | undefined;
	/** The future selected in the grid or here: outlined on its lane, so a straggler found in the grid is seen in time. */
	private selected: number | undefined;
	private laneIndex: { key: string; model: RunModel; at: number; lanes: { starts: Float64Array; ends: Float64Array; ids: Int32Array }[] } | undefined;
	private readonly size: { width: number; height: number };

	constructor(private zoom: { from: number; to: number } | undefined, private readonly onZoom: (zoom: { from: number; to: number } | undefined) => void, private readonly onSelect: (taskId: number) => void) {
		this.tip.hidden = true;
		this.legend.hidden = true;
		this.el.append(this.canvas, this.tip, this.legend);
		this.canvas.addEventListener('wheel', (e) => {
			e.preventDefault();
			const [from, to] = this.window();
			const x = this.timeAt(e.offsetX);
			const f = e.deltaY > 0 ? 1.25 : 0.8;
			this.setZoom({ from: x - (x - from) * f, to: x + (to - x) * f });
		}, { passive: false });
		this.canvas.addEventListener('mousedown', (e) => {
			const [from, to] = this.window();
			this.drag = { x: e.offsetX, from, to };
		});
		window.addEventListener('mouseup', () => { this.drag = undefined; });
		this.canvas.addEventListener('mousemove', (e) => {
			if (this.drag) {
				const dt = ((e.offsetX - this.drag.x) / this.plotWidth()) * (this.drag.to - this.drag.from);
				this.setZoom({ from: this.drag.from - dt, to: this.drag.to - dt });
				return;
			}
			this.hover(e.offsetX, e.offsetY);
		});
		this.canvas.addEventListener('mouseleave', () => { this.tip.hidden = true; });
		this.canvas.addEventListener('dblclick', () => this.setZoom(undefined));
		this.canvas.addEventListener('click', (e) => {
			const t = this.taskAt(e.offsetX, e.offsetY);
			if (t !== undefined) {
				this.onSelect(t);
			}
		});
		this.canvas.addEventListener('keydown', (e) => {
			const [from, to] = this.window();
			const span = to - from;
			// '=' too: the '+' key unshifted, as VS Code's own zoom (Ctrl+=) reads it.
			const zoomIn: [number, number] = [span * 0.2, -span * 0.2];
			const moves: Record<string, [number, number]> = { '+': zoomIn, '=': zoomIn, '-': [-span * 0.25, span * 0.25], ArrowLeft: [-span * 0.1, -span * 0.1], ArrowRight: [span * 0.1, span * 0.1] };
			if (e.key === '0') {
				this.setZoom(undefined);
			} else if (e.key === '[' || e.key === ']') {
				e.preventDefault();
				this.step(e.key === ']' ? 1 : -1);
			} else if (moves[e.key]) {
				e.preventDefault();
				const [a, b] = moves[e.key]!;
				this.setZoom({ from: from + a, to: to + b });
			}
		});
		this.size = observedSize(this.el, () => this.draw());
		// The first text on a canvas loads its font (~9 ms here): paid while idle, not in a run's first frame.
		setTimeout(() => {
			const ctx = this.canvas.getContext('2d');
			if (ctx) {
				ctx.font = this.font();
				ctx.measureText('0.5 s');
			}
		}, 0);
	}

	private font(): string {
		return `10px ${cssVar('--vscode-font-family', 'sans-serif')}`;
	}

	/**
	 * Within the run: a window as wide as the run or wider is the run fitted, and a narrower one
	 * slides back inside it (zooming out or panning without end left a sliver of the run, or none).
	 */
	private setZoom(z: { from: number; to: number } | undefined): void {
		const span = z ? z.to - z.from : 0;
		if (z && span < MIN_WINDOW_MS) {
			return; // as far in as it goes (it used to snap back out to the whole run)
		}
		const full = this.runSpan();
		if (z && span >= full) {
			z = undefined;
		} else if (z) {
			const from = Math.min(Math.max(0, z.from), full - span);
			z = { from, to: from + span };
		}
		this.zoom = z;
		this.onZoom(this.zoom);
		this.draw();
	}

	private t0(): number {
		return this.model?.started?.t ?? 0;
	}

	/** Visible window in ms since the run started. */
	private window(): [number, number] {
		if (this.zoom) {
			return [this.zoom.from, this.zoom.to];
		}
		return [0, this.runSpan()];
	}

	/** The run's length so far, ms. */
	private runSpan(): number {
		return Math.max(1, (this.model?.finished?.t ?? this.nowT) - this.t0());
	}

	private plotWidth(): number {
		return Math.max(1, this.size.width - 8 - GUTTER);
	}

	/** `x` is on the canvas (an event's offsetX), the gutter included. */
	private timeAt(x: number): number {
		const [from, to] = this.window();
		return from + ((x - GUTTER) / this.plotWidth()) * (to - from);
	}

	private lanes(): number[][] {
		return workerLanes(this.model?.workers.values() ?? []);
	}

	private taskAt(x: number, y: number): number | undefined {
		const lane = this.byLane()[Math.floor((y - AXIS) / LANE)];
		if (lane === undefined) {
			return undefined;
		}
		const t = this.timeAt(x) + this.t0();
		// The last task on the lane to start by t (a lane runs one task at a time): did it last until t?
		let lo = 0;
		let hi = lane.starts.length - 1;
		while (lo <= hi) {
			const mid = (lo + hi) >> 1;
			if (lane.starts[mid]! <= t) {
				lo = mid + 1;
			} else {
				hi = mid - 1;
			}
		}
		const end = hi >= 0 ? lane.ends[hi]! : -Infinity;
		return (end === Infinity ? this.nowT : end) >= t ? lane.ids[hi] : undefined;
	}

	/**
	 * The task before or after the selected one on its lane (the first lane's first or last when
	 * none is selected): what hovering bars tells a mouse user, for the keyboard, with the details
	 * beside. A task out of the zoomed window brings the window to it.
	 */
	private step(dir: 1 | -1): void {
		const lanes = this.byLane();
		const task = this.selected !== undefined ? this.model?.tasks.get(this.selected) : undefined;
		const workerId = task?.workerId;
		const laneNo = workerId !== undefined ? this.lanes().findIndex((ids) => ids.includes(workerId)) : -1;
		const lane = lanes[Math.max(0, laneNo)];
		if (!lane?.ids.length) {
			return;
		}
		const at = laneNo >= 0 ? lane.ids.indexOf(task!.taskId) : -1;
		const next = at < 0 ? (dir > 0 ? 0 : lane.ids.length - 1) : Math.min(lane.ids.length - 1, Math.max(0, at + dir));
		const start = lane.starts[next]! - this.t0();
		const [from, to] = this.window();
		if (this.zoom && (start < from || start > to)) {
			this.setZoom({ from: start - (to - from) / 2, to: start + (to - from) / 2 });
		}
		// At once, not at the next render: keys faster than frames each stepped from the same task.
		this.selected = lane.ids[next]!;
		this.onSelect(this.selected);
	}

	/**
	 * Each lane's started tasks by start time, for hover and click. Each mouse move walked every
	 * task (3-40 ms at 100k here): now a run is walked once when it ends, and while it runs at
	 * most 4 times a second (a task started since is found at the next walk).
	 */
	private byLane(): { starts: Float64Array; ends: Float64Array; ids: Int32Array }[] {
		const model = this.model;
		if (!model) {
			return [];
		}
		const key = `${model.runId}|${model.finished ? 'ended' : 'live'}`;
		const now = performance.now();
		if (this.laneIndex?.key === key && this.laneIndex.model === model && (model.finished || now - this.laneIndex.at < 250)) {
			return this.laneIndex.lanes;
		}
		const lanes = this.lanes();
		const laneOf = new Map(lanes.flatMap((ids, i) => ids.map((w) => [w, i] as const)));
		const tasks: TaskModel[][] = lanes.map(() => []);
		model.tasks.forEach((task) => {
			const i = task.startedAt !== undefined && task.workerId !== undefined ? laneOf.get(task.workerId) : undefined;
			if (i !== undefined) {
				tasks[i]!.push(task);
			}
		});
		const built = tasks.map((list) => {
			list.sort((a, b) => a.startedAt! - b.startedAt!);
			return { starts: Float64Array.from(list, (t) => t.startedAt!), ends: Float64Array.from(list, (t) => t.endedAt ?? Infinity), ids: Int32Array.from(list, (t) => t.taskId) };
		});
		this.laneIndex = { key, model, at: now, lanes: built };
		return built;
	}

	/** The worker of the lane at y that was starting at x (its process loading), if any. */
	private startingAt(x: number, y: number): WorkerModel | undefined {
		const lane = this.lanes()[Math.floor((y - AXIS) / LANE)];
		const t = this.timeAt(x) + this.t0();
		return lane?.map((id) => this.model?.workers.get(id)).find((w) => w !== undefined && w.startedAt <= t && t <= startEnd(w, this.nowT));
	}

	private hover(x: number, y: number): void {
		const id = this.taskAt(x, y);
		const task = id !== undefined ? this.model?.tasks.get(id) : undefined;
		const starting = task ? undefined : this.startingAt(x, y);
		if (task) {
			const dur = (task.endedAt ?? this.nowT) - (task.startedAt ?? 0);
			const looks = taskSeen(task, this.model?.workers.get(task.workerId!), this.nowT);
			const seen = looks ? `; ${task.endedAt === undefined ? 'in its last second, ' : ''}${looksText(looks)}` : '';
			this.tip.textContent = `task ${task.taskId} (${task.input}) on worker ${task.workerId}: ${ms(dur)}, ${task.state}${task.cpuMs !== undefined && !tooCoarse(this.model?.started?.language, dur) ? `, CPU ${ms(task.cpuMs)}${dur > 0 && task.endedAt !== undefined ? ` (${Math.round(Math.min(1, task.cpuMs / dur) * 100)}% of its time)` : ''}` : ''}${seen}`;
		} else if (starting) {
			const took = startEnd(starting, this.nowT) - starting.startedAt;
			this.tip.textContent = `worker ${starting.workerId} starting${starting.readyAt === undefined ? '' : ' (done)'}: ${ms(took)} from its process's start to its first chance at a task`;
		} else {
			this.tip.hidden = true;
			return;
		}
		this.tip.hidden = false;
		this.tip.style.left = `${Math.min(x + 12, this.plotWidth() - 260)}px`;
		this.tip.style.top = `${y + 12}px`;
	}

	private aggregateFor(model: RunModel): TimelineAggregate | undefined {
		if (this.zoom || !model.started || model.tasks.size <= AGGREGATE_ABOVE) {
			this.aggregate = undefined;
		} else if (this.aggregate?.runId !== model.runId) {
			this.aggregate = new TimelineAggregate(model.runId, model.started.t);
		}
		return this.aggregate;
	}

	/**
	 * Folds what ended into the buckets without drawing: a live frame that does not redraw the
	 * timeline does this, so the redraw (~4 a second at 100k) does not fold 6,000 tasks at once.
	 */
	public fold(model: RunModel): void {
		if (this.model?.runId === model.runId) {
			this.aggregateFor(model)?.update(model);
		}
	}

	public render(model: RunModel, nowT: number, selected?: number): void {
		this.selected = selected;
		if (this.model && this.model.runId !== model.runId && this.zoom) {
			// Another run opens fitted: the window zoomed into the last one showed an empty part of it.
			this.zoom = undefined;
			this.onZoom(undefined);
		}
		this.model = model;
		this.nowT = nowT;
		this.draw();
	}

	private draw(): void {
		const model = this.model;
		// Not laid out yet (a run's first show, a hidden panel): the ResizeObserver draws once it
		// is. Drawn before, it was drawn twice, and its theme colours forced a style pass.
		if (!model || this.size.width === 0) {
			return;
		}
		const lanes = this.lanes();
		const width = this.plotWidth();
		const height = AXIS + Math.max(1, lanes.length) * LANE + CPU_H;
		const ctx = sizedContext(this.canvas, GUTTER + width, height);
		if (!ctx) {
			return;
		}
		ctx.clearRect(0, 0, GUTTER + width, height);
		const [from, to] = this.window();
		const t0 = this.t0();
		const scale = width / (to - from);
		const fg = cssVar('--vscode-descriptionForeground', '#888');
		ctx.fillStyle = fg;
		ctx.font = this.font();
		lanes.forEach((ids, i) => ctx.fillText(`#${ids[ids.length - 1]}`, 2, AXIS + i * LANE + LANE / 2 + 4)); // its latest worker
		// The plot: time 0 of the window at the gutter's edge, nothing drawn into the gutter.
		ctx.save();
		ctx.translate(GUTTER, 0);
		ctx.beginPath();
		ctx.rect(0, 0, width, height);
		ctx.clip();
		const ticks = 6;
		let labelEnd = -Infinity;
		for (let i = 0; i <= ticks; i++) {
			const t = from + ((to - from) * i) / ticks;
			const x = (t - from) * scale;
			ctx.fillRect(x, AXIS - 4, 1, 4);
			// The last label is pulled in from the edge: skip it rather than overprint its neighbour.
			const text = ms(t);
			const w = ctx.measureText(text).width;
			const lx = Math.min(x + 2, width - w - 2);
			if (lx > labelEnd + 4) {
				ctx.fillText(text, lx, 10);
				labelEnd = lx + w;
			}
		}
		const laneOf = new Map(lanes.flatMap((ids, i) => ids.map((w) => [w, i] as const)));
		const colors = stateColors();
		let bars = 0;
		let labels = 0;
		let startSpans = 0;
		let cpuFills = 0;
		let waitFills = 0;
		const waitKinds = new Set<number>();
		const waitColor = waitColors();
		const language = model.started?.language;
		const end = model.finished?.t ?? this.nowT;
		// At 100k tasks most bars are narrower than a pixel: touching bars of one colour on a lane
		// merge into one rectangle, so a frame paints a few thousand rectangles, not 100k.
		// A bar that is one task and wide enough shows its id (the grid's cells show the same ids).
		const open: ({ x0: number; x1: number; color: string; id: number | undefined; fill: number | undefined; looks: number[] | undefined } | undefined)[] = lanes.map(() => undefined);
		let tasks: Iterable<TaskModel> = model.tasks.values();
		const aggregate = this.aggregateFor(model);
		if (aggregate) {
			// Ended tasks come from the buckets; only the running ones are walked.
			const running = aggregate.update(model);
			aggregate.paint(ctx, lanes, (i) => AXIS + i * LANE + 2, LANE - 4, from, to, width, colors);
			bars += aggregate.folded;
			tasks = running.map((id) => model.tasks.get(id)!);
		}
		const flush = (lane: number) => {
			const r = open[lane];
			if (r) {
				const w = r.x1 - r.x0;
				const bw = w - (w > 3 ? 1 : 0);
				const y = AXIS + lane * LANE + 2;
				ctx.fillStyle = r.color;
				const pale = r.fill !== undefined && r.fill < ON_CPU && w >= 2;
				if (pale) {
					ctx.globalAlpha = 0.3;
					ctx.fillRect(r.x0, y, bw, LANE - 4);
					ctx.globalAlpha = 1;
					const filled = Math.max(1, Math.round(r.fill! * (LANE - 4)));
					ctx.fillRect(r.x0, y + LANE - 4 - filled, bw, filled);
					cpuFills++;
					// Above it, what its thread was seen waiting on, each kind by its share of the
					// looks; what is left pale was not seen (a wait for a core, or between looks).
					if (r.looks) {
						const n = r.looks.reduce((a, b) => a + b, 0);
						let top = y + LANE - 4 - filled;
						for (let k = 1; k < r.looks.length && top > y; k++) {
							const hk = Math.min(top - y, ((LANE - 4) * r.looks[k]!) / n);
							if (hk >= 0.5) {
								ctx.fillStyle = hatch(ctx, waitColor[k]!);
								ctx.fillRect(r.x0, top - hk, bw, hk);
								top -= hk;
								waitKinds.add(k);
							}
						}
						waitFills += top < y + LANE - 4 - filled ? 1 : 0;
					}
				} else {
					ctx.fillRect(r.x0, y, bw, LANE - 4);
				}
				if (r.id !== undefined && w >= LABEL_BAR) {
					const label = String(r.id);
					if (ctx.measureText(label).width <= w - 6) {
						// Mostly pale: the text sits on the background, not on the colour.
						ctx.fillStyle = pale && r.fill! < 0.5 ? cssVar('--vscode-foreground', '#ccc') : inkOn(r.color);
						ctx.fillText(label, r.x0 + 3, AXIS + lane * LANE + LANE / 2 + 4);
						labels++;
					}
				}
				open[lane] = undefined;
			}
		};
		for (const task of tasks) {
			if (task.startedAt === undefined || task.workerId === undefined) {
				continue;
			}
			const s = task.startedAt - t0;
			const e = (task.endedAt ?? end) - t0;
			if (e < from || s > to) {
				continue;
			}
			const lane = laneOf.get(task.workerId);
			if (lane === undefined) {
				continue;
			}
			const x = Math.max(0, (s - from) * scale);
			const x1 = Math.max(x + 1, Math.min(width, (e - from) * scale));
			const color = colors[task.state];
			const r = open[lane];
			bars++;
			// Merged only when sub-pixel: a bar wide enough to see keeps its own gap.
			if (r && r.color === color && x1 - x < 2 && x <= r.x1 + 0.5) {
				r.x1 = Math.max(r.x1, x1);
				r.id = undefined;
				r.fill = undefined; // bars merged below a pixel each: too narrow to show a share
				r.looks = undefined;
				continue;
			}
			flush(lane);
			let fill: number | undefined;
			let looks: number[] | undefined;
			if (x1 - x >= 2) {
				const worker = model.workers.get(task.workerId);
				fill = cpuFill(task, language, worker);
				looks = taskSeen(task, worker, end);
				if (looks) {
					fill ??= looks[0]! / looks.reduce((a, b) => a + b, 0); // no CPU time read (a timeout): what the looks saw
				}
			}
			open[lane] = { x0: x, x1, color, id: task.taskId, fill, looks };
		}
		lanes.forEach((_, i) => flush(i));
		const picked = this.selected !== undefined ? model.tasks.get(this.selected) : undefined;
		const pickedLane = picked?.workerId !== undefined ? laneOf.get(picked.workerId) : undefined;
		let selectedAt = '';
		if (picked?.startedAt !== undefined && pickedLane !== undefined) {
			const s = picked.startedAt - t0;
			const e = (picked.endedAt ?? end) - t0;
			if (e >= from && s <= to) {
				// At least a few pixels wide: at 100k tasks its bar is far narrower than one.
				const x0 = Math.round(Math.max(0, (s - from) * scale)); // whole pixels: a crisp outline
				const x1 = Math.round(Math.min(width, Math.max(x0 + 3, (e - from) * scale)));
				ctx.strokeStyle = cssVar('--vscode-focusBorder', '#007fd4');
				ctx.lineWidth = 2;
				ctx.strokeRect(x0 - 1, AXIS + pickedLane * LANE + 1, x1 - x0 + 2, LANE - 2);
				selectedAt = `${Math.round(x0)},${pickedLane}`;
			}
		}
		this.canvas.dataset.selected = selectedAt;
		// Exited workers: a hatch after their end, so a replaced worker is visible. A worker's start
		// (a process still loading: spawn's interpreter and imports) is a thin line up to its ready.
		ctx.fillStyle = fg;
		lanes.forEach((ids, i) => {
			for (const wid of ids) {
				const w = model.workers.get(wid)!;
				const readyAt = startEnd(w, end);
				if (readyAt > w.startedAt) {
					const x0 = Math.max(0, (w.startedAt - t0 - from) * scale);
					const x1 = Math.min(width, (readyAt - t0 - from) * scale);
					if (x1 > x0) {
						ctx.fillRect(x0, AXIS + i * LANE + LANE / 2 - 1, Math.max(1, x1 - x0), 2);
						startSpans++;
					}
				}
				if (w.exitedAt !== undefined && w.exitReason && w.exitReason !== 'shutdown') {
					const x = (w.exitedAt - t0 - from) * scale;
					ctx.fillRect(x, AXIS + i * LANE, 2, LANE);
				}
			}
		});
		// CPU under the lanes.
		const top = AXIS + Math.max(1, lanes.length) * LANE + 4;
		const h0 = CPU_H - 8;
		ctx.strokeStyle = cssVar('--vscode-charts-blue', '#3794ff');
		ctx.globalAlpha = 0.35;
		ctx.fillStyle = ctx.strokeStyle;
		// Between the first and the last sample only: anchored at 0 at the window's edges, one
		// sample was drawn as a ramp from nothing up to it and back, CPU nobody measured.
		ctx.beginPath();
		let points = 0;
		let firstX = 0;
		let lastX = 0;
		let lastY = 0;
		for (const p of model.cpu) {
			const x = (p.t - t0 - from) * scale;
			if (x < 0 || x > width) {
				continue;
			}
			lastY = top + h0 - p.total * h0;
			if (points++ === 0) {
				firstX = x;
				ctx.moveTo(x, top + h0);
			}
			ctx.lineTo(x, lastY);
			lastX = x;
		}
		if (points === 1) {
			lastX += 3; // one sample: a narrow step, not a point
			ctx.lineTo(lastX, lastY);
		}
		ctx.lineTo(lastX, top + h0);
		ctx.lineTo(firstX, top + h0);
		ctx.closePath();
		if (points) {
			ctx.fill();
		}
		ctx.globalAlpha = 1;
		ctx.fillStyle = fg;
		const cpuLabel = points ? 'CPU (whole machine)' : 'CPU: no samples';
		ctx.fillText(cpuLabel, 2, top + 10);
		const cpuLabelEnd = 2 + ctx.measureText(cpuLabel).width;
		// The run's own processes' memory as a line over it, 0 to its peak: a queue that grows
		// without bound, or a worker that keeps what its tasks made, rises here.
		let memPoints = 0;
		if (model.peakRss) {
			ctx.strokeStyle = cssVar('--vscode-charts-purple', '#b180d7');
			ctx.lineWidth = 1.5;
			ctx.beginPath();
			for (const p of model.memory) {
				const x = (p.t - t0 - from) * scale;
				if (x < 0 || x > width) {
					continue;
				}
				const y = top + h0 - (p.total / model.peakRss) * h0;
				if (memPoints++) {
					ctx.lineTo(x, y);
				} else {
					ctx.moveTo(x, y);
				}
			}
			ctx.stroke();
			if (memPoints) {
				const label = `memory, peak ${megabytes(model.peakRss)}`;
				ctx.fillStyle = ctx.strokeStyle;
				const x = width - ctx.measureText(label).width - 4;
				// A narrow panel has no room for both labels on one line: this one goes under the CPU's.
				const y = x < cpuLabelEnd + 8 ? top + 22 : top + 10;
				ctx.fillText(label, Math.max(2, y === top + 10 ? x : 2), y);
				this.canvas.dataset.memoryLabel = `${Math.round(Math.max(2, y === top + 10 ? x : 2))},${y - top}`;
			}
		}
		ctx.restore();
		this.canvas.dataset.memoryPoints = String(memPoints);
		this.canvas.dataset.bars = String(bars);
		this.canvas.dataset.labels = String(labels);
		this.canvas.dataset.lanes = String(lanes.length);
		this.canvas.dataset.startSpans = String(startSpans);
		this.canvas.dataset.cpuFills = String(cpuFills);
		this.canvas.dataset.waitFills = String(waitFills);
		if (this.legend.hidden !== (cpuFills === 0)) {
			this.legend.hidden = cpuFills === 0; // set only on a change: each set restyles the panel
		}
		const kinds = [...waitKinds].sort((a, b) => a - b).join(',');
		if (kinds !== this.legendShown) {
			this.legendShown = kinds;
			this.legendKinds.replaceChildren(...(kinds ? [' Above the fill, what its thread was seen doing (looked at every 10 ms):'] : []), ...[...waitKinds].sort((a, b) => a - b).map((k) =>
				h('span', { class: 'wait-kind' }, h('span', { class: `swatch wait-${k}` }), WAIT_LABELS[k]!)));
		}
	}
}
