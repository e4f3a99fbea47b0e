/**
 * JS and TS files as projects write them (real bundling, real worker threads): the project's
 * tsconfig (legacy decorators, class fields, path aliases), a function exported under another
 * name, a misspelled name in a TS file, a dynamic import of a package that is not installed, .tsx.
 */
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { JS_FIXTURES, ofType, run } from './jsHelpers';

async function results(file: string, fn: string, inputs: string) {
	const r = run({ file: join(JS_FIXTURES, file), fn, inputs, language: /\.tsx?$/.test(file) ? 'typescript' : 'javascript', pool: 'thread', workers: 1 });
	const end = await r.done;
	return { end, events: r.events, finished: ofType(r.events, 'task.finished').map((f) => f.result), failed: ofType(r.events, 'task.failed') };
}

describe('JS/TS files as projects write them', function () {
	this.timeout(60_000);

	it('the nearest tsconfig.json applies: legacy decorators (experimentalDecorators), useDefineForClassFields false, paths', async () => {
		const a = await results('tsproject/src/main.ts', 'decorated', '[[2]]');
		assert.deepEqual(a.failed.map((f) => f.error.message), []);
		assert.deepEqual(a.finished, ["'tagged:4'"]);
		// With define semantics (TypeScript's default for ES2022+ without the option) the field would reset to undefined.
		const b = await results('tsproject/src/main.ts', 'fieldSetInConstructor', '1');
		assert.deepEqual(b.finished, ['42']);
	});

	it('a function keeps its own name (fn.name, stack frames), as plain Node gives it (the bundle renamed nm to nm2)', async () => {
		assert.deepEqual((await results('ownName.js', 'nm', '1')).finished, ["'nm'"]);
		const failed = (await results('ownName.js', 'failsNamed', '1')).failed[0]!;
		assert.equal(failed.error.message, 'from failsNamed');
		assert.equal(failed.error.frames?.find((f) => f.user)?.function, 'failsNamed');
	});

	it('a function exported under another name (export { inner as plusOne }) runs by that name, in TS and JS', async () => {
		assert.deepEqual((await results('aliased.ts', 'plusOne', '[[3]]')).finished, ['4']);
		assert.deepEqual((await results('aliased.js', 'renamed', '[[3]]')).finished, ['4']);
		assert.deepEqual((await results('aliased.ts', 'inner', '[[3]]')).finished, ['4'], 'the local name still runs');
	});

	it('a misspelled name in a TS file is FunctionNotFound with the file\'s functions, as in JS (not "undefined is not a function")', async () => {
		const r = await results('aliased.ts', 'sqare', '3');
		assert.equal(r.end.outcome, 'error');
		assert.equal(r.end.error?.name, 'FunctionNotFound');
		assert.match(r.end.error?.message ?? '', /no top-level function "sqare"/);
		assert.match(r.end.error?.hint ?? '', /Functions in this file: .*square/);
		assert.equal(r.end.counts.submitted, 0);
	});

	it('a dynamic import of a package that is not installed fails only the call that makes it; the file loads and its other functions run', async () => {
		assert.deepEqual((await results('optionalImport.js', 'usesBuiltin', '1')).finished, ["'function'"]);
		const r = await results('optionalImport.js', 'usesMissing', '1');
		assert.equal(r.end.outcome, 'completed');
		assert.equal(r.failed.length, 1);
		assert.match(r.failed[0]!.error.message, /Cannot find (package|module) 'poolscope-not-installed-package'/);
	});

	it('a .tsx file runs (its functions need no JSX to be called)', async () => {
		assert.deepEqual((await results('component.tsx', 'total', '[[[1, 2, 3]]]')).finished, ['6']);
	});

	it('a count written as an expression (1e3, 1_000, 2 ** 3) is a count; 2.5 and -1 are refused saying what a count is', async () => {
		for (const [inputs, n] of [['1e3', 1000], ['1_000', 1000], ['2 ** 3', 8]] as const) {
			const r = await results('aliased.js', 'renamed', inputs);
			assert.equal(r.end.counts.finished, n, inputs);
		}
		for (const inputs of ['2.5', '-1']) {
			const r = await results('aliased.js', 'renamed', inputs);
			assert.equal(r.end.outcome, 'error', inputs);
			assert.match(r.end.error?.message ?? '', /a count must be a whole number, 0 or more/);
		}
	});

	it('an argument that cannot reach a worker (a function) is shown as what it is in the task\'s input, not as Poolscope\'s marker', async () => {
		const r = await results('aliased.js', 'renamed', '[function () {}]');
		assert.deepEqual(ofType(r.events, 'task.submitted').map((t) => t.input), ['"<a function>"']);
		assert.match(r.failed[0]?.error.message ?? '', /its argument \(a function\) cannot be sent to a worker/);
	});

	it('a static method with its decorator on its line, or in a class written on one line, runs as Class.method; a name its class lacks says so', async () => {
		assert.deepEqual((await results('oneLineClasses.ts', 'Api.double', '[[4]]')).finished, ['8']);
		assert.deepEqual((await results('oneLineClasses.ts', 'Tiny.neg', '[[4]]')).finished, ['-4']);
		for (const fn of ['Tiny.whole', 'Tiny.nope', 'Nope.neg']) {
			const r = await results('oneLineClasses.ts', fn, '[[4]]');
			assert.equal(r.end.outcome, 'error', fn);
			assert.equal(r.end.error?.name, 'FunctionNotFound', fn);
			assert.match(r.end.error?.message ?? '', new RegExp(`^no static method "${fn.replace('.', '\\.')}" in .*oneLineClasses\\.ts$`), fn);
		}
	});

	it('a static field holding a function (static fib = (n) => ...) runs as Class.field, as a static method does', async () => {
		assert.deepEqual((await results('staticFields.ts', 'Maths.fib', '[[10]]')).finished, ['55']);
		assert.deepEqual((await results('staticFields.ts', 'Maths.half', '[[3]]')).finished, ['1.5']);
	});
});
