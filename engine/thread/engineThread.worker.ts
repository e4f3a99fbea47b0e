/**
 * The engine on a thread of its own. In VS Code the extension host's one thread serves every
 * extension: a 100k-task run folded there kept it ~60% busy and stalled it for 70+ ms at a time
 * (docs/performance.md). Here the pools, the event batching and the packing run away from it;
 * the owner receives a few packed messages a second.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EventCoalescer } from '../eventCoalescer';
import { OutputBudget } from '../outputBudget';
import { lowerThisThread } from '../priority';
import type { RunHandle } from '../runTypes';
import { startRun } from '../startRun';
import type { EngineThreadData, FromEngineThread, ToEngineThread } from './threadMessages';

const port = parentPort!;

// The pool's bookkeeping yields to the editor like its workers do (`poolscope.workerPriority`):
// at normal priority this thread took the CPU the extension host's thread waited for.
if ((workerData as EngineThreadData | undefined)?.lowPriority) {
	lowerThisThread();
}
const runs = new Map<string, RunHandle>();

function send(m: FromEngineThread): void {
	if (m.type === 'events') {
		const p = m.packed;
		port.postMessage(m, [p.t.buffer, p.id.buffer, p.w.buffer, p.d.buffer, p.c.buffer, p.len.buffer] as ArrayBuffer[]);
	} else {
		port.postMessage(m);
	}
}

/** At most ~30 messages a second, each of at most the webview's message size: the owner forwards them as they are. */
const coalescer = new EventCoalescer((runId, packed) => send({ type: 'events', runId, packed }));

function start(request: Parameters<typeof startRun>[0]): void {
	const { runId } = request;
	let handle: RunHandle;
	try {
		const budget = new OutputBudget();
		handle = startRun(request, (batch) => coalescer.push(runId, budget.trim(batch)));
	} catch (e) {
		send({ type: 'startFailed', runId, name: e instanceof Error ? e.name : 'Error', message: e instanceof Error ? e.message : String(e) });
		return;
	}
	runs.set(runId, handle);
	void handle.done.then((final) => {
		runs.delete(runId);
		coalescer.flush(); // its events before its end
		send({ type: 'done', runId, final });
	});
}

async function answer(call: number, work: () => Promise<unknown> | undefined): Promise<void> {
	try {
		send({ type: 'reply', call, value: await work() });
	} catch (e) {
		send({ type: 'reply', call, error: e instanceof Error ? e.message : String(e) });
	}
}

port.on('message', (m: ToEngineThread) => {
	switch (m.type) {
		case 'start':
			start(m.request);
			break;
		case 'cancel':
			void answer(m.call, () => runs.get(m.runId)?.cancel(m.reason));
			break;
		case 'cancelTask':
			void answer(m.call, () => runs.get(m.runId)?.cancelTask(m.taskId) ?? Promise.resolve({ ok: false, reason: 'the run has ended' }));
			break;
		case 'snapshotStacks':
			void answer(m.call, () => {
				const handle = runs.get(m.runId);
				if (!handle?.snapshotStacks) {
					throw new Error(handle ? 'this pool has no stack snapshots' : 'the run has ended');
				}
				return handle.snapshotStacks();
			});
			break;
	}
});
