/**
 * Runs mocha programmatically and reports counts, so every stage of `npm test` (unit tests in
 * plain Node, the suite inside VS Code's extension host, the Playwright UI tests) adds to one
 * closing `N passed, N failed` line.
 */
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export interface StageCounts {
	passed: number;
	failed: number;
	pending: number;
	failures: string[];
}

export const RESULTS_FILE_VAR = 'POOLSCOPE_RESULTS_FILE';

/** Every `*.test.js` under `dir` (recursive), sorted so runs are repeatable. */
export function findTests(dir: string, suffix = '.test.js'): string[] {
	if (!existsSync(dir)) {
		return [];
	}
	const out: string[] = [];
	for (const name of readdirSync(dir)) {
		const full = join(dir, name);
		if (statSync(full).isDirectory()) {
			out.push(...findTests(full, suffix));
		} else if (name.endsWith(suffix)) {
			out.push(full);
		}
	}
	return out.sort();
}

export interface MochaOptions {
	timeoutMs?: number;
	grep?: string;
	/** Color output: off where the output is not a terminal (the extension host's console). */
	color?: boolean;
	/**
	 * 'lines': one self-contained console.log per result, tagged so the harness can pick them
	 * out of the workbench's console (the extension host's console reaches the harness only as
	 * browser console messages, where the spec reporter's format strings arrive mangled).
	 */
	reporter?: 'spec' | 'lines';
}

export const LINE_TAG = '[poolscope:test]';

export function runMocha(files: string[], options: MochaOptions = {}): Promise<StageCounts> {
	const mocha = new Mocha({
		ui: 'bdd',
		timeout: options.timeoutMs ?? 60_000,
		color: options.color ?? Boolean(process.stdout.isTTY),
		reporter: options.reporter === 'lines' ? Mocha.reporters.Base : 'spec',
		...(options.grep ? { grep: options.grep } : {}),
	});
	for (const f of files) {
		mocha.addFile(f);
	}
	return new Promise((resolve, reject) => {
		const counts: StageCounts = { passed: 0, failed: 0, pending: 0, failures: [] };
		try {
			const runner = mocha.run(() => resolve(counts));
			const lines = options.reporter === 'lines';
			runner.on('pass', (test) => {
				counts.passed++;
				if (lines) {
					console.log(`${LINE_TAG} ✔ ${test.fullTitle()} (${test.duration ?? 0} ms)`);
				}
			});
			runner.on('pending', (test) => {
				counts.pending++;
				if (lines) {
					console.log(`${LINE_TAG} - ${test.fullTitle()} (pending)`);
				}
			});
			runner.on('fail', (test, err: unknown) => {
				counts.failed++;
				const message = err instanceof Error ? err.message : String(err);
				counts.failures.push(`${test.fullTitle()}: ${message.split('\n')[0]}${assertionValues(err)}`);
				if (lines) {
					console.log(`${LINE_TAG} ✘ ${test.fullTitle()}\n${err instanceof Error ? err.stack ?? message : message}`);
				}
			});
		} catch (e) {
			reject(e);
		}
	});
}

/**
 * What a failed assertion compared, in one line: CI shows only the summary at the end of a long
 * log, and "Expected values to be strictly deep-equal:" alone says nothing.
 */
export function assertionValues(err: unknown): string {
	if (!(err instanceof Error) || !('actual' in err) || !('expected' in err) || !err.message.includes('\n')) {
		return '';
	}
	// Mocha's reporters have already turned both into its own (multi-line) text by now.
	const show = (v: unknown): string => {
		let text: string;
		try {
			text = typeof v === 'string' ? v.replace(/\s*\n\s*/g, ' ') : JSON.stringify(v) ?? String(v);
		} catch {
			text = String(v);
		}
		return text.length > 300 ? `${text.slice(0, 300)}...` : text;
	};
	return ` (actual ${show(err.actual)}, expected ${show(err.expected)})`;
}

/** Writes counts where the harness reads them (the variable is set by the harness). */
export function reportCounts(counts: StageCounts): void {
	const file = process.env[RESULTS_FILE_VAR];
	if (file) {
		writeFileSync(file, JSON.stringify(counts));
	}
}
