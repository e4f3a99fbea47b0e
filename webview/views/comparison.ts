import { amdahlSentence, configLabel, peakMemoryLabel, seenLabel, type Measurement } from '../../engine/compare/measurement';
import type { RunModel } from '../../engine/protocol/runModel';
import type { ComparisonView } from '../messages';
import { button, cssVar, h, setText, sizedContext } from '../dom';
import { stateColors } from './colors';
import { ms } from '../format';
import { post } from '../vscodeApi';

/** Height of the CPU strip under a compared run's lanes, px. */
const CPU_STRIP = 12;

const TITLES: Record<ComparisonView['kind'], string> = { compare: 'Compare', sweep: 'Sweep', chunksize: 'Chunksize sweep', runs: 'Two runs' };

/** Serial is the baseline of a comparison or sweep; the first row of a chunksize sweep or of two runs. */
export function baselineOf(view: ComparisonView): Measurement | undefined {
	return view.kind === 'compare' || view.kind === 'sweep' ? view.measurements.find((m) => m.config.pool === 'serial') : view.measurements[0];
}

export function rowLabel(view: ComparisonView, m: Measurement, i: number): string {
	return view.kind === 'runs' ? `${i === 0 ? 'A' : 'B'}: ${configLabel(m.config)}` : configLabel(m.config);
}

/**
 * Side by side: each configuration's wall time, speedup, CPU share and per-worker utilization;
 * a chart (speedup bars, or a sweep's curve against the ideal line); and every configuration's
 * timeline on one time scale, one above the other, so a faster run is visibly shorter.
 */
export class ComparisonSection {
	public readonly el = h('section', { class: 'comparison', 'data-testid': 'comparison', 'aria-label': 'Comparison' });
	// Redrawn twice a second while a comparison runs: the buttons and the table stay the same
	// nodes unless they change, or a click on them could be lost (see DetailsView).
	private readonly title = h('h2', {});
	private shownId: string | undefined;
	private readonly cancel = button('Cancel', { class: 'danger', 'data-testid': 'cancel-comparison' }, () => {
		if (this.shownId !== undefined) {
			post({ type: 'cancelComparison', id: this.shownId });
		}
	});
	private readonly top = h('div', {});
	private readonly table = h('div', {});
	private tableKey = '';
	private readonly bottom = h('div', {});

	constructor(private readonly onOpenRun: (runId: string) => void, private readonly onClose: () => void, private readonly runOf: (runId: string) => RunModel | undefined = () => undefined) {
		this.el.hidden = true;
		const close = button('×', { class: 'close', 'aria-label': 'Close the comparison', title: 'Close (it stays in the history)' }, () => this.onClose());
		this.el.append(h('div', { class: 'title-row' }, this.title, h('div', { class: 'actions' }, this.cancel, close)), this.top, this.table, this.bottom);
	}

	public render(view: ComparisonView | undefined): void {
		if (!view) {
			this.el.hidden = true;
			return;
		}
		this.el.hidden = false;
		const base = baselineOf(view);
		const speedup = (wall: number) => (base ? base.wallMs / wall : NaN);
		const rows = view.measurements.map((m, i) => {
			const open = m.runId ? button('timeline', { class: 'link', title: 'Show this run' }, () => this.onOpenRun(m.runId!)) : null;
			const run = m.runId ? this.runOf(m.runId) : undefined;
			const util = run?.finished?.workers.map((w) => `${Math.round(w.utilization * 100)}%`).join(' ') ?? '';
			const seen = seenLabel(m);
			return h('tr', { 'data-testid': 'comparison-row', 'data-config': configLabel(m.config) },
				h('td', {}, rowLabel(view, m, i)), h('td', {}, ms(m.wallMs)),
				h('td', {}, m.minMs !== m.maxMs ? `${ms(m.minMs)} – ${ms(m.maxMs)}` : ''),
				h('td', { 'data-testid': `speedup-${m.config.pool}-${m.config.workers}` }, Number.isFinite(speedup(m.wallMs)) ? `${speedup(m.wallMs).toFixed(2)}x` : '–'),
				h('td', {}, m.cpuShare !== undefined ? m.cpuShare.toFixed(2) : ''),
				h('td', { 'data-testid': `call-${m.config.pool}-${m.config.workers}`, title: 'Mean wall time of one call: the same call alone (serial) and in the pool' }, m.taskMs !== undefined ? ms(m.taskMs) : ''),
				h('td', { title: 'The whole machine during the run' }, m.machineCpu !== undefined ? `${Math.round(m.machineCpu * 100)}% of ${view.cores}` : ''),
				h('td', {}, m.gilWaitShare !== undefined ? `${Math.round(m.gilWaitShare * 100)}%` : ''),
				h('td', { 'data-testid': `seen-${m.config.pool}-${m.config.workers}`, title: seen.title }, seen.text),
				h('td', { 'data-testid': `memory-${m.config.pool}-${m.config.workers}`, title: 'The most the run\'s own processes held at once (resident memory): the runner and each worker process; for a JS thread pool, its threads\' heaps' }, peakMemoryLabel(m)),
				h('td', { class: 'muted', title: 'Busy share of each worker' }, util),
				h('td', {}, m.failed ? `${m.failed} failed` : ''),
				h('td', {}, open));
		});
		this.shownId = view.id;
		this.cancel.hidden = view.state !== 'running';
		setText(this.title, `${TITLES[view.kind]}: ${view.fn}`);
		const baseName = view.kind === 'runs' ? 'vs A' : view.kind === 'chunksize' ? `vs chunksize ${base?.config.chunksize ?? 1}` : 'vs serial';
		const top: (HTMLElement | null)[] = [
			h('div', { class: 'facts' }, `${view.file.split('/').slice(-2).join('/')} · ${view.language} · ${view.cores} cores · ${view.state}${view.pending ? ` (${view.pending} to go)` : ''}`),
			view.advice ? h('p', { class: 'advice', 'data-testid': 'comparison-advice' }, view.advice) : null,
			view.error ? h('p', { class: 'error-title' }, view.error) : null,
			view.serialFraction !== undefined ? h('p', { 'data-testid': 'amdahl' }, `${amdahlSentence(view.serialFraction)}.`) : null,
		];
		this.top.replaceChildren(...top.filter((x): x is HTMLElement => x !== null));
		const key = `${view.id}|${baseName}|${rows.map((r) => `${r.dataset.config}:${r.textContent}`).join('|')}`;
		if (key !== this.tableKey) {
			this.tableKey = key;
			this.table.replaceChildren(h('table', {}, h('thead', {}, h('tr', {}, ...['configuration', 'wall (median)', 'min – max', baseName, 'cpu / wall', 'one call', 'machine CPU', 'GIL wait', 'seen', 'peak memory', 'worker utilization', '', ''].map((c) => h('th', {}, c)))), h('tbody', {}, ...rows)));
		}
		const chart = h('canvas', { class: 'comparison-chart', width: '520', height: '200', 'data-testid': 'comparison-chart', 'aria-label': view.kind === 'sweep' ? 'Speedup against workers, with the ideal line and the core count' : 'Speedup of each configuration against the baseline' });
		const timelines = this.timelines(view);
		this.bottom.replaceChildren(...(timelines ? [chart, timelines] : [chart]));
		draw(chart, view, speedup);
	}

	/** One lane per worker, a bar per task, every run on the same ms scale. */
	private timelines(view: ComparisonView): HTMLElement | null {
		const runs = view.measurements.map((m, i) => ({ label: rowLabel(view, m, i), run: m.runId ? this.runOf(m.runId) : undefined }));
		const drawn = runs.filter((r) => r.run?.started);
		if (!drawn.length) {
			return null;
		}
		const span = Math.max(1, ...drawn.map((r) => r.run!.finished?.wallMs ?? r.run!.lastT - r.run!.started!.t));
		// As wide as the panel allows: a canvas wider than a narrow panel hides the slowest run's end.
		const W = Math.max(160, Math.min(520, (this.el.clientWidth || 544) - 24));
		const lane = 5;
		const box = h('div', { class: 'comparison-timelines', 'data-testid': 'comparison-timelines' }, h('h3', {}, `Timelines (one scale: ${ms(span)} across${drawn.some((d) => d.run!.cpu.length) ? '; the machine\'s CPU under each' : ''})`));
		const colors = stateColors();
		for (const { label, run } of drawn) {
			const r = run!;
			const ids = [...r.workers.keys()].sort((a, b) => a - b);
			const row = new Map(ids.map((id, i) => [id, i]));
			const lanesH = Math.max(1, ids.length) * (lane + 1) + 1;
			// The machine's CPU under the lanes: threads of CPU-bound Python fill one core's share,
			// processes all of them; that is the comparison's lesson at a glance.
			const cpu = r.cpu.filter((p) => p.t > r.started!.t);
			const H = lanesH + (cpu.length ? CPU_STRIP : 0);
			const mean = cpu.length ? Math.round((100 * cpu.reduce((a, p) => a + p.total, 0)) / cpu.length) : undefined;
			const canvas = h('canvas', { class: 'mini-timeline', 'data-testid': 'comparison-timeline', 'aria-label': `${label}: timeline${mean !== undefined ? `, machine CPU ${mean}% on average` : ''}` });
			const ctx = sizedContext(canvas, W, H);
			let bars = 0;
			if (ctx) {
				ctx.clearRect(0, 0, W, H);
				const t0 = r.started!.t;
				const X = (t: number) => ((t - t0) / span) * W;
				for (const task of r.tasks.values()) {
					if (task.startedAt === undefined || task.workerId === undefined) {
						continue;
					}
					const y = (row.get(task.workerId) ?? 0) * (lane + 1);
					const x0 = X(task.startedAt);
					const x1 = X(task.endedAt ?? r.lastT);
					ctx.fillStyle = colors[task.state];
					ctx.fillRect(x0, y, Math.max(1, x1 - x0 - 0.5), lane);
					bars++;
				}
				// Each sample is the machine's share over the time since the one before: a step.
				ctx.fillStyle = cssVar('--vscode-charts-blue', '#3794ff');
				ctx.globalAlpha = 0.5;
				let from = t0;
				for (const p of cpu) {
					const hgt = Math.round(p.total * (CPU_STRIP - 2));
					ctx.fillRect(X(from), H - hgt, Math.max(1, X(p.t) - X(from)), hgt);
					from = p.t;
				}
				ctx.globalAlpha = 1;
			}
			canvas.dataset.bars = String(bars);
			canvas.dataset.cpuSamples = String(cpu.length);
			box.append(h('div', { class: 'mini-label' }, label), canvas);
		}
		return box;
	}
}

function draw(canvas: HTMLCanvasElement, view: ComparisonView, speedup: (wall: number) => number): void {
	const ctx = canvas.getContext('2d');
	if (!ctx) {
		return;
	}
	const W = canvas.width;
	const H = canvas.height;
	const pad = 30;
	const fg = cssVar('--vscode-descriptionForeground', '#888');
	const accent = cssVar('--vscode-charts-blue', '#3794ff');
	ctx.clearRect(0, 0, W, H);
	ctx.font = '10px sans-serif';
	const pts = view.measurements.filter((m) => Number.isFinite(speedup(m.wallMs)));
	let drawn = 0;
	if (view.kind === 'sweep') {
		const sweep = pts.filter((m) => m.config.pool !== 'serial');
		const maxW = Math.max(2, ...sweep.map((m) => m.config.workers));
		const maxY = Math.max(2, maxW, ...sweep.map((m) => speedup(m.wallMs)));
		const X = (w: number) => pad + ((w - 1) / (maxW - 1)) * (W - 2 * pad);
		const Y = (v: number) => H - pad - (v / maxY) * (H - 2 * pad);
		ctx.strokeStyle = fg;
		ctx.setLineDash([4, 4]);
		ctx.beginPath();
		ctx.moveTo(X(1), Y(1));
		ctx.lineTo(X(maxW), Y(maxW));
		ctx.stroke();
		if (view.cores < maxW) {
			ctx.beginPath();
			ctx.moveTo(X(view.cores), Y(0));
			ctx.lineTo(X(view.cores), Y(maxY));
			ctx.stroke();
			ctx.fillStyle = fg;
			ctx.fillText(`${view.cores} cores`, X(view.cores) + 3, pad);
		}
		ctx.setLineDash([]);
		ctx.fillStyle = fg;
		ctx.fillText('ideal', X(maxW) - 28, Y(maxW) + 12);
		ctx.strokeStyle = accent;
		ctx.fillStyle = accent;
		ctx.lineWidth = 2;
		ctx.beginPath();
		sweep.forEach((m, i) => {
			const x = X(m.config.workers);
			const y = Y(speedup(m.wallMs));
			if (i === 0) {
				ctx.moveTo(x, y);
			} else {
				ctx.lineTo(x, y);
			}
		});
		ctx.stroke();
		for (const m of sweep) {
			ctx.beginPath();
			ctx.arc(X(m.config.workers), Y(speedup(m.wallMs)), 3, 0, Math.PI * 2);
			ctx.fill();
			ctx.fillText(`${m.config.workers}: ${speedup(m.wallMs).toFixed(2)}x`, X(m.config.workers) + 4, Y(speedup(m.wallMs)) - 5);
			drawn++;
		}
	} else {
		const maxY = Math.max(1.2, ...pts.map((m) => speedup(m.wallMs)));
		const bw = (W - 2 * pad) / Math.max(1, pts.length);
		pts.forEach((m, i) => {
			const v = speedup(m.wallMs);
			const bh = (v / maxY) * (H - 2 * pad);
			ctx.fillStyle = accent;
			ctx.fillRect(pad + i * bw + 8, H - pad - bh, bw - 16, bh);
			ctx.fillStyle = fg;
			ctx.fillText(rowLabel(view, m, i), pad + i * bw + 8, H - pad + 12);
			ctx.fillText(`${v.toFixed(2)}x`, pad + i * bw + 8, H - pad - bh - 4);
			drawn++;
		});
		const y1 = H - pad - (1 / maxY) * (H - 2 * pad);
		ctx.strokeStyle = fg;
		ctx.setLineDash([4, 4]);
		ctx.beginPath();
		ctx.moveTo(pad, y1);
		ctx.lineTo(W - pad, y1);
		ctx.stroke();
		ctx.setLineDash([]);
	}
	canvas.dataset.points = String(drawn);
}
