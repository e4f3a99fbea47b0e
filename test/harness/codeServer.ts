/**
 * One code-server (real VS Code, Node extension host) for a whole test run or `npm start`,
 * started in a process group of its own so that stopping it ends its extension hosts too.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CodeServerInstall } from './environment';
import { isAlive, waitFor } from './processes';

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.unref();
		server.on('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const address = server.address();
			const port = typeof address === 'object' && address ? address.port : 0;
			server.close(() => resolve(port));
		});
	});
}

/** Hides what VS Code 1.139 shows on a fresh profile that has nothing to do with the tests. */
const QUIET_SETTINGS = {
	'workbench.secondarySideBar.defaultVisibility': 'hidden',
	'chat.disableAIFeatures': true,
	'workbench.startupEditor': 'none',
	'window.commandCenter': false,
	'workbench.tips.enabled': false,
	'extensions.autoCheckUpdates': false,
	'extensions.autoUpdate': false,
	'telemetry.telemetryLevel': 'off',
	'update.mode': 'none',
	// Else the TypeScript server runs `npm install types-registry` at every start (each window
	// reload, the first JS file opened): CPU the tests' measurements share, and network calls.
	'typescript.disableAutomaticTypeAcquisition': true,
};

export interface CodeServerOptions {
	workspace: string;
	/** Keep workspace trust on (for the trust tests); off by default. */
	trust?: boolean;
	env?: NodeJS.ProcessEnv;
	/** Extension folders installed for this server only (copied in and listed in extensions.json). */
	extensions?: { id: string; version: string; folder: string }[];
	/** A VSIX installed by code-server's own `--install-extension` before the server starts. */
	vsix?: string;
	/** Where code-server writes its own output; 'inherit' for `npm start`. */
	output?: 'inherit' | 'capture';
}

export class CodeServer {
	public readonly userDataDir: string;
	private constructor(
		public readonly port: number,
		private readonly proc: ChildProcess,
		private readonly tmp: string,
		public readonly workspace: string,
		private readonly captured: string[],
	) {
		this.userDataDir = join(tmp, 'user-data');
	}

	public static async start(install: CodeServerInstall, options: CodeServerOptions): Promise<CodeServer> {
		const port = await freePort();
		const tmp = mkdtempSync(join(tmpdir(), 'poolscope-cs-'));
		const userData = join(tmp, 'user-data');
		mkdirSync(join(userData, 'User'), { recursive: true });
		writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(QUIET_SETTINGS, null, 2));
		const args = [
			install.entry,
			'--auth', 'none',
			'--bind-addr', `127.0.0.1:${port}`,
			'--disable-telemetry',
			'--disable-update-check',
			...(options.trust ? [] : ['--disable-workspace-trust']),
			// An empty config file: otherwise code-server writes ~/.config/code-server/config.yaml.
			'--config', join(tmp, 'config.yaml'),
			'--user-data-dir', userData,
			'--extensions-dir', join(tmp, 'extensions'),
			'--vscode-option', 'enable-smoke-test-driver',
			options.workspace,
		];
		writeFileSync(join(tmp, 'config.yaml'), '');
		installExtensions(join(tmp, 'extensions'), options.extensions ?? []);
		if (options.vsix) {
			installVsix(install, options.vsix, join(tmp, 'extensions'), userData);
		}
		const captured: string[] = [];
		const proc = spawn(install.node, args, {
			detached: true,
			stdio: options.output === 'inherit' ? ['ignore', 'inherit', 'inherit'] : ['ignore', 'pipe', 'pipe'],
			env: { ...process.env, ...options.env },
		});
		for (const stream of [proc.stdout, proc.stderr]) {
			stream?.setEncoding('utf8');
			stream?.on('data', (d: string) => {
				captured.push(d);
				if (captured.length > 400) {
					captured.splice(0, captured.length - 400);
				}
			});
		}
		const server = new CodeServer(port, proc, tmp, options.workspace, captured);
		let exited = false;
		proc.on('exit', () => { exited = true; });
		const up = await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, () => exited);
		if (!up) {
			const output = captured.join('').slice(-3000);
			await server.stop();
			throw new Error(`code-server did not come up on port ${port} within 60 s${exited ? ' (it exited)' : ''}:\n${output}`);
		}
		return server;
	}

	public get extensionsDir(): string {
		return join(this.tmp, 'extensions');
	}

	public get pid(): number | undefined {
		return this.proc.pid;
	}

	/** A workbench window on the workspace, with `payload` pairs (extensionDevelopmentPath, ...). */
	public url(payload: [string, string][]): string {
		const remote = (path: string) => `vscode-remote://127.0.0.1:${this.port}${path}`;
		const pairs = payload.map(([k, v]): [string, string] => (k.endsWith('Path') && v.startsWith('/') ? [k, remote(v)] : [k, v]));
		return `http://127.0.0.1:${this.port}/?folder=${encodeURIComponent(this.workspace)}&payload=${encodeURIComponent(JSON.stringify(pairs))}`;
	}

	/** The tail of every extension-host log of this server (shown when a test fails). */
	public extensionHostLogs(maxLines = 80): string {
		const logs = join(this.userDataDir, 'logs');
		const out: string[] = [];
		if (!existsSync(logs)) {
			return '(no logs directory)';
		}
		for (const stamp of readdirSync(logs).sort()) {
			const dir = join(logs, stamp);
			for (const host of existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('exthost')) : []) {
				const file = join(dir, host, 'remoteexthost.log');
				if (existsSync(file)) {
					const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
					out.push(`--- ${file} (last ${Math.min(maxLines, lines.length)} lines)`, ...lines.slice(-maxLines));
				}
			}
		}
		return out.length ? out.join('\n') : '(no extension host log found)';
	}

	public serverOutput(): string {
		return this.captured.join('').slice(-4000);
	}

	/** SIGTERM to the group, SIGKILL after a grace; then removes the temporary profile. */
	public async stop(keepFiles = false): Promise<void> {
		const pid = this.proc.pid;
		if (pid && isAlive(pid)) {
			try {
				process.kill(-pid, 'SIGTERM');
			} catch {
				// already gone
			}
			await waitFor(() => !isAlive(pid), 5_000);
		}
		if (pid) {
			try {
				process.kill(-pid, 'SIGKILL'); // extension hosts and whatever they started
			} catch {
				// the group is empty
			}
		}
		if (!keepFiles) {
			rmSync(this.tmp, { recursive: true, force: true });
		}
	}
}

async function waitForHttp(url: string, timeoutMs: number, gaveUp: () => boolean): Promise<boolean> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline && !gaveUp()) {
		try {
			const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
			if (r.status < 500) {
				return true;
			}
		} catch {
			// not listening yet
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	return false;
}

function installVsix(install: CodeServerInstall, vsix: string, extensionsDir: string, userData: string): void {
	const r = spawnSync(install.node, [install.entry, '--extensions-dir', extensionsDir, '--user-data-dir', userData, '--install-extension', vsix], { encoding: 'utf8', timeout: 120_000 });
	const said = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
	if (r.status !== 0 || !/successfully installed/i.test(said)) {
		throw new Error(`code-server --install-extension ${vsix} failed (exit ${r.status ?? r.signal}):\n${said.slice(-2000)}`);
	}
}

/**
 * Installs unpacked extensions the way VS Code records installed ones: a folder per extension
 * and the profile's `extensions.json` listing them (there is no VSIX to hand to
 * `--install-extension`, and the web workbench honours a single extensionDevelopmentPath).
 */
function installExtensions(dir: string, extensions: { id: string; version: string; folder: string }[]): void {
	mkdirSync(dir, { recursive: true });
	const entries = extensions.map((e) => {
		const relativeLocation = `${e.id}-${e.version}`;
		const target = join(dir, relativeLocation);
		cpSync(e.folder, target, { recursive: true });
		return {
			identifier: { id: e.id },
			version: e.version,
			location: { $mid: 1, path: target, scheme: 'file' },
			relativeLocation,
			metadata: { installedTimestamp: Date.now(), source: 'vsix', pinned: true },
		};
	});
	if (entries.length) {
		writeFileSync(join(dir, 'extensions.json'), JSON.stringify(entries));
	}
}
