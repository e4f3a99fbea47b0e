import type * as vscode from 'vscode';
import type { SourceLanguage } from '../../engine/source/sourceFunctions';

const KEY = 'poolscope.inputs';

export const INPUT_EXAMPLES: Record<SourceLanguage, string> = {
	python: '[(25_000_000,)] * 4',
	javascript: '[[32], [32], [32], [32]]',
	typescript: '[[32], [32], [32], [32]]',
};

/** The inputs expression last used per function, kept in the workspace's state. */
export class InputsStore {
	constructor(private readonly _state: vscode.Memento) {}

	public get(uri: vscode.Uri, fn: string): string | undefined {
		return this._state.get<Record<string, string>>(KEY, {})[`${uri.toString()}#${fn}`];
	}

	public async set(uri: vscode.Uri, fn: string, inputs: string): Promise<void> {
		const all = { ...this._state.get<Record<string, string>>(KEY, {}) };
		all[`${uri.toString()}#${fn}`] = inputs;
		await this._state.update(KEY, all);
	}
}
