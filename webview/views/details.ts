import type { ErrorInfo, RunStartedEvent } from '../../engine/protocol/events';
import { looksText, taskSeen, tooCoarse, type RunModel } from '../../engine/protocol/runModel';
import { button, h, setText } from '../dom';
import { ms } from '../format';
import { shownState, STATE_LABELS } from '../panelState';
import { post } from '../vscodeApi';

/** A traceback as text, then the user's own frames as links that open the source there. */
export function errorBlock(error: ErrorInfo): HTMLElement {
	const frames = (error.frames ?? []).filter((f) => f.user);
	return h('div', { class: 'error', 'data-testid': 'error' },
		h('div', { class: 'error-title' }, `${error.name}: ${error.message}`),
		error.hint ? h('div', { class: 'hint' }, error.hint) : null,
		error.stack ? h('pre', { class: 'stack', 'data-testid': 'traceback' }, error.stack) : null,
		frames.length ? h('div', { class: 'frames' }, 'Your code: ', ...frames.map((f) => {
			const label = `${f.file.split('/').pop()}:${f.line}${f.function ? ` in ${f.function}` : ''}`;
			const link = button(label, { class: 'link', 'data-testid': 'frame-link', title: `${f.file}:${f.line}` }, () => post({ type: 'openLocation', file: f.file, line: f.line, ...(f.column !== undefined ? { column: f.column } : {}) }));
			return link;
		})) : null,
	);
}

/** Why a finished task has no CPU time, when the runner said it samples (Python thread pools). */
function notRead(task: { state: string }, sampling: RunStartedEvent['cpuSampling']): string {
	if (!sampling || task.state !== 'finished') {
		return '–';
	}
	return `– (not read: this thread's tasks took under ${sampling.belowMs * 1000} µs, so its CPU clock, a system call, was read around one task in ${sampling.oneIn})`;
}

/** A task's CPU time against its wall time, or why there is none to show. */
function cpuText(task: { state: string; cpuMs?: number; lastCpuShare?: number }, wall: number | undefined, started: RunStartedEvent | undefined, looks: number[] | undefined): string {
	// What its thread was seen doing says which wait it was (looked at every 10 ms, Linux).
	const seen = looks && looksText(looks);
	if (task.cpuMs === undefined) {
		if (task.lastCpuShare !== undefined) {
			const share = Math.round(task.lastCpuShare * 100);
			return `– (not read as it ended); its worker used ${share}% of a core in its last second${seen ? `; ${seen}` : share < 3 ? ': it was waiting (a lock, I/O, another task)' : ''}`;
		}
		if (seen) {
			return task.state === 'running' ? `– (read when it ends); in its last second, ${seen}` : `– (not read as it ended); ${seen}`;
		}
		return notRead(task, started?.cpuSampling);
	}
	if (tooCoarse(started?.language, wall)) {
		return `– (Node's CPU clocks advance a scheduler tick at a time, several ms: too coarse for a ${ms(wall)} task; comparisons sum them over the run)`;
	}
	if (!wall) {
		return ms(task.cpuMs);
	}
	const share = task.cpuMs / wall;
	const waiting = seen ? `; ${seen}` : share < 0.5 && started?.pool === 'thread' && started.language === 'python' ? ': the rest was waiting, for I/O or for the GIL' : '';
	return `${ms(task.cpuMs)} (${Math.round(share * 100)}% of wall${waiting})`;
}

const FIELDS = ['state', 'input', 'worker', 'queue wait', 'wall time', 'CPU time'] as const;

/**
 * Everything about the selected future. Rendered many times a second during a run, so it updates
 * its nodes in place: rebuilding them would swallow a click whose mousedown and mouseup landed on
 * two different "Cancel future" buttons (a click needs both on one element), and would drop a
 * text selection in the output or the traceback.
 */
export class DetailsView {
	public readonly el = h('section', { class: 'details', 'data-testid': 'details', 'aria-label': 'Future details' });
	private readonly empty = h('p', { class: 'muted' }, 'Select a future (click a cell or a bar) to see its input, result or traceback, output and timing.');
	private readonly heading = h('h3', {});
	private readonly dds = new Map(FIELDS.map((k) => [k, h('dd', { 'data-field': k })]));
	private readonly dl = h('dl', {}, ...FIELDS.flatMap((k) => [h('dt', {}, k), this.dds.get(k)!]));
	private readonly resultCode = h('code', { 'data-testid': 'result' });
	private readonly result = h('div', { class: 'result' }, h('span', { class: 'muted' }, 'result '), this.resultCode);
	private readonly outputLabel = h('div', { class: 'muted' });
	private readonly outputPre = h('pre', { 'data-testid': 'output' });
	private readonly output = h('div', { class: 'output' }, this.outputLabel, this.outputPre);
	private readonly reason = h('span', { class: 'muted reason', 'data-testid': 'cancel-reason' });
	/** The future the Cancel button is for right now. */
	private target: { runId: string; taskId: number } | undefined;
	private readonly cancel = button('Cancel future', { class: 'secondary', 'data-testid': 'cancel-task' }, () => {
		if (this.target) {
			post({ type: 'cancelTask', ...this.target });
		}
	});
	/** Why the host refused to cancel a future that still looks pending, by `runId:taskId`. */
	private readonly refusals = new Map<string, string>();
	private readonly actions = h('div', { class: 'actions' }, this.cancel);
	/** What the error and output nodes show, to rebuild them only when that changes. */
	private shownError: { task: object; error: ErrorInfo; el: HTMLElement } | undefined;
	private shownOutput: { task: object; last: string | undefined; count: number } | undefined;
	private shownChildren: Element[] = [];

	/**
	 * The host refused a cancel (cancelRefused): kept for that future's details. A JS future already
	 * handed to its worker still reads pending (no event says it moved), so its Cancel stayed on,
	 * and the why was only in a notice at the top of the panel.
	 */
	public refused(runId: string, taskId: number, reason: string): void {
		this.refusals.set(`${runId}:${taskId}`, reason);
	}

	public render(model: RunModel, taskId: number | undefined, nowT: number): void {
		const task = taskId !== undefined ? model.tasks.get(taskId) : undefined;
		if (!task) {
			this.target = undefined;
			this.show([this.empty]);
			return;
		}
		const running = task.state === 'running';
		const inCallQueue = task.stage === 'callQueue';
		const pending = (task.state === 'queued' || task.state === 'submitted') && !inCallQueue;
		// Once it moves on (starts, ends) its own state says why; until then, what the host said.
		const refused = pending ? this.refusals.get(`${model.runId}:${task.taskId}`) : undefined;
		const reason = refused !== undefined ? `Not cancelled: ${refused}` : inCallQueue
			? 'In the call queue: the future is already RUNNING, so Future.cancel() refuses.'
			: running ? 'Running: cancel the run to stop it.' : !pending ? 'It has ended.' : '';
		const cancellable = pending && refused === undefined;
		this.target = { runId: model.runId, taskId: task.taskId };
		this.cancel.title = reason || 'Cancel this pending future';
		this.cancel.disabled = !cancellable || Boolean(model.finished);
		const showReason = Boolean(reason) && !cancellable && !model.finished;
		setText(this.reason, showReason ? reason : '');
		if (showReason !== this.reason.isConnected) {
			if (showReason) {
				this.actions.append(this.reason);
			} else {
				this.reason.remove();
			}
		}
		const wall = task.durationMs ?? (task.startedAt !== undefined ? (task.endedAt ?? nowT) - task.startedAt : undefined);
		const wait = task.startedAt !== undefined ? task.startedAt - task.submittedAt : undefined;
		const values: Record<(typeof FIELDS)[number], string> = {
			state: `${STATE_LABELS[shownState(task)]}${task.cancelReason ? ` (${task.cancelReason})` : ''}`,
			input: task.input,
			worker: task.workerId !== undefined ? `#${task.workerId}` : '–',
			'queue wait': ms(wait),
			'wall time': ms(wall),
			'CPU time': cpuText(task, wall, model.started, task.workerId !== undefined ? taskSeen(task, model.workers.get(task.workerId), nowT) : undefined),
		};
		setText(this.heading, `Future ${task.taskId}`);
		for (const k of FIELDS) {
			setText(this.dds.get(k)!, values[k]);
		}
		if (task.result !== undefined) {
			setText(this.resultCode, task.result);
		}
		if (task.error && (this.shownError?.task !== task || this.shownError.error !== task.error)) {
			this.shownError = { task, error: task.error, el: errorBlock(task.error) };
		}
		const errorEl = task.error ? this.shownError?.el : undefined;
		// Output of one stream changes only its last entry (runModel): it grows, or a progress bar's
		// redraw replaces its last line at the same length.
		const lastText = task.output[task.output.length - 1]?.text;
		if (task.output.length && (this.shownOutput?.task !== task || this.shownOutput.last !== lastText || this.shownOutput.count !== task.output.length)) {
			this.shownOutput = { task, last: lastText, count: task.output.length };
			this.outputPre.replaceChildren(...task.output.map((o) => h('span', { class: o.stream }, o.text)));
		}
		setText(this.outputLabel, `output${task.outputTruncated ? ' (truncated)' : ''}`);
		this.show([
			this.heading,
			this.dl,
			...(task.result !== undefined ? [this.result] : []),
			...(errorEl ? [errorEl] : []),
			...(task.output.length ? [this.output] : []),
			// Once the run has ended nothing in it can be cancelled: a disabled button on every
			// future, its reason hidden, only asked "why not?".
			...(model.finished ? [] : [this.actions]),
		]);
	}

	/** Sets the section's children only when the list changed (moving a node ends a click on it too). */
	private show(children: Element[]): void {
		if (children.length === this.shownChildren.length && children.every((c, i) => c === this.shownChildren[i])) {
			return;
		}
		this.shownChildren = children;
		this.el.replaceChildren(...children);
	}
}
