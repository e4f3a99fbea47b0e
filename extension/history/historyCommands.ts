import { availableParallelism } from 'node:os';
import * as vscode from 'vscode';
import { adviseRuns } from '../../engine/compare/advice';
import { measureRun } from '../../engine/compare/measurement';
import type { PackedEvents } from '../../engine/protocol/eventPacking';
import type { RunRequest } from '../../engine/runTypes';
import type { ComparisonView, HistoryEntry } from '../../webview/messages';
import { CommandId } from '../commandIds';
import type { RunController, RunRecord } from '../runs/RunController';
import { Disposable } from '../util/disposable';
import { DEFAULT_LIMITS, RunHistory, sameWorkspaceDirs } from './runHistory';

/** What the history needs from the panel, without knowing the panel. */
export interface HistoryPanel {
	/** `batches`: a run read back from the history, which the panel does not have yet. */
	showRun(runId: string, batches?: PackedEvents[]): void;
	showComparison(view: ComparisonView): void;
	postHistory(entries: HistoryEntry[]): void;
}

/**
 * Every finished run and comparison goes to the workspace's history; the panel lists it, and
 * entries open again (after a reload too) or are compared two at a time.
 */
export class HistoryCommands extends Disposable {
	public readonly history: RunHistory;
	public readonly loaded: Promise<void>;
	private _panel: HistoryPanel | undefined;

	constructor(storageDir: string, private readonly _runs: RunController, private readonly _output: vscode.LogOutputChannel) {
		super();
		const maxEntries = vscode.workspace.getConfiguration('poolscope').get<number>('history.maxRuns', DEFAULT_LIMITS.maxEntries);
		this.history = new RunHistory(storageDir, { ...DEFAULT_LIMITS, maxEntries: Math.max(1, maxEntries) });
		this.loaded = sameWorkspaceDirs(storageDir).then((others) => this.history.load(others)).then(() => this.publish());
		// After a reload the old window's extension host is still saving what it was running (it
		// has 5 s to end), maybe after this one read the history: read it again until then, so
		// the restored panel finds the run it showed.
		for (const ms of LATE_SAVES_MS) {
			const timer = setTimeout(() => void this.loaded.then(() => this.refresh(storageDir)), ms);
			this._register({ dispose: () => clearTimeout(timer) });
		}
		this._register(_runs.onDidFinish((record) => void this.saveRun(record)));
		this._register(vscode.commands.registerCommand(CommandId.OpenFromHistory, (id?: string) => this.pickAndOpen(id)));
		this._register(vscode.commands.registerCommand(CommandId.CompareRuns, (a?: string, b?: string) => this.pickAndCompare(a, b)));
	}

	public set panel(panel: HistoryPanel) {
		this._panel = panel;
	}

	public get entries(): readonly HistoryEntry[] {
		return this.history.entries;
	}

	public async saveComparison(view: ComparisonView): Promise<void> {
		try {
			await this.history.saveComparison(view);
			this.publish();
		} catch (e) {
			this._output.warn(`history: comparison ${view.id} not saved: ${message(e)}`);
		}
	}

	/** Shows a run or comparison from the history in the panel. */
	public async open(id: string): Promise<void> {
		await this.loaded;
		const entry = this.history.entries.find((e) => e.id === id);
		if (!entry) {
			void vscode.window.showErrorMessage(`Poolscope: "${id}" is no longer in the history.`);
			return;
		}
		try {
			if (entry.kind === 'comparison') {
				this._panel?.showComparison(await this.history.readComparison(id));
				return;
			}
			const inMemory = this._runs.get(id);
			if (inMemory) {
				this._panel?.showRun(id);
				return;
			}
			const record = await this.loadRun(id);
			this._panel?.showRun(id, record.log.batches());
		} catch (e) {
			void vscode.window.showErrorMessage(`Poolscope: cannot open "${entry.label}" from the history: ${message(e)}`);
		}
	}

	/**
	 * A run's request as the history kept it, the run adopted (as opening it would), for "Run
	 * again" on a run this window no longer holds; undefined when the history has no such run.
	 */
	public async storedRequest(runId: string): Promise<RunRequest | undefined> {
		await this.loaded;
		if (!this.history.entries.some((e) => e.id === runId && e.kind === 'run')) {
			return undefined;
		}
		return (await this.record(runId)).request;
	}

	public async remove(id: string): Promise<void> {
		await this.history.remove(id);
		this.publish();
	}

	/** B against A: wall time, CPU share, the verdict; both runs open as usual from the view. */
	public async compareRuns(a: string, b: string): Promise<ComparisonView | undefined> {
		await this.loaded;
		try {
			const [ra, rb] = [await this.record(a), await this.record(b)];
			const [ma, mb] = [measureRun(ra.log.events()), measureRun(rb.log.events())];
			if (!ma || !mb) {
				throw new Error('both runs must have ended');
			}
			const same = ra.request.fn === rb.request.fn && ra.request.file === rb.request.file && ra.request.inputs === rb.request.inputs;
			const view: ComparisonView = {
				id: `runs-${a}-${b}`, kind: 'runs', fn: ra.request.fn === rb.request.fn ? ra.request.fn : `${ra.request.fn} / ${rb.request.fn}`,
				file: ra.request.file, language: ra.request.language, cores: availableParallelism(), measurements: [ma, mb], pending: 0,
				advice: adviseRuns(ma, mb, same), state: 'done',
			};
			this._panel?.showComparison(view);
			return view;
		} catch (e) {
			void vscode.window.showErrorMessage(`Poolscope: cannot compare those runs: ${message(e)}`);
			return undefined;
		}
	}

	private async record(id: string): Promise<RunRecord> {
		return this._runs.get(id) ?? await this.loadRun(id);
	}

	private async loadRun(id: string): Promise<RunRecord> {
		const stored = await this.history.readRunPacked(id);
		return this._runs.adopt(stored.request, stored.batches, stored.truncated);
	}

	/**
	 * Saves runs whose end the history did not see: those VS Code's closing or reloading the
	 * window ended, after it had disposed our subscriptions. Resolves once they are on disk.
	 */
	public async saveEnded(records: readonly RunRecord[]): Promise<void> {
		await Promise.all(records.map((r) => this.saveRun(r)));
		await this.history.flush();
	}

	private async refresh(storageDir: string): Promise<void> {
		try {
			if (await this.history.refresh(await sameWorkspaceDirs(storageDir))) {
				this.publish();
			}
		} catch (e) {
			this._output.warn(`history: not read again: ${message(e)}`);
		}
	}

	private async saveRun(record: RunRecord): Promise<void> {
		try {
			if (record.finished) {
				await this.history.saveRun({ request: record.request, started: record.model.started, finished: record.finished, batches: record.log.batches(), truncated: record.truncated });
			}
			this.publish();
		} catch (e) {
			this._output.warn(`history: run ${record.request.runId} not saved: ${message(e)}`);
		}
	}

	private publish(): void {
		this._panel?.postHistory([...this.history.entries]);
	}

	private async pickAndOpen(id?: string): Promise<void> {
		await this.loaded;
		if (!id && !this.history.entries.length) {
			void vscode.window.showInformationMessage('Poolscope: the history is empty: finished runs and comparisons are kept there.');
			return;
		}
		const pick = id ?? (await vscode.window.showQuickPick(items(this.history.entries), { title: 'Poolscope: open from history', matchOnDescription: true }))?.id;
		if (pick) {
			await this.open(pick);
		}
	}

	private async pickAndCompare(a?: string, b?: string): Promise<ComparisonView | undefined> {
		await this.loaded;
		if (a && b) {
			return this.compareRuns(a, b);
		}
		const runs = this.history.entries.filter((e) => e.kind === 'run');
		if (runs.length < 2) {
			void vscode.window.showInformationMessage('Poolscope: the history needs two finished runs to compare.');
			return undefined;
		}
		const picked = await vscode.window.showQuickPick(items(runs), { title: 'Poolscope: pick two runs (the older one is A, the baseline)', canPickMany: true, matchOnDescription: true });
		if (!picked) {
			return undefined;
		}
		if (picked.length !== 2) {
			void vscode.window.showErrorMessage(`Poolscope: pick exactly two runs to compare (${picked.length} picked).`);
			return undefined;
		}
		const [older, newer] = picked.map((p) => runs.findIndex((e) => e.id === p.id)).sort((x, y) => x - y).map((i) => runs[i]!.id);
		return this.compareRuns(older!, newer!);
	}
}

/** When the history is read again after activation (a reloaded window's old host saves late). */
const LATE_SAVES_MS = [1500, 3500, 6500];

function items(entries: readonly HistoryEntry[]): (vscode.QuickPickItem & { id: string })[] {
	return [...entries].reverse().map((e) => ({
		id: e.id,
		label: `${e.kind === 'comparison' ? '$(graph)' : '$(play)'} ${e.fn}: ${e.label}`,
		description: `${e.outcome}${e.wallMs !== undefined ? ` · ${(e.wallMs / 1000).toFixed(2)} s` : ''} · ${new Date(e.savedAt).toLocaleString()}`,
		detail: `${vscode.workspace.asRelativePath(e.file)}${e.inputs ? ` · inputs ${e.inputs}` : ''}`,
	}));
}

function message(e: unknown): string {
	return e instanceof Error ? e.message : String(e);
}
