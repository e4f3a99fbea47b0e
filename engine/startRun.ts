/** The engine's one entry: a run request to the backend of its language. */
import { jsBackend } from './js/jsBackend';
import type { EventSink } from './protocol/events';
import { pythonBackend } from './python/pythonBackend';
import type { RunHandle, RunRequest } from './runTypes';

export function startRun(request: RunRequest, sink: EventSink): RunHandle {
	return (request.language === 'python' ? pythonBackend : jsBackend).start(request, sink);
}
