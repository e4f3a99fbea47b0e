import * as vscode from 'vscode';
import { CpuSampler } from '../engine/cpu/cpuSampler';
import { EngineThread } from '../engine/thread/engineThread';
import { CommandId, PANEL_VIEW_TYPE } from './commandIds';
import { RunCodeLensProvider } from './editor/runCodeLensProvider';
import { HistoryCommands } from './history/historyCommands';
import { PanelSession } from './panel/panelSession';
import type { PoolPanel } from './panel/PoolPanel';
import { ComparisonCommands } from './runs/comparisonCommands';
import { RunCommands, selectPythonInterpreter, type RunOverrides } from './runs/runCommands';
import { RunController, type RunRecord } from './runs/RunController';
import { CpuStatusBar, type CpuSubscribe } from './statusBar/cpuStatusBar';
import { guardedOutput } from './util/outputChannel';

/** Exposed for the integration tests (they run in the same extension host). */
export interface PoolscopeApi {
	readonly panel: () => PoolPanel | undefined;
	readonly runs: RunController;
	readonly statusBar: CpuStatusBar;
	readonly comparisons: ComparisonCommands;
	readonly history: HistoryCommands;
	run(target: { uri: string; fn: string }, overrides: RunOverrides): Promise<RunRecord | undefined>;
	/** What the panel's "Run again" does. */
	rerun(runId: string): Promise<RunRecord | undefined>;
}

let controller: RunController | undefined;
let engine: EngineThread | undefined;
let compares: ComparisonCommands | undefined;
let saved: HistoryCommands | undefined;

export function activate(context: vscode.ExtensionContext): PoolscopeApi {
	// Guarded: runs end (and log) after VS Code has disposed the channel when the window closes.
	const channel = vscode.window.createOutputChannel('Poolscope', { log: true });
	context.subscriptions.push(channel);
	const output = guardedOutput(channel);
	// A browser window (code-server) is a session of its own, which our workers' nice does not
	// reach: the host's session is lowered while runs are live (engine/priority.ts).
	engine = new EngineThread({ lowerSessionWhileRunning: vscode.env.uiKind === vscode.UIKind.Web });
	const thread = engine;
	// Ends once its runs have (the controller cancels them on dispose); `deactivate` awaits the same.
	context.subscriptions.push({ dispose: () => void thread.dispose() });
	controller = new RunController((request, sink) => thread.start(request, sink), (line) => output.info(line));
	context.subscriptions.push(controller);
	const runs = controller;
	const cpu: CpuSubscribe = (intervalMs, onSample) => {
		const sampler = new CpuSampler(intervalMs, (s) => onSample({ total: s.total, perCore: s.perCore }));
		return { dispose: () => sampler.dispose() };
	};
	const session = new PanelSession(context.extensionUri, runs, cpu, (runId) => rerun(runId));
	context.subscriptions.push(session);
	const commands = new RunCommands(context, runs, output, (runId) => session.show(runId, true));
	context.subscriptions.push(commands);
	// Workspace storage; a window without a folder keeps its history with the extension's global storage.
	const historyDir = vscode.Uri.joinPath(context.storageUri ?? vscode.Uri.joinPath(context.globalStorageUri, 'no-workspace'), 'history').fsPath;
	const history = new HistoryCommands(historyDir, runs, output);
	context.subscriptions.push(history);
	// The same run again (decisions.md): from memory, else from the history (a run that left memory).
	const rerun = async (runId: string): Promise<RunRecord | undefined> => {
		let request = runs.get(runId)?.request;
		try {
			request ??= await history.storedRequest(runId);
		} catch (e) {
			void vscode.window.showErrorMessage(`Poolscope: run ${runId} cannot run again: its history entry could not be read (${e instanceof Error ? e.message : String(e)}). Run the function again from the editor.`);
			return undefined;
		}
		if (!request) {
			void vscode.window.showErrorMessage(`Poolscope: run ${runId} is no longer in this window's memory nor in the workspace's history, so it cannot run again: run the function again from the editor.`);
			return undefined;
		}
		return commands.rerun(request);
	};
	const comparisons = new ComparisonCommands(commands, runs, (view) => session.showComparison(view), output, (view) => void history.saveComparison(view), (runId) => session.show(runId, true));
	context.subscriptions.push(comparisons);
	compares = comparisons;
	saved = history;
	history.panel = {
		showRun: (runId, batches) => session.showRun(runId, batches),
		showComparison: (view) => {
			comparisons.remember(view);
			session.showComparison(view);
		},
		postHistory: (entries) => session.postHistory(entries),
	};
	session.history = history;
	session.comparisons = () => comparisons.views;
	session.cancelComparison = (id) => comparisons.cancel(id);
	const statusBar = new CpuStatusBar(cpu, runs);
	context.subscriptions.push(
		statusBar,
		vscode.commands.registerCommand(CommandId.ShowPanel, () => session.show()),
		vscode.commands.registerCommand(CommandId.SelectPythonInterpreter, () => selectPythonInterpreter()),
		vscode.commands.registerCommand(CommandId.OpenSamples, () => vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.joinPath(context.extensionUri, 'samples'), { forceNewWindow: true })),
		vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
			deserializeWebviewPanel: async (panel: vscode.WebviewPanel) => session.revive(panel),
		}),
	);
	const lenses = new RunCodeLensProvider();
	context.subscriptions.push(lenses, vscode.languages.registerCodeLensProvider(
		[{ language: 'python' }, { language: 'javascript' }, { language: 'typescript' }, { language: 'javascriptreact' }, { language: 'typescriptreact' }],
		lenses,
	));
	return {
		panel: () => session.panel,
		runs,
		statusBar,
		comparisons,
		history,
		run: (target, overrides) => commands.run(target, overrides),
		rerun,
	};
}

/**
 * Ends every run (workers, processes) before the extension host goes away, and keeps them in the
 * history as cancelled, so a reloaded window's panel brings back what it showed. VS Code disposes
 * the subscriptions right after calling this, without waiting (and gives it 5 s): nothing below
 * may need them.
 */
export async function deactivate(): Promise<void> {
	// The runs first: their tasks say why they ended (the comparisons' cancel would say "comparison cancelled").
	const runs = controller?.shutdown() ?? Promise.resolve([]);
	const comparisons = compares?.shutdown();
	const ended = await runs;
	await comparisons;
	await saved?.saveEnded(ended);
	controller = undefined;
	compares = undefined;
	saved = undefined;
	await engine?.dispose();
	engine = undefined;
}
