/**
 * Top-level functions of a Python, JavaScript or TypeScript source, found without any language
 * extension (code lenses must work on a bare VS Code), plus the `poolscope: inputs=...` comment
 * right above each. Plain Node: the code lenses use it, and the engine names the functions
 * that exist when the one asked for does not.
 *
 * Only top-level functions are offered: a process pool can only call what it can import by
 * name (pickling by reference in Python, a named binding in the bundled JS module).
 */

import type { PoolKind, PythonStartMethod } from '../protocol/events';

export type SourceLanguage = 'python' | 'javascript' | 'typescript';

/** How a `poolscope:` comment says its function is meant to run (a sample's one click). */
export interface DeclaredOptions {
	pool?: PoolKind;
	workers?: number;
	timeoutMs?: number;
	/** Python process pools: a worker replaced after this many tasks. */
	maxTasksPerChild?: number;
	/** Python process pools: how workers start. */
	startMethod?: PythonStartMethod;
	/** Python: `executor.submit` per item, or one `executor.map`. */
	mode?: 'submit' | 'map';
	/** Items per message: process pools (Python's need `mode=map`). */
	chunksize?: number;
}

export interface SourceFunction {
	name: string;
	/** 0-based line of the `def` / `function` / binding. */
	line: number;
	/** 0-based column of the name. */
	column: number;
	isAsync: boolean;
	/** The expression from a `poolscope: inputs=` comment right above, if any. */
	inputs?: string;
	/** `pool=`, `workers=`, `timeoutMs=`, ... from `poolscope:` comments right above. */
	options?: DeclaredOptions;
	/** What in those comments could not be read: a run refuses to guess. */
	problems?: string[];
}

const DIRECTIVE = /^\s*(?:#|\/\/)\s*poolscope:\s*(.*?)\s*$/;
const KEYS = 'inputs=..., pool=thread|process|serial, workers=N, timeoutMs=N, maxTasksPerChild=N, startMethod=fork|spawn|forkserver, mode=submit|map, chunksize=N';
/** The most workers a comment, a setting (package.json's maximum) or the CLI asks for. */
export const MAX_WORKERS = 1024;

interface Directive {
	inputs?: string;
	options: DeclaredOptions;
	problems: string[];
}

/** `key=value` pairs; `inputs=` takes the rest of the line (an expression has spaces and `=`). */
export function parseDirective(body: string): Directive {
	const out: Directive = { options: {}, problems: [] };
	let rest = body.trim();
	while (rest) {
		const m = /^(\w+)\s*=\s*/.exec(rest);
		if (!m) {
			out.problems.push(`cannot read "${rest}": write ${KEYS}`);
			break;
		}
		const key = m[1]!;
		rest = rest.slice(m[0].length);
		if (key === 'inputs') {
			if (rest.trim()) {
				out.inputs = rest.trim();
			} else {
				out.problems.push('inputs= is empty');
			}
			break;
		}
		const raw = /^\S*/.exec(rest)![0];
		rest = rest.slice(raw.length).trimStart();
		const value = raw.replace(/[,;]$/, '');
		const whole = /^\d+$/.test(value) ? Number(value) : NaN;
		switch (key) {
			case 'pool':
				if (value === 'thread' || value === 'process' || value === 'serial') {
					out.options.pool = value;
				} else {
					out.problems.push(`pool=${value}: one of thread, process, serial`);
				}
				break;
			case 'workers':
				if (whole >= 1 && whole <= MAX_WORKERS) {
					out.options.workers = whole;
				} else {
					out.problems.push(`workers=${value}: a whole number from 1 to ${MAX_WORKERS}`);
				}
				break;
			case 'timeoutMs':
				if (whole >= 0) {
					out.options.timeoutMs = whole; // 0: none, whatever the setting says
				} else {
					out.problems.push(`timeoutMs=${value}: a whole number of milliseconds (0: none)`);
				}
				break;
			case 'maxTasksPerChild':
				if (whole >= 1) {
					out.options.maxTasksPerChild = whole;
				} else {
					out.problems.push(`maxTasksPerChild=${value}: a whole number from 1`);
				}
				break;
			case 'startMethod':
				if (value === 'fork' || value === 'spawn' || value === 'forkserver') {
					out.options.startMethod = value;
				} else {
					out.problems.push(`startMethod=${value}: one of fork, spawn, forkserver`);
				}
				break;
			case 'mode':
				if (value === 'submit' || value === 'map') {
					out.options.mode = value;
				} else {
					out.problems.push(`mode=${value}: one of submit, map`);
				}
				break;
			case 'chunksize':
				if (whole >= 1) {
					out.options.chunksize = whole;
				} else {
					out.problems.push(`chunksize=${value}: a whole number from 1`);
				}
				break;
			default:
				out.problems.push(`unknown option "${key}" (known: ${KEYS})`);
		}
	}
	return out;
}

export function languageOfFile(file: string): SourceLanguage | undefined {
	const ext = /\.([^./]+)$/.exec(file)?.[1]?.toLowerCase();
	switch (ext) {
		case 'py':
			return 'python';
		case 'js':
		case 'mjs':
		case 'cjs':
		case 'jsx':
			return 'javascript';
		case 'ts':
		case 'mts':
		case 'cts':
		case 'tsx':
			return 'typescript';
		default:
			return undefined;
	}
}

export function findFunctions(text: string, language: SourceLanguage): SourceFunction[] {
	const lines = text.split(/\r?\n/);
	const found = lastOfEachName(language === 'python' ? pythonFunctions(lines) : jsFunctions(lines));
	for (const f of found) {
		Object.assign(f, declaredAbove(lines, f.line, language));
	}
	return found;
}

/**
 * The `poolscope:` comments may sit above decorators (Python) and other comment lines; several
 * lines add up, and for a key given twice the nearest line wins.
 */
function declaredAbove(lines: string[], line: number, language: SourceLanguage): Pick<SourceFunction, 'inputs' | 'options' | 'problems'> {
	let inputs: string | undefined;
	const options: DeclaredOptions = {};
	const problems: string[] = [];
	const lineOf: Partial<Record<keyof DeclaredOptions, number>> = {};
	for (let i = line - 1; i >= headStart(lines, line, language); i--) {
		const m = DIRECTIVE.exec(lines[i]!);
		if (m) {
			const d = parseDirective(m[1]!);
			inputs ??= d.inputs;
			for (const [k, v] of Object.entries(d.options) as [keyof DeclaredOptions, never][]) {
				if (options[k] === undefined) {
					options[k] = v;
					lineOf[k] = i + 1;
				}
			}
			problems.push(...d.problems.map((p) => `line ${i + 1}: ${p}`));
		}
	}
	problems.push(...combinationProblems(options, language).map(([key, p]) => `line ${lineOf[key]}: ${p}`));
	return {
		...(inputs !== undefined ? { inputs } : {}),
		...(Object.keys(options).length ? { options } : {}),
		...(problems.length ? { problems } : {}),
	};
}

/**
 * Whether a run sends its inputs in chunks: only a process pool does (Python's through
 * executor.map). The editor and the CLI leave a declared chunksize out elsewhere.
 */
export function chunksizeApplies(pool: string | undefined, language: string, mode: string | undefined): boolean {
	return pool === 'process' && (language !== 'python' || mode === 'map');
}

/**
 * Keys that are fine alone but would do nothing here, as the CLI refuses its flags: a run that
 * quietly ignored `chunksize=` would look like it had measured chunks.
 */
function combinationProblems(o: DeclaredOptions, language: SourceLanguage): [keyof DeclaredOptions, string][] {
	const out: [keyof DeclaredOptions, string][] = [];
	if (o.mode !== undefined && language !== 'python') {
		out.push(['mode', `mode=${o.mode} is for Python (executor.submit or executor.map); a JS pool takes one call per input`]);
	}
	if (o.chunksize !== undefined && o.pool !== undefined && o.pool !== 'process') {
		out.push(['chunksize', `chunksize=${o.chunksize} applies to process pools (this comment says pool=${o.pool})`]);
	} else if (o.chunksize !== undefined && language === 'python' && o.mode !== 'map') {
		out.push(['chunksize', `chunksize=${o.chunksize} applies to executor.map in Python: add mode=map`]);
	}
	return out;
}

const indentOf = (t: string) => t.length - t.trimStart().length;

/** A comment or decorator line. */
function isHeadLine(t: string, language: SourceLanguage): boolean {
	const s = t.trim();
	// `*` for a block comment's lines, not a generator method's `*gen()`.
	return language === 'python' ? s.startsWith('#') || s.startsWith('@') : /^(?:\/\/|\/\*|\*(?:\s|\/|$)|@)/.test(s);
}

/** Lines of a decorator's arguments (or of a block comment) looked through before giving up. */
const MAX_HEAD_CONTINUATION = 20;

/**
 * The first line of the comments and decorators attached right above the declaration at `decl`
 * (no blank line between), or `decl` itself: a cursor on them means that declaration, and its
 * `poolscope:` comments are read from them. A comment indented deeper than the declaration is
 * the end of the body above, unless a decorator or comment at the declaration's indent opens it
 * (a decorator's arguments over several lines, a block comment's lines).
 */
export function headStart(lines: string[], decl: number, language: SourceLanguage): number {
	const base = indentOf(lines[decl] ?? '');
	// TypeScript overload signatures above an implementation are part of it.
	const name = language === 'python' ? undefined : jsDeclaredName(lines[decl] ?? '');
	let start = decl;
	let pending = 0;
	for (let i = decl - 1; i >= 0 && pending <= MAX_HEAD_CONTINUATION; i--) {
		const t = lines[i]!;
		if (!t.trim()) {
			break;
		}
		const indent = indentOf(t);
		if (name !== undefined && indent === base && jsSignatureOf(t) === name) {
			start = i;
			pending = 0;
			continue;
		}
		// A JSDoc line (` * x`) sits one column right of its `/**`.
		if (isHeadLine(t, language) && (indent <= base || (language !== 'python' && indent === base + 1 && t.trim().startsWith('*')))) {
			start = i;
			pending = 0;
		} else if (indent > base || /^[)}\]]/.test(t.trim()) || isHeadLine(t, language)) {
			pending++;
		} else {
			break;
		}
	}
	return start;
}

const PY_DEF = /^(async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;

function pythonFunctions(lines: string[]): SourceFunction[] {
	const out: SourceFunction[] = [];
	const inString = pyStringLines(lines);
	lines.forEach((text, line) => {
		const m = inString[line] ? undefined : PY_DEF.exec(text);
		if (m) {
			out.push({ name: m[2]!, line, column: text.indexOf(m[2]!, m[0].indexOf('def') + 3), isAsync: Boolean(m[1]) });
		}
	});
	return out;
}

/**
 * Which lines start inside a triple-quoted string: such a line is neither a declaration nor a
 * dedent, wherever it starts (a docstring's lines at column 0 ended the function they were in).
 * Quotes after a `#` and one-line strings are skipped, so neither opens one.
 */
function pyStringLines(lines: string[]): boolean[] {
	const out: boolean[] = [];
	let open: string | undefined;
	for (const text of lines) {
		out.push(open !== undefined);
		for (let i = 0; i < text.length; i++) {
			const c = text[i]!;
			if (open) {
				if (c === '\\') {
					i++;
				} else if (text.startsWith(open, i)) {
					open = undefined;
					i += 2;
				}
				continue;
			}
			if (c === '#') {
				break;
			}
			if (c === '"' || c === "'") {
				if (text.startsWith(c.repeat(3), i)) {
					open = c.repeat(3);
					i += 2;
					continue;
				}
				for (i++; i < text.length && text[i] !== c; i++) {
					if (text[i] === '\\') {
						i++;
					}
				}
			}
		}
	}
	return out;
}

const JS_PATTERNS: {
	re: RegExp;
	name: (m: RegExpExecArray) => string;
	isAsync: (m: RegExpExecArray) => boolean;
	/** What follows the match (this line and a few more) must say so too. */
	rest?: (after: string) => boolean;
}[] = [
	// function f() / export function f() / export default async function f()
	{
		re: /^(?:export\s+(?:default\s+)?)?(async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)\s*[(<]/,
		name: (m) => m[2]!,
		isAsync: (m) => Boolean(m[1]),
	},
	// export default function () / export default async () =>
	{
		re: /^export\s+default\s+(async\s+)?(?:function\s*\*?\s*[(<]|\(|[A-Za-z_$][\w$]*\s*=>)/,
		name: () => 'default',
		isAsync: (m) => Boolean(m[1]),
	},
	// const f = (...) => / const f = async function / const f: Fn = x =>
	{
		re: /^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::(?:[^=]|=>)+?)?=\s*(async\s+)?(?=function\b|\(|[A-Za-z_$][\w$]*\s*=>|<)/,
		name: (m) => m[1]!,
		isAsync: (m) => Boolean(m[2]),
		rest: startsFunction,
	},
];

/** Lines an arrow function's parameters may take before its `=>`. */
const MAX_PARAM_LINES = 30;

/**
 * Whether an initializer is a function: `function`, `x =>`, `(params) =>` or `<T>(params) =>`,
 * parameters and a return type over several lines too. Not `(1 + 2) * 3`, which is no function.
 */
function startsFunction(rest: string): boolean {
	if (/^(?:function\b|[A-Za-z_$][\w$]*\s*=>)/.test(rest)) {
		return true;
	}
	let i = 0;
	if (rest[0] === '<') {
		i = closingOf(rest, 0) + 1; // type parameters
		while (i > 0 && /\s/.test(rest[i] ?? '')) {
			i++;
		}
	}
	const end = rest[i] === '(' ? closingOf(rest, i) : -1;
	return end > 0 && /^\s*(?::[^;]*?)?=>/.test(rest.slice(end + 1));
}

/** Where the bracket opened at `open` closes (same kind, nested ones counted), or -1. */
function closingOf(text: string, open: number): number {
	const o = text[open]!;
	const c = o === '(' ? ')' : '>';
	let depth = 0;
	for (let i = open; i < text.length; i++) {
		if (text[i] === o) {
			depth++;
		} else if (text[i] === c && !(c === '>' && text[i - 1] === '=') && --depth === 0) {
			return i;
		}
	}
	return -1;
}

/** The function or member a JS/TS line declares, if any. */
function jsDeclaredName(t: string): string | undefined {
	return JS_PATTERNS[0]!.re.exec(t.trimStart())?.[2] ?? jsMemberOf(t);
}

/** The function or member an overload signature (a declaration with no body) declares, if the line is one. */
function jsSignatureOf(t: string): string | undefined {
	return /;\s*(?:\/\/.*)?$/.test(t) && !t.includes('{') ? jsDeclaredName(t) : undefined;
}

/** One entry a name, the last: the one a module ends up with (TypeScript's overload signatures come before their implementation, Python's `@overload` stubs before theirs). */
function lastOfEachName(found: SourceFunction[]): SourceFunction[] {
	return found.filter((f, i) => !found.some((g, j) => j > i && g.name === f.name));
}

function jsFunctions(lines: string[]): SourceFunction[] {
	const out: SourceFunction[] = [];
	const depthAtStart = braceDepths(lines);
	lines.forEach((text, line) => {
		if (depthAtStart[line] !== 0) {
			return;
		}
		for (const p of JS_PATTERNS) {
			const m = p.re.exec(text);
			if (m && (!p.rest || p.rest([text.slice(m[0].length), ...lines.slice(line + 1, line + MAX_PARAM_LINES)].join('\n')))) {
				const name = p.name(m);
				const column = name === 'default' ? text.indexOf('default') : text.search(new RegExp(`\\b${name.replace(/\$/g, '\\$')}\\b`));
				out.push({ name, line, column: Math.max(0, column), isAsync: p.isAsync(m) });
				return;
			}
		}
	});
	return out;
}

/**
 * Brace depth at the start of every line, skipping strings, template literals, regex literals
 * and comments. Approximate by design; a line that starts inside a string or comment gets depth
 * -1 so it is never taken for a declaration.
 */
function braceDepths(lines: string[]): number[] {
	const depths: number[] = [];
	let depth = 0;
	let mode: 'code' | 'block' | '"' | "'" | '`' = 'code';
	const templateDepths: number[] = [];
	for (const text of lines) {
		depths.push(mode === 'code' ? depth : -1);
		for (let i = 0; i < text.length; i++) {
			const c = text[i];
			const next = text[i + 1];
			if (mode === 'block') {
				if (c === '*' && next === '/') {
					mode = 'code';
					i++;
				}
				continue;
			}
			if (mode === '"' || mode === "'" || mode === '`') {
				if (c === '\\') {
					i++;
				} else if (c === mode) {
					mode = 'code';
				} else if (mode === '`' && c === '$' && next === '{') {
					templateDepths.push(depth);
					depth++;
					mode = 'code';
					i++;
				}
				continue;
			}
			if (c === '/' && next === '/') {
				break;
			}
			if (c === '/' && next === '*') {
				mode = 'block';
				i++;
			} else if (c === '/' && startsRegex(text.slice(0, i))) {
				// `/[{]/` or a backtick in a regex opened a block or a template to the end of the file.
				i = regexEnd(text, i);
			} else if (c === '"' || c === "'" || c === '`') {
				mode = c;
			} else if (c === '{') {
				depth++;
			} else if (c === '}') {
				depth = Math.max(0, depth - 1);
				if (templateDepths.length && templateDepths[templateDepths.length - 1] === depth) {
					templateDepths.pop();
					mode = '`';
				}
			}
		}
		if (mode === '"' || mode === "'") {
			mode = 'code'; // unterminated quote: a syntax error; do not poison the rest of the file
		}
	}
	return depths;
}

/**
 * Whether a `/` after this code starts a regex rather than dividing: at the start of a line, after
 * an operator, a bracket that opens, `}` or `;`, or after a keyword (`return /x/`), as the usual
 * heuristic has it. Not after `<` (JSX's `</div>`), `)`, `]`, a name or a number.
 */
function startsRegex(before: string): boolean {
	const b = before.trimEnd();
	return !b || /[(,=:[!&|?{};+\-*%~^}]$|=>$/.test(b) || /(?:^|[^\w$.])(?:return|typeof|instanceof|in|of|new|delete|void|throw|case|do|else|yield|await)$/.test(b);
}

/** The index of the `/` that ends the regex literal opened at `open` (a `/` in a class `[...]` does not), or `open` when the line has none (a division after all). */
function regexEnd(text: string, open: number): number {
	let inClass = false;
	for (let i = open + 1; i < text.length; i++) {
		const c = text[i];
		if (c === '\\') {
			i++;
		} else if (c === '[') {
			inClass = true;
		} else if (c === ']') {
			inClass = false;
		} else if (c === '/' && !inClass) {
			return i;
		}
	}
	return open;
}

/** A method the cursor is in, and its class: what a pool cannot call by itself, unless it is static. */
export interface MethodAtCursor {
	method: string;
	/** Dotted for a class inside a class (Python): `Outer.Inner`. */
	className: string;
	/**
	 * Python's @staticmethod or @classmethod, JS's `static`, of a top-level class: callable as
	 * `Class.method`, no object needed. Not in a nested class: the runners look a class up by one name.
	 */
	isStatic: boolean;
}

const PY_METHOD = /^(\s+)(?:async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;
const PY_CLASS = /^(\s*)class\s+([A-Za-z_]\w*)/;
/** Decorators written on the member's own line: `@logged static run(x) {`, `@Get(':id') async find(id) {`. */
const JS_LINE_DECORATORS = String.raw`(?:@[A-Za-z_$][\w$.]*(?:\([^)]*\))?\s+)*`;
// The body may open on the line and end there too: `static twice(x) { return 2 * x; }`.
const JS_METHOD = new RegExp(String.raw`^\s+${JS_LINE_DECORATORS}(?:(?:public|private|protected|static|async|override|readonly|get|set)\s+)*\*?\s*#?([A-Za-z_$][\w$]*)\s*(?:<[^>]*>)?\s*\([^)]*\)?\s*(?::[^{]*)?(?:\{.*)?$`);
const JS_STATIC = new RegExp(String.raw`^\s*${JS_LINE_DECORATORS}(?:(?:public|private|protected|async|override|readonly)\s+)*static\s`);
/** A static field holding a function: `static fib = (n) => ...`, `static async load = async (x) => ...`, `= function (x) {`. */
const JS_STATIC_FIELD_FN = /^\s+(?:(?:public|private|protected|override|readonly)\s+)*static\s+(?:readonly\s+)?([A-Za-z_$][\w$]*)\s*(?::(?:[^=]|=>)*)?=\s*(?:async\s+)?(?:function\b|(?:\([^)]*\)|[A-Za-z_$][\w$]*)\s*(?::[^=]*)?=>)/;
const JS_CLASS = /^\s*(?:export\s+)?(?:default\s+)?(?:abstract\s+)?class\s+([A-Za-z_$][\w$]*)/;

/** The method (or static function-valued field) a JS/TS line declares, if any. */
function jsMemberOf(line: string): string | undefined {
	return JS_METHOD.exec(line)?.[1] ?? JS_STATIC_FIELD_FN.exec(line)?.[1];
}
const JS_NOT_METHODS = new Set(['if', 'for', 'while', 'switch', 'catch', 'function', 'return', 'with', 'constructor']);

/**
 * Static methods (JS/TS `static`, Python `@staticmethod`/`@classmethod`) as `Class.method`: a
 * pool calls them as it calls a function, with no object (lenses and the cursor offer them).
 */
export function findStaticMethods(text: string, language: SourceLanguage): SourceFunction[] {
	const lines = text.split(/\r?\n/);
	const out: SourceFunction[] = [];
	lines.forEach((line, i) => {
		const def = language === 'python' ? PY_METHOD.exec(line)?.[2] : jsMemberOf(line);
		if (!def || !/\bstatic\b|^\s+(?:async\s+)?def\s/.test(line)) {
			return;
		}
		const m = methodAt(text, language, i);
		if (m?.isStatic && m.method === def) {
			out.push({ name: `${m.className}.${m.method}`, line: i, column: line.indexOf(def), isAsync: /\basync\s/.test(line), ...declaredAbove(lines, i, language) });
		}
	});
	return lastOfEachName(out);
}

/** The decorator lines right above line `def` (trimmed, nearest last). */
function pyDecorators(lines: string[], def: number): string[] {
	const out: string[] = [];
	for (let i = def - 1; i >= 0 && lines[i]!.trim().startsWith('@'); i--) {
		out.unshift(lines[i]!.trim());
	}
	return out;
}

const PY_DECLARATION = /^\s*(?:async\s+def|def|class)\s/;

/** The declaration (function, method, class) whose comments and decorators `line` is in, if it is. */
function declarationBelow(lines: string[], line: number, language: SourceLanguage): number | undefined {
	for (let i = line; i < lines.length && i <= line + MAX_HEAD_CONTINUATION && lines[i]!.trim(); i++) {
		const t = lines[i]!;
		const declares = language === 'python'
			? PY_DECLARATION.test(t)
			: JS_CLASS.test(t) || JS_PATTERNS.some((p) => p.re.test(t)) || (jsMemberOf(t) !== undefined && !JS_NOT_METHODS.has(jsMemberOf(t)!));
		if (declares) {
			return i > line && headStart(lines, i, language) <= line ? i : undefined;
		}
	}
	return undefined;
}

/**
 * The method of a class that `line` (0-based) is in, for a message that says why it cannot run
 * by itself. Found by indentation (Python) or by the nearest method-like line and the class
 * above it (JS/TS: approximate, like the rest of this scanner).
 */
export function methodAt(text: string, language: SourceLanguage, line: number): MethodAtCursor | undefined {
	const lines = text.split(/\r?\n/);
	// On a decorator or comment of a declaration: that declaration (walking up, the method above had it).
	line = declarationBelow(lines, line, language) ?? line;
	if (language === 'python') {
		let method: { name: string; isStatic: boolean } | undefined;
		let level = 0; // the indent of the method, then of its class
		const classes: string[] = []; // the method's class, and the classes around it
		const strings = pyStringLines(lines);
		for (let i = Math.min(line, lines.length - 1); i >= 0; i--) {
			const t = lines[i]!;
			if (strings[i] || !t.trim() || t.trim().startsWith('#') || t.trim().startsWith('@')) {
				continue;
			}
			const indent = t.length - t.trimStart().length;
			if (!method) {
				const m = PY_METHOD.exec(t);
				if (m) {
					level = m[1]!.length;
					method = { name: m[2]!, isStatic: pyDecorators(lines, i).some((d) => /^@(?:staticmethod|classmethod)\b/.test(d)) };
				} else if (indent === 0) {
					return undefined;
				}
				continue;
			}
			if (indent < level) {
				const c = PY_CLASS.exec(t);
				if (!c) {
					return undefined; // a function's: the cursor is in that function
				}
				classes.unshift(c[2]!);
				if (indent === 0) {
					break;
				}
				level = indent;
			}
		}
		return method && classes.length ? { method: method.name, className: classes.join('.'), isStatic: method.isStatic && classes.length === 1 } : undefined;
	}
	const depths = braceDepths(lines);
	for (let i = Math.min(line, lines.length - 1); i >= 0; i--) {
		const member = jsMemberOf(lines[i]!);
		if (!member || JS_NOT_METHODS.has(member) || depths[i]! < 1) {
			continue;
		}
		for (let j = i - 1; j >= 0; j--) {
			if (depths[j]! >= depths[i]!) {
				continue;
			}
			// A class in a function or a namespace is theirs: no pool finds it by name.
			const c = depths[j] === 0 ? JS_CLASS.exec(lines[j]!) : undefined;
			return c ? { method: member, className: c[1]!, isStatic: JS_STATIC.test(lines[i]!) } : undefined;
		}
		return undefined;
	}
	return undefined;
}

/**
 * Whether `line` still belongs to the top-level function declared at `fnLine` (or to the
 * comments and decorators attached above it, `headStart`): no top-level statement starts in
 * between. Without this, a cursor in a class or in module code below a function ran that
 * function. Blank lines and comments after a function are still its own: nothing else starts there.
 */
export function insideFunction(text: string, language: SourceLanguage, fnLine: number, line: number): boolean {
	const lines = text.split(/\r?\n/);
	if (line <= fnLine) {
		return line >= headStart(lines, fnLine, language);
	}
	const depths = language === 'python' ? undefined : braceDepths(lines);
	const strings = language === 'python' ? pyStringLines(lines) : undefined;
	for (let i = fnLine + 1; i <= line && i < lines.length; i++) {
		const t = lines[i]!;
		if (!t.trim() || /^\s/.test(t) || strings?.[i]) {
			continue;
		}
		if (language === 'python' ? !t.startsWith('#') : depths![i] === 0 && !/^(?:[)}\]]|\/\/|\/\*|\*)/.test(t)) {
			return false;
		}
	}
	return true;
}

/**
 * The top-level function `line` is in: the last one whose comments and decorators start at or
 * above it, if no top-level statement comes between. What the run commands run for the cursor
 * (a function starting two lines below the cursor used to win).
 */
export function functionAt(text: string, language: SourceLanguage, line: number): SourceFunction | undefined {
	const lines = text.split(/\r?\n/);
	let best: SourceFunction | undefined;
	for (const f of findFunctions(text, language)) {
		if (headStart(lines, f.line, language) <= line) {
			best = f;
		}
	}
	return best && insideFunction(text, language, best.line, line) ? best : undefined;
}
