import { now } from '../clock';
import type { EventSink } from '../protocol/events';
import type { Backend, RunHandle, RunRequest } from '../runTypes';

/** Placeholder until the Python runner lands: the run ends at once with a clear error. */
export const pythonBackend: Backend = {
	start(request: RunRequest, sink: EventSink): RunHandle {
		const final = {
			type: 'run.finished' as const, runId: request.runId, t: now(), outcome: 'error' as const, wallMs: 0,
			counts: { submitted: 0, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 0, workers: [],
			error: { kind: 'internal' as const, name: 'NotAvailable', message: 'the Python backend is not available in this build' },
		};
		sink([final]);
		return { runId: request.runId, done: Promise.resolve(final), cancelTask: async () => ({ ok: false, reason: 'no such run' }), cancel: async () => undefined };
	},
};
