import * as vscode from 'vscode';
import { findFunctions, findStaticMethods, functionAt, languageOfFile, methodAt, type DeclaredOptions, type MethodAtCursor, type SourceFunction, type SourceLanguage } from '../../engine/source/sourceFunctions';

/** A function a run can target: which file, which top-level function (or static method, `Class.method`). */
export interface FunctionTarget {
	uri: vscode.Uri;
	fn: string;
	language: SourceLanguage;
	/** From a `poolscope: inputs=` comment right above the function. */
	declaredInputs?: string;
	/** `pool=`, `workers=`, `timeoutMs=` from `poolscope:` comments above it. */
	declaredOptions?: DeclaredOptions;
	/** What in those comments could not be read. */
	declaredProblems?: string[];
}

function declared(f: SourceFunction | undefined): Pick<FunctionTarget, 'declaredInputs' | 'declaredOptions' | 'declaredProblems'> {
	return { declaredInputs: f?.inputs, declaredOptions: f?.options, declaredProblems: f?.problems };
}

export function documentLanguage(document: vscode.TextDocument): SourceLanguage | undefined {
	switch (document.languageId) {
		case 'python':
			return 'python';
		case 'javascript':
		case 'javascriptreact':
			return 'javascript';
		case 'typescript':
		case 'typescriptreact':
			return 'typescript';
		default:
			return languageOfFile(document.fileName);
	}
}

/**
 * Top-level functions of a document. A language server's document symbols decide which names
 * are top-level functions when one answers; our own scanner always supplies lines and the
 * inputs comments, and is the whole answer on a VS Code without language extensions.
 */
export async function documentFunctions(document: vscode.TextDocument): Promise<SourceFunction[]> {
	const language = documentLanguage(document);
	if (!language) {
		return [];
	}
	const scanned = findFunctions(document.getText(), language);
	let symbols: vscode.DocumentSymbol[] | undefined;
	try {
		symbols = await Promise.race([
			vscode.commands.executeCommand<vscode.DocumentSymbol[] | undefined>('vscode.executeDocumentSymbolProvider', document.uri),
			new Promise<undefined>((r) => setTimeout(() => r(undefined), 1500)),
		]);
	} catch {
		symbols = undefined;
	}
	const topLevel = (symbols ?? []).filter((s) => s && 'children' in s && (s.kind === vscode.SymbolKind.Function || s.kind === vscode.SymbolKind.Variable || s.kind === vscode.SymbolKind.Constant));
	if (!topLevel.some((s) => s.kind === vscode.SymbolKind.Function)) {
		return scanned;
	}
	const names = new Set(topLevel.map((s) => s.name));
	// Symbols name a default export 'default'; variables count only when our scanner saw a function value.
	return scanned.filter((f) => names.has(f.name) || f.name === 'default');
}

/** The top-level function or static method the cursor is in (or on the comments/decorators attached above one). */
export async function functionAtCursor(editor: vscode.TextEditor): Promise<FunctionTarget | undefined> {
	const language = documentLanguage(editor.document);
	if (!language) {
		return undefined;
	}
	const line = editor.selection.active.line;
	const text = editor.document.getText();
	// A static (or Python class) method runs as Class.method: it needs no object, and a pool's
	// workers find it by that name.
	const method = methodAt(text, language, line);
	if (method?.isStatic) {
		const fn = `${method.className}.${method.method}`;
		return { uri: editor.document.uri, fn, language, ...declared(findStaticMethods(text, language).find((f) => f.name === fn)) };
	}
	const best = functionAt(text, language, line);
	if (!best) {
		return undefined;
	}
	return { uri: editor.document.uri, fn: best.name, language, ...declared(best) };
}

/** Re-reads a target's declared inputs from the current document text (the comment may have changed). */
export async function refreshTarget(target: FunctionTarget): Promise<FunctionTarget> {
	const document = await vscode.workspace.openTextDocument(target.uri);
	const text = document.getText();
	const f = (target.fn.includes('.') ? findStaticMethods(text, target.language) : findFunctions(text, target.language)).find((x) => x.name === target.fn);
	return { ...target, ...declared(f) };
}

/** The class method the cursor is in, when it is not in a top-level function. */
export function methodAtCursor(editor: vscode.TextEditor): (MethodAtCursor & { language: SourceLanguage }) | undefined {
	const language = documentLanguage(editor.document);
	const m = language ? methodAt(editor.document.getText(), language, editor.selection.active.line) : undefined;
	return m && language ? { ...m, language } : undefined;
}
