import * as assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findPython } from '../../../engine/python/interpreter';
import { MarkedStream, RAW_END, RAW_START, withoutMarks } from '../../../engine/python/runnerOutput';
import { ofType, PY_FIXTURES, pyRun } from './pyHelpers';

describe('Python runner output on fd 1 and 2', () => {
	it('only what comes between the marks is the run\'s, whatever the chunks split', () => {
		const whole = `launcher says hi\n${RAW_START}one\n\u0000two\n${RAW_END}a stuck thread, later\n`;
		for (let size = 1; size <= whole.length; size++) {
			const s = new MarkedStream();
			let got = '';
			for (let i = 0; i < whole.length; i += size) {
				got += s.take(whole.slice(i, i + size));
			}
			assert.equal(got, 'one\n\u0000two\n', `chunks of ${size}`);
			assert.ok(s.ended);
		}
	});

	it('without an end mark, what was held back as a possible mark is output at the pipe\'s end', () => {
		const s = new MarkedStream();
		assert.equal(s.take(`${RAW_START}text`), 'text');
		assert.equal(s.take(RAW_END.slice(0, 6)), '');
		assert.equal(s.rest(), RAW_END.slice(0, 6));
		assert.ok(!s.ended);
		assert.equal(withoutMarks(`a${RAW_START}b${RAW_END}c`), 'abc');
	});

	it('what the run wrote to fd 1 and 2 before its end mark is delivered, before run.finished, also when the host reads it after the end', async () => {
		const python = findPython();
		assert.ok(python.ok, 'a Python on PATH');
		const dir = mkdtempSync(join(tmpdir(), 'poolscope-fake-runner-'));
		try {
			const fake = join(dir, 'python3');
			writeFileSync(fake, `#!/bin/sh\nexec '${python.path}' -u '${join(PY_FIXTURES, 'late_output_runner.py')}'\n`);
			chmodSync(fake, 0o755);
			const r = pyRun({ fn: 'square', inputs: 'range(0)', pythonPath: fake });
			const end = await r.done;
			assert.equal(end.outcome, 'completed');
			const said = (stream: string) => ofType(r.events, 'run.output').filter((o) => o.stream === stream).map((o) => o.text).join('');
			assert.equal(said('stdout'), 'right after the start\njust before the end\n');
			assert.equal(said('stderr'), 'on stderr\n');
			assert.equal(r.events.at(-1)?.type, 'run.finished');
			assert.equal(r.events[0].type, 'run.started');
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});

	it('a task that closes fd 1 (no end mark can be written there) still lets the run end, with what it wrote before', async () => {
		const r = pyRun({ fn: 'closes_fd1', inputs: '[(7,)]', pool: 'thread', workers: 1 });
		const end = await r.done;
		assert.equal(end.counts.finished, 1, JSON.stringify(end));
		const said = ofType(r.events, 'run.output').filter((o) => o.stream === 'stdout').map((o) => o.text).join('');
		assert.equal(said, 'last words on fd 1 7\n');
	});
});
