/**
 * The harness tested as a user meets it: a nested `node test/harness/bootstrap.mjs test` on
 * fixture suites, checked from the outside (exit code, closing line, OS process table).
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { processesWithEnv, waitFor } from '../../harness/processes';

const root = join(__dirname, '..', '..', '..', '..');
const fixtures = join(root, 'test', 'unit', 'harness', 'fixtures');
const TAG = 'POOLSCOPE_SELFTEST_TAG';

interface Nested {
	pid: number;
	output: () => string;
	exit: Promise<number | null>;
	tag: string;
}

function nestedRun(unitDir: string, env: NodeJS.ProcessEnv = {}): Nested {
	return nested(['test', '--stage=unit', `--unit-dir=${unitDir}`], env);
}

function nested(args: string[], env: NodeJS.ProcessEnv = {}): Nested {
	const tag = randomBytes(6).toString('hex');
	const child = spawn(process.execPath, [join(root, 'test', 'harness', 'bootstrap.mjs'), ...args], {
		cwd: root,
		stdio: ['ignore', 'pipe', 'pipe'],
		env: { ...process.env, ...env, POOLSCOPE_SKIP_BUILD: '1', [TAG]: tag, FORCE_COLOR: '0' },
	});
	let text = '';
	child.stdout.setEncoding('utf8').on('data', (d: string) => { text += d; });
	child.stderr.setEncoding('utf8').on('data', (d: string) => { text += d; });
	const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
	return { pid: child.pid!, output: () => text, exit, tag };
}

const tagged = (tag: string) => processesWithEnv(TAG, tag);
/** The runs' temporary folders (bootstrap makes one per run, as TMPDIR of all it starts). */
const runFolders = () => new Set(readdirSync(tmpdir()).filter((n) => n.startsWith('poolscope-run-')));

describe('test harness (nested runs on fixture suites)', function () {
	this.timeout(60_000);

	it('exits non-zero on a failing test, prints the closing line, and ends a leaked process', async () => {
		const run = nestedRun(join(fixtures, 'failing'));
		const code = await run.exit;
		const out = run.output();
		assert.notEqual(code, 0, out);
		const closing = out.trimEnd().split('\n').filter((l) => /^\d+ passed, \d+ failed$/.test(l));
		// 2 tests passed; the failing test and the leaked process are the 2 failures.
		assert.deepEqual(closing, ['2 passed, 2 failed'], out);
		assert.match(out, /no process left behind: still running after the tests:\s+\d+ sleep 300/, out);
		// The summary CI shows says what the failed assertion compared, not only "Expected values to be strictly equal:".
		assert.match(out, /^ {2}- fixture suite fails on purpose: Expected values to be strictly equal: \(actual 2, expected 3\)$/m, out);
		assert.ok(await waitFor(() => tagged(run.tag).length === 0, 5_000), `left behind: ${JSON.stringify(tagged(run.tag))}`);
	});

	it('on Ctrl-C (SIGINT) ends the run and every process it started, detached ones too', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'poolscope-selftest-'));
		const started = join(dir, 'started');
		try {
			const folders = runFolders();
			const run = nestedRun(join(fixtures, 'hanging'), { POOLSCOPE_FIXTURE_STARTED: started });
			assert.ok(await waitFor(() => existsSync(started), 30_000), `fixture never started:\n${run.output()}`);
			const ours = [...runFolders()].filter((n) => !folders.has(n));
			assert.equal(ours.length, 1, `one temporary folder for the run: ${ours.join(', ')}`);
			const left = readFileSync(started, 'utf8');
			assert.ok(left.startsWith(join(tmpdir(), ours[0]!) + sep), `the suite's temporary folder ${left} is in the run's`);
			const before = tagged(run.tag).map((p) => p.args);
			assert.ok(before.some((a) => a === 'sleep 300') && before.some((a) => a === 'sleep 301'), `expected both sleeps: ${before.join(' | ')}`);
			process.kill(run.pid, 'SIGINT');
			const code = await Promise.race([run.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
			assert.notEqual(code, 'hung', `still running 20 s after SIGINT:\n${run.output()}`);
			assert.notEqual(code, 0);
			assert.ok(await waitFor(() => tagged(run.tag).length === 0, 5_000), `left behind: ${JSON.stringify(tagged(run.tag))}`);
			// Its temporary files too (tests that kill a host or a runner mid-run cannot clean up).
			assert.ok(!existsSync(left) && !existsSync(join(tmpdir(), ours[0]!)), `left in ${tmpdir()}: ${ours[0]}`);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('npm run test:desktop fails fast with a clear message when VS Code cannot be downloaded', async () => {
		const run = nested(['test-desktop'], { POOLSCOPE_VSCODE_UPDATE_URL: 'http://127.0.0.1:9/unreachable' });
		const code = await Promise.race([run.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 30_000))]);
		assert.equal(code, 1, run.output());
		assert.match(run.output(), /cannot reach http:\/\/127\.0\.0\.1:9\/unreachable .*Run `npm test` instead/s);
		assert.match(run.output(), /^0 passed, 1 failed$/m);
	});

	it('npm start (no desktop `code` CLI) serves the workbench with the extension, and Ctrl-C ends it all', async function () {
		this.timeout(120_000);
		// Forces the code-server path even where the desktop `code` CLI is installed.
		const run = nested(['start'], { POOLSCOPE_USE_CODE_SERVER: '1', DISPLAY: '', WAYLAND_DISPLAY: '' });
		assert.ok(await waitFor(() => /http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+/.test(run.output()), 90_000), `no URL printed:\n${run.output()}`);
		const url = /http:\/\/127\.0\.0\.1:\d+\/\?folder=\S+/.exec(run.output())![0];
		assert.match(decodeURIComponent(url), /extensionDevelopmentPath/);
		assert.match(decodeURIComponent(url), /samples/);
		const page = await fetch(url);
		assert.equal(page.status, 200);
		assert.match(await page.text(), /workbench/i);
		assert.ok(tagged(run.tag).length >= 2, 'code-server should be running under the start command');
		process.kill(run.pid, 'SIGINT');
		const code = await Promise.race([run.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
		assert.notEqual(code, 'hung', `npm start still running 20 s after Ctrl-C:\n${run.output()}`);
		assert.ok(await waitFor(() => tagged(run.tag).length === 0, 5_000), `left behind: ${JSON.stringify(tagged(run.tag))}`);
	});

	it('Ctrl-C during the VS Code stage ends code-server, Chromium and the extension hosts', async function () {
		this.timeout(120_000);
		const run = nested(['test', '--stage=vscode']);
		const up = () => {
			const args = tagged(run.tag).map((p) => p.args);
			return args.some((a) => a.includes('code-server')) && args.some((a) => /chromium/.test(a));
		};
		assert.ok(await waitFor(up, 90_000), `code-server and Chromium never both ran:\n${run.output()}`);
		process.kill(run.pid, 'SIGINT');
		const code = await Promise.race([run.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
		assert.notEqual(code, 'hung', `still running 20 s after Ctrl-C:\n${run.output()}`);
		assert.notEqual(code, 0);
		assert.ok(await waitFor(() => tagged(run.tag).length === 0, 5_000), `left behind: ${tagged(run.tag).map((p) => p.args).join(' | ')}`);
	});
});
