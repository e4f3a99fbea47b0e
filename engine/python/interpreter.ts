import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type InterpreterResult = { ok: true; path: string } | { ok: false; message: string; hint: string };

function executable(path: string): boolean {
	try {
		accessSync(path, constants.X_OK);
		return statSync(path).isFile();
	} catch {
		return false;
	}
}

/** The interpreter to use: the explicit one (checked), else python3 / python on PATH. */
export function findPython(explicit?: string): InterpreterResult {
	if (explicit) {
		if (!existsSync(explicit)) {
			return { ok: false, message: `Python not found at ${explicit}`, hint: 'Fix the setting poolscope.pythonPath, or clear it to use python3 from PATH.' };
		}
		if (!executable(explicit)) {
			return { ok: false, message: `${explicit} is not an executable file`, hint: 'poolscope.pythonPath must point at a Python interpreter (e.g. /usr/bin/python3 or .venv/bin/python).' };
		}
		return { ok: true, path: explicit };
	}
	for (const name of ['python3', 'python']) {
		for (const dir of (process.env.PATH ?? '').split(':')) {
			if (dir && executable(join(dir, name))) {
				return { ok: true, path: join(dir, name) };
			}
		}
	}
	return { ok: false, message: 'no Python interpreter found (looked for python3 and python on PATH)', hint: 'Install Python 3.9 or newer, or set poolscope.pythonPath.' };
}
