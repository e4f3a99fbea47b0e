/**
 * The runner's modules read no name that nothing defines: many of their paths run only when
 * something rare goes wrong (a pool breaks mid-submit, a result fails to unpickle), and a
 * NameError there would replace the user's error with ours.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPython } from '../../../engine/python/interpreter';
import { PY_FIXTURES } from './pyHelpers';

const CHECKER = join(PY_FIXTURES, '..', 'undefined_names.py');
const RUNNER_SOURCE = join(PY_FIXTURES, '..', '..', '..', '..', 'engine', 'python');

function check(python: string, files: string[]): { status: number | null; out: string } {
	const r = spawnSync(python, [CHECKER, ...files], { encoding: 'utf8' });
	return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('Python runner source', function () {
	this.timeout(30_000);
	const py = findPython();

	it('every name the runner modules read is defined, imported or built in', function () {
		if (!py.ok) {
			this.skip();
		}
		const files = readdirSync(RUNNER_SOURCE).filter((f) => f.endsWith('.py')).map((f) => join(RUNNER_SOURCE, f));
		assert.ok(files.length >= 5, `runner modules: ${files.join(', ')}`);
		const r = check(py.path, files);
		assert.equal(r.status, 0, r.out);
	});

	it('the check names a name read in a function, a class body and a method that nothing defines', function () {
		if (!py.ok) {
			this.skip();
		}
		const dir = mkdtempSync(join(tmpdir(), 'poolscope-names-'));
		try {
			const file = join(dir, 'bad.py');
			writeFileSync(file, 'import os\ndef f():\n    return foo + os.sep\nclass C:\n    x = bar\n    def m(self):\n        global g\n        g = 1\n        return C, g, baz\n');
			const r = check(py.path, [file]);
			assert.equal(r.status, 1, r.out);
			assert.deepEqual(r.out.trim().split('\n').map((l) => l.split(': ')[1]?.split(' ')[0]), ['foo', 'bar', 'baz']);
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
