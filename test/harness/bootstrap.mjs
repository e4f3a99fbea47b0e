// Entry of `npm start`, `npm test`, `npm run test:desktop`, `npm run bench` and `npm run package` on a fresh clone.
// Plain JavaScript with no dependencies, because it runs before `node_modules` exists:
//   1. installs the npm packages when package-lock.json changed since the last install;
//   2. builds every bundle (esbuild.mjs);
//   3. runs out/test/harness/main.js in a process group of its own, tagged with a marker in
//      its environment, and afterwards ends every process that still carries the marker
//      (code-server, Chromium, extension hosts, pools: whatever escaped) on success, failure,
//      timeout and Ctrl-C.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mode = process.argv[2] ?? 'test';
const rest = process.argv.slice(3);
const MARKER_VAR = 'POOLSCOPE_HARNESS_MARKER';

function log(message) {
	process.stderr.write(`[poolscope] ${message}\n`);
}

function ensureDependencies() {
	const lock = join(root, 'package-lock.json');
	const stamp = join(root, 'node_modules', '.poolscope-deps');
	// The lock file alone: it records package.json's dependency lists too, and editing other
	// parts of package.json (commands, settings) must not trigger a reinstall.
	const want = createHash('sha256')
		.update(existsSync(lock) ? readFileSync(lock) : readFileSync(join(root, 'package.json')))
		.digest('hex');
	if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) {
		return;
	}
	const args = existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund'];
	log(`installing npm packages (npm ${args[0]}) ...`);
	const r = spawnSync('npm', args, { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
	if (r.status !== 0) {
		log(`npm ${args[0]} failed (exit ${r.status}); see the output above`);
		process.exit(r.status ?? 1);
	}
	writeFileSync(stamp, want);
}

function build() {
	const r = spawnSync(process.execPath, [join(root, 'esbuild.mjs')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
	if (r.status !== 0) {
		log('build failed; see the errors above');
		process.exit(r.status ?? 1);
	}
}

async function main() {
	// Nested runs (the harness's self-tests) reuse the outer run's install and build: rebuilding
	// would delete out/ under the outer run's feet.
	if (process.env.POOLSCOPE_SKIP_BUILD !== '1') {
		ensureDependencies();
		build();
	}
	// Built just now; shared with the harness so both reap the same way.
	const { reapRun } = (await import(join(root, 'out', 'test', 'harness', 'processes.js'))).default;
	// Nested runs (the harness's own tests) extend the outer marker, so the outer reaper sees them too.
	const outer = process.env[MARKER_VAR];
	const marker = `${outer ? `${outer}.` : ''}${randomBytes(6).toString('hex')}`;
	// Every temporary file of the run (the stages' results, code-server's profile, the engine's
	// bundles, Python's pymp-* folders, stack snapshots) goes under one folder, removed here when
	// the run ends: tests that SIGKILL an extension host or a runner mid-run left a few folders in
	// /tmp on every run (nothing was left alive to remove them), and so did Ctrl-C.
	const runTmp = mkdtempSync(join(tmpdir(), 'poolscope-run-'));
	const child = spawn(process.execPath, [join(root, 'out', 'test', 'harness', 'main.js'), mode, ...rest], {
		cwd: root,
		stdio: 'inherit',
		detached: true,
		env: { ...process.env, [MARKER_VAR]: marker, TMPDIR: runTmp, TMP: runTmp, TEMP: runTmp },
	});
	let signalled = false;
	const forward = (signal) => {
		signalled = true;
		log(`${signal}: stopping`);
		try {
			process.kill(-child.pid, signal);
		} catch {
			// already gone
		}
		// If it does not stop on its own, end everything.
		setTimeout(() => log(reapRun(marker, child.pid)), 10_000).unref();
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
		process.on(signal, () => forward(signal));
	}
	child.on('exit', (code, signal) => {
		const note = reapRun(marker, child.pid);
		if (note) {
			log(note);
		}
		rmSync(runTmp, { recursive: true, force: true });
		process.exit(code ?? (signalled || signal ? 130 : 1));
	});
}

main().catch((e) => {
	log(e instanceof Error ? e.stack ?? e.message : String(e));
	process.exit(1);
});
