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

/** What a full stage holds back. */
const FULL_HELP: Record<string, string> = {
	pending: 'Full: no more inputs are submitted until a worker takes one (back-pressure: the producer waits).',
	callQueue: 'Full: the executor moves no more futures into it until a worker takes one; the rest wait as pending, still cancellable.',
};

/**
 * How many a bounded stage holds at most: CPython's call queue is max_workers + 1 long
 * (EXTRA_QUEUED_CALLS), a JS run's pending queue `maxQueue`. Unbounded stages have none.
 */
function boundOf(model: RunModel, stage: string): { n: number; why: string } | undefined {
	const s = model.started;
	if (!s) {
		return undefined;
	}
	if (stage === 'callQueue') {
		return { n: s.workers + 1, why: `max_workers + 1 = ${num(s.workers + 1)}` };
	}
	const max = s.options.maxQueue;
	return stage === 'pending' && max !== undefined && max > 0 ? { n: max, why: `maxQueue = ${num(max)}` } : undefined;
}

/** The pool as a pipeline of stages with live counts. */
export class PipelineView {
	public readonly el = h('section', { class: 'pipeline', 'data-testid': 'pipeline', 'aria-label': 'Queues' });
	private key = '';
	private boxes = new Map<string, { count: HTMLElement; box: HTMLElement; bound: HTMLElement; mark: HTMLElement }>();

	public render(model: RunModel, counts: Record<TaskState, number>): void {
		const stages = model.started?.stages ?? [];
		const key = stages.join(',');
		if (key !== this.key) {
			this.key = key;
			this.el.replaceChildren();
			this.boxes.clear();
			const add = (id: string, label: string, help: string) => {
				const count = h('div', { class: 'count', 'data-testid': `stage-${id}` }, '0');
				// Text, not a CSS ::after: screen readers and a copied panel say it too.
				const mark = h('span', { class: 'full-mark', 'data-testid': `stage-full-${id}` }, ' · full');
				mark.hidden = true;
				const bound = h('div', { class: 'bound', 'data-testid': `stage-bound-${id}` });
				bound.hidden = true;
				const box = h('div', { class: 'stage', title: help }, h('div', { class: 'label' }, label, mark), count, bound);
				// An arrow wraps with the stage it points to: a line never ends on one.
				const arrow = this.el.childElementCount ? h('span', { class: 'arrow', 'aria-hidden': 'true' }, '→') : null;
				this.el.append(h('div', { class: 'step' }, arrow, box));
				this.boxes.set(id, { count, box, bound, mark });
			};
			add('submitted', 'submitted', 'Calls handed to the pool so far.');
			for (const s of stages) {
				add(s, STAGE_LABELS[s] ?? s, STAGE_HELP[s] ?? '');
			}
			add('done', 'done', 'Finished, failed, cancelled or timed out.');
		}
		const done = counts.finished + counts.failed + counts.cancelled + counts.timedOut + counts.rejected;
		const depth = (s: string) => model.depths[s] ?? 0;
		for (const [id, { count, box, bound, mark }] of this.boxes) {
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
			const limit = boundOf(model, id);
			setText(bound, limit ? `of ${num(limit.n)}` : '');
			if (bound.hidden !== !limit) {
				bound.hidden = !limit;
			}
			// The last depth a run reported may have said full: an ended run's stages are empty.
			const full = !model.finished && model.fullStages.includes(id);
			box.classList.toggle('full', full);
			if (mark.hidden !== !full) {
				mark.hidden = !full;
			}
			const help = `${STAGE_HELP[id] ?? ''}${limit ? ` At most ${num(limit.n)} (${limit.why}).` : ''}`;
			const title = full ? `${help} ${FULL_HELP[id] ?? 'Full: the producer waits (back-pressure).'}` : help;
			if (id !== 'submitted' && id !== 'done' && box.title !== title) {
				box.title = title;
			}
		}
	}
}
