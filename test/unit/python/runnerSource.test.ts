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

/** A script run with the runner's emitter imported as `pe`; what it prints, once it exited 0. */
function withEmitter(python: string, lines: string[]): string {
	const script = ['import sys', `sys.path.insert(0, ${JSON.stringify(RUNNER_SOURCE)})`, 'import poolscope_emitter as pe', ...lines].join('\n');
	const r = spawnSync(python, ['-c', script], { encoding: 'utf8' });
	assert.equal(r.status, 0, r.stderr);
	return r.stdout.trim();
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

	it('the emitter\'s last event is the last on the channel, while another thread keeps emitting (a queue.depth went out after run.finished in a CI run)', function () {
		if (!py.ok) {
			this.skip();
		}
		// A thread emits as the runner's monitor does; the main thread ends the run meanwhile, 200 times.
		// A reader drains the pipe as the host does (a full pipe would block both writers).
		const printed = withEmitter(py.path, [
			'import json, os, threading, time',
			'bad = 0',
			'for i in range(200):',
			'    r, w = os.pipe()',
			'    chunks = []',
			'    def drain():',
			'        while True:',
			'            chunk = os.read(r, 1 << 20)',
			'            if not chunk:',
			'                return',
			'            chunks.append(chunk)',
			'    reader = threading.Thread(target=drain)',
			'    reader.start()',
			'    em = pe.Emitter("r%d" % i, w)',
			'    stop = threading.Event()',
			'    def busy():',
			'        while not stop.is_set():',
			'            em.emit("queue.depth", depths={"pending": 1})',
			'    t = threading.Thread(target=busy)',
			'    t.start()',
			'    time.sleep(0.001)',
			'    em.emit_last("run.finished", outcome="completed")',
			'    time.sleep(0.001)',
			'    stop.set()',
			'    t.join()',
			'    em.out.close()',
			'    reader.join()',
			'    os.close(r)',
			'    data = b"".join(chunks)',
			'    events = [e for line in data.decode().splitlines() for e in json.loads(line)["events"]]',
			'    bad += events[-1]["type"] != "run.finished"',
			'print(bad)',
		]);
		assert.equal(printed, '0', 'runs whose last event was not run.finished');
	});

	it('a batch line with number columns spliced in as base64 reads back as json.dumps writes it (the host parses both alike)', function () {
		if (!py.ok) {
			this.skip();
		}
		const printed = withEmitter(py.path, [
			'import array, json, struct',
			'batches = [',
			'    [],',
			'    [{"type": "run.started", "fn": "f<\\"x\\">", "n": [1, 2.5, None]}],',
			'    [["T", struct.pack("6d", 1.5, 0, 0, 2.5, float("nan"), 0), ["None"]]],',
			'    [{"type": "a"}, ["T", b"\\x00\\xff", ["\\u00e9", "\\n\\"q"]], ["S", 1.0, 0, 5], ["q", array.array("d", [1.5]), ["pending"]], {"b": b"zz"}, ["S", 2.0, 5, ["x"]]],',
			'    [["T", b"", []], ["c", 1, "two"]],',
			']',
			'for b in batches:',
			'    line = pe.encode_batch(b)',
			'    assert "\\n" not in line, line',
			'    assert json.loads(line) == json.loads(json.dumps({"events": b}, default=pe._encode_other)), line',
			'print(len(batches))',
		]);
		assert.equal(printed, '5');
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
