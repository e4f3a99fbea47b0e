/**
 * Every message between the extension and the panel's webview. Both sides import this file;
 * a message that is not in these unions cannot be sent, and `isWebviewMessage` checks what
 * arrives from the webview before the extension acts on it (the webview is untrusted input).
 */
import type { Measurement } from '../engine/compare/measurement';
import type { CpuSampleEvent, PoolEvent } from '../engine/protocol/events';
import type { PackedEvents } from '../engine/protocol/eventPacking';

/** Everything the panel needs to draw one run from scratch (after a reload or re-show). */
export interface RunReplay {
	runId: string;
	/** The run's events so far, in order (bounded: see extension/runStore). */
	events: PoolEvent[];
}

/**
 * A comparison as the panel draws it (updated as each configuration finishes). `compare`:
 * serial, threads, processes; `sweep`: worker counts; `chunksize`: one pool at several
 * chunksizes; `runs`: two runs from the history, the second measured against the first.
 */
export interface ComparisonView {
	id: string;
	kind: 'compare' | 'sweep' | 'chunksize' | 'runs';
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

/** One run or comparison kept in the workspace's history (the payload stays on disk). */
export interface HistoryEntry {
	id: string;
	kind: 'run' | 'comparison';
	/** Epoch ms when it ended. */
	savedAt: number;
	fn: string;
	file: string;
	language: string;
	/** e.g. "process ×2 (spawn)" or "compare: serial, thread ×2, process ×2". */
	label: string;
	/** Run outcome or comparison state. */
	outcome: string;
	wallMs?: number;
	inputs?: string;
	/** Compressed size on disk. */
	bytes: number;
	/** The run had more events than are kept; counts and summary are still exact. */
	truncated?: boolean;
}

export type HostToWebview =
	| { type: 'init'; runs: RunReplay[]; activeRunId?: string; cores: number }
	| { type: 'events'; runId: string; events: PoolEvent[] }
	/** The same as `events`, in columns (eventPacking.ts); `replay`: a run the host already had. */
	| { type: 'packed'; runId: string; packed: PackedEvents; replay?: boolean }
	| { type: 'cpu'; sample: Omit<CpuSampleEvent, 'runId'> }
	| { type: 'select'; runId: string }
	| { type: 'stacks'; runId: string; text: string }
	| { type: 'notice'; level: 'info' | 'warning' | 'error'; message: string }
	/** A "Cancel future" the host could not carry out: the panel says why, on that future too. */
	| { type: 'cancelRefused'; runId: string; taskId: number; reason: string }
	| { type: 'comparison'; comparison: ComparisonView }
	| { type: 'history'; entries: HistoryEntry[] };

export type WebviewToHost =
	| { type: 'ready' }
	| { type: 'cancelRun'; runId: string }
	| { type: 'cancelTask'; runId: string; taskId: number }
	| { type: 'rerun'; runId: string }
	| { type: 'openLocation'; file: string; line: number; column?: number }
	| { type: 'exportTrace'; runId: string }
	| { type: 'snapshotStacks'; runId: string }
	| { type: 'cancelComparison'; id: string }
	| { type: 'openHistory'; id: string }
	| { type: 'deleteHistory'; id: string }
	| { type: 'compareRuns'; runIds: [string, string] };

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
		case 'openHistory':
		case 'deleteHistory':
			return isStr(o.id);
		case 'compareRuns':
			return Array.isArray(o.runIds) && o.runIds.length === 2 && o.runIds.every(isStr) && o.runIds[0] !== o.runIds[1];
		case 'cancelTask':
			return isStr(o.runId) && isInt(o.taskId);
		case 'openLocation':
			return isStr(o.file) && isInt(o.line) && (o.column === undefined || isInt(o.column));
		default:
			return false;
	}
}
