/**
 * What a VSIX carries, as vsce lists it, and that the extension's code runs from it alone: a copy
 * of exactly those files, away from the clone, runs real pools. (test/ui/installedVsix.test.ts
 * installs the real VSIX into code-server.)
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');
const JS_TASKS = join(ROOT, 'test', 'unit', 'engine', 'fixtures', 'js', 'tasks.js');
const PY_TASKS = join(ROOT, 'test', 'unit', 'python', 'fixtures', 'tasks.py');

/** What vsce itself would pack (`vsce ls`: .vscodeignore and the production dependencies). */
function packagedFiles(): string[] {
	const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce'), 'ls'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
	assert.equal(r.status, 0, `vsce ls failed: ${r.stderr}`);
	return r.stdout.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

describe('The packaged extension (the files `vsce ls` lists)', function () {
	this.timeout(120_000);
	let dir: string;
	let files: string[];

	before(() => {
		files = packagedFiles();
		dir = mkdtempSync(join(tmpdir(), 'poolscope-vsix-'));
		for (const f of files) {
			mkdirSync(dirname(join(dir, f)), { recursive: true });
			copyFileSync(join(ROOT, f), join(dir, f)); // keeps the mode: esbuild's binary stays executable
		}
	});
	after(() => {
		rmSync(dir, { recursive: true, force: true });
	});

	it('carries the bundles, the workers, the runner, the panel and the runtime packages; no tests, sources or maps', () => {
		for (const f of ['package.json', 'out/extension.js', 'out/cli.js', 'out/workers/engineThread.js', 'out/workers/threadTask.js', 'out/workers/processTask.js', 'out/python/runner.py', 'out/webview/main.js', 'out/webview/codicon.ttf', 'node_modules/piscina/package.json', 'node_modules/esbuild/package.json']) {
			assert.ok(files.includes(f), `${f} is not packaged`);
		}
		// Our own files only: the packages ship as published.
		const stray = files.filter((f) => !f.startsWith('node_modules/') && (f.endsWith('.map') || f.includes('__pycache__') || /^(test|engine|extension\/(?!walkthrough)|webview|out\/test)\//.test(f)));
		assert.deepEqual(stray, []);
	});

	it('carries every file README links to (the extension page shows README from the installed folder)', () => {
		const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
		const links = [...readme.matchAll(/\]\(([^)#\s]+)[^)]*\)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/i.test(l));
		assert.ok(links.length > 0, 'README links to its screenshot at least');
		assert.deepEqual(links.filter((l) => !files.includes(l)), []);
	});

	it('runs JS pools (bundling the user\'s file with esbuild) and a Python pool from the packaged files alone', () => {
		for (const [file, pool] of [[JS_TASKS, 'thread'], [JS_TASKS, 'process'], [PY_TASKS, 'process']] as const) {
			const r = spawnSync(process.execPath, [join(dir, 'out', 'cli.js'), 'run', file, 'square', '--pool', pool, '--workers', '2', '--inputs', '4'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
			assert.equal(r.status, 0, `${pool} pool on ${file.split('/').pop()} from the package: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
			assert.match(r.stdout, /tasks: 4 finished, 0 failed/);
		}
	});

	it('runs a pool on the engine thread the extension starts, from the packaged files alone', () => {
		// What out/extension.js does (it needs VS Code to load): a worker on the packaged engine thread, a run, its end.
		const script = `
			const { Worker } = require('node:worker_threads');
			const w = new Worker(${JSON.stringify(join(dir, 'out', 'workers', 'engineThread.js'))});
			w.on('message', (m) => { if (m.type === 'done') { console.log(JSON.stringify(m.final.counts)); process.exit(0); } });
			w.on('error', (e) => { console.error(e); process.exit(1); });
			w.postMessage({ type: 'start', request: { runId: 'pkg', file: ${JSON.stringify(JS_TASKS)}, fn: 'square', language: 'javascript', pool: 'thread', workers: 2, inputs: '4', cpuSampleMs: 0 } });`;
		const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
		assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}\n${r.stderr}`);
		assert.match(r.stdout, /"finished":4/);
	});
});
