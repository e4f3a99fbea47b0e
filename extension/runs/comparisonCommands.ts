import { availableParallelism } from 'node:os';
import * as vscode from 'vscode';
import { advise, adviseChunksize, amdahlFit, speedups } from '../../engine/compare/advice';
import { chunksizeConfigs, comparableStartMethods, compareConfigs, configLabel, powersOfTwoUpTo, runConfigs, sweepConfigs, type ComparisonHandle, type Config, type Measurement } from '../../engine/compare/compare';
import type { PoolKind, PythonStartMethod } from '../../engine/protocol/events';
import type { ComparisonView } from '../../webview/messages';
import { CommandId } from '../commandIds';
import { Disposable } from '../util/disposable';
import type { RunController } from './RunController';
import type { RunCommands } from './runCommands';

const COMPARE_CPU_SAMPLE_MS = 100;

/** As the palette names them. */
const TITLES: Record<ComparisonView['kind'], string> = { compare: 'Compare', sweep: 'Sweep', chunksize: 'Sweep chunksizes', runs: 'Two runs' };

const CANCEL_RUNNING = 'Cancel It';

function progressOf(view: ComparisonView): string {
	return `${view.measurements.length} of ${view.measurements.length + view.pending} configurations done`;
}

interface ActiveComparison {
	view: ComparisonView;
	handle: ComparisonHandle;
	/** The runs it started (one is going at a time). */
	runIds: Set<string>;
	/** Resolves once it has ended and its view has gone to the history. */
	ended: Promise<void>;
}

/**
 * "Compare" (serial, threads, processes), "Sweep" (1..N workers) and "Sweep Chunksizes" (one
 * process pool, several chunksizes), shown in the panel and kept in the history.
 */
export class ComparisonCommands extends Disposable {
	private readonly _active = new Map<string, ActiveComparison>();
	public readonly views: ComparisonView[] = [];

	constructor(
		private readonly _runs: RunCommands,
		private readonly _controller: RunController,
		private readonly _show: (view: ComparisonView) => void,
		private readonly _output: vscode.LogOutputChannel,
		private readonly _onDone: (view: ComparisonView) => void = () => undefined,
		private readonly _showRun: (runId: string) => void = () => undefined,
	) {
		super();
		this._register(vscode.commands.registerCommand(CommandId.Compare, (a) => this.compare(a, 'compare')));
		this._register(vscode.commands.registerCommand(CommandId.Sweep, (a) => this.compare(a, 'sweep')));
		this._register(vscode.commands.registerCommand(CommandId.SweepChunksize, (a) => this.compare(a, 'chunksize')));
		this._register({ dispose: () => { for (const a of this._active.values()) void a.handle.cancel(); } });
		_runs.comparisons = {
			active: () => [...this._active.values()].map(({ view, runIds }) => ({
				id: view.id, runIds, label: `${TITLES[view.kind]} ${view.fn}`,
				description: progressOf(view),
			})),
			cancel: (id) => this.cancel(id),
		};
	}

	public async cancel(id: string): Promise<void> {
		await this._active.get(id)?.handle.cancel();
	}

	/** Cancels every comparison; resolves once each has ended and gone to the history (the window is closing). */
	public async shutdown(): Promise<void> {
		const ending = [...this._active.values()];
		await Promise.all(ending.map(async (a) => {
			await a.handle.cancel().catch(() => undefined); // as for runs: the end is what counts
			await a.ended;
		}));
	}

	/**
	 * One comparison at a time: two share the cores, so each measures the other too (its
	 * configurations run one after another for that reason). Says which one runs, with a way to
	 * cancel it; the user starts the new one again when it has ended.
	 */
	private refuseWhileRunning(): boolean {
		const running = [...this._active.values()][0];
		if (!running) {
			return false;
		}
		const { view } = running;
		void vscode.window.showWarningMessage(
			`Poolscope: ${TITLES[view.kind]} ${view.fn} is still running (${progressOf(view)}). Comparisons run one at a time: two at once would share the cores and measure each other. Start this one when it has ended, or cancel it.`,
			CANCEL_RUNNING,
		).then((choice) => {
			if (choice === CANCEL_RUNNING) {
				void this.cancel(view.id);
			}
		});
		return true;
	}

	/** A comparison reopened from the history becomes one the panel replays after a reload. */
	public remember(view: ComparisonView): void {
		if (!this.views.some((v) => v.id === view.id)) {
			this.views.push(view);
			if (this.views.length > 10) {
				this.views.shift();
			}
		}
	}

	/**
	 * Runs the comparison to the end; resolves with its final view (undefined when refused).
	 * `sweepPool`/`sweepWorkers` skip the pickers (tests, API); for `chunksize`, `sweepWorkers`
	 * holds the chunksizes.
	 */
	public async compare(arg: unknown, kind: 'compare' | 'sweep' | 'chunksize', sweepPool?: PoolKind, sweepWorkers?: number[]): Promise<ComparisonView | undefined> {
		if (this.refuseWhileRunning()) {
			return undefined;
		}
		// As a run's: trusted, a function, a file on disk, saved (its configurations run the file from disk).
		const target = await this._runs.savedTarget(arg);
		if (!target) {
			return undefined;
		}
		const inputs = await this._runs.inputsFor(target, false);
		if (inputs === undefined) {
			return undefined;
		}
		const cores = availableParallelism();
		const config = vscode.workspace.getConfiguration('poolscope', target.uri);
		const repetitions = Math.min(5, Math.max(1, config.get<number>('compare.repetitions', 1)));
		let configs: Config[];
		const workers = config.get<number>('workers', 0) || cores;
		if (kind === 'compare') {
			const methods = target.language === 'python' ? config.get<PythonStartMethod[]>('compare.startMethods', []).filter((m) => ['fork', 'spawn', 'forkserver'].includes(m)) : [];
			configs = compareConfigs(workers, [...new Set(methods)]);
		} else if (kind === 'chunksize') {
			const sizes = (sweepWorkers ?? config.get<number[]>('sweep.chunksizes', [1, 10, 100])).filter((n) => Number.isInteger(n) && n >= 1);
			if (sizes.length < 2) {
				void vscode.window.showErrorMessage('Poolscope: "poolscope.sweep.chunksizes" needs at least two chunksizes, e.g. [1, 10, 100].');
				return undefined;
			}
			configs = chunksizeConfigs('process', workers, sizes, target.language);
		} else {
			let pool = sweepPool;
			if (!pool) {
				const pick = await vscode.window.showQuickPick([{ label: 'thread', description: 'threads' }, { label: 'process', description: 'processes' }], { title: `Sweep ${target.fn}: which pool?` });
				if (!pick) {
					return undefined;
				}
				pool = pick.label as PoolKind;
			}
			configs = [{ pool: 'serial', workers: 1 }, ...sweepConfigs(pool, sweepWorkers ?? powersOfTwoUpTo(2 * cores))];
		}
		const base = await this._runs.request(target, inputs, {});
		if (kind === 'compare') {
			const methods = [...new Set(configs.flatMap((c) => c.startMethod ? [c.startMethod] : []))];
			const comparable = comparableStartMethods(methods, base.maxTasksPerChild);
			if (comparable.note) {
				configs = compareConfigs(workers, comparable.methods);
				void vscode.window.showWarningMessage(`Poolscope: ${comparable.note}.`);
			}
		}
		// Again: one may have started while this one asked its questions (nothing awaits from here to its start).
		if (this.refuseWhileRunning()) {
			return undefined;
		}
		const id = `${kind}-${target.fn}-${Date.now()}`;
		const view: ComparisonView = { id, kind, fn: target.fn, file: target.uri.fsPath, language: target.language, cores, measurements: [], pending: configs.length, state: 'running' };
		this.remember(view);
		this._output.info(`${kind} ${target.fn}: ${configs.map(configLabel).join(', ')}, ${repetitions} repetition(s), inputs ${inputs}`);
		this._show(view);
		const { runId: _drop, pool: _p, workers: _w, chunksize: _c, ...rest } = base;
		const runIds = new Set<string>();
		// The panel draws each configuration's CPU under its lanes: one core busy under threads,
		// all under processes is the comparison's lesson (the engine's default measures without).
		// Often a fraction of a second each: sampled every 100 ms, /proc/stat's ticks still give 5%.
		const handle = runConfigs({ ...rest, cpuSampleMs: rest.cpuSampleMs ?? COMPARE_CPU_SAMPLE_MS }, configs, repetitions, (m: Measurement) => {
			view.measurements.push(m);
			view.pending = configs.length - view.measurements.length;
			this._show(view);
		}, (request, sink) => {
			runIds.add(request.runId);
			const record = this._controller.start(request, sink);
			// Each configuration takes the stage as it runs (a run the user had picked kept it,
			// and the comparison's live run went unseen behind it).
			this._showRun(request.runId);
			return record.handle ?? { runId: request.runId, done: Promise.resolve(record.finished!), cancelTask: async () => ({ ok: false, reason: 'not running' }), cancel: async () => undefined };
		});
		let ended!: () => void;
		this._active.set(id, { view, handle, runIds, ended: new Promise<void>((r) => { ended = r; }) });
		try {
			await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Poolscope: ${kind} ${target.fn}`, cancellable: true }, async (_progress, token) => {
				token.onCancellationRequested(() => void handle.cancel());
				await handle.done.catch(() => undefined);
			});
			const ms = await handle.done;
			if (handle.interrupted) {
				// As the CLI's Ctrl-C: the rows that ran, no advice or fit from part of a comparison.
				view.state = 'cancelled';
				view.advice = `Cancelled after ${ms.length} of ${configs.length} configurations: no advice from part of a comparison.`;
			} else {
				const sp = speedups(ms);
				view.advice = kind === 'chunksize' ? adviseChunksize(ms, target.language) : advise(ms, cores, target.language);
				if (kind === 'sweep') {
					view.serialFraction = amdahlFit(ms.filter((m) => m.config.pool !== 'serial').map((m) => ({ workers: m.config.workers, speedup: sp.get(m)! })), cores);
				}
				view.state = 'done';
			}
			this._output.info(`${kind} ${target.fn}: ${view.advice}`);
		} catch (e) {
			view.state = 'error';
			view.error = e instanceof Error ? e.message : String(e);
		} finally {
			this._active.delete(id);
			view.pending = 0;
			// Kept first: when the window closes, the panel may be gone already.
			this._onDone(view);
			ended();
			if (!this.isDisposed) {
				this._show(view);
			}
		}
		return view;
	}
}
