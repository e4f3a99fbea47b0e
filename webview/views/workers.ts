import type { RunModel } from '../../engine/protocol/runModel';
import { h, setClass, setText, syncChildren } from '../dom';
import { megabytes } from '../../engine/protocol/events';
import { ms, pct } from '../format';

const COLUMNS = ['worker', 'state', 'now', 'for', 'done', 'utilization', 'memory', 'pid / thread'] as const;

const MEMORY_TIP = 'Resident memory (RSS) of each worker process, as the OS counts it: pages a forked worker still shares with the runner count in both. Python threads share their process\'s memory (the header\'s figure); a JS worker thread shows its own heap.';

/** One row per worker: state, what it runs now and for how long, tasks done, utilization, memory. */
export class WorkersView {
	public readonly el = h('section', { class: 'workers', 'data-testid': 'workers', 'aria-label': 'Workers' });
	private readonly body = h('tbody');
	/** A row per worker id, its cells updated in place. */
	private readonly rows = new Map<number, { tr: HTMLElement; cells: HTMLElement[] }>();

	constructor() {
		this.el.append(h('table', {},
			h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col', ...(c === 'memory' ? { title: MEMORY_TIP } : {}) }, c)))),
			this.body));
	}

	public render(model: RunModel, nowT: number): void {
		const order: HTMLElement[] = [];
		const seen = new Set<number>();
		const end = model.finished?.t ?? nowT;
		const stuckAfter = model.started?.options.timeoutMs ?? Infinity;
		for (const w of model.workers.values()) {
			let state: string = w.state;
			const busyFor = w.busySince !== undefined ? end - w.busySince : undefined;
			if (w.state === 'busy' && busyFor !== undefined && busyFor > stuckAfter) {
				state = 'stuck';
			}
			if (w.state === 'exited' && w.exitReason && w.exitReason !== 'shutdown') {
				state = `exited (${w.exitReason}${w.exitCode !== null && w.exitCode !== undefined ? `, code ${w.exitCode}` : ''}${w.exitSignal ? `, ${w.exitSignal}` : ''})`;
			}
			const alive = Math.max(1e-6, (w.exitedAt ?? end) - w.startedAt);
			const busy = w.busyMs + (w.busySince !== undefined ? end - w.busySince : 0);
			let row = this.rows.get(w.workerId);
			if (!row) {
				const cells = COLUMNS.map(() => h('td', {}));
				row = { tr: h('tr', { 'data-worker': String(w.workerId) }, ...cells), cells };
				this.rows.set(w.workerId, row);
			}
			setClass(row.tr, `worker-${w.state}`);
			setClass(row.cells[1]!, `wstate ${state.split(' ')[0]}`);
			const texts = [
				`#${w.workerId}`,
				state,
				w.currentTask !== undefined ? `task ${w.currentTask}` : '',
				busyFor !== undefined ? ms(busyFor) : '',
				String(w.tasksDone),
				pct(Math.min(1, busy / alive)),
				// Threads share their process's memory (the header's figure): none of their own.
				w.rss !== undefined ? megabytes(w.rss) : w.heap !== undefined ? `heap ${megabytes(w.heap)}` : '',
				w.pid !== undefined ? `pid ${w.pid}` : w.threadId !== undefined ? `thread ${w.threadId}` : '',
			];
			texts.forEach((t, i) => setText(row.cells[i]!, t));
			const memoryTip = w.peakRss !== undefined ? `resident memory (RSS) of pid ${w.pid ?? '?'}; peak ${megabytes(w.peakRss)}`
				: w.peakHeap !== undefined ? `this worker thread's JavaScript heap in use plus its external memory (Buffers); peak ${megabytes(w.peakHeap)}. Its process is the host's.` : '';
			if (row.cells[6]!.title !== memoryTip) {
				row.cells[6]!.title = memoryTip;
			}
			order.push(row.tr);
			seen.add(w.workerId);
		}
		for (const id of [...this.rows.keys()]) {
			if (!seen.has(id)) {
				this.rows.delete(id);
			}
		}
		// While a run goes on, the workers still alive come first: a pool that replaced its workers
		// (max tasks per child, crashes) would otherwise bury the live ones under the exited.
		if (!model.finished) {
			const live = order.filter((tr) => !tr.classList.contains('worker-exited'));
			if (live.length < order.length) {
				order.splice(0, order.length, ...live, ...order.filter((tr) => tr.classList.contains('worker-exited')));
			}
		}
		// Cells change in place (only those whose text changed): no rows built per frame, and
		// layout, the panel's most expensive work, only where something moved.
		syncChildren(this.body, order);
	}
}
