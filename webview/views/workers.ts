import { looksText, WAIT_WORDS, waitingOnNow, type RunModel } from '../../engine/protocol/runModel';
import { h, setClass, setText, syncChildren } from '../dom';
import { megabytes } from '../../engine/protocol/events';
import { ms, pct } from '../format';
import { workerLanes } from './workerLanes';

const COLUMNS = ['worker', 'state', 'now', 'for', 'done', 'utilization', 'cpu', 'memory', 'pid / thread'] as const;
const STATE = COLUMNS.indexOf('state');
const CPU = COLUMNS.indexOf('cpu');
const MEMORY = COLUMNS.indexOf('memory');

/**
 * Up to this many replaced workers are listed in the table as they are; beyond it they fold
 * behind one row that counts them by reason (max_tasks_per_child=1 on 500 tasks replaces 496).
 */
const FOLD_REPLACED_ABOVE = 8;

const CPU_TIP = 'Each worker\'s own CPU over the last second, as a share of one core (read from /proc on Linux). Busy is not computing: a busy worker near 0% waits, for the GIL, a lock, I/O or a free core; threads taking turns on the GIL share one core between them. After it, what a busy worker was seen waiting on most in that second (looked at every 10 ms), when it was 30% of the time or more.';

const MEMORY_TIP = 'Resident memory (RSS) of each worker process, as the OS counts it: pages a forked worker still shares with the runner count in both. Python threads share their process\'s memory (the header\'s figure); a JS worker thread shows its own heap.';

/** One row per worker: state, what it runs now and for how long, tasks done, utilization, memory. */
export class WorkersView {
	public readonly el = h('section', { class: 'workers', 'data-testid': 'workers', 'aria-label': 'Workers' });
	private readonly body = h('tbody');
	/** A row per worker id, its cells updated in place. */
	private readonly rows = new Map<number, { tr: HTMLElement; cells: HTMLElement[] }>();

	/** Whether the replaced workers are listed when there are more than FOLD_REPLACED_ABOVE. */
	private showReplaced = false;
	private readonly foldButton = h('button', { type: 'button', class: 'link', 'data-testid': 'workers-fold', 'aria-expanded': 'false' });
	private readonly foldRow = h('tr', { class: 'workers-fold' }, h('td', { colspan: String(COLUMNS.length) }, this.foldButton));

	constructor(private readonly onChange: () => void) {
		this.foldButton.addEventListener('click', () => {
			this.showReplaced = !this.showReplaced;
			this.onChange();
		});
		this.el.append(h('table', {},
			h('thead', {}, h('tr', {}, ...COLUMNS.map((c) => h('th', { scope: 'col', ...(c === 'memory' ? { title: MEMORY_TIP } : c === 'cpu' ? { title: CPU_TIP } : {}) }, c)))),
			this.body));
	}

	public render(model: RunModel, nowT: number): void {
		const order: HTMLElement[] = [];
		const seen = new Set<number>();
		const end = model.finished?.t ?? nowT;
		const stuckAfter = model.started?.options.timeoutMs ?? Infinity;
		// Row i is lane i of the timeline (the pool's position i, its latest worker); the workers
		// those replaced follow, folded when there are many.
		const lanes = workerLanes(model.workers.values());
		const current = lanes.map((ids) => ids[ids.length - 1]!);
		const replaced = lanes.flatMap((ids) => ids.slice(0, -1)).sort((a, b) => a - b);
		const foldable = replaced.length > FOLD_REPLACED_ABOVE;
		const folded = foldable && !this.showReplaced;
		if (foldable) {
			const reasons = new Map<string, number>();
			for (const id of replaced) {
				const reason = model.workers.get(id)?.exitReason ?? 'exited';
				reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
			}
			const why = [...reasons].map(([r, n]) => `${r} ${n}`).join(', ');
			setText(this.foldButton, `${folded ? '\u25b8 show' : '\u25be hide'} ${replaced.length} replaced workers (${why})`);
			this.foldButton.setAttribute('aria-expanded', String(!folded));
		}
		// Once the run has ended, the run's own figure (the summary's), so the two never disagree.
		const final = new Map(model.finished?.workers.map((w) => [w.workerId, w.utilization]));
		const ids = [...current, ...(folded ? [] : replaced)];
		for (const id of ids) {
			const w = model.workers.get(id)!;
			let state: string = w.state;
			const busyFor = w.busySince !== undefined ? end - w.busySince : undefined;
			// Past its timeout, or seen waiting by the stall watch while no task moved (no timeout
			// set: a deadlocked worker read "busy" with only the header's warning saying why).
			// Only for the task it ran when told: a cancel ends a stall without a stallEnded (the
			// user's act), and the worker's next task is not the one that waited.
			const told = w.state === 'busy' ? model.stuckWorkers?.get(w.workerId) : undefined;
			const stalled = told !== undefined && w.busySince !== undefined && w.busySince <= told.t ? told : undefined;
			if (stalled?.gone) {
				state = 'gone';
			} else if (w.state === 'busy' && ((busyFor !== undefined && busyFor > stuckAfter) || stalled !== undefined)) {
				state = 'stuck';
			}
			if (w.state === 'exited' && w.exitReason && w.exitReason !== 'shutdown') {
				// A thread has no exit code, and one stuck past its timeout may still be blocked when
				// the run ends: "left stuck" says that; a process's code and signal say how it ended.
				state = w.pid === undefined && w.exitReason === 'timeout'
					? 'left stuck (timeout)'
					: `exited (${w.exitReason}${w.pid !== undefined && w.exitCode !== null && w.exitCode !== undefined ? `, code ${w.exitCode}` : ''}${w.exitSignal ? `, ${w.exitSignal}` : ''})`;
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
			setClass(row.cells[STATE]!, `wstate ${state.split(' ')[0]}`);
			const waiting = w.state !== 'exited' ? waitingOnNow(w, end) : undefined;
			const texts = [
				`#${w.workerId}`,
				state,
				w.currentTask !== undefined ? `task ${w.currentTask}` : '',
				busyFor !== undefined ? ms(busyFor) : w.state === 'starting' ? ms(end - w.startedAt) : '',
				String(w.tasksDone),
				pct(final.get(w.workerId) ?? Math.min(1, busy / alive)),
				w.cpuShare !== undefined && w.state !== 'exited' ? `${pct(w.cpuShare)}${waiting ? ` · ${WAIT_WORDS[waiting.kind]}` : ''}` : '',
				// Threads share their process's memory (the header's figure): none of their own.
				w.rss !== undefined ? megabytes(w.rss) : w.heap !== undefined ? `heap ${megabytes(w.heap)}` : '',
				w.pid !== undefined ? `pid ${w.pid}` : w.threadId !== undefined ? `thread ${w.threadId}` : '',
			];
			texts.forEach((t, i) => setText(row.cells[i]!, t));
			const memoryTip = w.peakRss !== undefined ? `resident memory (RSS) of pid ${w.pid ?? '?'}; peak ${megabytes(w.peakRss)}`
				: w.peakHeap !== undefined ? `this worker thread's JavaScript heap in use plus its external memory (Buffers); peak ${megabytes(w.peakHeap)}. Its process is the host's.` : '';
			const cpuTip = waiting ? `In its last second, ${looksText(waiting.looks)}` : '';
			if (row.cells[CPU]!.title !== cpuTip) {
				row.cells[CPU]!.title = cpuTip;
			}
			if (row.cells[MEMORY]!.title !== memoryTip) {
				row.cells[MEMORY]!.title = memoryTip;
			}
			const startTip = state === 'gone' ? 'Its process has exited, but the pool still counts its task as running: an executor that no longer answers. The run\'s warning says more; cancel the run to end it.'
				: state === 'stuck' ? (stalled !== undefined
				? `Its task used no CPU while no task started, ended or printed (seen ${ms(end - stalled.t)} ago): it waits on a lock, a queue, a sleep or I/O that does not come. The run's warning says more; Stacks shows where (Python).`
				: `Its task has run past the run's timeout (${ms(stuckAfter)}).`)
				: w.state === 'starting' ? 'The worker process is starting: an interpreter starting and your file being imported (spawn and forkserver do this in every worker); it takes no task yet.'
				: w.readyAt !== undefined && w.readyAt > w.startedAt ? `Took ${ms(w.readyAt - w.startedAt)} from its start to its first chance at a task.` : '';
			if (row.cells[STATE]!.title !== startTip) {
				row.cells[STATE]!.title = startTip;
			}
			order.push(row.tr);
			seen.add(w.workerId);
		}
		for (const id of [...this.rows.keys()]) {
			if (!seen.has(id)) {
				this.rows.delete(id);
			}
		}
		if (foldable) {
			order.splice(current.length, 0, this.foldRow);
		}
		// Cells change in place (only those whose text changed): no rows built per frame, and
		// layout, the panel's most expensive work, only where something moved.
		syncChildren(this.body, order);
	}
}
