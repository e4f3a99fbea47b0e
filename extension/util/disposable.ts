import type * as vscode from 'vscode';

/**
 * Base for objects that own disposables. Registering on an already disposed owner disposes the
 * newcomer at once, so a late async registration cannot leak (pattern from VS Code's
 * custom-editor sample).
 */
export abstract class Disposable implements vscode.Disposable {
	private _isDisposed = false;
	protected readonly _disposables: vscode.Disposable[] = [];

	public get isDisposed(): boolean {
		return this._isDisposed;
	}

	public dispose(): void {
		if (this._isDisposed) {
			return;
		}
		this._isDisposed = true;
		const errors: unknown[] = [];
		while (this._disposables.length) {
			try {
				this._disposables.pop()?.dispose();
			} catch (e) {
				errors.push(e);
			}
		}
		if (errors.length) {
			throw errors.length === 1 ? errors[0] : new AggregateError(errors, 'dispose failed');
		}
	}

	protected _register<T extends vscode.Disposable>(value: T): T {
		if (this._isDisposed) {
			value.dispose();
		} else {
			this._disposables.push(value);
		}
		return value;
	}
}
