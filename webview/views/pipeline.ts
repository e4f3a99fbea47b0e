import type { RunModel, TaskState } from '../../engine/protocol/runModel';
import { h, setText } from '../dom';
import { num } from '../format';

const STAGE_LABELS: Record<string, string> = {
	pending: 'pending',
	callQueue: 'call queue',
	dispatched: 'dispatched',
	executing: 'executing',
	resultQueue: 'result queue',
};

const STAGE_HELP: Record<string, string> = {
	pending: 'Submitted and waiting for a worker. A pending future can still be cancelled.',
	callQueue: 'ProcessPoolExecutor moved it to the call queue (max_workers + 1 slots): its future is RUNNING, no longer cancellable, but no worker executes it yet.',
	dispatched: 'Handed to a busy worker, next in line for it (piscina\'s queue for threads, the worker process itself for processes): like CPython\'s call queue, no longer cancellable on its own.',
	executing: 'A worker is running the function.',
	resultQueue: 'The worker is done; the result is on its way back through the result queue.',
};

/** The pool as a pipeline of stages with live counts. */
export class PipelineView {
	public readonly el = h('section', { class: 'pipeline', 'data-testid': 'pipeline', 'aria-label': 'Queues' });
	private key = '';
	private boxes = new Map<string, { count: HTMLElement; box: HTMLElement }>();

	public render(model: RunModel, counts: Record<TaskState, number>): void {
		const stages = model.started?.stages ?? [];
		const key = stages.join(',');
		if (key !== this.key) {
			this.key = key;
			this.el.replaceChildren();
			this.boxes.clear();
			const add = (id: string, label: string, help: string) => {
				const count = h('div', { class: 'count', 'data-testid': `stage-${id}` }, '0');
				const box = h('div', { class: 'stage', title: help }, h('div', { class: 'label' }, label), count);
				// An arrow wraps with the stage it points to: a line never ends on one.
				const arrow = this.el.childElementCount ? h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→') : null;
				this.el.append(h('div', { class: 'step' }, arrow, box));
				this.boxes.set(id, { count, box });
			};
			add('submitted', 'submitted', 'Calls handed to the pool so far.');
			for (const s of stages) {
				add(s, STAGE_LABELS[s] ?? s, STAGE_HELP[s] ?? '');
			}
			add('done', 'done', 'Finished, failed, cancelled or timed out.');
		}
		const done = counts.finished + counts.failed + counts.cancelled + counts.timedOut + counts.rejected;
		const depth = (s: string) => model.depths[s] ?? 0;
		for (const [id, { count, box }] of this.boxes) {
			let value: number;
			if (id === 'submitted') {
				value = model.counts.submitted;
			} else if (id === 'done') {
				value = done;
			} else if (id === 'executing') {
				value = model.finished ? 0 : counts.running;
			} else if (id === 'pending' && !model.finished) {
				value = stages.includes('callQueue') || stages.includes('dispatched') ? depth('pending') : counts.queued + counts.submitted;
			} else {
				value = model.finished ? 0 : depth(id);
			}
			setText(count, num(value));
			const full = model.fullStages.includes(id);
			box.classList.toggle('full', full);
			box.title = full ? `${STAGE_HELP[id] ?? ''} Full: the producer waits (back-pressure).` : STAGE_HELP[id] ?? box.title;
		}
	}
}
