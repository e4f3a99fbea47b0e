/**
 * Piscina worker: runs one call of the user's function. Start and output are announced live on
 * the run's BroadcastChannel (piscina itself only reports the end).
 */
import { threadId } from 'node:worker_threads';
import type { TaskSpec, WorkerNotice, WorkerTaskResult } from './taskMessages';
import { executeTask, installOutputCapture, LoadError } from './taskExecution';

installOutputCapture();

const channels = new Map<string, BroadcastChannel>();

function channel(name: string): BroadcastChannel {
	let c = channels.get(name);
	if (!c) {
		c = new BroadcastChannel(name);
		channels.set(name, c);
	}
	return c;
}

export interface ThreadTaskInput extends TaskSpec {
	bundle: string;
	fn: string;
	channel: string;
}

export default async function runTask(input: ThreadTaskInput): Promise<WorkerTaskResult> {
	const c = channel(input.channel);
	const post = (n: WorkerNotice) => c.postMessage(n);
	try {
		const result = await executeTask(
			input.bundle,
			input.fn,
			input.taskId,
			input.args,
			(t) => post({ type: 'start', taskId: input.taskId, t, threadId }),
			(stream, text) => post({ type: 'output', taskId: input.taskId, stream, text }),
		);
		return { ...result, threadId };
	} catch (e) {
		if (e instanceof LoadError) {
			return { taskId: input.taskId, ok: false, error: e.info, startT: 0, endT: 0, threadId };
		}
		throw e;
	}
}
