import type { ErrorInfo, RunStartedEvent } from '../../engine/protocol/events';
import type { RunModel } from '../../engine/protocol/runModel';
import { button, h } from '../dom';
import { ms } from '../format';
import { STATE_LABELS } from '../panelState';
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
	return `– (not read: this thread's tasks averaged under ${sampling.belowMs * 1000} µs, so its CPU clock, a system call, was read around one task in ${sampling.oneIn})`;
}

/**
 * Node's CPU clocks (getrusage: `process.threadCpuUsage`, `process.cpuUsage`) advance a scheduler
 * tick at a time (4 ms on this Linux VM, 15.6 ms on Windows): a 1 ms task reads 0 or 4 ms. Below
 * this wall time a JS task's own figure is mostly that step, so the panel does not show it; sums
 * over a run are still right (comparisons use them). Python reads a precise thread clock.
 */
export const JS_CPU_MIN_WALL_MS = 50;

export function tooCoarse(language: string | undefined, wall: number | undefined): boolean {
	return language !== undefined && language !== 'python' && wall !== undefined && wall < JS_CPU_MIN_WALL_MS;
}

/** A task's CPU time against its wall time, or why there is none to show. */
function cpuText(task: { state: string; cpuMs?: number }, wall: number | undefined, started: RunStartedEvent | undefined): string {
	if (task.cpuMs === undefined) {
		return notRead(task, started?.cpuSampling);
	}
	if (tooCoarse(started?.language, wall)) {
		return `– (Node's CPU clocks advance a scheduler tick at a time, several ms: too coarse for a ${ms(wall)} task; comparisons sum them over the run)`;
	}
	if (!wall) {
		return ms(task.cpuMs);
	}
	const share = task.cpuMs / wall;
	const waiting = share < 0.5 && started?.pool === 'thread' && started.language === 'python' ? ': the rest was waiting, for I/O or for the GIL' : '';
	return `${ms(task.cpuMs)} (${Math.round(share * 100)}% of wall${waiting})`;
}

/** Everything about the selected future. */
export class DetailsView {
	public readonly el = h('section', { class: 'details', 'data-testid': 'details', 'aria-label': 'Future details' });

	public render(model: RunModel, taskId: number | undefined, nowT: number): void {
		const task = taskId !== undefined ? model.tasks.get(taskId) : undefined;
		if (!task) {
			this.el.replaceChildren(h('p', { class: 'muted' }, 'Select a future (click a cell or a bar) to see its input, result or traceback, output and timing.'));
			return;
		}
		const running = task.state === 'running';
		const inCallQueue = task.stage === 'callQueue';
		const pending = (task.state === 'queued' || task.state === 'submitted') && !inCallQueue;
		const reason = inCallQueue
			? 'In the call queue: the future is already RUNNING, so Future.cancel() refuses.'
			: running ? 'Running: cancel the run to stop it.' : !pending ? 'It has ended.' : '';
		const cancel = button('Cancel future', { class: 'secondary', 'data-testid': 'cancel-task', title: reason || 'Cancel this pending future' }, () => post({ type: 'cancelTask', runId: model.runId, taskId: task.taskId }));
		cancel.disabled = !pending || Boolean(model.finished);
		const wall = task.durationMs ?? (task.startedAt !== undefined ? (task.endedAt ?? nowT) - task.startedAt : undefined);
		const wait = task.startedAt !== undefined ? task.startedAt - task.submittedAt : undefined;
		const rows: [string, string][] = [
			['state', `${inCallQueue ? 'in call queue' : STATE_LABELS[task.state]}${task.cancelReason ? ` (${task.cancelReason})` : ''}`],
			['input', task.input],
			['worker', task.workerId !== undefined ? `#${task.workerId}` : '–'],
			['queue wait', ms(wait)],
			['wall time', ms(wall)],
			['CPU time', cpuText(task, wall, model.started)],
		];
		this.el.replaceChildren(...[
			h('h3', {}, `Future ${task.taskId}`),
			h('dl', {}, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v)])),
			task.result !== undefined ? h('div', { class: 'result' }, h('span', { class: 'muted' }, 'result '), h('code', { 'data-testid': 'result' }, task.result)) : null,
			task.error ? errorBlock(task.error) : null,
			task.output.length ? h('div', { class: 'output' }, h('div', { class: 'muted' }, `output${task.outputTruncated ? ' (truncated)' : ''}`),
				h('pre', { 'data-testid': 'output' }, ...task.output.map((o) => h('span', { class: o.stream }, o.text)))) : null,
			h('div', { class: 'actions' }, cancel, reason && pending === false && !model.finished ? h('span', { class: 'muted reason', 'data-testid': 'cancel-reason' }, reason) : null),
		].filter((x): x is HTMLElement => x !== null));
	}
}
