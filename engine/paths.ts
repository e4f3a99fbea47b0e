/**
 * Where the built assets (workers, Python runner) live. Bundles land in different folders
 * (out/extension.js, out/cli.js, out/test/unit/x.test.js), so each one finds the package root by
 * walking up to Poolscope's package.json rather than trusting its own __dirname.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

let cachedRoot: string | undefined;

export function packageRoot(): string {
	if (cachedRoot) {
		return cachedRoot;
	}
	let dir = __dirname;
	for (;;) {
		const manifest = join(dir, 'package.json');
		if (existsSync(manifest)) {
			try {
				if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'poolscope') {
					cachedRoot = dir;
					return dir;
				}
			} catch {
				// not ours or unreadable: keep walking up
			}
		}
		const parent = dirname(dir);
		if (parent === dir) {
			throw new Error(`Poolscope's package.json not found above ${__dirname}`);
		}
		dir = parent;
	}
}

export function workerFile(name: string): string {
	return join(packageRoot(), 'out', 'workers', `${name}.js`);
}

export function pythonRunnerFile(): string {
	return join(packageRoot(), 'out', 'python', 'runner.py');
}
