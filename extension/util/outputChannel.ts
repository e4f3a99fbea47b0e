import type * as vscode from 'vscode';

/** What writes a line; the rest of the channel (show, dispose, ...) is passed through. */
const WRITES = new Set<PropertyKey>(['trace', 'debug', 'info', 'warn', 'error', 'append', 'appendLine', 'replace', 'clear']);

/**
 * The channel, with every write made safe: once VS Code disposes it (the window closing or
 * reloading disposes the subscriptions right after calling `deactivate`), a write throws "Channel
 * has been closed", and a run ending then logged its end before the history saved it: the throw
 * lost the run. A log line is never worth more than what follows it.
 */
export function guardedOutput(channel: vscode.LogOutputChannel): vscode.LogOutputChannel {
	return new Proxy(channel, {
		get(target, key) {
			const value: unknown = Reflect.get(target, key, target);
			if (typeof value !== 'function') {
				return value;
			}
			const fn = value as (...args: unknown[]) => unknown;
			if (!WRITES.has(key)) {
				return fn.bind(target);
			}
			return (...args: unknown[]) => {
				try {
					return fn.apply(target, args);
				} catch {
					return undefined; // disposed: the line goes nowhere
				}
			};
		},
	});
}
