/**
 * Messages between the engine thread (`engineThread.worker.ts`) and its owner
 * (`engineThread.ts`). Events cross packed: typed arrays are transferred, not copied, and the
 * owner's thread never builds 400k event objects to receive a 100k-task run.
 */
import type { PackedEvents } from '../protocol/eventPacking';
import type { RunFinishedEvent } from '../protocol/events';
import type { RunRequest } from '../runTypes';

export type ToEngineThread =
	| { type: 'start'; request: RunRequest }
	| { type: 'cancel'; runId: string; reason?: string; call: number }
	| { type: 'cancelTask'; runId: string; taskId: number; call: number }
	| { type: 'snapshotStacks'; runId: string; call: number };

export type FromEngineThread =
	| { type: 'events'; runId: string; packed: PackedEvents }
	/** The backend refused the request synchronously (a usage error, before anything started). */
	| { type: 'startFailed'; runId: string; name: string; message: string }
	| { type: 'done'; runId: string; final: RunFinishedEvent }
	| { type: 'reply'; call: number; value?: unknown; error?: string };

/** Given when the thread starts: its priority is fixed for its life (a thread cannot raise its own). */
export interface EngineThreadData {
	lowPriority: boolean;
}
