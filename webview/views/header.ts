import { megabytes } from '../../engine/protocol/events';
import type { RunModel } from '../../engine/protocol/runModel';
import { button, h, icon, setClass, setText, syncChildren } from '../dom';
import { ms, num, pct, rate, runRate } from '../format';
import { post } from '../vscodeApi';

/** What runs, on what, how far along; and the run's actions. */
const MAX_WARNINGS = 5;

export class HeaderView {
	public readonly el = h('header', { class: 'run-header', 'data-testid': 'header' });
	private readonly title = h('h2', { 'data-testid': 'run-title' });
	private readonly facts = h('div', { class: 'facts', 'data-testid': 'run-facts' });
	private readonly live = h('div', { class: 'live', 'data-testid': 'run-live' });
	/** The run's warnings (too many workers, an error a task's leftover callback threw): said, not hidden in the event stream. */
	private readonly warnings = h('ul', { class: 'warnings', 'data-testid': 'run-warnings', 'aria-label': 'Warnings' });
	/** Run and count of the warnings drawn (they only grow). */
	private warningsKey = '';
	/** What the module printed as it loaded (in every spawned worker too), a thread it started, ... */
	private readonly outputSummary = h('summary', {});
	private readonly outputBody = h('div', { class: 'run-output-body' });
	private readonly output = h('details', { class: 'run-output', 'data-testid': 'run-output' }, this.outputSummary, this.outputBody);
	private outputKey = '';
	private outputLast: string | undefined;
	private outputModel: RunModel | undefined;
	private readonly cancel: HTMLButtonElement;
	private readonly rerun: HTMLButtonElement;
	private readonly stacks: HTMLButtonElement;
	private readonly exportBtn: HTMLButtonElement;
	private runId = '';

	constructor() {
		this.cancel = button('', { class: 'danger', 'data-testid': 'cancel-run', title: 'Cancel the run: pending futures are cancelled, running ones stopped' }, () => post({ type: 'cancelRun', runId: this.runId }));
		this.cancel.append(icon('debug-stop'), ' Cancel run');
		this.rerun = button('', { 'data-testid': 'rerun', title: 'Run again: the same function, inputs and options (pool, workers, timeout...), the code as it is now' }, () => post({ type: 'rerun', runId: this.runId }));
		this.rerun.append(icon('debug-restart'), ' Run again');
		this.stacks = button('', { 'data-testid': 'snapshot-stacks', title: 'Where is every worker right now? (Python)' }, () => post({ type: 'snapshotStacks', runId: this.runId }));
		this.stacks.append(icon('list-tree'), ' Stacks');
		this.exportBtn = button('', { 'data-testid': 'export-trace', title: 'Save as a Chrome trace (Perfetto, chrome://tracing)' }, () => post({ type: 'exportTrace', runId: this.runId }));
		this.exportBtn.append(icon('export'), ' Export trace');
		this.el.append(h('div', { class: 'title-row' }, this.title, h('div', { class: 'actions' }, this.cancel, this.rerun, this.stacks, this.exportBtn)), this.facts, this.live, this.warnings, this.output);
		this.output.addEventListener('toggle', () => {
			if (this.output.open && this.outputModel) {
				this.renderOutputBody(this.outputModel);
			}
		});
	}

	public render(model: RunModel, nowT: number, cpuNow: number | undefined, cores: number): void {
		this.runId = model.runId;
		const s = model.started;
		const end = model.finished;
		setText(this.title, s ? `${s.fn}` : model.runId);
		const facts = s ? [
			s.file.split('/').slice(-2).join('/'),
			s.language,
			`${s.pool} pool × ${s.workers}${s.options.priority === 'low' ? ' (low priority)' : ''}`,
			s.startMethod ? `start method ${s.startMethod}${s.defaultStartMethod && s.defaultStartMethod !== s.startMethod ? ` (default ${s.defaultStartMethod})` : ' (default)'}` : '',
			// A load error leaves no inputs counted: "0 inputs" read as if none had been asked for.
			end?.outcome === 'error' && s.inputCount === 0 ? '' : `${num(s.inputCount)} input${s.inputCount === 1 ? '' : 's'}`,
			s.options.timeoutMs ? `timeout ${ms(s.options.timeoutMs)}` : '',
			s.options.maxTasksPerChild ? `a worker replaced every ${num(s.options.maxTasksPerChild)} task${s.options.maxTasksPerChild === 1 ? '' : 's'}` : '',
			[s.options.mode === 'map' ? 'map' : '', s.options.chunksize && s.options.chunksize > 1 ? `chunksize ${num(s.options.chunksize)}` : ''].filter(Boolean).join(', '),
			s.runtime,
			s.gil === false ? 'no GIL' : s.language === 'python' ? 'GIL' : '',
			`${s.cores || cores} cores`,
		].filter(Boolean).join(' · ') : '';
		setText(this.facts, facts);
		this.facts.title = s?.executable ? `Interpreter: ${s.executable}` : ''; // "why that Python?" on hover
		const elapsed = end ? end.wallMs : s ? nowT - s.t : 0;
		const done = model.counts.finished + model.counts.failed + model.counts.cancelled + model.counts.timedOut + model.counts.rejected;
		const tput = runRate(done, elapsed, end?.throughput);
		const cpu = model.cpu.length && !end ? model.cpu[model.cpu.length - 1]!.total : cpuNow;
		// The run's own processes (a Python runner and process workers; a JS thread pool has none
		// of its own): what they hold now, and at the end the most they held.
		const memNow = model.memory.length ? model.memory[model.memory.length - 1]!.total : undefined;
		const memory = end ? (model.peakRss !== undefined ? ` · memory peak ${megabytes(model.peakRss)}` : '') : memNow !== undefined ? ` · memory ${megabytes(memNow)}` : '';
		// "done" counts every ending: which of them were failures is said, or "completed · 4/4 done"
		// read as success for a run where nothing succeeded.
		const c = model.counts;
		const bad = [c.failed ? `${num(c.failed)} failed` : '', c.timedOut ? `${num(c.timedOut)} timed out` : '', c.cancelled ? `${num(c.cancelled)} cancelled` : ''].filter(Boolean).join(', ');
		// The machine's CPU while the run goes on; once it has ended, "now" is no longer about it.
		const cpuText = end ? '' : ` · CPU now ${pct(cpu)}`;
		// Before its start, a run is loading the user's file (a Python module that waits at import
		// is told by a warning below): "running · 0 ms · 0/0 done" said nothing true.
		setText(this.live, !s && !end ? 'starting: loading the file (no task can start before it is loaded)' : `${end ? end.outcome : 'running'} · ${ms(elapsed)} · ${num(done)}/${num(s?.inputCount ?? model.counts.submitted)} done${bad ? ` (${bad})` : ''} · ${rate(tput)}${cpuText}${memory}`);
		this.live.dataset.state = end ? end.outcome : 'running';
		this.cancel.disabled = Boolean(end);
		this.stacks.hidden = s?.language !== 'python';
		this.stacks.disabled = Boolean(end);
		const warningsKey = `${model.runId}:${model.warnings.length}`;
		if (this.warningsKey !== warningsKey) {
			this.warningsKey = warningsKey;
			// The first few, each detail (a stack) folded: a run with many timeouts has a warning each.
			// A stall is what a hanging run is doing now: shown even after many timeouts' warnings.
			// A stall that is over stays (it says where the run waited) but reads as past, its end after it.
			const over = new Set(model.stallsOver);
			const ends = new Set(model.stallEnds);
			const lastEnd = model.stallEnds?.[model.stallEnds.length - 1];
			const latest = [model.lastStall, lastEnd !== undefined && lastEnd > (model.lastStall ?? Infinity) ? lastEnd : undefined];
			const stall = latest.filter((i): i is number => i !== undefined && i >= MAX_WARNINGS);
			const shown = [...model.warnings.slice(0, MAX_WARNINGS).map((_, i) => i), ...stall].map((i) => {
				const [first, ...rest] = model.warnings[i]!.split('\n');
				const line = [icon(ends.has(i) ? 'pass' : 'warning'), ` ${first}`];
				return h('li', over.has(i) ? { class: 'past', title: 'Over: the run moved again' } : ends.has(i) ? { class: 'resolved' } : {}, rest.length ? h('details', {}, h('summary', {}, ...line), h('pre', {}, rest.join('\n'))) : h('span', {}, ...line));
			});
			const more = model.warnings.length - MAX_WARNINGS - stall.length;
			this.warnings.replaceChildren(...shown, ...(more > 0 ? [h('li', { class: 'muted' }, `and ${num(more)} more warning${more === 1 ? '' : 's'} (Export trace has them all)`)] : []));
			this.warnings.hidden = model.warnings.length === 0;
		}
		const outputKey = `${model.runId}:${model.output.length}`;
		const lastText = model.output[model.output.length - 1]?.text;
		if (this.outputKey !== outputKey || this.outputLast !== lastText) {
			this.outputKey = outputKey;
			this.outputLast = lastText; // a progress bar's redraw keeps the length, not the text
			this.renderOutput(model);
		}
	}

	private renderOutput(model: RunModel): void {
		this.output.hidden = model.output.length === 0;
		const lines = model.output.reduce((n, c) => n + c.text.split('\n').filter(Boolean).length, 0);
		const workers = new Set(model.output.map((c) => c.workerId)).size - (model.output.some((c) => c.workerId === undefined) ? 1 : 0);
		const from = [
			...(model.output.some((c) => c.workerId === undefined) ? ['the main process'] : []),
			...(workers ? [`${num(workers)} worker${workers === 1 ? '' : 's'}`] : []),
		].join(' and ');
		setText(this.outputSummary, `Output outside tasks: ${num(lines)} line${lines === 1 ? '' : 's'}, from ${from}${model.outputTruncated ? ' (truncated)' : ''}`);
		this.outputSummary.title = 'Printed by no task: the module as it loads (a spawned worker loads it again), a thread it started, a worker\'s own messages';
		// Up to 256 KB of text: drawn when open (a module printing all run long must not cost frames).
		this.outputModel = model;
		if (this.output.open) {
			this.renderOutputBody(model);
		} else {
			this.outputBody.replaceChildren();
		}
	}

	private renderOutputBody(model: RunModel): void {
		this.outputBody.replaceChildren(...model.output.map((c) => {
			const w = c.workerId === undefined ? undefined : model.workers.get(c.workerId);
			const from = c.workerId === undefined
				? (model.started?.language === 'python' ? 'runner (main process)' : 'main')
				: `worker ${c.workerId}${w?.pid !== undefined ? ` · pid ${w.pid}` : w?.threadId !== undefined ? ` · thread ${w.threadId}` : ''}`;
			return h('div', { class: 'run-output-chunk', 'data-worker': c.workerId === undefined ? 'main' : String(c.workerId) },
				h('div', { class: 'source muted' }, from),
				h('pre', { class: c.stream }, c.text));
		}));
	}
}

/** Tabs for every run of the session; the newest is selected when it starts. */
export class RunListView {
	public readonly el = h('nav', { class: 'runs', role: 'tablist', 'aria-label': 'Runs', 'data-testid': 'runs' });

	/** One button per run for the session: a run's end updates its tab in place (focus and clicks stay). */
	private readonly tabs = new Map<string, HTMLButtonElement>();
	private lastKey = '';

	constructor(private readonly onSelect: (runId: string) => void) {
		// A tablist's keys: arrows move between runs (and select, as VS Code's tabs do), Home/End to the ends.
		this.el.addEventListener('keydown', (e) => {
			const tabs = [...this.el.querySelectorAll<HTMLButtonElement>('[role="tab"]')];
			const at = tabs.indexOf(document.activeElement as HTMLButtonElement);
			const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: tabs.length - 1 }[e.key];
			if (at < 0 || to === undefined) {
				return;
			}
			e.preventDefault();
			const next = tabs[(to + tabs.length) % tabs.length]!;
			next.focus();
			this.onSelect(next.dataset.run!);
		});
	}

	public render(order: string[], runs: Map<string, RunModel>, selected: string | undefined): void {
		const key = `${selected}|${order.map((id) => `${id}:${runs.get(id)?.finished?.outcome ?? ''}:${runs.get(id)?.started ? 1 : 0}`).join(',')}`;
		if (key === this.lastKey) {
			return;
		}
		this.lastKey = key;
		const tabs = order.map((id) => {
			let tab = this.tabs.get(id);
			if (!tab) {
				tab = h('button', { type: 'button', role: 'tab', 'data-run': id });
				tab.addEventListener('click', () => this.onSelect(id));
				this.tabs.set(id, tab);
			}
			const m = runs.get(id)!;
			const s = m.started;
			const state = m.finished ? m.finished.outcome : 'running';
			// A run that completed with failures says so: "completed" alone read as success.
			const c = m.finished?.counts;
			const bad = c ? [c.failed ? `${c.failed} failed` : '', c.timedOut ? `${c.timedOut} timed out` : ''].filter(Boolean).join(', ') : '';
			setClass(tab, `run-tab ${state}${bad ? ' with-failures' : ''}`);
			tab.setAttribute('aria-selected', String(id === selected));
			tab.tabIndex = id === selected ? 0 : -1;
			// Numbered in the session's order: "Run again" made tabs that could not be told apart.
			setText(tab, `#${order.indexOf(id) + 1} ${s?.fn ?? id} · ${s?.pool ?? ''}${s ? ` ×${s.workers}` : ''} · ${state}${bad ? ` (${bad})` : ''}`);
			return tab;
		});
		for (const id of [...this.tabs.keys()]) {
			if (!order.includes(id)) {
				this.tabs.delete(id);
			}
		}
		syncChildren(this.el, tabs);
		this.el.hidden = order.length < 2;
	}
}
