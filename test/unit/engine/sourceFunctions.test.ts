import * as assert from 'node:assert/strict';
import { findFunctions, languageOfFile } from '../../../engine/source/sourceFunctions';

const names = (text: string, lang: 'python' | 'javascript' | 'typescript') => findFunctions(text, lang).map((f) => f.name);

describe('sourceFunctions: top-level functions without a language server', () => {
	it('maps file extensions to languages', () => {
		assert.equal(languageOfFile('/a/b.py'), 'python');
		assert.equal(languageOfFile('x.MJS'), 'javascript');
		assert.equal(languageOfFile('x.cts'), 'typescript');
		assert.equal(languageOfFile('x.txt'), undefined);
	});

	it('Python: top-level def and async def, not methods, nested functions or code in strings', () => {
		const src = [
			'import time',
			'# poolscope: inputs=[(25_000_000,)] * 4',
			'def countdown(n):',
			'    def inner(x):',
			'        return x',
			'    while n > 0:',
			'        n -= 1',
			'',
			'class Worker:',
			'    def run(self):',
			'        pass',
			'"""',
			'def not_code(x):',
			'"""',
			'@decorator',
			'async def fetch(url):',
			'    pass',
		].join('\n');
		const found = findFunctions(src, 'python');
		assert.deepEqual(found.map((f) => [f.name, f.line, f.isAsync]), [['countdown', 2, false], ['fetch', 15, true]]);
		assert.equal(found[0]!.inputs, '[(25_000_000,)] * 4');
		assert.equal(found[0]!.column, 4);
		assert.equal(found[1]!.inputs, undefined);
	});

	it('Python: the inputs comment may sit above decorators', () => {
		const found = findFunctions('# poolscope: inputs=range(8)\n@cache\ndef f(x):\n    return x\n', 'python');
		assert.equal(found[0]!.inputs, 'range(8)');
	});

	it('JS/TS: declarations, exports, arrows, async, default export; not nested ones', () => {
		const src = [
			'// poolscope: inputs=[[30], [31]]',
			'function fib(n) {',
			'  function helper() { return 1; }',
			'  const inner = () => 2;',
			'  return n < 2 ? n : fib(n - 1) + fib(n - 2);',
			'}',
			'export async function load(url) { return url; }',
			'const square = (x) => x * x;',
			'export const typed: (n: number) => number = (n) => n;',
			'let later = async x => x;',
			'const notAFunction = 42;',
			'const s = `function fake() { ${ "{" } }`;',
			'/* function alsoFake() {} */',
			'export default function (x) { return x; }',
			'class C { method() {} }',
		].join('\n');
		const found = findFunctions(src, 'typescript');
		assert.deepEqual(found.map((f) => f.name), ['fib', 'load', 'square', 'typed', 'later', 'default']);
		assert.equal(found[0]!.inputs, '[[30], [31]]');
		assert.equal(found.find((f) => f.name === 'load')!.isAsync, true);
		assert.equal(found.find((f) => f.name === 'later')!.isAsync, true);
	});

	it('JS: a multi-line template literal or block comment does not produce functions', () => {
		const src = 'const t = `\nfunction fake() {}\n`;\n/*\nfunction fake2() {}\n*/\nfunction real() {}\n';
		assert.deepEqual(names(src, 'javascript'), ['real']);
	});
});
