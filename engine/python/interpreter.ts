import { execFile } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export type InterpreterResult = { ok: true; path: string } | { ok: false; message: string; hint: string };

function executable(path: string): boolean {
	try {
		accessSync(path, constants.X_OK);
		return statSync(path).isFile();
	} catch {
		return false;
	}
}

function onPath(name: string): string | undefined {
	for (const dir of (process.env.PATH ?? '').split(delimiter)) {
		if (dir && executable(join(dir, name))) {
			return join(dir, name);
		}
	}
	return undefined;
}

/**
 * The setting poolscope.pythonPath as the Python extension reads its own: `~`, `${userHome}`,
 * `${workspaceFolder}` and `${env:NAME}` expanded, a relative path (`.venv/bin/python`) from the
 * workspace folder. A bare name (`python3.12`) stays a name: findPython looks it up on PATH.
 */
export function expandPythonSetting(value: string, folder: string | undefined): string {
	let v = value.trim()
		.replace(/\$\{userHome\}/g, homedir())
		.replace(/\$\{env:([^}]+)\}/g, (_, name: string) => process.env[name] ?? '');
	if (folder) {
		v = v.replace(/\$\{workspaceFolder(?::[^}]*)?\}/g, folder);
	}
	if (v === '~' || v.startsWith('~/')) {
		v = join(homedir(), v.slice(1));
	}
	if (!isAbsolute(v) && /[\\/]/.test(v) && folder) {
		v = resolve(folder, v);
	}
	return v;
}

/** The interpreter to use: the explicit one (checked; a bare name looked up on PATH), else python3 / python on PATH. */
export function findPython(explicit?: string): InterpreterResult {
	if (explicit && !/[\\/]/.test(explicit)) {
		const found = onPath(explicit);
		return found
			? { ok: true, path: found }
			: { ok: false, message: `Python not found: no ${explicit} on PATH`, hint: 'Fix the setting poolscope.pythonPath (the CLI: --python; a name on PATH, or a path), or clear it to use python3 from PATH.' };
	}
	if (explicit) {
		if (!existsSync(explicit)) {
			return { ok: false, message: `Python not found at ${explicit}`, hint: 'Fix the setting poolscope.pythonPath (the CLI: --python), or clear it to use python3 from PATH.' };
		}
		if (!executable(explicit)) {
			return { ok: false, message: `${explicit} is not an executable file`, hint: 'poolscope.pythonPath (the CLI: --python) must point at a Python interpreter (e.g. /usr/bin/python3 or .venv/bin/python).' };
		}
		return { ok: true, path: explicit };
	}
	for (const name of ['python3', 'python']) {
		const found = onPath(name);
		if (found) {
			return { ok: true, path: found };
		}
	}
	return { ok: false, message: 'no Python interpreter found (looked for python3 and python on PATH)', hint: 'Install Python 3.9 or newer, or set poolscope.pythonPath (the CLI: --python).' };
}

/**
 * The interpreter of a virtual environment in `folder` (`.venv`, `venv` or `env`, as
 * `python -m venv`, uv and Poetry's in-project setting make them; a `pyvenv.cfg` says it is
 * one): where a project's packages are, when nothing else says which Python to use.
 */
export function venvInterpreter(folder: string): string | undefined {
	for (const dir of ['.venv', 'venv', 'env']) {
		if (!existsSync(join(folder, dir, 'pyvenv.cfg'))) {
			continue;
		}
		for (const exe of process.platform === 'win32' ? ['Scripts/python.exe'] : ['bin/python3', 'bin/python']) {
			if (executable(join(folder, dir, exe))) {
				return join(folder, dir, exe);
			}
		}
	}
	return undefined;
}

const resolved = new Map<string, Promise<string>>();
/** What runs started through a launcher said they ran on (`sys.executable`), per script and folder. */
const learned = new Map<string, string>();

const keyOf = (path: string, cwd?: string) => `${path}\0${cwd ?? ''}`;

/**
 * What to start for a run: the interpreter a launcher script (a pyenv shim: a bash script that
 * runs `pyenv exec`, 60-300 ms before Python even starts) chose last time in this folder, else
 * `path` itself. The first run goes through the launcher and says what it ran on
 * (`learnInterpreter`), so no separate Python start is spent asking.
 */
export function interpreterToStart(path: string, cwd?: string): string {
	return learned.get(keyOf(path, cwd)) ?? path;
}

export function learnInterpreter(path: string, cwd: string | undefined, exe: string): void {
	if (exe && exe !== path && isScript(path) && executable(exe)) {
		learned.set(keyOf(path, cwd), exe);
	}
}

/**
 * The interpreter a launcher script picks, asked directly (the bench starts a bare executor on the
 * same binary as Poolscope's runs). A real binary, or a script that does not answer, is used as it is.
 */
export function realInterpreter(path: string, cwd?: string): Promise<string> {
	if (!isScript(path)) {
		return Promise.resolve(path);
	}
	const key = keyOf(path, cwd);
	let real = resolved.get(key);
	if (!real) {
		real = new Promise((resolve) => {
			execFile(path, ['-c', 'import sys; sys.stdout.write(sys.executable or "")'], { cwd, timeout: 10_000, encoding: 'utf8' }, (err, stdout) => {
				const exe = stdout.trim();
				resolve(!err && exe && executable(exe) ? exe : path);
			});
		});
		resolved.set(key, real);
	}
	return real;
}

function isScript(path: string): boolean {
	try {
		const fd = openSync(path, 'r');
		try {
			const head = Buffer.alloc(2);
			return readSync(fd, head, 0, 2, 0) === 2 && head.toString('latin1') === '#!';
		} finally {
			closeSync(fd);
		}
	} catch {
		return false;
	}
}
