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
				counts.failures.push(`${test.fullTitle()}: ${message.split('\n')[0]}`);
				if (lines) {
					console.log(`${LINE_TAG} ✘ ${test.fullTitle()}\n${err instanceof Error ? err.stack ?? message : message}`);
				}
			});
		} catch (e) {
			reject(e);
		}
	});
}

/** Writes counts where the harness reads them (the variable is set by the harness). */
export function reportCounts(counts: StageCounts): void {
	const file = process.env[RESULTS_FILE_VAR];
	if (file) {
		writeFileSync(file, JSON.stringify(counts));
	}
}
