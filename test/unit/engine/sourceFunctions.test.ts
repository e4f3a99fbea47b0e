import * as assert from 'node:assert/strict';
import { findFunctions, findStaticMethods, functionAt, insideFunction, languageOfFile, methodAt, parseDirective } from '../../../engine/source/sourceFunctions';

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

	it('poolscope comments declare the pool, workers and timeout too: several lines add up, the nearest wins, inputs takes the rest of its line', () => {
		const py = [
			'# poolscope: pool=process timeoutMs=9 maxTasksPerChild=3 startMethod=spawn',
			'# poolscope: pool=thread workers=2, timeoutMs=1500',
			'# poolscope: inputs=[(0,), (1,)] if x == 1 else []',
			'@decorated',
			'def f(i):',
			'    return i',
			'',
			'# poolscope: workers=3 inputs=range(4)',
			'def g(i):',
			'    return i',
			'',
			'def h(i):',
			'    return i',
		].join('\n');
		const found = findFunctions(py, 'python');
		assert.deepEqual(found.map((f) => [f.name, f.inputs, f.options, f.problems]), [
			['f', '[(0,), (1,)] if x == 1 else []', { pool: 'thread', workers: 2, timeoutMs: 1500, maxTasksPerChild: 3, startMethod: 'spawn' }, undefined],
			['g', 'range(4)', { workers: 3 }, undefined],
			['h', undefined, undefined, undefined],
		]);
		const js = findFunctions('// poolscope: pool=serial\n// poolscope: inputs=[[1]]\nexport function k(n) { return n; }\n', 'javascript');
		assert.deepEqual([js[0]!.inputs, js[0]!.options], ['[[1]]', { pool: 'serial' }]);
	});

	it('a poolscope comment that cannot be read says what and where, not a guess', () => {
		const found = findFunctions('# poolscope: pool=threads workers=0 timeoutMs=-5 colour=red startMethod=vfork\n# poolscope: just words\ndef f(i):\n    return i\n', 'python');
		assert.deepEqual(found[0]!.problems, [
			'line 2: cannot read "just words": write inputs=..., pool=thread|process|serial, workers=N, timeoutMs=N, maxTasksPerChild=N, startMethod=fork|spawn|forkserver, mode=submit|map, chunksize=N',
			'line 1: pool=threads: one of thread, process, serial',
			'line 1: workers=0: a whole number from 1 to 1024',
			'line 1: timeoutMs=-5: a whole number of milliseconds (0: none)',
			'line 1: unknown option "colour" (known: inputs=..., pool=thread|process|serial, workers=N, timeoutMs=N, maxTasksPerChild=N, startMethod=fork|spawn|forkserver, mode=submit|map, chunksize=N)',
			'line 1: startMethod=vfork: one of fork, spawn, forkserver',
		]);
		assert.deepEqual(parseDirective('inputs='), { options: {}, problems: ['inputs= is empty'] });
		assert.deepEqual(parseDirective('timeoutMs=0 inputs=3'), { inputs: '3', options: { timeoutMs: 0 }, problems: [] });
	});

	it('mode=submit|map and chunksize=N: read like the other keys, and refused where they would do nothing (as the CLI refuses its flags)', () => {
		const py = [
			'# poolscope: pool=process mode=map',
			'# poolscope: chunksize=5 inputs=range(20)',
			'def mapped(x):',
			'    return x',
			'',
			'# poolscope: mode=submit',
			'def submitted(x):',
			'    return x',
			'',
			'# poolscope: mode=map chunksize=10',
			'def no_pool_said(x):',
			'    return x',
		].join('\n');
		assert.deepEqual(findFunctions(py, 'python').map((f) => [f.name, f.options, f.problems]), [
			['mapped', { pool: 'process', mode: 'map', chunksize: 5 }, undefined],
			['submitted', { mode: 'submit' }, undefined],
			// The pool comes from the lens or the setting then: the run leaves chunks out on a thread pool.
			['no_pool_said', { mode: 'map', chunksize: 10 }, undefined],
		]);
		const js = findFunctions('// poolscope: pool=process chunksize=8\nexport function k(n) { return n; }\n', 'javascript');
		assert.deepEqual([js[0]!.options, js[0]!.problems], [{ pool: 'process', chunksize: 8 }, undefined]);
		const bad = (text: string, language: 'python' | 'javascript' | 'typescript') => findFunctions(text, language)[0]!.problems;
		assert.deepEqual(bad('# poolscope: mode=imap chunksize=0 chunksize=x\ndef f(x):\n    return x\n', 'python'), [
			'line 1: mode=imap: one of submit, map',
			'line 1: chunksize=0: a whole number from 1',
			'line 1: chunksize=x: a whole number from 1',
		]);
		assert.deepEqual(bad('// poolscope: mode=map\nexport function k(n) { return n; }\n', 'typescript'), [
			'line 1: mode=map is for Python (executor.submit or executor.map); a JS pool takes one call per input',
		]);
		// Python chunks are map's: a chunksize with submit (said or by default) would be ignored.
		assert.deepEqual(bad('# poolscope: pool=process\n# poolscope: chunksize=4\ndef f(x):\n    return x\n', 'python'), [
			'line 2: chunksize=4 applies to executor.map in Python: add mode=map',
		]);
		assert.deepEqual(bad('// poolscope: chunksize=4\n// poolscope: pool=thread\nfunction k(n) { return n; }\n', 'javascript'), [
			'line 1: chunksize=4 applies to process pools (this comment says pool=thread)',
		]);
		assert.deepEqual(parseDirective('chunksize=3, mode=map'), { options: { chunksize: 3, mode: 'map' }, problems: [] });
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

	it('JS/TS: a parenthesized value is no function; an arrow is, its parameters over several lines too', () => {
		const src = [
			'const total = (1 + 2) * 3;',
			'export const picked = (a) ? b : c;',
			'const el = <div>(hi)</div>;',
			'const sum = (',
			'  a: number,',
			'  b: number,',
			'): number =>',
			'  a + b;',
			'const id = <T,>(x: T): T => x;',
			'export const later = async (x) => x;',
		].join('\n');
		assert.deepEqual(names(src, 'typescript'), ['sum', 'id', 'later']);
	});

	it('TypeScript overloads are one function (one lens row), at the implementation, with the comment above the signatures', () => {
		const src = [
			'// poolscope: inputs=[[1], ["a"]]', // 0
			'export function over(a: string): string;', // 1
			'export function over(a: number): number; // a number', // 2
			'export function over(a: any) {', // 3
			'  return a;', // 4
			'}', // 5
			'export class K {', // 6
			'  static twice(a: string): string;', // 7
			'  static twice(a: number): number;', // 8
			'  static twice(a: any) {', // 9
			'    return a;', // 10
			'  }', // 11
			'}', // 12
		].join('\n');
		const found = findFunctions(src, 'typescript');
		assert.deepEqual(found.map((f) => [f.name, f.line, f.inputs]), [['over', 3, '[[1], ["a"]]']]);
		assert.deepEqual([0, 1, 2, 3, 4].map((l) => functionAt(src, 'typescript', l)?.name), Array(5).fill('over'), 'the cursor on a signature too');
		assert.deepEqual(findStaticMethods(src, 'typescript').map((f) => [f.name, f.line]), [['K.twice', 9]]);
		const py = 'from typing import overload\n@overload\ndef f(x: int) -> int: ...\n@overload\ndef f(x: str) -> str: ...\ndef f(x):\n    return x\n';
		assert.deepEqual(findFunctions(py, 'python').map((f) => [f.name, f.line]), [['f', 5]], 'Python\'s @overload stubs: the last def is the function');
	});

	it('JS/TS: a regex literal holding a brace or a backtick hides no function below it; a division is no regex', () => {
		const src = [
			'export const BRACE = /[{]/;',
			'const TICK = /`/g;',
			'function check(s) {',
			'  if (/}\\/{/.test(s)) return s.split(/[`"\']/);',
			'  const half = s.length / 2, third = (s.length) / 3; // a { in a comment',
			'  return [half, third].map((n) => /\\{/.test(n) ? n : n / 1);',
			'}',
			'export const after = (x) => x;',
			'const ratio = total / count / 2;',
			'export function last(a) { return a; }',
		].join('\n');
		assert.deepEqual(names(src, 'javascript'), ['check', 'after', 'last']);
		assert.equal(functionAt(src, 'javascript', 9)?.name, 'last');
		const jsx = 'export function App() {\n  return <p>{a}/{b}<span>{c}</span></p>;\n}\nexport const later = () => 1;\n';
		assert.deepEqual(names(jsx, 'typescript'), ['App', 'later'], 'JSX closing tags are no regex');
	});

	it('JS: a multi-line template literal or block comment does not produce functions', () => {
		const src = 'const t = `\nfunction fake() {}\n`;\n/*\nfunction fake2() {}\n*/\nfunction real() {}\n';
		assert.deepEqual(names(src, 'javascript'), ['real']);
	});
	it('Python: the method and class a line is in (for the message saying why a pool cannot call it)', () => {
		const src = [
			'def top(x):', // 0
			'    return x', // 1
			'', // 2
			'class Resizer:', // 3
			"    '''Scales.'''", // 4
			'    @staticmethod', // 5
			'    def scale(size):', // 6
			'        if size:', // 7
			'            return 2', // 8
			'', // 9
			'    async def fetch(self, url):', // 10
			'        return url', // 11
			'x = 1', // 12
		].join('\n');
		assert.deepEqual(methodAt(src, 'python', 8), { method: 'scale', className: 'Resizer', isStatic: true });
		assert.deepEqual(methodAt(src, 'python', 6), { method: 'scale', className: 'Resizer', isStatic: true });
		assert.deepEqual(methodAt(src, 'python', 11), { method: 'fetch', className: 'Resizer', isStatic: false });
		assert.equal(methodAt('class A:\n    @classmethod\n    @functools.cache\n    def make(cls, n):\n        return n\n', 'python', 4)?.isStatic, true, 'a class method, under another decorator');
		assert.equal(methodAt(src, 'python', 1), undefined, 'a top-level function is no method');
		assert.equal(methodAt(src, 'python', 4), undefined, 'the class body outside a method');
		assert.equal(methodAt(src, 'python', 12), undefined, 'module code below the class');
		assert.equal(methodAt('def outer():\n    def inner():\n        pass\n', 'python', 2), undefined, 'a nested function is not a method');
	});

	it('static methods, as Class.method with their inputs comment (lenses and the cursor offer them)', () => {
		const py = 'class A:\n    # poolscope: inputs=[1, 2]\n    @staticmethod\n    def s(x):\n        return x\n\n    def inst(self):\n        pass\n\n    @classmethod\n    def c(cls):\n        pass\n';
		assert.deepEqual(findStaticMethods(py, 'python').map((f) => [f.name, f.line, f.inputs]), [['A.s', 3, '[1, 2]'], ['A.c', 10, undefined]]);
		const js = 'export class B {\n  // poolscope: inputs=[[3]]\n  static async half(n) {\n    return n / 2;\n  }\n  whole(n) {\n    return n;\n  }\n}\nconst s = "static fake(x) {";\n';
		assert.deepEqual(findStaticMethods(js, 'javascript').map((f) => [f.name, f.line, f.inputs]), [['B.half', 2, '[[3]]']]);
		// A body on the method's own line, a decorator above it (TypeScript).
		const ts = 'class Calc {\n  @logged\n  static twice(x: number): number { return x * 2; }\n  static async later(x: number) { await tick(); return x; }\n  plain(x: number) { return x; }\n}\nfunction f() {\n  go(x);\n  if (x) { y(); }\n}\n';
		assert.deepEqual(findStaticMethods(ts, 'typescript').map((f) => [f.name, f.line]), [['Calc.twice', 2], ['Calc.later', 3]]);
		assert.deepEqual([methodAt(ts, 'typescript', 4)?.method, methodAt(ts, 'typescript', 4)?.isStatic], ['plain', false]);
		assert.deepEqual(findFunctions(ts, 'typescript').map((f) => f.name), ['f'], 'a call and an if in a function are neither methods nor functions');
		// Decorators on the method's own line (TypeScript and NestJS style).
		const inline = "export class Api {\n  @logged static double(x: number) { return 2 * x; }\n  @Get(':id') static async find(id: string) {\n    return id;\n  }\n  @Input() name: string;\n}\n";
		assert.deepEqual(findStaticMethods(inline, 'typescript').map((f) => [f.name, f.line]), [['Api.double', 1], ['Api.find', 2]]);
		// Static fields holding a function run as Class.field too; a static value does not.
		const fields = 'class Maths {\n  static fib = (n) => (n < 2 ? n : Maths.fib(n - 1) + Maths.fib(n - 2));\n  static readonly half: (x: number) => number = (x) => x / 2;\n  static load = async function (x) {\n    return x;\n  };\n  static limit = 10;\n  static square = x => x * x;\n}\n';
		assert.deepEqual(findStaticMethods(fields, 'typescript').map((f) => [f.name, f.line]), [['Maths.fib', 1], ['Maths.half', 2], ['Maths.load', 3], ['Maths.square', 7]]);
		assert.deepEqual(methodAt(fields, 'typescript', 4), { method: 'load', className: 'Maths', isStatic: true });
	});

	it('JS/TS: the method and class a line is in', () => {
		const src = [
			'function top(x) {', // 0
			'  return x;', // 1
			'}', // 2
			'export class Resizer {', // 3
			'  constructor(f) { this.f = f; }', // 4
			'  async scale(size: number): Promise<number> {', // 5
			'    if (size) {', // 6
			'      return size * this.f;', // 7
			'    }', // 8
			'  }', // 9
			'}', // 10
		].join('\n');
		assert.deepEqual(methodAt(src, 'typescript', 7), { method: 'scale', className: 'Resizer', isStatic: false });
		assert.deepEqual(methodAt(src, 'typescript', 5), { method: 'scale', className: 'Resizer', isStatic: false });
		assert.equal(methodAt('class A {\n  public static async make(n) {\n    return n;\n  }\n}\n', 'typescript', 2)?.isStatic, true);
		assert.equal(methodAt(src, 'typescript', 1), undefined);
		assert.equal(methodAt('const o = {\n  f(x) {\n    return x;\n  },\n};\n', 'javascript', 2), undefined, 'an object literal has no class');
	});

	it('a line belongs to the function above it until a top-level statement starts', () => {
		const py = 'def a(x):\n    y = 1\n\n    return y\n\nclass K:\n    def m(self):\n        pass\n';
		assert.equal(insideFunction(py, 'python', 0, 3), true);
		assert.equal(insideFunction(py, 'python', 0, 4), true, 'a blank line after it');
		assert.equal(insideFunction(py, 'python', 0, 7), false, 'in a class below it');
		const js = 'function a(\n  x,\n) {\n  return x;\n}\n// note\nclass K {\n  m() {\n    return 1;\n  }\n}\n';
		assert.equal(insideFunction(js, 'javascript', 0, 3), true, 'a signature over several lines');
		assert.equal(insideFunction(js, 'javascript', 0, 5), true, 'a comment after it');
		assert.equal(insideFunction(js, 'javascript', 0, 8), false, 'in a class below it (it ran the function above)');
	});

	it('the function the cursor is in: not the next one when it starts two lines below, and from any of its attached comments and decorators', () => {
		const js = [
			'// poolscope: inputs=[[2], [3]]', // 0
			'export const double = (n) => n * 2;', // 1
			'// poolscope: inputs=[[2], [3]]', // 2
			'export const triple = (n) => n * 3;', // 3
			'export const square = (n) => n * n;', // 4
		].join('\n');
		assert.deepEqual([0, 1, 2, 3, 4].map((l) => functionAt(js, 'javascript', l)?.name), ['double', 'double', 'triple', 'triple', 'square']);
		assert.equal(insideFunction(js, 'javascript', 3, 1), false, 'two lines above a function, in another one');
		const ts = 'export function over(a: number): number {\n  return a;\n}\nexport function next(a: number) {\n  return a;\n}\n';
		assert.equal(functionAt(ts, 'typescript', 0)?.name, 'over');
		const py = [
			'@functools.cache', // 0
			'def cached(n):', // 1
			'    return n * 2', // 2
			'def right_after(n):', // 3
			'    return n', // 4
			'', // 5
			'', // 6
			'x = 1', // 7
			'', // 8
			'# poolscope: inputs=range(3)', // 9
			'@a', // 10
			'@b(', // 11
			'    1,', // 12
			')', // 13
			'@c', // 14
			'def decorated(n):', // 15
			'    return n', // 16
		].join('\n');
		assert.deepEqual([0, 1, 2, 3, 4, 5, 7, 8].map((l) => functionAt(py, 'python', l)?.name), ['cached', 'cached', 'cached', 'right_after', 'right_after', 'right_after', undefined, undefined]);
		assert.deepEqual([9, 10, 11, 12, 13, 14, 15, 16].map((l) => functionAt(py, 'python', l)?.name), Array(8).fill('decorated'), 'the top decorator (three of them) and a decorator\'s argument lines');
		assert.equal(findFunctions(py, 'python').find((f) => f.name === 'decorated')!.inputs, 'range(3)', 'the inputs comment above a decorator over several lines');
		assert.equal(functionAt('def a():\n    return 1\n    # the end of a\ndef b():\n    pass\n', 'python', 2)?.name, 'a', 'a comment indented into the body above is not the next function\'s');
	});

	it('a decorator or comment above a method belongs to that method, not to the one above', () => {
		const py = [
			'class A:', // 0
			'    def inst(self):', // 1
			'        return 1', // 2
			'    # poolscope: inputs=[1]', // 3
			'    @staticmethod', // 4
			'    def smethod(n):', // 5
			'        return n', // 6
			'', // 7
			'@dataclass', // 8
			'class B:', // 9
			'    x: int', // 10
		].join('\n');
		assert.deepEqual(methodAt(py, 'python', 4), { method: 'smethod', className: 'A', isStatic: true });
		assert.deepEqual(methodAt(py, 'python', 3), { method: 'smethod', className: 'A', isStatic: true });
		assert.equal(methodAt(py, 'python', 8), undefined, 'a decorated class below');
		const ts = 'class Calc {\n  plain(x: number) { return x; }\n  @logged\n  static twice(x: number) { return x * 2; }\n}\n';
		assert.deepEqual(methodAt(ts, 'typescript', 2), { method: 'twice', className: 'Calc', isStatic: true });
		const gen = 'class G {\n  // poolscope: inputs=[[1]]\n  *gen() { yield 1; }\n  static s(x) { return x; }\n}\n';
		assert.deepEqual(findStaticMethods(gen, 'javascript').map((f) => [f.name, f.inputs]), [['G.s', undefined]], 'a generator method above is no comment line');
	});

	it('a static method of a class that is not top-level gets no lens and does not run as Class.method (no runner finds the class by one name)', () => {
		const py = [
			'class Outer:', // 0
			'    class Inner:', // 1
			'        @staticmethod', // 2
			'        def deep(n):', // 3
			'            return n', // 4
			'    @staticmethod', // 5
			'    def shallow(n):', // 6
			'        return n', // 7
			'def make():', // 8
			'    class Local:', // 9
			'        @staticmethod', // 10
			'        def m(n):', // 11
			'            return n', // 12
			'    return Local', // 13
		].join('\n');
		assert.deepEqual(findStaticMethods(py, 'python').map((f) => f.name), ['Outer.shallow']);
		assert.deepEqual(methodAt(py, 'python', 4), { method: 'deep', className: 'Outer.Inner', isStatic: false }, 'the message names the class as the top level reaches it');
		assert.deepEqual(methodAt(py, 'python', 7), { method: 'shallow', className: 'Outer', isStatic: true });
		assert.equal(methodAt(py, 'python', 12), undefined, 'a class in a function is the function\'s');
		assert.equal(functionAt(py, 'python', 12)?.name, 'make');
		const js = 'function make() {\n  class Local {\n    static m(n) {\n      return n;\n    }\n  }\n  return Local;\n}\nclass Top {\n  static t(n) {\n    return n;\n  }\n}\n';
		assert.deepEqual(findStaticMethods(js, 'javascript').map((f) => f.name), ['Top.t']);
		assert.equal(methodAt(js, 'javascript', 3), undefined);
		assert.equal(functionAt(js, 'javascript', 3)?.name, 'make');
	});

	it('Python: a triple-quoted string whose lines start at column 0 is no dedent and declares nothing', () => {
		const src = [
			'def report(n):', // 0
			'    text = """', // 1
			'total:', // 2
			'def not_code():', // 3
			'"""', // 4
			"    sql = '''select 1''' # a one-line one, then a quote in a comment: '''", // 5
			'    return text * n', // 6
			'', // 7
			'class Query:', // 8
			'    @staticmethod', // 9
			'    def build(n):', // 10
			"        return r'''", // 11
			"select \\''' from t", // 12
			"'''", // 13
			'        pass', // 14
			'x = 1', // 15
		].join('\n');
		assert.deepEqual(names(src, 'python'), ['report']);
		assert.equal(insideFunction(src, 'python', 0, 4), true, 'on the string\'s closing line');
		assert.equal(insideFunction(src, 'python', 0, 6), true, 'below the string');
		assert.equal(insideFunction(src, 'python', 0, 15), false, 'module code below the class');
		assert.deepEqual(methodAt(src, 'python', 14), { method: 'build', className: 'Query', isStatic: true }, 'below a string in a method');
	});
});
