import type { RunModel, TaskModel } from '../../engine/protocol/runModel';
import { cssVar, h, observedSize, setText, sizedContext } from '../dom';
import { ms, num } from '../format';
import { shownState, STATE_LABELS, type ShownState } from '../panelState';
import { inkOn, stateColors } from './colors';

/** A cell's side in CSS px: as large as lets every future shown fit the box, within these. */
const MIN_CELL = 10;
const MAX_CELL = 40;
/** From this side on, a cell shows its future's id (a run of a few futures reads at a glance). */
const LABEL_CELL = 22;
const GAP = 2;
const FILTERS: (ShownState | 'all')[] = ['all', 'queued', 'callQueue', 'running', 'finished', 'failed', 'cancelled', 'timedOut', 'rejected'];
/** A cell's colour as a small code, an index into CODE_STATES (0: no task there). */
const CODE_STATES: (ShownState | undefined)[] = [undefined, 'submitted', 'queued', 'running', 'finished', 'failed', 'cancelled', 'timedOut', 'rejected', 'callQueue'];
const STATE_CODES = { submitted: 1, queued: 2, running: 3, finished: 4, failed: 5, cancelled: 6, timedOut: 7, rejected: 8, callQueue: 9 } satisfies Record<ShownState, number>;

/**
 * Every future as a coloured cell. A canvas that draws only the rows in view, so 100,000
 * futures cost what the visible few hundred cost.
 */
export class FuturesView {
	public readonly el = h('section', { class: 'futures', 'data-testid': 'futures', 'aria-label': 'Futures' });
	private readonly chips = new Map<ShownState | 'all', { chip: HTMLButtonElement; count: HTMLElement }>();
	private readonly search = h('input', { type: 'search', placeholder: 'Search input, result, error, #id', 'aria-label': 'Search futures', 'data-testid': 'futures-search' });
	// Cells are drawn on a canvas (100k of them stay smooth), so there are no rows and cells for a
	// role of grid to name: a focusable group, and the future each key lands on is announced.
	private readonly scroller = h('div', { class: 'grid-scroll', tabindex: '0', role: 'group', 'aria-roledescription': 'futures grid', 'aria-label': 'Futures grid: arrow keys move, Enter shows details', 'data-testid': 'futures-grid' });
	private readonly announcer = h('div', { class: 'sr-only', 'aria-live': 'polite', 'data-testid': 'futures-announce' });
	private readonly spacer = h('div', { class: 'grid-spacer' });
	private readonly canvas = h('canvas', { class: 'grid-canvas', 'data-testid': 'futures-canvas' });
	/** Task ids shown, in order; null = every task, whose ids are 0..n-1 in submission order. */
	private ids: number[] | null = null;
	private shown = 0;
	private model: RunModel | undefined;
	private selected: number | undefined;
	private lastVersion = -1;
	/** The model's version at the last render. */
	private version = -1;
	/** What the canvas shows now: one code per visible cell, and the geometry it was drawn for. */
	private codes = new Uint8Array(0);
	/** The id each visible cell shows, while cells are large enough to show ids. */
	private cellIds = new Int32Array(0);
	private paintedKey = '';
	private paintedColors: Record<ShownState, string> | undefined;
	private readonly size: { width: number; height: number };
	/** Kept from scroll events: reading scrollTop while drawing can force a layout. */
	private top = 0;
	/** The cells' side now (fitCell), in CSS px. */
	private cell = MIN_CELL;

	constructor(
		private filter: string,
		private query: string,
		private readonly onSelect: (taskId: number) => void,
		private readonly onFilter: (filter: string, search: string) => void,
	) {
		const bar = h('div', { class: 'futures-bar', role: 'toolbar', 'aria-label': 'Filter futures by state' });
		for (const f of FILTERS) {
			const count = h('span', { class: 'chip-count', 'data-testid': `count-${f}` }, '0');
			const chip = h('button', { type: 'button', class: `chip state-${f}`, 'aria-pressed': String(f === filter) }, h('span', { class: 'swatch' }), f === 'all' ? 'all' : STATE_LABELS[f], ' ', count);
			chip.addEventListener('click', () => {
				this.filter = f;
				this.lastVersion = -1;
				this.onFilter(this.filter, this.query);
			});
			this.chips.set(f, { chip, count });
			bar.append(chip);
		}
		this.search.value = query;
		this.search.addEventListener('input', () => {
			this.query = this.search.value;
			this.lastVersion = -1;
			this.onFilter(this.filter, this.query);
		});
		// Enter in the search box opens the match (the selected one if it matches, else the first).
		this.search.addEventListener('keydown', (e) => {
			if (e.key === 'Enter') {
				this.key(e);
			}
		});
		bar.append(this.search);
		this.scroller.append(this.spacer, this.canvas);
		this.scroller.addEventListener('scroll', () => {
			this.top = this.scroller.scrollTop;
			this.draw();
		});
		this.canvas.addEventListener('click', (e) => {
			const id = this.idAt(e.offsetX - GAP, e.offsetY + this.scroller.scrollTop - GAP);
			if (id !== undefined) {
				this.onSelect(id);
			}
		});
		this.scroller.addEventListener('keydown', (e) => this.key(e));
		this.size = observedSize(this.scroller, () => this.draw());
		this.el.append(bar, this.scroller, this.announcer);
	}

	private cols(): number {
		return Math.max(1, Math.floor((this.size.width - GAP) / this.cell));
	}

	/**
	 * The largest side that fits every future shown in the box, so a run of 4 is four cells one
	 * can see and click, not four dots in an empty box; 100,000 stay at MIN_CELL and scroll.
	 */
	private fitCell(): number {
		const width = this.size.width - GAP;
		const height = this.size.height - GAP;
		if (this.shown === 0 || width <= 0 || height <= 0) {
			return MIN_CELL;
		}
		let cell = Math.min(MAX_CELL, Math.floor(Math.sqrt((width * height) / this.shown)));
		while (cell > MIN_CELL && Math.ceil(this.shown / Math.max(1, Math.floor(width / cell))) * cell > height) {
			cell--;
		}
		return Math.max(MIN_CELL, cell);
	}

	private idAt(x: number, y: number): number | undefined {
		const col = Math.floor(x / this.cell);
		const row = Math.floor(y / this.cell);
		if (col >= this.cols()) {
			return undefined;
		}
		return this.idAt_(row * this.cols() + col);
	}

	private idAt_(index: number): number | undefined {
		if (index < 0 || index >= this.shown) {
			return undefined;
		}
		return this.ids ? this.ids[index] : index;
	}

	private indexOf(id: number): number {
		return this.ids ? this.ids.indexOf(id) : id < this.shown ? id : -1;
	}

	private key(e: KeyboardEvent): void {
		// A search typed and Enter pressed within one frame: the keys act on what was asked
		// for, not on the view the last frame drew (Enter opened the previously selected future).
		if (this.model && this.viewKey() !== this.lastKey) {
			this.showAsked(this.model, this.version);
		}
		if (!this.shown) {
			return;
		}
		const at = this.selected !== undefined ? this.indexOf(this.selected) : -1;
		const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: this.cols(), ArrowUp: -this.cols(), Home: -Infinity, End: Infinity }[e.key];
		if (step === undefined && e.key !== 'Enter') {
			return;
		}
		e.preventDefault();
		const next = step === undefined ? Math.max(0, at) : Math.min(this.shown - 1, Math.max(0, (at < 0 ? 0 : at) + step));
		const id = this.idAt_(next)!;
		// At once, not at the next frame's render: keys pressed faster than frames (a held arrow)
		// each moved from the same stale selection, and steps were lost.
		this.selected = id;
		this.onSelect(id);
		const task = this.model?.tasks.get(id);
		if (task) {
			this.announcer.textContent = `future ${id}, ${STATE_LABELS[shownState(task)]}${task.durationMs !== undefined ? `, ${ms(task.durationMs)}` : ''}, ${next + 1} of ${num(this.shown)}`;
		}
		const row = Math.floor(next / this.cols());
		const cell = this.cell;
		if (row * cell < this.top || row * cell > this.top + this.size.height - cell) {
			this.scroller.scrollTop = row * cell - this.size.height / 2;
			this.top = this.scroller.scrollTop;
		}
	}

	private matches(t: TaskModel, q: string): boolean {
		if (q.startsWith('#')) {
			return String(t.taskId) === q.slice(1);
		}
		return t.input.toLowerCase().includes(q)
			|| (t.result?.toLowerCase().includes(q) ?? false)
			|| (t.error ? `${t.error.name}: ${t.error.message}`.toLowerCase().includes(q) : false);
	}

	private lastKey = '';
	private lastRebuild = 0;
	/** A running run's filtered view being rebuilt, a few ms per frame. */
	private rebuild: { tasks: Iterator<TaskModel>; ids: number[] } | undefined;

	/** Walks tasks into `ids` until `deadline` (performance.now()); true when all are walked. */
	private walk(tasks: Iterator<TaskModel>, ids: number[], q: string, deadline: number): boolean {
		const filter = this.filter;
		for (let n = 1; ; n++) {
			const next = tasks.next();
			if (next.done) {
				return true;
			}
			const t = next.value;
			// A future in the call queue is 'queued' to the model: its own chip has it, 'pending' does not.
			const state = shownState(t);
			const stateOk = filter === 'all' || state === filter || (filter === 'queued' && state === 'submitted');
			if (stateOk && (!q || this.matches(t, q))) {
				ids.push(t.taskId);
			}
			if ((n & 1023) === 0 && performance.now() > deadline) {
				return false;
			}
		}
	}

	private viewKey(): string {
		return `${this.filter}|${this.query.trim().toLowerCase()}`;
	}

	/** The futures the filter and search ask for, walked whole. */
	private showAsked(model: RunModel, version: number): void {
		const q = this.query.trim().toLowerCase();
		this.lastKey = this.viewKey();
		this.rebuild = undefined;
		if (this.filter === 'all' && !q) {
			this.ids = null;
			this.shown = model.tasks.size;
			this.lastVersion = -1;
			return;
		}
		const ids: number[] = [];
		this.walk(model.tasks.values(), ids, q, Infinity);
		this.ids = ids;
		this.shown = ids.length;
		this.lastVersion = version;
		this.lastRebuild = performance.now();
	}

	public render(model: RunModel, counts: Record<ShownState, number>, version: number, selected: number | undefined): void {
		this.model = model;
		this.selected = selected;
		const callQueue = model.started?.stages.includes('callQueue') ?? false;
		for (const [f, { chip, count }] of this.chips) {
			const n = f === 'all' ? model.tasks.size : f === 'queued' ? counts.queued + counts.submitted : counts[f];
			setText(count, num(n));
			chip.setAttribute('aria-pressed', String(f === this.filter));
			// The filter that is on stays visible, so a view that shows nothing says why.
			chip.hidden = f !== 'all' && f !== this.filter && (f === 'callQueue' ? !callQueue : n === 0 && (f === 'rejected' || f === 'timedOut'));
		}
		this.version = version;
		const q = this.query.trim().toLowerCase();
		if ((this.filter === 'all' && !q) || this.viewKey() !== this.lastKey || (model.finished && (version !== this.lastVersion || this.rebuild))) {
			// What the user asked for, and a run's end, are shown whole at once.
			this.showAsked(model, version);
		} else if (version !== this.lastVersion && !this.rebuild && performance.now() - this.lastRebuild > 250) {
			// During a run the view follows ~4 times a second; walking 100k tasks takes tens of ms
			// on a busy machine, so it is spread over frames (the last view stays until then).
			this.rebuild = { tasks: model.tasks.values(), ids: [] };
			this.lastVersion = version;
			this.lastRebuild = performance.now();
		}
		if (this.rebuild && this.walk(this.rebuild.tasks, this.rebuild.ids, q, performance.now() + 3)) {
			this.ids = this.rebuild.ids;
			this.shown = this.ids.length;
			this.rebuild = undefined;
		}
		this.draw();
	}

	private draw(): void {
		const model = this.model;
		// Not laid out yet (a run's first show, a hidden panel): the ResizeObserver draws once it
		// is. Drawn before, it was drawn twice, and its theme colours forced a style pass.
		if (!model || this.size.width === 0) {
			return;
		}
		const cell = this.cell = this.fitCell();
		const cols = this.cols();
		const rows = Math.ceil(this.shown / cols);
		const spacerH = `${rows * cell + GAP}px`;
		if (this.spacer.style.height !== spacerH) {
			this.spacer.style.height = spacerH;
		}
		const viewH = Math.max(cell, Math.min(this.size.height, rows * cell + GAP));
		const width = this.size.width;
		const top = this.top;
		if (this.canvas.style.top !== `${top}px`) {
			this.canvas.style.top = `${top}px`;
		}
		const colors = stateColors();
		const firstRow = Math.floor(top / cell);
		const lastRow = Math.min(rows, Math.ceil((top + viewH) / cell));
		// What each visible cell shows, as a code; when nothing in view changed (the first rows of
		// a big run are done early) the canvas is left alone: no repaint, no raster, no upload.
		const n = Math.max(0, (lastRow - firstRow) * cols);
		if (this.codes.length < n) {
			this.codes = new Uint8Array(n * 2);
			this.cellIds = new Int32Array(n * 2);
			this.paintedKey = '';
		}
		// Labelled cells show ids too: a filtered view whose futures changed but not their states
		// (the running ones, as tasks start and end) must be drawn again.
		const labelled = cell >= LABEL_CELL;
		let drawn = 0;
		let same = true;
		for (let row = firstRow; row < lastRow; row++) {
			for (let col = 0; col < cols; col++) {
				const id = this.idAt_(row * cols + col);
				const t = id === undefined ? undefined : model.tasks.get(id);
				const code = t ? STATE_CODES[shownState(t)] : 0;
				const i = (row - firstRow) * cols + col;
				if (this.codes[i] !== code) {
					this.codes[i] = code;
					same = false;
				}
				if (labelled && this.cellIds[i] !== (id ?? -1)) {
					this.cellIds[i] = id ?? -1;
					same = false;
				}
				if (t) {
					drawn++;
				}
			}
		}
		const key = `${width}|${viewH}|${top}|${cols}|${cell}|${n}|${this.selected}|${window.devicePixelRatio}`;
		this.canvas.dataset.drawn = String(drawn);
		this.canvas.dataset.total = String(this.shown);
		if (same && key === this.paintedKey && colors === this.paintedColors) {
			return;
		}
		this.paintedKey = key;
		this.paintedColors = colors;
		this.canvas.dataset.paints = String(Number(this.canvas.dataset.paints ?? 0) + 1);
		const ctx = sizedContext(this.canvas, width, viewH);
		if (!ctx) {
			this.paintedKey = '';
			return;
		}
		ctx.clearRect(0, 0, width, viewH);
		const fills = CODE_STATES.map((st) => (st ? colors[st] : ''));
		const inks = labelled ? fills.map(inkOn) : [];
		const ids: number[] = [];
		if (labelled) {
			ctx.font = `${Math.min(12, Math.round(cell * 0.42))}px ${cssVar('--vscode-font-family', 'sans-serif')}`;
			ctx.textAlign = 'center';
			ctx.textBaseline = 'middle';
		}
		for (let i = 0; i < n; i++) {
			const code = this.codes[i]!;
			if (code === 0) {
				continue;
			}
			const row = firstRow + Math.floor(i / cols);
			const col = i % cols;
			const x = col * cell + GAP;
			const y = row * cell - top + GAP;
			ctx.fillStyle = fills[code]!;
			ctx.fillRect(x, y, cell - GAP, cell - GAP);
			const id = this.idAt_(row * cols + col);
			if (labelled && id !== undefined) {
				ids.push(id);
				ctx.fillStyle = inks[code]!;
				ctx.fillText(String(id), x + (cell - GAP) / 2, y + (cell - GAP) / 2, cell - GAP - 2);
			}
			if (this.selected !== undefined && id === this.selected) {
				ctx.strokeStyle = cssVar('--vscode-focusBorder', '#007fd4');
				ctx.lineWidth = 2;
				ctx.strokeRect(x - 1, y - 1, cell, cell);
			}
		}
		this.canvas.dataset.labels = ids.join(' ');
	}
}

