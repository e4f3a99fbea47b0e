/**
 * The pool panel. Host messages update the runs; a frame loop redraws at most once per
 * animation frame, and only when something changed.
 */
import { now as hostNow } from './clock';
import { button, h } from './dom';
import { PackedReader } from '../engine/protocol/eventPacking';
import type { HostToWebview } from './messages';
import { PanelState, type ShownState } from './panelState';
import type { RunModel } from '../engine/protocol/runModel';
import type { PoolEvent } from '../engine/protocol/events';
import type { ComparisonView } from './messages';
import { ComparisonSection } from './views/comparison';
import { DetailsView } from './views/details';
import { FuturesView } from './views/futures';
import { HeaderView, RunListView } from './views/header';
import { HistoryView } from './views/history';
import { PipelineView } from './views/pipeline';
import { SummaryView } from './views/summary';
import { TimelineView } from './views/timeline';
import { WorkersView } from './views/workers';
import { post, vscode, type UiState } from './vscodeApi';

const state = new PanelState();
const ui: UiState = vscode.getState() ?? {};
const saveUi = () => vscode.setState(ui);

const app = document.getElementById('app') ?? document.body.appendChild(h('div', { id: 'app' }));
const notice = h('div', { class: 'notice', role: 'status', 'data-testid': 'notice' });
notice.hidden = true;
const stacks = h('section', { class: 'stacks', 'data-testid': 'stacks', 'aria-label': 'Stack snapshot' });
stacks.hidden = true;
const empty = h('div', { class: 'empty', 'data-testid': 'empty' },
	h('h2', {}, 'Poolscope'),
	h('p', {}, 'Run a function to watch its pool: click "Run in parallel" above a Python, JavaScript or TypeScript function, or run "Poolscope: Run Function in Thread Pool" / "...Process Pool" with the cursor in it.'),
	h('p', { class: 'muted', 'data-testid': 'cpu-idle' }, ''));
const runList = new RunListView((id) => select(id));
const header = new HeaderView();
const pipeline = new PipelineView();
const workers = new WorkersView(() => redraw());
const futures = new FuturesView(ui.filter ?? 'all', ui.search ?? '', (id) => selectTask(id), (filter, search) => {
	ui.filter = filter;
	ui.search = search;
	saveUi();
	redraw();
});
const timeline = new TimelineView(ui.zoom, (z) => {
	ui.zoom = z;
	saveUi();
}, (id) => selectTask(id));
const details = new DetailsView();
const summary = new SummaryView();
const comparisons = new Map<string, ComparisonView>();
let shownComparison: string | undefined;
const comparison = new ComparisonSection((runId) => openRun(runId), () => {
	shownComparison = undefined;
	ui.comparison = undefined;
	saveUi();
	comparison.render(undefined);
	redraw();
}, (runId) => state.runs.get(runId));
let comparisonDrawn = { version: -1, at: 0 };
const history = new HistoryView(ui.historyOpen ?? false, (open) => {
	ui.historyOpen = open;
	saveUi();
});
let historyIds = new Set<string>();
/**
 * After a reload the extension host starts with no runs in memory: what this webview showed
 * (its saved state) is asked of the history once the history lists it.
 */
let restoreRun = ui.selectedRun;
let restoreComparison = ui.comparison;
/** What a run that never ran a task has nothing to show in: hidden, so its error is what the panel shows. */
const poolCol = h('div', { class: 'col' }, h('h3', {}, 'Queues'), pipeline.el, h('h3', {}, 'Workers'), workers.el);
const timelineHead = h('h3', {}, 'Timeline');
const futuresRow = h('div', { class: 'row' }, h('div', { class: 'col wide' }, h('h3', {}, 'Futures'), futures.el), details.el);
const main = h('main', { class: 'run', 'data-testid': 'run' },
	header.el,
	h('div', { class: 'row' }, poolCol, summary.el),
	timelineHead, timeline.el,
	futuresRow,
);
app.replaceChildren(notice, comparison.el, runList.el, history.el, empty, main, stacks);

/** A run this panel does not hold (a comparison row of an older session) comes from the history. */
function openRun(runId: string): void {
	if (state.runs.has(runId)) {
		select(runId);
	} else if (historyIds.has(runId)) {
		ui.selectedRun = runId;
		saveUi();
		post({ type: 'openHistory', id: runId });
	} else {
		showNotice('warning', 'That run is neither in this session nor in the history any more.');
	}
}

function restoreFromHistory(): void {
	const here = (id: string) => state.runs.has(id) || inbox.some((e) => e.runId === id); // replayed, or about to be
	if (restoreRun && (here(restoreRun) || ui.selectedRun !== restoreRun)) {
		restoreRun = undefined; // here already, or the user moved on
	}
	if (restoreRun && historyIds.has(restoreRun)) {
		post({ type: 'openHistory', id: restoreRun });
		restoreRun = undefined;
	}
	if (restoreComparison && (comparisons.has(restoreComparison) || ui.comparison !== restoreComparison)) {
		restoreComparison = undefined;
	}
	if (restoreComparison && historyIds.has(restoreComparison)) {
		post({ type: 'openHistory', id: restoreComparison });
		restoreComparison = undefined;
	}
}

/** Something the user did or asked for: drawn in the next frame. */
let dirty = true;

/**
 * Frames are asked for only when something may need drawing (a perpetual requestAnimationFrame
 * loop makes the browser produce a frame every vsync: measured in code-server while a CPU-bound
 * run went on, the panel's renderer and compositor took over half a core from the run it showed).
 */
let framePending = false;
let wakeTimer: ReturnType<typeof setTimeout> | undefined;
function wake(): void {
	clearTimeout(wakeTimer);
	wakeTimer = undefined;
	if (!framePending) {
		framePending = true;
		requestAnimationFrame(frame);
	}
}

/** The next frame when nothing is due now: at the live cadence, or never for a still panel. */
function wakeLater(): void {
	if (dirty || owed || summaryOwed || inbox.length) {
		wake();
		return;
	}
	const model = current();
	const live = model !== undefined && !model.finished;
	let at = Infinity;
	if (dataDirty || futuresStale) {
		at = lastFrame + (live ? liveFrameMs() : 0);
	}
	if (live) {
		at = Math.min(at, lastFrame + clockFrameMs());
	}
	if (at !== Infinity) {
		clearTimeout(wakeTimer);
		wakeTimer = setTimeout(wake, Math.max(0, at - performance.now()));
	}
}

function redraw(): void {
	dirty = true;
	wake();
}
/** New events or a CPU sample: drawn at the live cadence. */
let dataDirty = false;
let lastFrame = 0;
/** A part skipped for the frame budget: drawn in the next frame, whatever the cadence. */
let owed = false;
/**
 * An ended run's summary appears in a frame of its own: drawn with the run's last state (every
 * part redrawn whole), its layout and paint made that frame miss its vsync at 100k futures.
 */
let summaryOwed = false;
/** A live frame's budget (of ~16.7): past it, the grid and the timeline wait for the next frame. */
const FRAME_BUDGET_MS = 8;
/**
 * While a run streams events the panel redraws about 20 times a second, not 60: counts and bars
 * read the same, and the browser paints a third as often (in software, on the cores the run
 * keeps busy). What the user does is drawn in the next frame.
 */
const LIVE_FRAME_MS = 50;
/** A live run's clocks (elapsed, each worker's current task) without new events. */
const CLOCK_FRAME_MS = 100;
/**
 * With the machine's CPU nearly full, a live run is redrawn 4 times a second: every frame costs
 * the browser CPU that the run being watched would otherwise get (in code-server's software-
 * composited window ~30 ms a frame: a CPU-bound process pool of 2 got 1.0-1.4 cores with the panel
 * shown at 10-20 frames a second, 1.4-1.5 with it closed).
 */
const BUSY_CPU = 0.85;
const BUSY_FRAME_MS = 250;
const busy = () => (state.cpuNow?.total ?? 0) >= BUSY_CPU;
const liveFrameMs = () => (busy() ? BUSY_FRAME_MS : LIVE_FRAME_MS);
const clockFrameMs = () => (busy() ? BUSY_FRAME_MS : CLOCK_FRAME_MS);

/**
 * Events wait here and are folded in slices of a few milliseconds per frame, so a burst of
 * thousands of events never makes one long frame.
 */
/** `replay`: a run the host already had (init), which must not take the stage from the selection. */
const inbox: { runId: string; events?: PoolEvent[]; reader?: PackedReader; at: number; replay?: boolean }[] = [];
let pending = 0;
const SLICE_MS = 4;
const CHUNK = 500;
/** Events waiting beyond which every frame folds (about two messages' worth). */
const BACKLOG = 8000;

function drainInbox(): void {
	const start = performance.now();
	while (inbox.length && performance.now() - start < SLICE_MS) {
		const head = inbox[0]!;
		const isNew = !state.runs.has(head.runId);
		let n: number;
		if (head.reader) {
			n = state.applyPacked(head.runId, head.reader, CHUNK);
		} else {
			const chunk = head.events!.slice(head.at, head.at + CHUNK);
			state.apply(head.runId, chunk);
			n = chunk.length;
		}
		head.at += n;
		pending -= n;
		if (isNew && !head.replay) {
			select(head.runId); // a new run takes the stage
		}
		if (head.reader ? head.reader.done : head.at >= head.events!.length) {
			inbox.shift();
		}
	}
	document.body.dataset.pending = String(pending);
	document.body.dataset.folded = String(state.version); // drawn once data-version says the same
}
let lastTimeline = 0;
/** Tasks up to which a live run's timeline is redrawn in every drawn frame. */
const TIMELINE_EVERY_FRAME = 2000;
let lastFutures = 0;
/** The grid skipped a frame's events and still owes a redraw. */
let futuresStale = false;
let timelineRun = '';
/** The run the last drawn frame showed: a new live one is laid out first, its grid and timeline drawn in the next frame. */
let shownRun = '';

/** Counts per state without walking 100k tasks: terminal totals are kept by the reducer. */
function liveCounts(model: RunModel): Record<ShownState, number> {
	const c = model.counts;
	const running = model.running;
	const ended = c.finished + c.failed + c.cancelled + c.timedOut + c.rejected;
	const callQueue = state.inCallQueue(model);
	return { submitted: 0, queued: Math.max(0, c.submitted - ended - running - callQueue), callQueue, running, finished: c.finished, failed: c.failed, cancelled: c.cancelled, timedOut: c.timedOut, rejected: c.rejected };
}

function current() {
	const id = ui.selectedRun && state.runs.has(ui.selectedRun) ? ui.selectedRun : state.order[state.order.length - 1];
	return id ? state.runs.get(id) : undefined;
}

function select(runId: string): void {
	if (ui.selectedRun !== runId) {
		ui.selectedRun = runId;
		ui.selectedTask = undefined;
		ui.zoom = undefined;
		saveUi();
	}
	redraw();
}

function selectTask(taskId: number): void {
	ui.selectedTask = taskId;
	saveUi();
	redraw();
}

function showNotice(level: string, message: string): void {
	notice.className = `notice ${level}`;
	notice.replaceChildren(h('span', {}, message), button('×', { class: 'close', 'aria-label': 'Dismiss' }, () => { notice.hidden = true; }));
	notice.hidden = false;
}

/**
 * Set by the scale test: each frame's own work in ms (how much of a slow frame is ours), and
 * the same split by part (folding events, the futures grid, the timeline), to know which to cut.
 */
const framePerf = window as unknown as { __poolscopeFrameWork?: number[]; __poolscopeFrameParts?: Record<string, number[]> };
window.addEventListener('message', (event: MessageEvent<HostToWebview>) => {
	const parts = framePerf.__poolscopeFrameParts;
	const start = parts ? performance.now() : 0;
	onMessage(event.data);
	// Said at once, not at the next fold: "pending 0" must never describe a panel that has events waiting.
	const waiting = String(pending);
	if (document.body.dataset.pending !== waiting) {
		document.body.dataset.pending = waiting;
	}
	wakeLater();
	if (parts) {
		(parts['message (per message)'] ??= []).push(performance.now() - start);
	}
});

function onMessage(m: HostToWebview): void {
	switch (m?.type) {
		case 'init':
			// Folded in slices like live events: a 100k-task run replayed at once was one long task.
			state.reset();
			inbox.length = 0;
			pending = 0;
			state.cores = m.cores;
			for (const r of m.runs) {
				inbox.push({ runId: r.runId, events: r.events, at: 0, replay: true });
				pending += r.events.length;
			}
			// A panel shown again (hidden, it was rebuilt) keeps the run, future and zoom its saved
			// state has; the host's newest run takes the stage only if it is new to this panel.
			if (m.activeRunId && m.activeRunId !== ui.hostRun) {
				ui.hostRun = m.activeRunId;
				saveUi();
				select(m.activeRunId);
			}
			break;
		case 'events':
			inbox.push({ runId: m.runId, events: m.events, at: 0 });
			pending += m.events.length;
			dataDirty = true;
			return;
		case 'packed': {
			const reader = new PackedReader(m.runId, m.packed);
			if (reader.length) {
				inbox.push({ runId: m.runId, reader, at: 0, replay: m.replay });
				pending += reader.length;
			}
			dataDirty = true;
			return;
		}
		case 'cpu':
			state.cpuNow = { total: m.sample.total, perCore: m.sample.perCore };
			dataDirty = true;
			return;
		case 'select':
			ui.hostRun = m.runId; // seen: an init naming it again must not take the user's choice back
			select(m.runId);
			saveUi();
			break;
		case 'stacks':
			stacks.replaceChildren(h('h3', {}, 'Stack snapshot'), button('Close', { class: 'secondary', 'data-testid': 'stacks-close' }, () => { stacks.hidden = true; }), h('pre', { 'data-testid': 'stacks-text' }, m.text));
			stacks.hidden = false;
			// It is drawn below the futures, far from the Stacks button that asked for it.
			stacks.scrollIntoView({ block: 'nearest' });
			break;
		case 'notice':
			showNotice(m.level, m.message);
			break;
		case 'cancelRefused':
			showNotice('warning', `Task ${m.taskId} was not cancelled: ${m.reason}`);
			details.refused(m.runId, m.taskId, m.reason);
			break;
		case 'comparison':
			comparisons.set(m.comparison.id, m.comparison);
			shownComparison = m.comparison.id;
			if (ui.comparison !== shownComparison) {
				ui.comparison = shownComparison;
				saveUi();
			}
			comparison.render(m.comparison);
			break;
		case 'history':
			historyIds = new Set(m.entries.map((e) => e.id));
			history.render(m.entries);
			restoreFromHistory();
			break;
		default:
			return;
	}
	redraw();
}

let partsNow: Record<string, number> | undefined;
function timed<T>(part: string, fn: () => T): T {
	if (!partsNow) {
		return fn();
	}
	const start = performance.now();
	try {
		return fn();
	} finally {
		partsNow[part] = (partsNow[part] ?? 0) + performance.now() - start;
	}
}

/** Frames run and frames that drew, for the tests of the cadence (kept off the DOM: a write there is work for the next frame). */
const cadence = { frames: 0, draws: 0 };
(window as unknown as { __poolscopeCadence: typeof cadence }).__poolscopeCadence = cadence;

function frame(t: number): void {
	framePending = false;
	cadence.frames++;
	const work = framePerf.__poolscopeFrameWork;
	const parts = framePerf.__poolscopeFrameParts;
	partsNow = parts ? {} : undefined;
	const start = work ? performance.now() : 0;
	draw(t);
	work?.push(performance.now() - start);
	if (parts && partsNow) {
		for (const [name, ms] of Object.entries(partsNow)) {
			(parts[name] ??= []).push(ms);
		}
	}
	wakeLater();
}

/**
 * A panel rebuilt (shown again) waits for the run it showed, still being replayed behind others:
 * drawn meanwhile, another run would take its place and reset the timeline's zoom.
 */
function awaitingSelected(): boolean {
	return ui.selectedRun !== undefined && !state.runs.has(ui.selectedRun) && inbox.some((e) => e.runId === ui.selectedRun);
}

function draw(t: number): void {
	// Once: a frame busy with something else (another run's events) draws the summary with the rest.
	const summaryWasOwed = summaryOwed;
	if (summaryOwed) {
		summaryOwed = false;
		const shown = current();
		if (shown?.finished && !dirty && !owed && !inbox.length) {
			timed('summary', () => summary.render(shown, state.serialBaseline(shown)));
			return;
		}
	}
	const frameStart = performance.now();
	const before = current();
	const live = before !== undefined && !before.finished;
	// A running run's clocks move even without events: redrawn ~10 times a second.
	const due = dirty || owed || (t - lastFrame >= (live ? liveFrameMs() : 0) && (dataDirty || futuresStale)) || (live && t - lastFrame >= clockFrameMs());
	// While a run is live a frame either folds events or draws, never both: the two together
	// are what made frames miss their vsync at 100k futures. A backlog is folded in every frame:
	// a panel behind its run is worse than a late frame.
	const drained = inbox.length > 0 && (awaitingSelected() || !(live && due) || pending > BACKLOG);
	if (drained) {
		timed('fold', drainInbox);
		dataDirty = true;
		// A run that just took the stage is drawn from the next frame: its first draw lays out
		// the whole panel (~25 ms here), too much on top of a slice of folding.
		if ((live && !due) || current() !== before) {
			return;
		}
	}
	if (!due && !drained) {
		return;
	}
	if (awaitingSelected()) {
		return;
	}
	const model = current();
	dataDirty = false;
	dirty = false;
	const deferredBefore = owed; // deferred once, drawn now: never twice in a row
	owed = false;
	lastFrame = t;
	empty.hidden = Boolean(model) || Boolean(shownComparison);
	// The comparison's timelines follow its runs' events, a couple of times a second at most.
	if (shownComparison && comparisonDrawn.version !== state.version && t - comparisonDrawn.at > 500) {
		comparisonDrawn = { version: state.version, at: t };
		comparison.render(comparisons.get(shownComparison));
	}
	main.hidden = !model;
	const idle = empty.querySelector('[data-testid="cpu-idle"]')!;
	idle.textContent = state.cpuNow ? `CPU now ${Math.round(state.cpuNow.total * 100)}% of ${state.cpuNow.perCore.length} cores` : '';
	runList.render(state.order, state.runs, model?.runId);
	if (!model) {
		return;
	}
	const nowT = model.finished?.t ?? Math.max(model.lastT, hostNow(model));
	const counts = liveCounts(model);
	// A run that failed before any task existed (a load error: a missing function, a syntax error):
	// empty queues, workers, timeline and grid only pushed its error aside.
	const nothingRan = model.finished?.outcome === 'error' && model.tasks.size === 0;
	for (const el of [poolCol, timelineHead, timeline.el, futuresRow]) {
		el.hidden = nothingRan;
	}
	timed('header', () => {
		header.render(model, nowT, state.cpuNow?.total, state.cores);
		pipeline.render(model, counts);
		workers.render(model, nowT);
	});
	// A frame that folded events leaves the grid for the next one (at most 100 ms later): the
	// two together are what made a frame miss its vsync at 100k futures.
	futuresStale = drained && !model.finished && t - lastFutures < 100; // the end is drawn whole, at once
	// A live frame already past its budget (a long fold, a slow header) leaves the grid and the
	// timeline to the next frame, once.
	// A live run's first frame lays out the whole run view (12-16 ms here): its canvases come after.
	const firstShow = shownRun !== model.runId;
	shownRun = model.runId;
	const overBudget = () => !deferredBefore && !model.finished && (firstShow || performance.now() - frameStart > FRAME_BUDGET_MS);
	if (!futuresStale) {
		if (overBudget()) {
			owed = true;
		} else {
			lastFutures = t;
			timed('futures', () => futures.render(model, counts, state.version, ui.selectedTask));
		}
	}
	// The timeline walks every task: while a live run is small it is redrawn with the rest of the
	// panel (bars that lag the worker table look wrong), past TIMELINE_EVERY_FRAME tasks ~4 times
	// a second (at 100k tasks a draw costs 5-40 ms here).
	const timelineDue = model.finished || timelineRun !== model.runId || model.counts.submitted <= TIMELINE_EVERY_FRAME || t - lastTimeline > 250;
	if (timelineDue && overBudget()) {
		owed = true;
	} else if (timelineDue) {
		lastTimeline = t;
		timelineRun = model.runId;
		timed('timeline', () => timeline.render(model, nowT, ui.selectedTask));
		document.body.dataset.timelineVersion = String(state.version);
	} else if (!overBudget()) {
		timed('timeline', () => timeline.fold(model));
	}
	timed('details', () => details.render(model, ui.selectedTask, nowT));
	const baseline = state.serialBaseline(model);
	if (model.finished && !summary.shows(model, baseline) && !summaryWasOwed) {
		summaryOwed = true;
	} else {
		timed('summary', () => summary.render(model, baseline));
	}
	document.body.dataset.version = String(state.version);
	cadence.draws++;
}

// The run view's icons use the codicon font, which the browser fetches on its first use: fetched
// now, while the panel is empty, that load and the relayout after it stay out of a run's first frames.
void document.fonts.load('16px codicon').catch(() => undefined);
wake();
post({ type: 'ready' });
