import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as vscode from 'vscode';
import type { PoolKind, PythonStartMethod, RunFinishedEvent } from '../../engine/protocol/events';
import { DEFAULT_MAX_HEAP_MB, DEFAULT_STALL_MS, MIN_MAX_HEAP_MB, type RunRequest } from '../../engine/runTypes';
import { CommandId } from '../commandIds';
import { documentLanguage, functionAtCursor, methodAtCursor, refreshTarget, type FunctionTarget } from '../editor/functionTargets';
import { chunksizeApplies, languageOfFile } from '../../engine/source/sourceFunctions';
import { venvInterpreter } from '../../engine/python/interpreter';
import { resolvePythonPath } from '../python/pythonInterpreter';
import { Disposable } from '../util/disposable';
import { INPUT_EXAMPLES, InputsStore } from './inputsStore';
import type { RunController, RunRecord } from './RunController';

/** What a code lens passes: a URI string and a function name. */
interface TargetArg {
	uri: string;
	fn: string;
}

export const TRUST_MESSAGE = 'Poolscope runs your code, so it needs a trusted workspace. This workspace is in Restricted Mode.';
export const NO_FUNCTION_MESSAGE = 'Put the cursor inside a top-level Python, JavaScript or TypeScript function (or click "Run in parallel" above it).';

/** What to say when no function is targeted: for a method, why a pool cannot call it, and what to write instead. */
export function noFunctionMessage(editor: vscode.TextEditor | undefined): string {
	const m = editor ? methodAtCursor(editor) : undefined;
	if (!m) {
		return NO_FUNCTION_MESSAGE;
	}
	const example = m.language === 'python'
		? `def ${m.method}_task(x): return ${m.className}().${m.method}(x)`
		: `function ${m.method}Task(x) { return new ${m.className}().${m.method}(x); }`;
	return `Poolscope: ${m.method} is a method of class ${m.className}, and a pool calls top-level functions (a process pool finds them by name in a fresh ${m.language === 'python' ? 'interpreter' : 'worker'}, with no object to call it on). Add one at the top level that makes the object and calls it, e.g. \`${example}\`, and run that.`;
}

export function declaredProblemsMessage(target: FunctionTarget): string {
	return `Poolscope: the poolscope comment above ${target.fn} in ${vscode.workspace.asRelativePath(target.uri)} cannot be read, so it did not run: ${target.declaredProblems!.join('; ')}.`;
}

function unsavedMessage(uri: vscode.Uri): string {
	return `Poolscope runs a function from a file on disk: save ${uri.scheme === 'untitled' ? 'this new file' : uri.toString()} to a folder first.`;
}

/** Long runs get a progress notification with a cancel button after this long. */
const PROGRESS_AFTER_MS = 3000;

export interface RunOverrides {
	pool?: PoolKind;
	workers?: number;
	startMethod?: PythonStartMethod;
	inputs?: string;
}

/** A comparison going on, as "Cancel Run" offers it (set by the comparison commands). */
export interface CancellableComparison {
	readonly id: string;
	readonly label: string;
	readonly description: string;
	/** The runs it started: offered as the comparison, not one by one. */
	readonly runIds: ReadonlySet<string>;
}

/** The run commands of the palette and the code lenses. */
export class RunCommands extends Disposable {
	private readonly _inputs: InputsStore;
	/** Comparisons "Cancel Run" offers, and how to cancel one (the comparison commands come later). */
	public comparisons: { active(): readonly CancellableComparison[]; cancel(id: string): Promise<void> } = { active: () => [], cancel: async () => undefined };

	constructor(
		context: vscode.ExtensionContext,
		private readonly _controller: RunController,
		private readonly _output: vscode.LogOutputChannel,
		private readonly _showPanel: (runId?: string) => void,
	) {
		super();
		this._inputs = new InputsStore(context.workspaceState);
		const reg = (id: CommandId, fn: (...args: unknown[]) => unknown) => this._register(vscode.commands.registerCommand(id, fn));
		reg(CommandId.RunThread, (a) => this.run(a, { pool: 'thread' }));
		reg(CommandId.RunProcess, (a) => this.run(a, { pool: 'process' }));
		reg(CommandId.RunSerial, (a) => this.run(a, { pool: 'serial' }));
		reg(CommandId.RunDefault, (a) => this.run(a, {}));
		reg(CommandId.Run, (a) => this.runWithChoices(a));
		reg(CommandId.CancelRun, (a) => this.cancelRun(a));
		reg(CommandId.SetInputs, (a) => this.setInputs(a));
	}

	/** Starts a run; returns its record (for tests and the API) or undefined when refused. */
	public async run(arg: unknown, overrides: RunOverrides): Promise<RunRecord | undefined> {
		const target = await this.savedTarget(arg);
		if (!target) {
			return undefined;
		}
		const inputs = overrides.inputs ?? await this.inputsFor(target, false);
		if (inputs === undefined) {
			return undefined; // the user dismissed the inputs box
		}
		return this.launch(await this.request(target, inputs, overrides));
	}

	/**
	 * "Run again": the run's own request (function, inputs, pool, workers and every other option,
	 * the interpreter) under a new id, whatever the comment or the settings say now; only the file
	 * is read again (saved first, as for any run). A file or function gone since fails as any run
	 * does, with the engine's error in the panel.
	 */
	public async rerun(previous: RunRequest & { pythonSource?: string }): Promise<RunRecord | undefined> {
		if (!this.trusted()) {
			return undefined;
		}
		const uri = vscode.Uri.file(previous.file);
		const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
		if (document?.isDirty && !(await document.save())) {
			void vscode.window.showErrorMessage(`Poolscope: ${vscode.workspace.asRelativePath(uri)} could not be saved, and a run takes the file from disk: it did not run again.`);
			return undefined;
		}
		return this.launch({ ...previous, runId: newRunId(previous.fn) }, true);
	}

	private launch(request: RunRequest & { pythonSource?: string }, again = false): RunRecord {
		const interpreter = request.language === 'python' ? ` with ${request.pythonPath ?? 'python3 from PATH'}` : ` on node ${process.version}`;
		this._output.info(`run ${request.runId}${again ? ' (run again)' : ''}: ${request.fn} in ${vscode.workspace.asRelativePath(request.file)} on a ${request.pool} pool (${request.workers ?? 'default'} workers), inputs ${request.inputs}${interpreter}`);
		const record = this._controller.start(request);
		this._showPanel(request.runId);
		this.progressIfLong(record);
		if (request.language === 'python') {
			void record.handle?.done.then((end) => this.interpreterProblem(end, request.pythonSource));
		}
		return record;
	}

	/**
	 * `runnableTarget`, its file saved: a pool runs the file from disk, so unsaved edits would not
	 * run (a comparison ran the last saved code while the editor showed the new). Says what failed.
	 */
	public async savedTarget(arg: unknown): Promise<FunctionTarget | undefined> {
		const target = await this.runnableTarget(arg);
		if (!target) {
			return undefined;
		}
		const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.uri.toString());
		if (document?.isDirty && !(await document.save())) {
			void vscode.window.showErrorMessage(`Poolscope: ${vscode.workspace.asRelativePath(target.uri)} could not be saved, and a run takes the file from disk: it did not start.`);
			return undefined;
		}
		return target;
	}

	/**
	 * What every run needs, checked before any question is asked ("Pool..." asked for the pool and
	 * the workers, then said the workspace was not trusted): a trusted workspace, a function, a
	 * file on disk. Says what is missing.
	 */
	private async runnableTarget(arg: unknown): Promise<FunctionTarget | undefined> {
		if (!this.trusted()) {
			return undefined;
		}
		const target = await this.target(arg);
		if (!target) {
			void vscode.window.showErrorMessage(noFunctionMessage(vscode.window.activeTextEditor));
			return undefined;
		}
		if (target.declaredProblems?.length) {
			void vscode.window.showErrorMessage(declaredProblemsMessage(target));
			return undefined;
		}
		const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === target.uri.toString());
		// The pools run the file from disk: an unsaved buffer would run other code, or none.
		if (target.uri.scheme !== 'file' || document?.isUntitled) {
			void vscode.window.showErrorMessage(unsavedMessage(target.uri));
			return undefined;
		}
		return target;
	}

	/** Whether the workspace is trusted; says so, with the way to trust it, when not. */
	private trusted(): boolean {
		if (!vscode.workspace.isTrusted) {
			void vscode.window.showWarningMessage(TRUST_MESSAGE, 'Manage Workspace Trust').then((choice) => {
				if (choice) {
					void vscode.commands.executeCommand('workbench.trust.manage');
				}
			});
			return false;
		}
		return true;
	}

	/** A missing, too old or wrong interpreter is a set-up problem: say which one and where it came from. */
	private async interpreterProblem(end: RunFinishedEvent, source: string | undefined): Promise<void> {
		if (end.outcome !== 'error' || !end.error || !['PythonNotFound', 'PythonTooOld', 'NotPython'].includes(end.error.name)) {
			return;
		}
		this._output.warn(`run ${end.runId}: ${end.error.message} (interpreter from ${source ?? 'python3 / python on PATH'})`);
		const choice = await vscode.window.showErrorMessage(`Poolscope: ${end.error.message} (interpreter from ${source ?? 'python3 / python on PATH'}).`, 'Select Python Interpreter');
		if (choice) {
			await vscode.commands.executeCommand(CommandId.SelectPythonInterpreter);
		}
	}

	public async target(arg: unknown): Promise<FunctionTarget | undefined> {
		if (arg && typeof arg === 'object' && typeof (arg as TargetArg).uri === 'string' && typeof (arg as TargetArg).fn === 'string') {
			const uri = vscode.Uri.parse((arg as TargetArg).uri);
			// An untitled buffer has no extension: its language mode says (then the run says "save it first").
			const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
			const language = languageOfFile(uri.fsPath) ?? (open ? documentLanguage(open) : undefined);
			return language ? refreshTarget({ uri, fn: (arg as TargetArg).fn, language }) : undefined;
		}
		const editor = vscode.window.activeTextEditor;
		return editor ? functionAtCursor(editor) : undefined;
	}

	/** Declared comment > remembered value > asked (and remembered). `ask` forces the box. */
	public async inputsFor(target: FunctionTarget, ask: boolean): Promise<string | undefined> {
		if (!ask && target.declaredInputs) {
			return target.declaredInputs;
		}
		const remembered = this._inputs.get(target.uri, target.fn);
		if (!ask && remembered) {
			return remembered;
		}
		const example = INPUT_EXAMPLES[target.language];
		const value = await vscode.window.showInputBox({
			title: `Poolscope: inputs for ${target.fn}`,
			prompt: `An expression in ${target.language === 'python' ? 'Python' : 'JavaScript'} that yields an iterable: one call per item, a ${target.language === 'python' ? 'tuple' : 'array'} item is spread as arguments. Or a count N for 0..N-1.`,
			value: remembered ?? target.declaredInputs ?? example,
			placeHolder: example,
			ignoreFocusOut: true,
			validateInput: (v) => (v.trim() ? undefined : 'Inputs cannot be empty'),
		});
		if (value === undefined) {
			return undefined;
		}
		await this._inputs.set(target.uri, target.fn, value.trim());
		return value.trim();
	}

	public async request(target: FunctionTarget, inputs: string, o: RunOverrides): Promise<RunRequest & { pythonSource?: string }> {
		const config = vscode.workspace.getConfiguration('poolscope', target.uri);
		const defaultPool = config.get<string>('defaultPool', 'auto');
		const declared = target.declaredOptions ?? {};
		const pool: PoolKind = o.pool ?? declared.pool ?? (defaultPool === 'thread' || defaultPool === 'process' || defaultPool === 'serial'
			? defaultPool
			: target.language === 'python' ? 'process' : 'thread');
		const workers = o.workers ?? declared.workers ?? (config.get<number>('workers', 0) || undefined);
		const timeoutMs = (declared.timeoutMs ?? config.get<number>('taskTimeoutMs', 0)) || undefined;
		const stallSeconds = config.get<number>('stallWarningSeconds', DEFAULT_STALL_MS / 1000);
		const startMethod = o.startMethod ?? declared.startMethod ?? (config.get<string>('python.startMethod', '') as PythonStartMethod | '' || undefined);
		// For Python whatever the pool: a comparison's process runs take it from this request.
		const maxTasksPerChild = target.language === 'python' ? (declared.maxTasksPerChild ?? config.get<number>('python.maxTasksPerChild', 0)) || undefined : undefined;
		const mode = target.language === 'python' ? declared.mode : undefined;
		// Chunks exist only where a process pool sends them (Python's through map): the comment's
		// chunksize is left out when "Run on Thread Pool" or "Run Serially" took the run elsewhere.
		const chunksize = chunksizeApplies(pool, target.language, mode) ? declared.chunksize : undefined;
		const folder = vscode.workspace.getWorkspaceFolder(target.uri);
		const python = target.language === 'python' ? await resolvePythonPath(target.uri) : undefined;
		return {
			runId: newRunId(target.fn),
			file: target.uri.fsPath,
			fn: target.fn,
			language: target.language,
			pool,
			workers: pool === 'serial' ? 1 : workers,
			inputs,
			timeoutMs,
			stallMs: Number.isFinite(stallSeconds) && stallSeconds >= 0 ? Math.round(stallSeconds * 1000) : undefined,
			startMethod: target.language === 'python' && pool === 'process' ? startMethod : undefined,
			maxTasksPerChild,
			mode,
			chunksize,
			pythonPath: python?.path,
			pythonSource: python?.source,
			workspaceRoot: folder?.uri.fsPath,
			priority: config.get<string>('workerPriority', 'low') === 'normal' ? 'normal' : 'low',
			maxHeapMb: target.language === 'python' ? undefined : heapLimit(config.get<number>('maxHeapMb', DEFAULT_MAX_HEAP_MB)),
		};
	}

	private async runWithChoices(arg: unknown): Promise<RunRecord | undefined> {
		const target = await this.runnableTarget(arg);
		if (!target) {
			return undefined;
		}
		const pools: (vscode.QuickPickItem & { pool: PoolKind })[] = [
			{ label: '$(layers) Thread pool', description: target.language === 'python' ? 'ThreadPoolExecutor: shares the GIL' : 'worker_threads (piscina)', pool: 'thread' },
			{ label: '$(server-process) Process pool', description: target.language === 'python' ? 'ProcessPoolExecutor: one interpreter per worker' : 'child processes', pool: 'process' },
			{ label: '$(debug-step-over) Serially', description: 'one worker: the baseline for speedups', pool: 'serial' },
		];
		const picked = await vscode.window.showQuickPick(pools, { title: `Poolscope: run ${target.fn} on`, ignoreFocusOut: true });
		if (!picked) {
			return undefined;
		}
		let workers: number | undefined;
		if (picked.pool !== 'serial') {
			const cores = (await import('node:os')).availableParallelism();
			const value = await vscode.window.showInputBox({
				title: 'Workers',
				ignoreFocusOut: true, // as the pool picker: a click elsewhere dropped the run without a word
				prompt: `How many workers (this machine has ${cores} cores). Empty: the pool's default.`,
				value: String(vscode.workspace.getConfiguration('poolscope').get<number>('workers', 0) || cores),
				validateInput: (v) => (v.trim() === '' || (/^\d+$/.test(v.trim()) && Number(v) >= 1 && Number(v) <= 1024) ? undefined : 'A whole number from 1 to 1024'),
			});
			if (value === undefined) {
				return undefined;
			}
			workers = value.trim() ? Number(value) : undefined;
		}
		let startMethod: PythonStartMethod | undefined;
		if (target.language === 'python' && picked.pool === 'process') {
			const method = await vscode.window.showQuickPick([
				{ label: 'default', description: 'the platform default (fork on Linux before 3.14, forkserver from 3.14; spawn on macOS and Windows)' },
				{ label: 'fork', description: 'copy of the parent: fast start, unsafe with threads' },
				{ label: 'spawn', description: 'a fresh interpreter per worker: slow start, always safe' },
				{ label: 'forkserver', description: 'forks from a clean server process' },
			], { title: 'Start method', ignoreFocusOut: true });
			if (!method) {
				return undefined;
			}
			startMethod = method.label === 'default' ? undefined : method.label as PythonStartMethod;
		}
		return this.run({ uri: target.uri.toString(), fn: target.fn }, { pool: picked.pool, workers, startMethod });
	}

	private async cancelRun(arg: unknown): Promise<void> {
		const active = this._controller.active;
		const runId = typeof arg === 'string' ? arg : undefined;
		if (runId) {
			await this._controller.cancel(runId);
			return;
		}
		// A comparison is offered as itself: cancelling its current run ends it all the same.
		const comparisons = this.comparisons.active();
		const inComparison = new Set(comparisons.flatMap((c) => [...c.runIds]));
		const choices: (vscode.QuickPickItem & { cancel: () => Promise<void> })[] = [
			...comparisons.map((c) => ({ label: `$(graph) ${c.label}`, description: c.description, cancel: () => this.comparisons.cancel(c.id) })),
			...active.filter((r) => !inComparison.has(r.request.runId)).map((r) => ({ label: r.request.fn, description: `${r.request.pool} pool, ${r.model.counts.finished}/${r.model.counts.submitted} done`, cancel: () => this._controller.cancel(r.request.runId) })),
		];
		if (!choices.length) {
			void vscode.window.showInformationMessage('Poolscope: no run is going on.');
			return;
		}
		let chosen = choices[0]!;
		if (choices.length > 1) {
			const pick = await vscode.window.showQuickPick(choices, { title: 'Cancel which run?' });
			if (!pick) {
				return;
			}
			chosen = pick;
		}
		await chosen.cancel();
	}

	private async setInputs(arg: unknown): Promise<void> {
		const target = await this.target(arg);
		if (!target) {
			void vscode.window.showErrorMessage(noFunctionMessage(vscode.window.activeTextEditor));
			return;
		}
		const value = await this.inputsFor(target, true);
		if (value !== undefined && target.declaredInputs) {
			void vscode.window.showInformationMessage(`Saved. Note: the "poolscope: inputs=" comment above ${target.fn} still wins over the saved value.`);
		}
	}

	private progressIfLong(record: RunRecord): void {
		const timer = setTimeout(() => {
			if (record.finished) {
				return;
			}
			void vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Poolscope: ${record.request.fn}`, cancellable: true }, async (progress, token) => {
				token.onCancellationRequested(() => void this._controller.cancel(record.request.runId));
				let reported = 0;
				while (!record.finished) {
					const c = record.model.counts;
					const done = c.finished + c.failed + c.cancelled + c.timedOut + c.rejected;
					const total = record.model.started?.inputCount ?? c.submitted;
					const pct = total ? (done / total) * 100 : 0;
					progress.report({ message: `${done} of ${total || '?'} tasks done`, increment: pct - reported });
					reported = pct;
					await new Promise((r) => setTimeout(r, 500));
				}
			});
		}, PROGRESS_AFTER_MS);
		this._register({ dispose: () => clearTimeout(timer) });
	}
}

/** Quick pick of interpreters; writes poolscope.pythonPath. */
export async function selectPythonInterpreter(): Promise<void> {
	const candidates = new Set<string>();
	for (const folder of vscode.workspace.workspaceFolders ?? []) {
		const venv = venvInterpreter(folder.uri.fsPath);
		if (venv) {
			candidates.add(venv);
		}
	}
	for (const dir of (process.env.PATH ?? '').split(':')) {
		for (const name of ['python3', 'python', 'python3.9', 'python3.10', 'python3.11', 'python3.12', 'python3.13', 'python3.14']) {
			if (dir && existsSync(`${dir}/${name}`)) {
				candidates.add(`${dir}/${name}`);
			}
		}
	}
	const current = vscode.workspace.getConfiguration('poolscope').get<string>('pythonPath', '');
	const items: vscode.QuickPickItem[] = [
		{ label: '$(clear-all) Default', description: "the Python extension's environment, else the workspace's .venv, else python3 on PATH" },
		{ label: '$(folder) Enter interpreter path...' },
		...[...candidates].map((p) => ({ label: p, description: p === current ? 'current' : undefined })),
	];
	const pick = await vscode.window.showQuickPick(items, { title: 'Poolscope: Python interpreter' });
	if (!pick) {
		return;
	}
	let value = pick.label;
	if (pick.label.includes('Default')) {
		value = '';
	} else if (pick.label.includes('Enter interpreter path')) {
		const typed = await vscode.window.showInputBox({ prompt: 'Path of a Python 3.9+ interpreter', value: current });
		if (typed === undefined) {
			return;
		}
		value = typed.trim();
	}
	const target = vscode.workspace.workspaceFolders?.length ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
	await vscode.workspace.getConfiguration('poolscope').update('pythonPath', value, target);
}

function newRunId(fn: string): string {
	return `${fn}-${randomBytes(4).toString('hex')}`;
}

/** 0 keeps Node's own limit; a setting cannot refuse, so too small a limit is raised. */
function heapLimit(mb: number): number {
	return mb > 0 ? Math.max(MIN_MAX_HEAP_MB, Math.round(mb)) : 0;
}
