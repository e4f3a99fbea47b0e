/**
 * Top-level functions of a Python, JavaScript or TypeScript source, found without any language
 * extension (code lenses must work on a bare VS Code), plus the `poolscope: inputs=...` comment
 * right above each. Plain Node: the code lenses use it, and the engine names the functions
 * that exist when the one asked for does not.
 *
 * Only top-level functions are offered: a process pool can only call what it can import by
 * name (pickling by reference in Python, a named binding in the bundled JS module).
 */

export type SourceLanguage = 'python' | 'javascript' | 'typescript';

export interface SourceFunction {
	name: string;
	/** 0-based line of the `def` / `function` / binding. */
	line: number;
	/** 0-based column of the name. */
	column: number;
	isAsync: boolean;
	/** The expression from a `poolscope: inputs=` comment right above, if any. */
	inputs?: string;
}

const INPUTS_COMMENT = /^\s*(?:#|\/\/)\s*poolscope:\s*inputs\s*=\s*(.+?)\s*$/;

export function languageOfFile(file: string): SourceLanguage | undefined {
	const ext = /\.([^./]+)$/.exec(file)?.[1]?.toLowerCase();
	switch (ext) {
		case 'py':
			return 'python';
		case 'js':
		case 'mjs':
		case 'cjs':
			return 'javascript';
		case 'ts':
		case 'mts':
		case 'cts':
			return 'typescript';
		default:
			return undefined;
	}
}

export function findFunctions(text: string, language: SourceLanguage): SourceFunction[] {
	const lines = text.split(/\r?\n/);
	const found = language === 'python' ? pythonFunctions(lines) : jsFunctions(lines);
	for (const f of found) {
		f.inputs = inputsAbove(lines, f.line, language);
	}
	return found;
}

/** The comment may sit above decorators (Python) and other comment lines. */
function inputsAbove(lines: string[], line: number, language: SourceLanguage): string | undefined {
	for (let i = line - 1; i >= 0; i--) {
		const text = lines[i]!;
		const m = INPUTS_COMMENT.exec(text);
		if (m) {
			return m[1];
		}
		const trimmed = text.trim();
		const skippable = language === 'python'
			? trimmed.startsWith('@') || trimmed.startsWith('#')
			: trimmed.startsWith('//') || trimmed.startsWith('@') || trimmed.startsWith('*') || trimmed.startsWith('/*');
		if (!skippable) {
			return undefined;
		}
	}
	return undefined;
}

const PY_DEF = /^(async\s+)?def\s+([A-Za-z_]\w*)\s*\(/;

function pythonFunctions(lines: string[]): SourceFunction[] {
	const out: SourceFunction[] = [];
	let inString: '"""' | "'''" | undefined;
	lines.forEach((text, line) => {
		if (inString) {
			if (countOf(text, inString) % 2 === 1) {
				inString = undefined;
			}
			return;
		}
		const m = PY_DEF.exec(text);
		if (m) {
			out.push({ name: m[2]!, line, column: text.indexOf(m[2]!, m[0].indexOf('def') + 3), isAsync: Boolean(m[1]) });
			return;
		}
		for (const q of ['"""', "'''"] as const) {
			if (countOf(text, q) % 2 === 1) {
				inString = q;
				break;
			}
		}
	});
	return out;
}

function countOf(text: string, needle: string): number {
	let n = 0;
	for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) {
		n++;
	}
	return n;
}

const JS_PATTERNS: { re: RegExp; name: (m: RegExpExecArray) => string; isAsync: (m: RegExpExecArray) => boolean }[] = [
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
		re: /^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::(?:[^=]|=>)+?)?=\s*(async\s+)?(?:function\b|\(|[A-Za-z_$][\w$]*\s*=>|<)/,
		name: (m) => m[1]!,
		isAsync: (m) => Boolean(m[2]),
	},
];

function jsFunctions(lines: string[]): SourceFunction[] {
	const out: SourceFunction[] = [];
	const depthAtStart = braceDepths(lines);
	lines.forEach((text, line) => {
		if (depthAtStart[line] !== 0) {
			return;
		}
		for (const p of JS_PATTERNS) {
			const m = p.re.exec(text);
			if (m) {
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
 * Brace depth at the start of every line, skipping strings, template literals and comments.
 * Approximate by design (regex literals are not parsed); a line that starts inside a string
 * or comment gets depth -1 so it is never taken for a declaration.
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
