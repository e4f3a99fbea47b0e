/**
 * Every message between the extension and the panel's webview. Both sides import this file;
 * a message that is not in these unions cannot be sent, and `isWebviewMessage` checks what
 * arrives from the webview before the extension acts on it (the webview is untrusted input).
 */
import type { Measurement } from '../engine/compare/compare';
import type { CpuSampleEvent, PoolEvent } from '../engine/protocol/events';

/** Everything the panel needs to draw one run from scratch (after a reload or re-show). */
export interface RunReplay {
	runId: string;
	/** The run's events so far, in order (bounded: see extension/runStore). */
	events: PoolEvent[];
}

/** A comparison or sweep as the panel draws it (updated as each configuration finishes). */
export interface ComparisonView {
	id: string;
	kind: 'compare' | 'sweep';
	fn: string;
	file: string;
	language: string;
	cores: number;
	measurements: Measurement[];
	/** Configurations still to run. */
	pending: number;
	advice?: string;
	serialFraction?: number;
	state: 'running' | 'done' | 'cancelled' | 'error';
	error?: string;
}

export type HostToWebview =
	| { type: 'init'; runs: RunReplay[]; activeRunId?: string; cores: number }
	| { type: 'events'; runId: string; events: PoolEvent[] }
	| { type: 'cpu'; sample: Omit<CpuSampleEvent, 'runId'> }
	| { type: 'select'; runId: string }
	| { type: 'stacks'; runId: string; text: string }
	| { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string }
	| { type: 'comparison'; comparison: ComparisonView };

export type WebviewToHost =
	| { type: 'ready' }
	| { type: 'cancelRun'; runId: string }
	| { type: 'cancelTask'; runId: string; taskId: number }
	| { type: 'rerun'; runId: string }
	| { type: 'openLocation'; file: string; line: number; column?: number }
	| { type: 'exportTrace'; runId: string }
	| { type: 'snapshotStacks'; runId: string }
	| { type: 'cancelComparison'; id: string };

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length < 4096;
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/** Schema check for messages from the webview: anything else is dropped. */
export function isWebviewMessage(m: unknown): m is WebviewToHost {
	if (typeof m !== 'object' || m === null) {
		return false;
	}
	const o = m as Record<string, unknown>;
	switch (o.type) {
		case 'ready':
			return true;
		case 'cancelRun':
		case 'rerun':
		case 'exportTrace':
		case 'snapshotStacks':
			return isStr(o.runId);
		case 'cancelComparison':
			return isStr(o.id);
		case 'cancelTask':
			return isStr(o.runId) && isInt(o.taskId);
		case 'openLocation':
			return isStr(o.file) && isInt(o.line) && (o.column === undefined || isInt(o.column));
		default:
			return false;
	}
}
