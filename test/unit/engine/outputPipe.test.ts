/** Frames of a JS process worker's output pipe (engine/js/outputPipe.ts), read in any chunks. */
import * as assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FrameReader, FrameWriter, RUN_OUTPUT } from '../../../engine/js/outputPipe';

/** What a FrameWriter writes for these prints, as bytes (through a file). */
function framesOf(prints: [number, 'stdout' | 'stderr', string][]): { bytes: Buffer; written: number } {
	const dir = mkdtempSync(join(tmpdir(), 'poolscope-frames-'));
	try {
		const fd = openSync(join(dir, 'pipe'), 'w');
		const writer = new FrameWriter(fd, () => assert.fail('host gone'));
		for (const [taskId, stream, text] of prints) {
			writer.write(taskId, stream, text);
		}
		closeSync(fd);
		return { bytes: readFileSync(join(dir, 'pipe')), written: writer.written };
	} finally {
		rmSync(dir, { recursive: true, force: true });
	}
}

function read(chunks: Buffer[], end = true): { got: [number, string, string][]; received: number } {
	const got: [number, string, string][] = [];
	const reader = new FrameReader((taskId, stream, text) => got.push([taskId, stream, text]));
	for (const c of chunks) {
		reader.push(c);
	}
	if (end) {
		reader.end();
	}
	return { got, received: reader.received };
}

describe('outputPipe: a process worker\'s output frames', () => {
	const prints: [number, 'stdout' | 'stderr', string][] = [[3, 'stdout', 'a line\n'], [3, 'stdout', 'é€😀 and more\n'], [3, 'stderr', 'warn\n'], [RUN_OUTPUT, 'stdout', 'module\n'], [4, 'stdout', ''], [4, 'stdout', 'x'.repeat(70_000)]];
	const { bytes, written } = framesOf(prints);

	it('counts the bytes it wrote, and writes nothing for empty text', () => {
		assert.equal(written, bytes.length);
		assert.equal(framesOf([[1, 'stdout', '']]).written, 0);
	});

	it('says it cannot write where the descriptor is not there (the caller then sends the text another way), and stays so', () => {
		const writer = new FrameWriter(1_000_000, () => assert.fail('host gone'));
		assert.equal(writer.write(1, 'stdout', 'a\n'), false);
		assert.equal(writer.write(1, 'stdout', 'b\n'), false);
		assert.equal(writer.written, 0);
	});

	it('reads the same frames whatever the chunks (cut at every byte, one chunk, 7-byte chunks)', () => {
		const want = prints.filter((p) => p[2] !== '');
		const merged = [[3, 'stdout', 'a line\né€😀 and more\n'], [3, 'stderr', 'warn\n'], [RUN_OUTPUT, 'stdout', 'module\n'], [4, 'stdout', 'x'.repeat(70_000)]];
		const whole = read([bytes]);
		assert.equal(whole.received, bytes.length);
		assert.deepEqual(whole.got, merged);
		const bytewise = read([...bytes].map((b) => Buffer.from([b])));
		// One byte at a time: each frame arrives alone, so nothing is merged.
		assert.deepEqual(bytewise.got, want);
		const sevens: Buffer[] = [];
		for (let i = 0; i < bytes.length; i += 7) {
			sevens.push(bytes.subarray(i, i + 7));
		}
		const joined = read(sevens).got.reduce<[number, string, string][]>((acc, g) => {
			const last = acc[acc.length - 1];
			if (last && last[0] === g[0] && last[1] === g[1]) {
				last[2] += g[2];
			} else {
				acc.push([...g]);
			}
			return acc;
		}, []);
		assert.deepEqual(joined, merged);
	});

	it('merges whole frames of one task and stream that arrive in one read', () => {
		const two = framesOf([[1, 'stdout', 'a\n'], [1, 'stdout', 'b\n']]).bytes;
		assert.deepEqual(read([two]).got, [[1, 'stdout', 'a\nb\n']]);
	});

	it('a frame cut by the worker\'s death is delivered as far as it came, a cut header dropped; a line that is not a header is skipped', () => {
		const one = framesOf([[5, 'stdout', 'abcdef\n']]).bytes;
		assert.deepEqual(read([one.subarray(0, one.length - 3)]).got, [[5, 'stdout', 'abcd']]);
		assert.deepEqual(read([one.subarray(0, 3)]).got, []);
		assert.deepEqual(read([Buffer.from('not a header\n'), one]).got, [[5, 'stdout', 'abcdef\n']]);
		// Nothing delivered before the end for a frame still coming.
		assert.deepEqual(read([one.subarray(0, one.length - 3)], false).got, []);
	});
});
