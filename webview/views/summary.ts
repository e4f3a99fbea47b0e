import { megabytes, type RunFinishedEvent } from '../../engine/protocol/events';
import { awaitedWords, CORE_WAIT_WORTH_SAYING, gilSample, looksText, runWaited, WAIT_WORDS, workerCpuShares, workerLooks, type RunModel } from '../../engine/protocol/runModel';
import { h } from '../dom';
import { ms, num, pct, rate, runRate } from '../format';
import { errorBlock } from './details';

/** When a run ends: what it cost, how busy each worker was, how long tasks took, vs serial. */
export class SummaryView {
	public readonly el = h('section', { class: 'summary', 'data-testid': 'summary', 'aria-label': 'Summary' });
	private shownFor = '';
	private histTimer: ReturnType<typeof setTimeout> | undefined;

	/** Whether it shows this ended run (against this baseline) already. */
	public shows(model: RunModel, baseline: RunModel | undefined): boolean {
		return this.shownFor === summaryKey(model, baseline);
	}

	public render(model: RunModel, baseline: RunModel | undefined): void {
		const end = model.finished;
		if (!end) {
			this.el.hidden = true;
			this.shownFor = '';
			return;
		}
		const key = summaryKey(model, baseline);
		if (key === this.shownFor) {
			return;
		}
		this.shownFor = key;
		this.el.hidden = false;
		const c = end.counts;
		const speedup = baseline?.finished ? baseline.finished.wallMs / end.wallMs : undefined;
		const hist = h('div', { class: 'histogram', 'data-testid': 'histogram', role: 'img', 'aria-label': 'Histogram of task durations' });
		const utilRows = new Map<number, { bar: HTMLElement; label: HTMLElement }>();
		const utilTitle = h('div', { class: 'muted util-title' }, 'utilization per worker');
		this.el.replaceChildren(...[
			h('h3', {}, end.outcome === 'completed' ? (c.failed || c.timedOut ? 'Summary: not every task finished' : 'Summary') : end.outcome === 'cancelled' ? 'Summary (cancelled)' : 'The run failed'),
			end.error ? errorBlock(end.error) : null,
			h('div', { class: 'figures' },
				figure('wall time', ms(end.wallMs), 'summary-wall'),
				figure('throughput', rate(runRate(c.finished + c.failed + c.cancelled + c.timedOut + c.rejected, end.wallMs, end.throughput))),
				figure('finished', num(c.finished), 'summary-finished'),
				figure('failed', num(c.failed), 'summary-failed'),
				figure('cancelled', num(c.cancelled)),
				c.timedOut ? figure('timed out', num(c.timedOut)) : null,
				speedup !== undefined ? figure(speedupLabel(model, baseline!, speedup), `${speedup.toFixed(2)}x`, 'speedup') : null,
				end.gilWaitShare !== undefined ? figure(gilLabel(end), pct(end.gilWaitShare), 'gil') : null,
				end.gilWaitShare !== undefined && end.coreWaitShare !== undefined && end.coreWaitShare >= CORE_WAIT_WORTH_SAYING
					? figure('waiting for a CPU core (other processes kept the machine busy: the GIL reads best on a quiet one)', pct(end.coreWaitShare), 'core-wait')
					: null,
				end.gilWaitShare !== undefined && end.ioWaitShare !== undefined && end.ioWaitShare >= CORE_WAIT_WORTH_SAYING
					? figure(`blocked in I/O or asleep, not the GIL (seen in ${num(end.waitSamples ?? 0)} looks at the threads)`, pct(end.ioWaitShare), 'io-wait')
					: null,
				end.gilWaitShare !== undefined && end.lockWaitShare !== undefined && end.lockWaitShare >= CORE_WAIT_WORTH_SAYING
					? figure(`waiting on a Lock, a queue or an event, not the GIL (seen in ${num(end.waitSamples ?? 0)} looks at the threads)`, pct(end.lockWaitShare), 'lock-wait')
					: null,
				end.awaitedTasks ? figure(awaitedWords(model.started?.language), `${num(end.awaitedTasks)} of ${num(c.finished + c.failed)}`, 'awaited') : null,
				model.peakRss !== undefined ? figure('peak memory', megabytes(model.peakRss), 'summary-memory') : null,
			),
			end.workers.length ? h('div', { class: 'util', 'data-testid': 'utilization' }, utilTitle,
				...end.workers.map((w) => {
					const bar = h('span', { class: 'bar' });
					bar.style.width = `${Math.round(w.utilization * 100)}%`;
					const label = h('span', { class: 'util-pct' }, h('span', { class: 'util-busy' }, pct(w.utilization)));
					utilRows.set(w.workerId, { bar, label });
					return h('div', { class: 'util-row' }, h('span', { class: 'util-label' }, `#${w.workerId} ${num(w.tasks)} task${w.tasks === 1 ? '' : 's'}`), h('span', { class: 'util-track' }, bar), label);
				})) : null,
			c.finished + c.failed > 1 ? h('div', { class: 'hist' }, h('div', { class: 'muted' }, 'task durations'), hist) : null,
		].filter((x): x is HTMLElement => x !== null));
		// The histogram's bins and the workers' CPU (a walk over every look) wait for the frame
		// after the summary's first: together they missed a vsync at 100k. One a task.
		clearTimeout(this.histTimer);
		this.histTimer = setTimeout(() => {
			if (this.shownFor === key) {
				const d = model.durations;
				fillHistogram(hist, { values: d.values.subarray(0, d.n), min: d.min, max: d.max });
				this.histTimer = setTimeout(() => {
					if (this.shownFor === key) {
						showCpuShares(utilTitle, utilRows, model);
					}
				}, 0);
			}
		}, 0);
	}
}

function summaryKey(model: RunModel, baseline: RunModel | undefined): string {
	return `${model.runId}:${baseline?.runId ?? ''}`;
}

/** Past the most a pool can give, the serial run was the slow one: said, not left as a record. */
const BEYOND = 1.15;

function speedupLabel(model: RunModel, baseline: RunModel, speedup: number): string {
	if (model.overlapped || baseline.overlapped) {
		return 'speedup vs serial (not comparable: another run shared the machine)';
	}
	const ceiling = speedupCeiling(model);
	if (ceiling && speedup > ceiling.most * BEYOND) {
		return `speedup vs serial (more than ${ceiling.most} ${ceiling.of} can give: the serial run was slowed, e.g. by a busy machine; run it again)`;
	}
	return 'speedup vs serial';
}

/**
 * The most a run's pool can beat serial by: its workers (no more than its tasks) and, when its
 * tasks kept their CPU busy (CPU time at least 80% of wall, where measured), the machine's
 * cores. I/O-bound work may well go past the cores (ten sleeping threads on two).
 */
export function speedupCeiling(model: RunModel): { most: number; of: string } | undefined {
	const s = model.started;
	if (!s || s.workers < 1) {
		return undefined;
	}
	let wall = 0;
	let cpu = 0;
	for (const t of model.tasks.values()) {
		if (t.cpuMs !== undefined && t.durationMs !== undefined) {
			wall += t.durationMs;
			cpu += t.cpuMs;
		}
	}
	const workers = Math.min(s.workers, Math.max(1, s.inputCount));
	if (wall > 0 && cpu >= 0.8 * wall && s.cores <= workers) {
		return { most: s.cores, of: 'cores' };
	}
	return { most: workers, of: workers === 1 ? 'worker' : 'workers' };
}

/** Says when the GIL estimate rests on a sample of the tasks (Python thread pools, tiny tasks). */
function gilLabel(end: RunFinishedEvent): string {
	const sample = gilSample(end);
	return sample ? `waiting for the GIL (from the CPU time of ${num(sample.from)} of ${num(sample.of)} tasks)` : 'waiting for the GIL';
}

/**
 * Each worker's busy bar filled by its share on a CPU (workerCpuShares), and "CPU N%" of the run
 * beside it; then what its tasks were seen waiting on most, when 20% of the looks or more.
 */
function showCpuShares(title: HTMLElement, rows: Map<number, { bar: HTMLElement; label: HTMLElement }>, model: RunModel): void {
	const shares = workerCpuShares(model);
	const looks = workerLooks(model);
	let shown = 0;
	for (const w of model.finished?.workers ?? []) {
		const row = rows.get(w.workerId);
		const share = shares.get(w.workerId);
		if (!row || share === undefined) {
			continue;
		}
		const cpu = h('span', { class: 'cpu' });
		cpu.style.width = `${Math.round(share * 100)}%`;
		row.bar.classList.add('has-cpu');
		row.bar.replaceChildren(cpu);
		row.label.append(h('span', { class: 'muted util-cpu' }, ` · CPU ${pct(share * w.utilization)}`));
		row.label.title = `busy ${pct(w.utilization)} of the run; on a CPU ${pct(share)} of that time (its tasks' CPU time over their wall time), the rest waiting`;
		const seen = looks.get(w.workerId);
		const waited = runWaited(seen);
		if (seen && waited) {
			if (waited.kind) {
				row.label.append(h('span', { class: 'muted util-wait' }, ` · ${WAIT_WORDS[waited.kind]} ${pct(seen[waited.kind]! / waited.looks)}`));
			}
			row.label.title += `; its tasks ${looksText(seen)}`;
		}
		shown++;
	}
	if (shown) {
		title.textContent = 'utilization per worker (filled: on a CPU; pale: busy, but waiting)';
	}
}

function figure(label: string, value: string, testid?: string): HTMLElement {
	return h('div', { class: 'figure' }, h('div', { class: 'value', 'data-testid': testid }, value), h('div', { class: 'label' }, label));
}


/** Twenty bars as elements, not a canvas: a new canvas's first context and its commit cost ~6 ms here. */
function fillHistogram(el: HTMLElement, { values, min, max }: { values: Float64Array; min: number; max: number }): void {
	if (values.length < 2) {
		return;
	}
	const bins = 20;
	const counts = new Array<number>(bins).fill(0);
	const perBin = max > min ? bins / (max - min) : 0;
	for (let i = 0; i < values.length; i++) {
		counts[Math.min(bins - 1, Math.floor((values[i]! - min) * perBin))]!++;
	}
	const top = Math.max(...counts);
	const width = (max - min) / bins;
	// Edges as precise as the bins are narrow ("10 ms – 11 ms" for a 0.5 ms bin said nothing).
	const decimals = width >= 1 ? 1 : width >= 0.1 ? 2 : 3;
	const edge = (v: number) => (width < 10 && max < 1000 ? `${v.toFixed(decimals)} ms` : ms(v));
	const bars = counts.map((n, i) => {
		const bar = h('span', { class: 'hist-bar', title: `${edge(min + i * width)} – ${edge(min + (i + 1) * width)}: ${num(n)} task${n === 1 ? '' : 's'}` });
		bar.style.height = `${(n / top) * 100}%`;
		return bar;
	});
	el.dataset.counts = counts.join(',');
	// The bars' titles are read by hovering: a screen reader gets the bins that have tasks in the label.
	const said = counts.flatMap((n, i) => (n ? [`${edge(min + i * width)} – ${edge(min + (i + 1) * width)}: ${num(n)} task${n === 1 ? '' : 's'}`] : []));
	el.setAttribute('aria-label', `Histogram of task durations, ${num(values.length)} tasks: ${said.join('; ')}`);
	el.replaceChildren(h('div', { class: 'hist-bars' }, ...bars), h('div', { class: 'hist-axis' }, h('span', {}, ms(min)), h('span', {}, ms(max))));
}
