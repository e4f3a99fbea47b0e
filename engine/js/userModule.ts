/**
 * Bundles the user's JS/TS file with esbuild so that any top-level function, exported or not,
 * is callable from a worker: the source gets one extra line exporting the function under a
 * fixed name. Imports are resolved from the workspace; an inline source map makes stacks
 * point at the user's file and line.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import type { ErrorInfo } from '../protocol/events';
import { findFunctions, findStaticMethods, methodAt, type SourceLanguage } from '../source/sourceFunctions';

export interface UserBundle {
	file: string;
	dir: string;
	dispose(): void;
}

export class UserCodeError extends Error {
	constructor(public readonly info: ErrorInfo) {
		super(info.message);
	}
}

/** Marks build.resolve's own lookups, which run the plugin's onResolve again. */
const OWN_LOOKUP = Symbol('poolscope lookup');
/** Node loads an ES module through require() (20.19+, 22.12+): every package can stay external. */
const requireLoadsEsm = Boolean((process.features as { require_module?: boolean }).require_module);

/**
 * Installed packages stay where they are: the bundle requires them by absolute path instead of
 * inlining them. Inlined, a package that finds files next to itself (`__dirname`, a data file, a
 * .wasm, a native `.node` addon) looked in the wrong folder, or did not bundle at all. The user's
 * own files (and a tsconfig path alias into them) are still bundled.
 */
const packagesInPlace: esbuild.Plugin = {
	name: 'poolscope-packages-in-place',
	setup(build) {
		build.onResolve({ filter: /^[^./]/ }, async (args) => {
			if (args.pluginData === OWN_LOOKUP || /^[A-Za-z]:[\\/]/.test(args.path)) {
				return undefined;
			}
			const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: OWN_LOOKUP });
			if (found.errors.length && args.kind === 'dynamic-import') {
				// `await import('optional-pkg')` in one function: Node resolves it when that call runs, and
				// only that call fails (or its try/catch takes it); the file still loads.
				return { path: args.path, external: true };
			}
			if (found.errors.length || found.external || !found.path || !/[\\/]node_modules[\\/]/.test(found.path)) {
				return undefined; // esbuild's own resolution: its error for a missing package, builtins, the user's files
			}
			if (!requireLoadsEsm && !/\.(c?js|json|node)$/.test(found.path)) {
				return undefined; // an ES module this Node cannot require(): bundled, as before
			}
			return { path: found.path, external: true };
		});
	},
};

const loaders: Record<string, esbuild.Loader> = { '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.jsx': 'jsx', '.ts': 'ts', '.mts': 'ts', '.cts': 'ts', '.tsx': 'tsx' };

function looksCommonJs(file: string, source: string): boolean {
	const ext = extname(file);
	if (ext === '.cjs' || ext === '.cts') {
		return true;
	}
	if (ext === '.mjs' || ext === '.mts') {
		return false;
	}
	return !/^\s*(import|export)\b/m.test(source) && /\b(module\.exports|exports\.\w+|require\()/.test(source);
}

/**
 * Where a bundle will be written, chosen before bundling so that the pool can boot meanwhile
 * (workers are told the path up front and load it with their first task).
 */
export function newBundleTarget(): UserBundle {
	const dir = mkdtempSync(join(tmpdir(), 'poolscope-js-'));
	return { file: join(dir, 'bundle.cjs'), dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function bundleUserFunction(file: string, fn: string, workspaceRoot?: string, target: UserBundle = newBundleTarget()): Promise<UserBundle> {
	try {
		await writeBundle(file, fn, workspaceRoot, target.file);
	} catch (e) {
		target.dispose();
		throw e;
	}
	return target;
}

/** `export { local as exported }` lists of an ES module: exported name -> local name. */
function exportAliases(source: string): Map<string, string> {
	const aliases = new Map<string, string>();
	for (const list of source.matchAll(/(?:^|[;\n])\s*export\s*(?:type\s*)?\{([^}]*)\}(?!\s*from\b)/g)) {
		for (const m of list[1]!.matchAll(/([A-Za-z_$][\w$]*)\s+as\s+([A-Za-z_$][\w$]*)/g)) {
			aliases.set(m[2]!, m[1]!);
		}
	}
	return aliases;
}

/** The tsconfig.json nearest above the file (esbuild looks for one itself only for files it reads, not for stdin). */
function nearestTsconfig(file: string): string | undefined {
	for (let dir = dirname(file); ; dir = dirname(dir)) {
		const candidate = join(dir, 'tsconfig.json');
		if (existsSync(candidate)) {
			return candidate;
		}
		if (dirname(dir) === dir) {
			return undefined;
		}
	}
}

async function writeBundle(file: string, fn: string, workspaceRoot: string | undefined, out: string): Promise<void> {
	if (!existsSync(file)) {
		throw new UserCodeError({ kind: 'load', name: 'FileNotFound', message: `file not found: ${file}` });
	}
	const loader = loaders[extname(file).toLowerCase()];
	if (!loader) {
		throw new UserCodeError({ kind: 'load', name: 'UnsupportedFile', message: `${file}: Poolscope runs .js, .mjs, .cjs, .jsx, .ts, .mts, .cts and .tsx files here (Python files go to the Python backend)` });
	}
	const source = readFileSync(file, 'utf8');
	const language = loader === 'ts' || loader === 'tsx' ? 'typescript' : 'javascript';
	const statics = findStaticMethods(source, language).map((f) => f.name);
	const declared = [...findFunctions(source, language).map((f) => f.name), ...statics];
	const member = /^([A-Za-z_$][\w$]*)\.([A-Za-z_$][\w$]*)$/.exec(fn);
	const notFound = functionNotFound(source, language, file, member ? member[2]! : fn, declared);
	if (!member && !/^[A-Za-z_$][\w$]*$/.test(fn)) {
		throw new UserCodeError({ kind: 'load', name: 'BadFunctionName', message: `"${fn}" is not a valid function name` });
	}
	// `Class.method` for a static method: it needs no object (an instance method gets the message).
	// One our line scanner missed (`class K { static m(x) { ... } }` on one line) is looked up
	// as the module loads, if its class is declared here.
	const noStatic = { message: `no static method "${fn}" in ${file}`, hint: notFound.hint };
	if (member && !statics.includes(fn) && (notFound.message.includes(' is a method of class ') || !new RegExp(String.raw`\bclass\s+${member[1]!.replace(/\$/g, '\\$')}\b`).test(source))) {
		throw new UserCodeError({ kind: 'load', name: 'FunctionNotFound', ...(notFound.message.includes(' is a method of class ') ? notFound : noStatic) });
	}
	// The file alone first: its syntax errors then point at its own lines, not the bundle's.
	try {
		await esbuild.transform(source, { loader, sourcefile: file, logLevel: 'silent' });
	} catch (e) {
		throw new UserCodeError(buildError(e, file, notFound));
	}
	const cjs = looksCommonJs(file, source);
	// `export { inner as plusOne }`: the file's public name is an alias of a local one.
	const local = !cjs && !member && fn !== 'default' ? exportAliases(source).get(fn) : undefined;
	if (local !== undefined) {
		fn = local;
	} else if (!member && fn !== 'default' && !new RegExp(`(^|[^\\w$])${fn.replace(/\$/g, '\\$')}([^\\w$]|$)`).test(source)) {
		// Not in the file at all (a typo): say so with its functions. TypeScript would otherwise take
		// the export of an undeclared name for a type's and load it as undefined.
		throw new UserCodeError(buildError(new Error('is not declared in this file'), file, notFound));
	}
	let contents: string;
	if (member) {
		// Bound: a static method may use `this` for its class.
		const call = `typeof ${member[1]}.${member[2]} === 'function' ? ${member[1]}.${member[2]}.bind(${member[1]}) : undefined`;
		const missing = JSON.stringify(noStatic);
		contents = cjs
			? `${source}\n;module.exports.__poolscope_fn = ${call};\nmodule.exports.__poolscope_missing = ${missing};\n`
			: `${source}\nexport const __poolscope_fn = ${call};\nexport const __poolscope_missing = ${missing};\n`;
	} else if (fn === 'default') {
		contents = cjs
			? `${source}\n;module.exports.__poolscope_fn = typeof module.exports === 'function' ? module.exports : module.exports.default;\n`
			// Only a re-export: inlining the source too would run its top-level code twice.
			: `export { default as __poolscope_fn } from ${JSON.stringify(file)};\n`;
	} else {
		// CommonJS: the name may be exported without a declaration (`exports.f = ...`), so a worker
		// learns only as it loads that it is neither; it then says so with the file's functions.
		contents = cjs
			? `${source}\n;module.exports.__poolscope_fn = typeof ${fn} !== 'undefined' ? ${fn} : module.exports.${fn};\nmodule.exports.__poolscope_missing = ${JSON.stringify(notFound)};\n`
			: `${source}\nexport { ${fn} as __poolscope_fn };\nexport const __poolscope_missing = ${JSON.stringify(notFound)};\n`;
	}
	const build = (format: 'cjs' | 'esm', outfile: string) => esbuild.build({
		// A pure re-export must not share the file's name, or esbuild takes it for the file itself.
		stdin: { contents, sourcefile: fn === 'default' && !cjs ? join(dirname(file), '__poolscope_entry.js') : file, resolveDir: dirname(file), loader },
		bundle: true,
		platform: 'node',
		format,
		target: `node${process.versions.node.split('.')[0]}`,
		outfile,
		sourcemap: 'inline',
		sourcesContent: false,
		// The line added above makes esbuild rename a function it names (`nm` became `nm2`, so
		// `fn.name` and stack frames read "nm2"): names are kept as the user wrote them.
		keepNames: true,
		logLevel: 'silent',
		nodePaths: workspaceRoot ? [join(workspaceRoot, 'node_modules')] : [],
		plugins: [packagesInPlace],
		absWorkingDir: dirname(file),
		// The project's compiler options (experimentalDecorators, useDefineForClassFields, paths) as tsc applies them.
		tsconfig: nearestTsconfig(file),
		// The bundle runs from a temporary folder: code that finds files next to itself
		// (`__dirname`, `import.meta.url`) must see the user's file, not the bundle. An ES module
		// gets a require() for the packages that stay where they are.
		banner: { js: `${format === 'esm' ? "import { createRequire as __poolscope_require } from 'node:module'; const require = __poolscope_require(import.meta.url); " : ''}var __poolscope_file = ${JSON.stringify(file)}, __poolscope_dir = ${JSON.stringify(dirname(file))}, __poolscope_url = ${JSON.stringify(pathToFileURL(file).href)};` },
		define: {
			__filename: '__poolscope_file', __dirname: '__poolscope_dir',
			'import.meta.url': '__poolscope_url', 'import.meta.filename': '__poolscope_file', 'import.meta.dirname': '__poolscope_dir',
		},
	});
	try {
		try {
			await build('cjs', out);
		} catch (e) {
			if (!(e as Partial<esbuild.BuildFailure>).errors?.some((m) => /Top-level await is currently not supported with the "cjs" output format/.test(m.text))) {
				throw e;
			}
			// Top-level await: only an ES module can have it, and only import() loads one. Workers
			// are told the CommonJS path before bundling ends, so that file names the module.
			const esm = join(dirname(out), 'bundle.mjs');
			await build('esm', esm);
			writeFileSync(out, `module.exports = { __poolscope_esm: ${JSON.stringify(esm)} };\n`);
		}
	} catch (e) {
		throw new UserCodeError(buildError(e, file, notFound));
	}
}

/** esbuild names files relative to the build's working folder (the user's file's own). */
function sourceOf(reported: string, file: string): string {
	return reported === '<stdin>' ? file : isAbsolute(reported) ? reported : resolve(dirname(file), reported);
}

/** FunctionNotFound's words: the file's functions, and for a method's name, why a pool cannot call it and what to write. */
function functionNotFound(source: string, language: SourceLanguage, file: string, fn: string, declared: string[]): { message: string; hint: string } {
	const list = declared.length ? `Functions in this file: ${declared.join(', ')}` : 'This file has no top-level functions.';
	const lines = source.split(/\r?\n/);
	for (let i = 0; i < lines.length; i++) {
		const m = lines[i]!.includes(fn) ? methodAt(source, language, i) : undefined;
		if (m?.method === fn) {
			return {
				message: `${fn} is a method of class ${m.className}, not a top-level function of ${basename(file)}`,
				hint: m.isStatic
					? `A static method needs no object: run it as \`${m.className}.${fn}\` (the run commands do, with the cursor in it). ${list}`
					: `A pool calls top-level functions (a worker loads the file and finds the function by name, with no object to call a method on). Add one that makes the object and calls it, e.g. \`function ${fn}Task(x) { return new ${m.className}().${fn}(x); }\`, and run that. ${list}`,
			};
		}
	}
	return { message: `no top-level function "${fn}" in ${file}`, hint: list };
}

function buildError(e: unknown, file: string, notFound: { message: string; hint: string }): ErrorInfo {
	const failure = e as Partial<esbuild.BuildFailure>;
	const first = failure.errors?.[0];
	const text = first?.text ?? (e instanceof Error ? e.message : '');
	if (/is not declared in this file|No matching export|Could not resolve "default"|default.*not.*export/i.test(text)) {
		return { kind: 'load', name: 'FunctionNotFound', ...notFound };
	}
	const missing = /^Could not resolve "(.+)"$/.exec(text);
	if (first && missing) {
		// An import that does not resolve is no syntax error: say which, and how it is found.
		const loc = first.location;
		const where = loc ? `${sourceOf(loc.file, file)}:${loc.line}:${loc.column + 1}` : file;
		const name = missing[1]!;
		const relative = name.startsWith('.') || name.startsWith('/');
		return {
			kind: 'load', name: 'ModuleNotFound',
			message: `${where}: cannot find module "${name}"`,
			stack: loc ? `${where}\n    ${loc.lineText}\n    ${' '.repeat(loc.column)}^` : undefined,
			frames: loc ? [{ file: sourceOf(loc.file, file), line: loc.line, column: loc.column + 1, user: true }] : undefined,
			hint: relative
				? 'No such file next to the importing one (Poolscope bundles the file with its relative imports).'
				: `Packages are looked up in node_modules folders above the file and in the workspace's: install it there (npm install ${name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]}).`,
		};
	}
	if (first) {
		const loc = first.location;
		const where = loc ? `${sourceOf(loc.file, file)}:${loc.line}:${loc.column + 1}` : file;
		return {
			kind: 'load', name: 'SyntaxError',
			message: `${where}: ${first.text}`,
			stack: loc ? `${where}\n    ${loc.lineText}\n    ${' '.repeat(loc.column)}^` : undefined,
			frames: loc ? [{ file: sourceOf(loc.file, file), line: loc.line, column: loc.column + 1, user: true }] : undefined,
		};
	}
	return { kind: 'load', name: 'BuildError', message: e instanceof Error ? e.message : String(e) };
}
