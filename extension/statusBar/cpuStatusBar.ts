import * as vscode from 'vscode';
import { CommandId } from '../commandIds';
import type { RunController } from '../runs/RunController';
import { Disposable } from '../util/disposable';

export interface CpuReading {
	/** Whole machine, 0..1. */
	total: number;
	/** Per logical CPU, 0..1. */
	perCore: number[];
}

/** Starts sampling every `intervalMs`; the returned disposable stops it. */
export type CpuSubscribe = (intervalMs: number, onSample: (reading: CpuReading) => void) => vscode.Disposable;

/**
 * `$(pulse) CPU 73% of 2 cores` in the status bar, per-core figures in the tooltip, a warning
 * colour while a run keeps more workers busy than there are cores (they only queue for CPU).
 */
export class CpuStatusBar extends Disposable {
	private readonly _item: vscode.StatusBarItem;
	private _sampling: vscode.Disposable | undefined;
	private _last: CpuReading | undefined;

	constructor(private readonly _subscribe: CpuSubscribe, private readonly _runs: RunController) {
		super();
		this._item = this._register(vscode.window.createStatusBarItem('poolscope.cpu', vscode.StatusBarAlignment.Right, 100));
		this._item.name = 'Poolscope CPU';
		this._item.command = CommandId.ShowPanel;
		this._register({ dispose: () => this._sampling?.dispose() });
		this._register(vscode.workspace.onDidChangeConfiguration((e) => {
			if (e.affectsConfiguration('poolscope.statusBar.enabled') || e.affectsConfiguration('poolscope.sampleIntervalMs')) {
				this.restart();
			}
		}));
		this.restart();
	}

	/** The latest reading, for tests. */
	public get last(): CpuReading | undefined {
		return this._last;
	}

	public get text(): string {
		return this._item.text;
	}

	private restart(): void {
		this._sampling?.dispose();
		this._sampling = undefined;
		const config = vscode.workspace.getConfiguration('poolscope');
		if (!config.get<boolean>('statusBar.enabled', true)) {
			this._item.hide();
			return;
		}
		const interval = Math.max(250, config.get<number>('sampleIntervalMs', 1000));
		this._item.text = '$(pulse) CPU';
		this._item.show();
		this._sampling = this._subscribe(interval, (r) => this.update(r));
	}

	private update(reading: CpuReading): void {
		this._last = reading;
		const cores = reading.perCore.length;
		const busyWorkers = this._runs.active.reduce((n, r) => n + [...r.model.workers.values()].filter((w) => w.state === 'busy').length, 0);
		const oversubscribed = busyWorkers > cores && reading.total > 0.9;
		this._item.text = `$(pulse) CPU ${Math.round(reading.total * 100)}% of ${cores} core${cores === 1 ? '' : 's'}`;
		const tip = new vscode.MarkdownString(undefined, true);
		tip.appendMarkdown(`**CPU** ${Math.round(reading.total * 100)}% of ${cores} cores\n\n`);
		tip.appendMarkdown(reading.perCore.map((c, i) => `core ${i}: ${Math.round(c * 100)}%`).join('  \n'));
		if (oversubscribed) {
			tip.appendMarkdown(`\n\n$(warning) ${busyWorkers} busy workers on ${cores} cores: the extra workers wait for a CPU, they do not add speed to CPU-bound work.`);
		}
		tip.appendMarkdown('\n\nClick to open the pool panel.');
		this._item.tooltip = tip;
		this._item.backgroundColor = oversubscribed ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
	}
}
