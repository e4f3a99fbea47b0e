/**
 * `extensionTestsPath` entry, loaded by the extension host of a real VS Code (code-server in
 * `npm test`, desktop VS Code under @vscode/test-electron): the same contract for both.
 */
import { join } from 'node:path';
import { findTests, LINE_TAG, reportCounts, runMocha } from '../harness/mochaRun';

export async function run(): Promise<void> {
	const files = findTests(__dirname).filter((f) => !f.endsWith('index.js'));
	const counts = await runMocha(files, { timeoutMs: 120_000, color: false, reporter: 'lines', grep: process.env.POOLSCOPE_GREP });
	reportCounts(counts);
	console.log(`${LINE_TAG} integration suite: ${counts.passed} passed, ${counts.failed} failed (${join(__dirname)})`);
	if (counts.failed > 0) {
		throw new Error(`${counts.failed} integration test(s) failed:\n${counts.failures.join('\n')}`);
	}
}
