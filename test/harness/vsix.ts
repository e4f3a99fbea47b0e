/**
 * The VSIX, made by vsce itself (not a copy of its rules): `npm run package` writes one to dist/,
 * and `npm test` installs one into its code-server so a UI test can run the extension as users
 * get it, from the installed package rather than the clone.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** vsce's target for this machine: the VSIX carries this platform's esbuild binary. */
export function vsixTarget(): string {
	return `${process.platform}-${process.arch}`;
}

export function vsixName(root: string): string {
	const { name, version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
	return `${name}-${vsixTarget()}-${version}.vsix`;
}

/** Packs the built clone into `file`; throws with vsce's own output when it refuses. */
export function packageVsix(root: string, file: string): void {
	mkdirSync(dirname(file), { recursive: true });
	const r = spawnSync(process.execPath, [
		join(root, 'node_modules', '@vscode', 'vsce', 'vsce'), 'package',
		'--target', vsixTarget(),
		// What README links to ships in the VSIX (.vscodeignore) and VS Code shows it from there;
		// rewriting it would need a repository URL, which this project has not published.
		'--no-rewrite-relative-links',
		'--allow-missing-repository',
		'--out', file,
	], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
	if (r.status !== 0) {
		throw new Error(`vsce package failed (exit ${r.status ?? r.signal}):\n${`${r.stdout}\n${r.stderr}`.trim().slice(-3000)}`);
	}
}
