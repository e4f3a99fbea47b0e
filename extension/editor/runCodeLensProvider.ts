import * as vscode from 'vscode';
import { CommandId } from '../commandIds';
import { Disposable } from '../util/disposable';
import { findStaticMethods, type SourceFunction } from '../../engine/source/sourceFunctions';
import { documentFunctions, documentLanguage } from './functionTargets';

/** "Run in parallel | Run serially | Pool..." above every top-level function and static method. */
export class RunCodeLensProvider extends Disposable implements vscode.CodeLensProvider {
	private readonly _onDidChange = this._register(new vscode.EventEmitter<void>());
	public readonly onDidChangeCodeLenses = this._onDidChange.event;

	constructor() {
		super();
		this._register(vscode.workspace.onDidChangeConfiguration((e) => {
			if (e.affectsConfiguration('poolscope.codeLens.enabled') || e.affectsConfiguration('poolscope.defaultPool')) {
				this._onDidChange.fire();
			}
		}));
		this._register(vscode.workspace.onDidGrantWorkspaceTrust(() => this._onDidChange.fire()));
	}

	public async provideCodeLenses(document: vscode.TextDocument): Promise<vscode.CodeLens[]> {
		if (!vscode.workspace.getConfiguration('poolscope').get<boolean>('codeLens.enabled', true)) {
			return [];
		}
		const language = documentLanguage(document);
		if (!language) {
			return [];
		}
		const trusted = vscode.workspace.isTrusted;
		const lenses: vscode.CodeLens[] = [];
		const runnable = [...await documentFunctions(document), ...findStaticMethods(document.getText(), language)].sort((a, b) => a.line - b.line);
		for (const f of runnable) {
			const range = new vscode.Range(f.line, 0, f.line, 0);
			const args = [{ uri: document.uri.toString(), fn: f.name }];
			const suffix = trusted ? '' : ' (needs a trusted workspace)';
			// A function whose comment says pool=serial runs serially on one click: say so.
			const declaredSerial = f.options?.pool === 'serial';
			lenses.push(
				new vscode.CodeLens(range, { title: `$(play) ${declaredSerial ? 'Run (serial, as declared)' : 'Run in parallel'}${suffix}`, tooltip: runTooltip(f), command: CommandId.RunDefault, arguments: args }),
				new vscode.CodeLens(range, { title: 'Run serially', tooltip: `Run ${f.name} on one worker: the baseline for speedups`, command: CommandId.RunSerial, arguments: args }),
				new vscode.CodeLens(range, { title: 'Compare', tooltip: `Run ${f.name} serially, on threads and on processes, one after another, and compare`, command: CommandId.Compare, arguments: args }),
				new vscode.CodeLens(range, { title: 'Pool...', tooltip: 'Choose the pool, workers and start method', command: CommandId.Run, arguments: args }),
			);
		}
		return lenses;
	}
}

/** What one click does, as its comment declares it when it does. */
function runTooltip(f: SourceFunction): string {
	const o = f.options;
	if (f.problems?.length) {
		return `The poolscope comment above ${f.name} cannot be read: ${f.problems.join('; ')}`;
	}
	if (!o) {
		return `Run ${f.name} on the default pool (setting poolscope.defaultPool)`;
	}
	const pool = o.pool ? `a ${o.pool === 'serial' ? 'serial run' : `${o.pool} pool`}` : 'the default pool';
	const parts = [
		o.workers ? `${o.workers} worker${o.workers > 1 ? 's' : ''}` : '',
		o.timeoutMs ? `timeout ${o.timeoutMs} ms` : '',
		o.maxTasksPerChild ? `a worker replaced every ${o.maxTasksPerChild} task${o.maxTasksPerChild > 1 ? 's' : ''}` : '',
		o.startMethod ? `start method ${o.startMethod}` : '',
		o.mode ? `executor.${o.mode}` : '',
		o.chunksize ? `chunks of ${o.chunksize}` : '',
	].filter(Boolean);
	return `Run ${f.name} on ${pool}${parts.length ? ` (${parts.join(', ')})` : ''}, as its poolscope comment says`;
}
