/**
 * One mocha stage in a process of its own (unit tests, browser tests): a crash or a leaked
 * handle there cannot take the harness down, and the harness can kill its process group on
 * timeout. Usage: node mochaStage.js <dir> [--grep=...]
 */
import { findTests, reportCounts, runMocha } from './mochaRun';

async function main(): Promise<void> {
	const dir = process.argv[2];
	if (!dir) {
		throw new Error('usage: mochaStage.js <dir-of-compiled-tests>');
	}
	const grep = process.argv.find((a) => a.startsWith('--grep='))?.slice('--grep='.length);
	const files = findTests(dir);
	const counts = await runMocha(files, { grep });
	reportCounts(counts);
	// Exit explicitly: a test that leaks a timer or a socket must not hang the stage.
	process.exit(counts.failed > 0 ? 1 : 0);
}

main().catch((e) => {
	console.error(e instanceof Error ? e.stack : e);
	process.exit(2);
});
