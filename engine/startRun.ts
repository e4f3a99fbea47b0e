/** The engine's one entry: a run request to the backend of its language. */
import { jsBackend } from './js/jsBackend';
import { WorkerWatch } from './cpu/workerWatch';
import { MemoryWatch, memoryIntervalMs } from './memory/processMemory';
import type { EventSink } from './protocol/events';
import { pythonBackend } from './python/pythonBackend';
import { isSampled, type RunHandle, type RunRequest } from './runTypes';
import { StallWatch } from './stall/stallWatch';

export function startRun(request: RunRequest, sink: EventSink): RunHandle {
	const backend = request.language === 'python' ? pythonBackend : jsBackend;
	if (!isSampled(request)) {
		return backend.start(request, sink); // a measured run (bench): no sampling at all
	}
	const memory = new MemoryWatch(memoryIntervalMs(request.memorySampleMs ?? request.cpuSampleMs), sink);
	const workers = new WorkerWatch(sink);
	let handle: RunHandle | undefined;
	// Python can show where each thread waits: its stacks go with the warning (see decisions.md).
	// A stall window of 0 is no stall watch at all (poolscope.stallWarningSeconds 0, --stall 0).
	const stall = request.stallMs === 0 ? undefined : new StallWatch(sink, {
		stallMs: request.stallMs,
		...(request.language === 'python' ? { snapshot: () => handle?.snapshotStacks?.() ?? Promise.resolve('') } : {}),
	});
	handle = backend.start(request, (batch) => {
		memory.observe(batch);
		const seen = workers.observe(batch);
		sink(stall ? stall.observe(seen) : seen);
	});
	void handle.done.finally(() => {
		memory.dispose();
		workers.dispose();
		stall?.dispose();
	});
	return handle;
}
