import type { RunModel } from '../../engine/protocol/runModel';
import { h } from '../dom';
import { ms, pct } from '../format';

/** One row per worker: state, what it runs now and for how long, tasks done, utilization. */
export class WorkersView {
	public readonly el = h('section', { class: 'workers', 'data-testid': 'workers', 'aria-label': 'Workers' });
	private readonly body = h('tbody');
	private lastKey = '';

	constructor() {
		this.el.append(h('table', {},
			h('thead', {}, h('tr', {}, ...['worker', 'state', 'now', 'for', 'done', 'utilization', 'pid / thread'].map((c) => h('th', { scope: 'col' }, c)))),
			this.body));
	}

	public render(model: RunModel, nowT: number): void {
		const rows: HTMLElement[] = [];
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
			rows.push(h('tr', { 'data-worker': String(w.workerId), class: `worker-${w.state}` },
				h('td', {}, `#${w.workerId}`),
				h('td', { class: `wstate ${state.split(' ')[0]}` }, state),
				h('td', {}, w.currentTask !== undefined ? `task ${w.currentTask}` : ''),
				h('td', {}, busyFor !== undefined ? ms(busyFor) : ''),
				h('td', {}, String(w.tasksDone)),
				h('td', {}, pct(Math.min(1, busy / alive))),
				h('td', {}, w.pid !== undefined ? `pid ${w.pid}` : w.threadId !== undefined ? `thread ${w.threadId}` : ''),
			));
		}
		// Rebuild only when a cell changed: layout is the panel's most expensive work.
		const key = rows.map((r) => r.textContent).join('|');
		if (key !== this.lastKey) {
			this.lastKey = key;
			this.body.replaceChildren(...rows);
		}
	}
}
