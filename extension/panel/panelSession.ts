import { availableParallelism } from 'node:os';
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import { toChromeTrace } from '../../engine/trace/chromeTrace';
import type { ComparisonView, HistoryEntry, WebviewToHost } from '../../webview/messages';
import type { HistoryPanel } from '../history/historyCommands';
import type { PackedEvents } from '../../engine/protocol/eventPacking';
import type { RunController } from '../runs/RunController';
import type { CpuSubscribe } from '../statusBar/cpuStatusBar';
import { Disposable } from '../util/disposable';
import { PoolPanel } from './PoolPanel';

/**
 * Connects the one pool panel to the runs: full state on every `ready`, coalesced events while
 * it is visible, and the panel's actions carried out on the runs.
 */
export interface HistoryActions {
	readonly entries: readonly HistoryEntry[];
	open(id: string): Promise<void>;
	remove(id: string): Promise<void>;
	compareRuns(a: string, b: string): Promise<unknown>;
}

export class PanelSession extends Disposable implements HistoryPanel {
	private _activeRunId: string | undefined;
	private _panelSubs: vscode.Disposable[] = [];
	private _cpu: vscode.Disposable | undefined;
	/** Comparisons to replay after a (re)load; owned by the comparison commands. */
	public comparisons: () => readonly ComparisonView[] = () => [];
	public cancelComparison: (id: string) => Promise<void> = async () => undefined;
	public history: HistoryActions | undefined;

	constructor(
		private readonly _extensionUri: vscode.Uri,
		private readonly _runs: RunController,
		private readonly _cpuSubscribe: CpuSubscribe,
		private readonly _rerun: (runId: string) => Promise<unknown>,
	) {
		super();
		this._register(_runs.onEvents(({ runId, packed }) => PoolPanel.current?.post({ type: 'packed', runId, packed })));
		this._register({ dispose: () => this.detach() });
		if (PoolPanel.current) {
			this.attach(PoolPanel.current);
		}
	}

	public get panel(): PoolPanel | undefined {
		return PoolPanel.current;
	}

	/** Opens (or reveals) the panel, showing `runId` when given. */
	public show(runId?: string, preserveFocus = false): PoolPanel {
		if (runId) {
			this._activeRunId = runId;
		}
		const existed = PoolPanel.current;
		const panel = PoolPanel.createOrShow(this._extensionUri, preserveFocus);
		if (panel !== existed) {
			this.attach(panel);
		}
		if (runId) {
			panel.post({ type: 'select', runId });
		}
		return panel;
	}

	/** Shows (and updates) a comparison in the panel. */
	public showComparison(view: ComparisonView): void {
		const panel = PoolPanel.current ?? this.show(undefined, true);
		panel.post({ type: 'comparison', comparison: view });
	}

	/**
	 * Shows a run; `batches` when it just came back from the history, so a panel that is already
	 * up learns it (a panel that is not gets it with the next `init`).
	 */
	public showRun(runId: string, batches?: PackedEvents[]): void {
		const existed = PoolPanel.current;
		if (existed?.ready && batches) {
			postBatches(existed, runId, batches, false);
		}
		// Never takes focus: the request comes from the panel itself, or from a picker the user just closed.
		this.show(runId, true);
	}

	public postHistory(entries: HistoryEntry[]): void {
		PoolPanel.current?.post({ type: 'history', entries });
	}

	/** After a window reload, the serializer hands the restored panel here. */
	public revive(webviewPanel: vscode.WebviewPanel): void {
		this.attach(PoolPanel.revive(webviewPanel, this._extensionUri));
	}

	private attach(panel: PoolPanel): void {
		this.detach();
		this._panelSubs = [
			panel.onReady(() => {
				// A replay goes in messages of the coalescer's size: one message is one task in the webview.
				const replay = this._runs.replay();
				panel.post({ type: 'init', runs: replay.map((r) => ({ runId: r.runId, events: [] })), activeRunId: this._activeRunId, cores: availableParallelism() });
				for (const r of replay) {
					postBatches(panel, r.runId, r.batches, true);
				}
				for (const comparison of this.comparisons()) {
					panel.post({ type: 'comparison', comparison });
				}
				if (this.history) {
					panel.post({ type: 'history', entries: [...this.history.entries] });
				}
			}),
			panel.onMessage((m) => void this.handle(m)),
			panel.onDidDispose(() => this.detach()),
		];
		// "CPU now" in the panel's header between runs, sampled only while a panel exists.
		this._cpu = this._cpuSubscribe(1000, (r) => PoolPanel.current?.post({ type: 'cpu', sample: { type: 'cpu.sample', t: Number(process.hrtime.bigint()) / 1e6, total: r.total, perCore: r.perCore } }));
	}

	private detach(): void {
		for (const d of this._panelSubs) {
			d.dispose();
		}
		this._panelSubs = [];
		this._cpu?.dispose();
		this._cpu = undefined;
	}

	private async handle(m: WebviewToHost): Promise<void> {
		const panel = PoolPanel.current;
		switch (m.type) {
			case 'ready':
				break;
			case 'cancelRun':
				await this._runs.cancel(m.runId);
				break;
			case 'cancelTask': {
				const r = await this._runs.cancelTask(m.runId, m.taskId);
				if (!r.ok) {
					panel?.post({ type: 'cancelRefused', runId: m.runId, taskId: m.taskId, reason: r.reason });
				}
				break;
			}
			case 'cancelComparison':
				await this.cancelComparison(m.id);
				break;
			case 'rerun':
				await this._rerun(m.runId);
				break;
			case 'openHistory':
				await this.history?.open(m.id);
				break;
			case 'deleteHistory':
				await this.history?.remove(m.id);
				break;
			case 'compareRuns':
				await this.history?.compareRuns(m.runIds[0], m.runIds[1]);
				break;
			case 'openLocation': {
				const uri = vscode.Uri.file(m.file);
				try {
					const line = Math.max(0, m.line - 1);
					const col = Math.max(0, (m.column ?? 1) - 1);
					await vscode.window.showTextDocument(uri, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(line, col, line, col) });
				} catch (e) {
					panel?.post({ type: 'notice', level: 'error', message: `Cannot open ${m.file}: ${e instanceof Error ? e.message : String(e)}` });
				}
				break;
			}
			case 'exportTrace': {
				const run = this._runs.get(m.runId);
				if (!run) {
					panel?.post({ type: 'notice', level: 'error', message: 'That run is no longer in memory.' });
					break;
				}
				const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
				const name = `${run.request.fn}-${run.request.pool}-${m.runId.slice(-8)}.trace.json`;
				const target = await vscode.window.showSaveDialog({
					defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
					filters: { 'Chrome trace (Perfetto, chrome://tracing)': ['json'] },
					title: 'Export run as a Chrome trace',
				});
				if (target) {
					// A failed write was an unhandled rejection: the user clicked OK and heard nothing.
					try {
						await writeFile(target.fsPath, JSON.stringify(toChromeTrace(run.log.events())));
					} catch (e) {
						panel?.post({ type: 'notice', level: 'error', message: `Cannot write the trace to ${target.fsPath}: ${e instanceof Error ? e.message : String(e)}` });
						break;
					}
					panel?.post({ type: 'notice', level: 'info', message: `Trace written to ${target.fsPath}. Open it in https://ui.perfetto.dev or chrome://tracing.` });
				}
				break;
			}
			case 'snapshotStacks': {
				const handle = this._runs.get(m.runId)?.handle;
				if (!handle?.snapshotStacks) {
					panel?.post({ type: 'notice', level: 'info', message: 'Stack snapshots are available for running Python runs.' });
					break;
				}
				try {
					panel?.post({ type: 'stacks', runId: m.runId, text: await handle.snapshotStacks() });
				} catch (e) {
					panel?.post({ type: 'notice', level: 'error', message: `No stack snapshot: ${e instanceof Error ? e.message : String(e)}` });
				}
				break;
			}
		}
	}
}

/** A run's kept events (EventLog batches, each of the coalescer's size: one task in the webview). */
function postBatches(panel: PoolPanel, runId: string, batches: readonly PackedEvents[], replay: boolean): void {
	for (const packed of batches) {
		panel.post({ type: 'packed', runId, packed, ...(replay ? { replay } : {}) });
	}
}
