// One build for every bundle Poolscope ships or tests. Entries follow conventions so a new
// worker or test file needs no edit here:
//   extension/extension.ts          -> out/extension.js      (node, cjs, vscode external)
//   engine/cli.ts                   -> out/cli.js            (node, cjs, the `poolscope` bin)
//   engine/**/*.worker.ts           -> out/workers/<name>.js (node, cjs; loaded by pools)
//   webview/main.ts (+ *.css)       -> out/webview/          (browser, iife)
//   engine/python/*.py              -> out/python/           (copied; the Python runner)
//   test/**/*.test.ts (+ *.entry.ts helpers tests spawn), test/integration/index.ts,
//   test/harness/*.ts, test/bench/*.ts
//                                   -> out/test/...          (node, cjs, packages external)
// Flags: --watch, --production (minify, no source maps for shipped bundles).
import * as esbuild from 'esbuild';
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

function walk(dir, predicate, out = []) {
	if (!existsSync(dir)) {
		return out;
	}
	for (const name of readdirSync(dir)) {
		const full = join(dir, name);
		if (name === 'node_modules' || name === 'fixtures') {
			continue;
		}
		if (statSync(full).isDirectory()) {
			walk(full, predicate, out);
		} else if (predicate(full)) {
			out.push(full);
		}
	}
	return out;
}

/** Reports errors in the `file:line:col: error: message` form VS Code's problem matcher reads. */
const problemMatcher = {
	name: 'problem-matcher',
	setup(build) {
		build.onStart(() => {
			if (watch) {
				console.log('[watch] build started');
			}
		});
		build.onEnd((result) => {
			for (const { text, location } of result.errors) {
				console.error(`✘ [ERROR] ${text}`);
				if (location) {
					console.error(`    ${location.file}:${location.line}:${location.column}:`);
				}
			}
			if (watch) {
				console.log('[watch] build finished');
			}
		});
	},
};

const nodeBase = {
	bundle: true,
	platform: 'node',
	format: 'cjs',
	target: 'node20',
	sourcemap: production ? false : 'linked',
	sourcesContent: false,
	minify: production,
	logLevel: 'warning',
	plugins: [problemMatcher],
	absWorkingDir: root,
};

const workerEntries = Object.fromEntries(
	walk(join(root, 'engine'), (f) => f.endsWith('.worker.ts')).map((f) => [
		f.split('/').pop().replace(/\.worker\.ts$/, ''),
		f,
	]),
);

const testEntries = Object.fromEntries(
	[
		...walk(join(root, 'test'), (f) => f.endsWith('.test.ts') || f.endsWith('.entry.ts')),
		...walk(join(root, 'test', 'harness'), (f) => f.endsWith('.ts')),
		...walk(join(root, 'test', 'bench'), (f) => f.endsWith('.ts')),
		...walk(join(root, 'test', 'integration'), (f) => f.endsWith('index.ts')),
	].map((f) => [relative(root, f).replace(/\.ts$/, ''), f]),
);

const configs = [
	{
		...nodeBase,
		entryPoints: { extension: join(root, 'extension', 'extension.ts') },
		outdir: join(root, 'out'),
		// piscina spawns its own worker file from its package folder, so it must not be bundled
		// (piscinajs/piscina#766); it ships in the VSIX's node_modules instead.
		external: ['vscode', 'piscina', 'tinypool', 'esbuild'],
	},
	{
		...nodeBase,
		entryPoints: { cli: join(root, 'engine', 'cli.ts') },
		outdir: join(root, 'out'),
		external: ['piscina', 'tinypool', 'esbuild'],
		banner: { js: '#!/usr/bin/env node' },
		// The package's `bin`: `npx poolscope` executes the file itself.
		plugins: [...(nodeBase.plugins ?? []), {
			name: 'bin-executable',
			setup(build) {
				build.onEnd(() => {
					const cli = join(root, 'out', 'cli.js');
					if (existsSync(cli)) {
						chmodSync(cli, 0o755);
					}
				});
			},
		}],
	},
	{
		...nodeBase,
		entryPoints: workerEntries,
		outdir: join(root, 'out', 'workers'),
		external: ['piscina', 'tinypool', 'esbuild'],
	},
	{
		...nodeBase,
		platform: 'browser',
		format: 'iife',
		target: 'es2022',
		entryPoints: { main: join(root, 'webview', 'main.ts') },
		outdir: join(root, 'out', 'webview'),
		loader: { '.ttf': 'file' },
	},
	{
		...nodeBase,
		sourcemap: 'linked',
		minify: false,
		entryPoints: testEntries,
		outdir: join(root, 'out'),
		packages: 'external',
		external: ['vscode'],
	},
].filter((c) => Object.keys(c.entryPoints).length > 0 && Object.values(c.entryPoints).every((f) => existsSync(f)));

function copyAssets() {
	const py = join(root, 'engine', 'python');
	if (existsSync(py)) {
		mkdirSync(join(root, 'out', 'python'), { recursive: true });
		for (const f of readdirSync(py).filter((n) => n.endsWith('.py'))) {
			cpSync(join(py, f), join(root, 'out', 'python', f));
		}
	}
	const codicons = join(root, 'node_modules', '@vscode', 'codicons', 'dist');
	if (existsSync(codicons)) {
		mkdirSync(join(root, 'out', 'webview'), { recursive: true });
		for (const f of ['codicon.css', 'codicon.ttf']) {
			cpSync(join(codicons, f), join(root, 'out', 'webview', f));
		}
	}
	for (const asset of walk(join(root, 'webview'), (f) => f.endsWith('.css') || f.endsWith('.svg'))) {
		mkdirSync(join(root, 'out', 'webview'), { recursive: true });
		cpSync(asset, join(root, 'out', 'webview', asset.split('/').pop()));
	}
}

async function main() {
	if (!watch) {
		rmSync(join(root, 'out'), { recursive: true, force: true });
	}
	copyAssets();
	const contexts = await Promise.all(configs.map((c) => esbuild.context(c)));
	if (watch) {
		await Promise.all(contexts.map((ctx) => ctx.watch()));
		return;
	}
	try {
		for (const ctx of contexts) {
			await ctx.rebuild();
		}
	} finally {
		await Promise.all(contexts.map((ctx) => ctx.dispose()));
	}
}

main().catch((e) => {
	console.error(e instanceof Error ? e.message : e);
	process.exit(1);
});
