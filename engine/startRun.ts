/** The engine's one entry: a run request to the backend of its language. */
import { jsBackend } from './js/jsBackend';
import { MemoryWatch, memoryIntervalMs } from './memory/processMemory';
import type { EventSink } from './protocol/events';
import { pythonBackend } from './python/pythonBackend';
import type { RunHandle, RunRequest } from './runTypes';

export function startRun(request: RunRequest, sink: EventSink): RunHandle {
	const backend = request.language === 'python' ? pythonBackend : jsBackend;
	const every = request.memorySampleMs ?? request.cpuSampleMs;
	if (every === 0) {
		return backend.start(request, sink); // a measured run (bench): no sampling at all
	}
	const memory = new MemoryWatch(memoryIntervalMs(every), sink);
	const handle = backend.start(request, (batch) => {
		memory.observe(batch);
		sink(batch);
	});
	void handle.done.finally(() => memory.dispose());
	return handle;
}
