/**
 * Turns the inputs expression into the list of calls. A plain count N means 0..N-1 and needs
 * no code; anything else is user code and runs in a short-lived worker thread, never on the
 * caller's thread (the extension host must not run user code).
 */
import { Worker } from 'node:worker_threads';
import type { ErrorInfo } from '../protocol/events';

export type InputsResult = { ok: true; items: unknown[][] } | { ok: false; error: ErrorInfo };

/** Hard cap: a run of more calls than this is a mistake, not an experiment. */
export const MAX_INPUTS = 1_000_000;

const EVALUATOR = `
const { parentPort, workerData } = require('node:worker_threads');
const NOT = ${JSON.stringify('__poolscope_notCloneable')};
try {
	const value = (0, eval)('(' + workerData.expr + '\\n)');
	if (typeof value === 'number' && Number.isInteger(value) && value >= 0) {
		// A count written as an expression (1e6, 2 ** 10): 0..N-1, as a plain N.
		if (value > workerData.max) {
			parentPort.postMessage({ error: { name: 'RangeError', message: value + ' inputs is more than the limit of ' + workerData.max } });
		} else {
			parentPort.postMessage({ items: Array.from({ length: value }, (_, i) => [i]) });
		}
	} else if (typeof value === 'number') {
		parentPort.postMessage({ error: { name: 'TypeError', message: 'a count must be a whole number, 0 or more (got ' + value + '); or write the inputs, e.g. [[1], [2]]' } });
	} else if (value == null || typeof value[Symbol.iterator] !== 'function') {
		parentPort.postMessage({ error: { name: 'TypeError', message: 'the inputs expression is not iterable (got ' + (value === null ? 'null' : typeof value) + '); write e.g. [[1], [2]] or a count like 8' } });
	} else {
		const items = [];
		for (const item of value) {
			if (items.length >= workerData.max) {
				parentPort.postMessage({ error: { name: 'RangeError', message: 'more than ' + workerData.max + ' inputs' } });
				process.exit(0);
			}
			items.push(Array.isArray(item) ? item : [item]);
		}
		// One clone of the whole list (the message's own): a trial clone of each argument first
		// doubled the work (100,000 strings: ~350 ms before the first call, now ~200; sending
		// them as JSON instead was no quicker to read back). Only when something cannot be sent
		// are the arguments looked at one by one, so that just those calls fail.
		try {
			parentPort.postMessage({ items });
		} catch {
			parentPort.postMessage({ items: items.map((args) => args.map((a) => { try { structuredClone(a); return a; } catch { return { [NOT]: typeof a === 'function' ? 'a function' : (a && a.constructor && a.constructor.name) || typeof a }; } })) });
		}
	}
} catch (e) {
	parentPort.postMessage({ error: { name: (e && e.name) || 'Error', message: (e && e.message) || String(e) } });
}
`;

export function evaluateInputs(expr: string, timeoutMs = 10_000): Promise<InputsResult> {
	const trimmed = expr.trim();
	if (/^\d+(_\d+)*$/.test(trimmed)) {
		const n = Number(trimmed.replace(/_/g, ''));
		if (n > MAX_INPUTS) {
			return Promise.resolve({ ok: false, error: { kind: 'load', name: 'RangeError', message: `${n} inputs is more than the limit of ${MAX_INPUTS}` } });
		}
		return Promise.resolve({ ok: true, items: Array.from({ length: n }, (_, i) => [i]) });
	}
	if (!trimmed) {
		return Promise.resolve({ ok: false, error: { kind: 'load', name: 'InputsError', message: 'the inputs expression is empty' } });
	}
	const literal = literalInputs(trimmed);
	if (literal) {
		return Promise.resolve(literal);
	}
	return new Promise((resolve) => {
		const worker = new Worker(EVALUATOR, { eval: true, workerData: { expr: trimmed, max: MAX_INPUTS }, stdout: true, stderr: true });
		const fail = (name: string, message: string) => resolve({
			ok: false,
			error: {
				kind: 'load', name, message: `inputs ${JSON.stringify(preview(trimmed))}: ${message}`,
				// Python's inputs see the module's names; JS's run on their own, before the file is loaded.
				...(name === 'ReferenceError' ? { hint: 'JS inputs are evaluated on their own, without the file\'s variables or imports: write the values, or an expression that makes them, e.g. Array.from({ length: 8 }, (_, i) => [i * 1000]).' } : {}),
			},
		});
		const timer = setTimeout(() => {
			void worker.terminate();
			fail('Timeout', `evaluating took longer than ${timeoutMs / 1000} s`);
		}, timeoutMs);
		worker.once('message', (m: { items?: unknown[][]; error?: { name: string; message: string } }) => {
			clearTimeout(timer);
			void worker.terminate();
			if (m.items) {
				resolve({ ok: true, items: m.items });
			} else {
				fail(m.error?.name ?? 'Error', m.error?.message ?? 'failed');
			}
		});
		worker.once('error', (e) => {
			clearTimeout(timer);
			fail(e.name, e.message);
		});
	});
}

function preview(s: string): string {
	return s.length > 80 ? `${s.slice(0, 79)}…` : s;
}

/**
 * A plain literal such as `[[38], [38]]` or `[1_000_000, 2]` (the samples' own inputs) is data,
 * not code: read as JSON here instead of booting a thread to evaluate it (~50 ms, during which
 * it competes with the pool's own start). Anything else returns undefined and is evaluated.
 */
export function literalInputs(expr: string): InputsResult | undefined {
	if (!expr.startsWith('[') || !/^[\[\]\d\s,.eE+\-_"a-z]*$/.test(expr)) {
		return undefined;
	}
	// Numeric separators, only where no string could hold an underscore of its own.
	const json = expr.includes('"') ? expr : expr.replace(/(\d)_(?=\d)/g, '$1');
	let value: unknown;
	try {
		value = JSON.parse(json);
	} catch {
		return undefined; // e.g. a trailing comma: JavaScript, not JSON
	}
	if (!Array.isArray(value)) {
		return undefined;
	}
	if (value.length > MAX_INPUTS) {
		return { ok: false, error: { kind: 'load', name: 'RangeError', message: `inputs ${JSON.stringify(preview(expr))}: more than ${MAX_INPUTS} inputs` } };
	}
	return { ok: true, items: value.map((item: unknown) => (Array.isArray(item) ? item : [item])) };
}
