import type { ComparisonView } from '../messages';
import { button, cssVar, h } from '../dom';
import { ms } from '../format';
import { post } from '../vscodeApi';

/** Side by side: each configuration's wall time and speedup vs serial; a sweep's curve vs ideal. */
export class ComparisonSection {
	public readonly el = h('section', { class: 'comparison', 'data-testid': 'comparison', 'aria-label': 'Comparison' });

	constructor(private readonly onOpenRun: (runId: string) => void) {
		this.el.hidden = true;
	}

	public render(view: ComparisonView | undefined): void {
		if (!view) {
			this.el.hidden = true;
			return;
		}
		this.el.hidden = false;
		const serial = view.measurements.find((m) => m.config.pool === 'serial');
		const speedup = (wall: number) => (serial ? serial.wallMs / wall : NaN);
		const rows = view.measurements.map((m) => {
			const open = m.runId ? button('timeline', { class: 'link', title: 'Show this run' }, () => this.onOpenRun(m.runId!)) : null;
			return h('tr', { 'data-testid': 'comparison-row' },
				h('td', {}, m.config.pool), h('td', {}, String(m.config.workers)), h('td', {}, ms(m.wallMs)),
				h('td', {}, m.minMs !== m.maxMs ? `${ms(m.minMs)} – ${ms(m.maxMs)}` : ''),
				h('td', { 'data-testid': `speedup-${m.config.pool}-${m.config.workers}` }, Number.isFinite(speedup(m.wallMs)) ? `${speedup(m.wallMs).toFixed(2)}x` : '–'),
				h('td', {}, m.cpuShare !== undefined ? m.cpuShare.toFixed(2) : ''),
				h('td', {}, m.gilWaitShare !== undefined ? `${Math.round(m.gilWaitShare * 100)}%` : ''),
				h('td', {}, open));
		});
		const chart = h('canvas', { class: 'comparison-chart', width: '520', height: '200', 'data-testid': 'comparison-chart', 'aria-label': view.kind === 'sweep' ? 'Speedup against workers, with the ideal line and the core count' : 'Speedup of each pool against serial' });
		const cancel = button('Cancel', { class: 'danger', 'data-testid': 'cancel-comparison' }, () => post({ type: 'cancelComparison', id: view.id }));
		cancel.hidden = view.state !== 'running';
		const parts: (HTMLElement | null)[] = [
			h('div', { class: 'title-row' }, h('h2', {}, `${view.kind === 'sweep' ? 'Sweep' : 'Compare'}: ${view.fn}`), cancel),
			h('div', { class: 'facts' }, `${view.file.split('/').slice(-2).join('/')} · ${view.language} · ${view.cores} cores · ${view.state}${view.pending ? ` (${view.pending} to go)` : ''}`),
			view.advice ? h('p', { class: 'advice', 'data-testid': 'comparison-advice' }, view.advice) : null,
			view.error ? h('p', { class: 'error-title' }, view.error) : null,
			view.serialFraction !== undefined ? h('p', { 'data-testid': 'amdahl' }, `Amdahl fit: serial fraction ${(view.serialFraction * 100).toFixed(1)}%, so at most ${(1 / Math.max(view.serialFraction, 1e-3)).toFixed(1)}x however many workers.`) : null,
			h('table', {}, h('thead', {}, h('tr', {}, ...['pool', 'workers', 'wall (median)', 'min – max', 'speedup', 'cpu / wall', 'GIL wait', ''].map((c) => h('th', {}, c)))), h('tbody', {}, ...rows)),
			chart,
		];
		this.el.replaceChildren(...parts.filter((x): x is HTMLElement => x !== null));
		draw(chart, view, speedup);
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
			ctx.fillText(`${m.config.pool} x${m.config.workers}`, pad + i * bw + 8, H - pad + 12);
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
