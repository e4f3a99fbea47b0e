/**
 * The harness behind `npm test`, `npm start`, `npm run test:desktop`, `npm run bench` and `npm run package`
 * (started by bootstrap.mjs after install and build, in a process group of its own).
 *
 * `npm test` stages, each adding to one closing `N passed, N failed` line:
 *   types    tsc --noEmit on the whole project (counted as one check)
 *   unit     mocha on out/test/unit (plain Node: engine, Python runner, harness self-tests)
 *   browser  mocha on out/test/webview (the panel in a real Chromium, no VS Code)
 *   vscode   one code-server + one Chromium: the mocha suite inside the extension host
 *            (out/test/integration), then the Playwright UI tests (out/test/ui)
 * The vscode stage's code-server also has the VSIX made by vsce installed (test/harness/vsix.ts).
 * Options: --stage=<name>[,<name>] runs only those stages; --grep=<text> filters tests;
 * --unit-dir=<dir> runs the unit stage on another folder (the harness's self-tests use it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { CodeServer } from './codeServer';
import { EnvironmentError, ensureChromium, ensureCodeServer, log } from './environment';
import { findTests, LINE_TAG, RESULTS_FILE_VAR, runMocha, type StageCounts } from './mochaRun';
import { MARKER_VAR, processesWithMarker, waitFor } from './processes';
import { setUiContext } from './uiContext';
import { packageVsix, vsixName } from './vsix';

const root = join(__dirname, '..', '..', '..');
const out = join(root, 'out');
const samples = join(root, 'samples');
const args = process.argv.slice(3);
const option = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const grep = option('grep');

/**
 * POOLSCOPE_JSFLAGS (opt-in) passes V8 flags to the browser, e.g. "--trace-opt --trace-deopt" with
 * DEBUG=pw:browser: which of the window's functions V8 compiles and throws away during a run.
 */
export const CHROMIUM_ARGS = [...(process.env.POOLSCOPE_JSFLAGS ? [`--js-flags=${process.env.POOLSCOPE_JSFLAGS}`] : []), '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const MINUTE = 60_000;
const failedStage = (name: string, why: string): StageCounts => ({ passed: 0, failed: 1, pending: 0, failures: [`${name}: ${why}`] });

/** Runs a command in its own process group; on timeout the whole group is killed. */
function runGroup(cmd: string, cmdArgs: string[], timeoutMs: number, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; timedOut: boolean }> {
	return new Promise((resolve) => {
		const child = spawn(cmd, cmdArgs, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, ...env } });
		let timedOut = false;
		const timer = setTimeout(() => {
			timedOut = true;
			log(`${cmd} ${cmdArgs.join(' ')}: no result after ${timeoutMs / MINUTE} min, ending its process group`);
			try {
				process.kill(-child.pid!, 'SIGKILL');
			} catch {
				// gone
			}
		}, timeoutMs);
		child.on('error', (e) => log(`${cmd} could not start: ${e.message}`));
		child.on('close', (code) => {
			clearTimeout(timer);
			try {
				process.kill(-child.pid!, 'SIGKILL'); // anything the stage left running in its group
			} catch {
				// the group is empty, as it should be
			}
			resolve({ code, timedOut });
		});
	});
}

function readCounts(file: string): StageCounts | undefined {
	try {
		return JSON.parse(readFileSync(file, 'utf8')) as StageCounts;
	} catch {
		return undefined;
	}
}

async function typesStage(): Promise<StageCounts> {
	const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
	const r = await runGroup(process.execPath, [tsc, '--noEmit', '-p', root], 5 * MINUTE);
	return r.code === 0
		? { passed: 1, failed: 0, pending: 0, failures: [] }
		: failedStage('types', 'tsc --noEmit reported errors (above)');
}

async function mochaStage(name: string, dir: string, timeoutMs: number): Promise<StageCounts> {
	if (!findTests(dir).length) {
		log(`${name}: no tests in ${dir}`);
		return { passed: 0, failed: 0, pending: 0, failures: [] };
	}
	const tmp = mkdtempSync(join(tmpdir(), 'poolscope-results-'));
	const file = join(tmp, 'counts.json');
	const stageArgs = [join(out, 'test', 'harness', 'mochaStage.js'), dir, ...(grep ? [`--grep=${grep}`] : [])];
	const r = await runGroup(process.execPath, stageArgs, timeoutMs, { [RESULTS_FILE_VAR]: file });
	const counts = readCounts(file);
	rmSync(tmp, { recursive: true, force: true });
	if (!counts) {
		return failedStage(name, r.timedOut ? `timed out after ${timeoutMs / MINUTE} min` : `ended with exit code ${r.code} before reporting`);
	}
	return counts;
}

function launchChromium(executablePath: string): Promise<Browser> {
	return chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
}

const NOISE = /open-vsx|api\.github|telemetry|Failed to load resource|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED|marketplace/i;

/** The mocha suite inside the extension host; its result comes back through codeAutomationExit. */
async function integrationStage(server: CodeServer, browser: Browser): Promise<StageCounts> {
	const tests = join(out, 'test', 'integration', 'index.js');
	if (!existsSync(tests)) {
		return failedStage('integration', `${tests} is missing (build?)`);
	}
	const page = await browser.newPage();
	// The suite's own result lines are shown live; the rest of the console only if it fails.
	const other: string[] = [];
	page.on('console', (m) => {
		const text = m.text();
		const at = text.indexOf(LINE_TAG);
		if (at >= 0) {
			process.stdout.write(`  ${text.slice(at + LINE_TAG.length + 1)}\n`);
		} else if (!NOISE.test(text)) {
			other.push(text);
		}
	});
	const exit = new Promise<number>((resolve) => {
		void page.exposeFunction('codeAutomationExit', (code: number) => {
			resolve(code);
		});
	});
	const timeoutMs = 15 * MINUTE;
	let timer: NodeJS.Timeout | undefined;
	const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), timeoutMs); });
	await page.goto(server.url([
		['extensionDevelopmentPath', root],
		['extensionTestsPath', tests],
		['skipWelcome', 'true'],
	]));
	const code = await Promise.race([exit, timeout]);
	clearTimeout(timer);
	await page.close().catch(() => undefined);
	const counts = readCounts(process.env[RESULTS_FILE_VAR] ?? '');
	if (code !== 0) {
		process.stdout.write(`\nWorkbench console (integration failed):\n${other.slice(-60).join('\n')}\n`);
	}
	if (code === 'timeout') {
		return failedStage('integration', `no result from the extension host within ${timeoutMs / MINUTE} min`);
	}
	if (!counts) {
		return failedStage('integration', `the extension host ended with code ${code} before reporting counts`);
	}
	if (code !== 0 && counts.failed === 0) {
		counts.failed = 1;
		counts.failures.push(`integration: exit code ${code} although no test failed`);
	}
	return counts;
}

async function uiStage(server: CodeServer, browser: Browser): Promise<StageCounts> {
	const files = findTests(join(out, 'test', 'ui'));
	if (!files.length) {
		return { passed: 0, failed: 0, pending: 0, failures: [] };
	}
	setUiContext({
		browser,
		port: server.port,
		root,
		workspace: samples,
		workbenchUrl: (extra = []) => server.url([['extensionDevelopmentPath', root], ['skipWelcome', 'true'], ...extra]),
		// Without a development path the window loads the VSIX installed into this server.
		installedWorkbenchUrl: (extra = []) => server.url([['skipWelcome', 'true'], ...extra]),
		installedExtensionsDir: server.extensionsDir,
	});
	try {
		return await runMocha(files, { timeoutMs: 3 * MINUTE, grep });
	} finally {
		setUiContext(undefined);
	}
}

async function vscodeStage(): Promise<StageCounts> {
	let install;
	let chromiumPath;
	try {
		chromiumPath = ensureChromium();
		install = ensureCodeServer();
	} catch (e) {
		if (e instanceof EnvironmentError) {
			return failedStage('vscode', e.message);
		}
		throw e;
	}
	const tmp = mkdtempSync(join(tmpdir(), 'poolscope-results-'));
	const resultsFile = join(tmp, 'integration.json');
	process.env[RESULTS_FILE_VAR] = resultsFile; // inherited by code-server's extension host
	let server: CodeServer | undefined;
	let browser: Browser | undefined;
	const total: StageCounts = { passed: 0, failed: 0, pending: 0, failures: [] };
	try {
		// The package as users get it, installed beside the clone's development copy (windows
		// opened with the development path run the clone; the others run the VSIX).
		const vsix = join(tmp, vsixName(root));
		packageVsix(root, vsix);
		server = await CodeServer.start(install, {
			vsix,
			workspace: samples,
			env: grep ? { POOLSCOPE_GREP: grep } : {},
			// The Python extension's API, stood in for (the real one cannot be installed offline):
			// the tests check that runs follow its active environment. Tests only, not `npm start`.
			extensions: [{ id: 'ms-python.python', version: '0.0.1', folder: join(root, 'test', 'fixtures', 'python-extension-stub') }],
		});
		log(`code-server ${server.port} up (pid ${server.pid})`);
		browser = await launchChromium(chromiumPath);
		for (const [name, stage] of [['integration', integrationStage], ['ui', uiStage]] as const) {
			log(`stage ${name}`);
			const counts = await stage(server, browser);
			add(total, counts);
		}
		if (total.failed > 0) {
			process.stdout.write(`\nExtension host log (failure):\n${server.extensionHostLogs()}\n`);
		}
	} catch (e) {
		add(total, failedStage('vscode', e instanceof Error ? e.stack ?? e.message : String(e)));
		if (server) {
			process.stdout.write(`\nExtension host log:\n${server.extensionHostLogs()}\ncode-server output:\n${server.serverOutput()}\n`);
		}
	} finally {
		await browser?.close().catch(() => undefined);
		await server?.stop();
		delete process.env[RESULTS_FILE_VAR];
		rmSync(tmp, { recursive: true, force: true });
	}
	return total;
}

function add(total: StageCounts, counts: StageCounts): void {
	total.passed += counts.passed;
	total.failed += counts.failed;
	total.pending += counts.pending;
	total.failures.push(...counts.failures);
}

const STAGES: Record<string, () => Promise<StageCounts>> = {
	types: typesStage,
	unit: () => mochaStage('unit', option('unit-dir') ?? join(out, 'test', 'unit'), 20 * MINUTE),
	browser: () => mochaStage('browser', join(out, 'test', 'webview'), 15 * MINUTE),
	vscode: vscodeStage,
};

/**
 * Installs what the selected stages need before the first one starts. On a fresh machine the
 * unit stage's nested harness runs used to trigger the code-server install inside a test's time
 * limit, and the browser stage found Chromium only because such a test had installed it.
 */
function prepare(selected: string[]): StageCounts | undefined {
	try {
		if (selected.some((name) => name !== 'types')) {
			process.env.POOLSCOPE_CHROMIUM ??= ensureChromium(); // inherited by every stage's browser
		}
		if (selected.includes('unit') || selected.includes('vscode')) {
			ensureCodeServer();
		}
		return undefined;
	} catch (e) {
		if (e instanceof EnvironmentError) {
			return failedStage('environment', e.message);
		}
		throw e;
	}
}

/** Anything still carrying this run's marker (apart from the harness) was leaked by a test. */
async function leftovers(): Promise<string[]> {
	const marker = process.env[MARKER_VAR];
	if (!marker) {
		return [];
	}
	const others = () => processesWithMarker(marker).filter((p) => p.pid !== process.pid);
	await waitFor(() => others().length === 0, 5_000);
	return others().map((p) => `${p.pid} ${p.args.slice(0, 120)}`);
}

async function test(): Promise<number> {
	const started = Date.now();
	const only = option('stage')?.split(',');
	const total: StageCounts = { passed: 0, failed: 0, pending: 0, failures: [] };
	const selected = Object.keys(STAGES).filter((name) => !only || only.includes(name));
	const unready = prepare(selected);
	if (unready) {
		add(total, unready);
	}
	for (const [name, stage] of Object.entries(STAGES)) {
		if (!selected.includes(name)) {
			continue;
		}
		log(`stage ${name}`);
		const t0 = Date.now();
		const counts = await stage();
		log(`stage ${name}: ${counts.passed} passed, ${counts.failed} failed (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
		add(total, counts);
	}
	const left = await leftovers();
	if (left.length) {
		add(total, failedStage('no process left behind', `still running after the tests:\n    ${left.join('\n    ')}`));
	}
	if (total.failures.length) {
		process.stdout.write(`\nFailures:\n${total.failures.map((f) => `  - ${f}`).join('\n')}\n`);
	}
	const minutes = ((Date.now() - started) / MINUTE).toFixed(1);
	process.stdout.write(`\n(${total.pending} pending; ${minutes} min)\n${total.passed} passed, ${total.failed} failed\n`);
	return total.failed > 0 || total.passed === 0 ? 1 : 0;
}

/** `npm start`: the extension in development mode on samples/, as a user would try it. */
async function start(): Promise<number> {
	const code = findOnPath('code');
	if (code && !process.env.POOLSCOPE_USE_CODE_SERVER) {
		log(`opening samples/ in VS Code (${code}) with the extension under development`);
		const r = await runGroup(code, ['--wait', `--extensionDevelopmentPath=${root}`, samples], 24 * 60 * MINUTE);
		return r.code ?? 1;
	}
	const install = ensureCodeServer();
	const server = await CodeServer.start(install, { workspace: samples, trust: true });
	const url = server.url([['extensionDevelopmentPath', root], ['skipWelcome', 'true']]);
	process.stdout.write(`\nPoolscope is running in code-server (real VS Code in the browser). Open:\n\n  ${url}\n\nCtrl-C ends it.\n`);
	const opener = process.env.DISPLAY || process.env.WAYLAND_DISPLAY ? findOnPath('xdg-open') : undefined;
	if (opener) {
		spawn(opener, [url], { stdio: 'ignore', detached: false });
	}
	await new Promise<void>((resolve) => {
		for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
			process.on(s, () => resolve());
		}
	});
	await server.stop();
	return 0;
}

function findOnPath(name: string): string | undefined {
	for (const dir of (process.env.PATH ?? '').split(':')) {
		if (dir && existsSync(join(dir, name))) {
			return join(dir, name);
		}
	}
	return undefined;
}

/** `npm run test:desktop`: the same integration suite in desktop VS Code via @vscode/test-electron. */
async function testDesktop(): Promise<number> {
	// Overridable so the fail-fast path is testable on a machine that is online.
	const probe = process.env.POOLSCOPE_VSCODE_UPDATE_URL ?? 'https://update.code.visualstudio.com/api/releases/stable';
	try {
		const r = await fetch(probe, { signal: AbortSignal.timeout(10_000) });
		if (!r.ok) {
			throw new Error(`HTTP ${r.status}`);
		}
	} catch (e) {
		log(`cannot reach ${probe} (${e instanceof Error ? e.message : String(e)}): @vscode/test-electron needs to download VS Code desktop, `
			+ 'which this machine cannot. Run `npm test` instead: it runs the same suite in code-server (real VS Code, offline).');
		process.stdout.write('0 passed, 1 failed\n');
		return 1;
	}
	const { runTests } = await import('@vscode/test-electron');
	const tmp = mkdtempSync(join(tmpdir(), 'poolscope-results-'));
	const resultsFile = join(tmp, 'integration.json');
	let code: number;
	try {
		code = await runTests({
			extensionDevelopmentPath: root,
			extensionTestsPath: join(out, 'test', 'integration', 'index.js'),
			launchArgs: [samples, '--disable-extensions', '--disable-workspace-trust'],
			extensionTestsEnv: { [RESULTS_FILE_VAR]: resultsFile, ...(grep ? { POOLSCOPE_GREP: grep } : {}) },
		});
	} catch (e) {
		log(`VS Code desktop tests did not run: ${e instanceof Error ? e.message : String(e)}`);
		code = 1;
	}
	const counts = readCounts(resultsFile) ?? failedStage('desktop', `no counts (exit ${code})`);
	rmSync(tmp, { recursive: true, force: true });
	process.stdout.write(`${counts.passed} passed, ${counts.failed} failed\n`);
	return code === 0 && counts.failed === 0 ? 0 : 1;
}

async function bench(): Promise<number> {
	const r = await runGroup(process.execPath, [join(out, 'test', 'bench', 'bench.js'), ...args], 30 * MINUTE);
	return r.code ?? 1;
}

/** `npm run package`: the VSIX for this platform in dist/. */
async function packageMode(): Promise<number> {
	const file = join(root, 'dist', vsixName(root));
	packageVsix(root, file);
	log(`packaged ${file}`);
	return 0;
}

const modes: Record<string, () => Promise<number>> = { test, start, 'test-desktop': testDesktop, bench, package: packageMode };

async function main(): Promise<void> {
	const mode = process.argv[2] ?? 'test';
	const run = modes[mode];
	if (!run) {
		throw new Error(`unknown mode ${mode}; one of ${Object.keys(modes).join(', ')}`);
	}
	process.exitCode = await run();
}

main().catch((e) => {
	log(e instanceof Error ? e.stack ?? e.message : String(e));
	if (e instanceof EnvironmentError) {
		process.stdout.write('0 passed, 1 failed\n');
	}
	process.exitCode = 1;
}).finally(() => {
	// Playwright and stray handles must not keep the harness alive; bootstrap reaps the rest.
	setTimeout(() => process.exit(), 200).unref();
});
