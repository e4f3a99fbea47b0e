/**
 * Piscina worker: runs one call of the user's function. Starts are written to the pool's shared
 * start slots, output is announced live on the run's BroadcastChannel (piscina itself only
 * reports the end).
 */
import { threadId, workerData } from 'node:worker_threads';
import type { WorkerNotice, WorkerTaskResult } from './taskMessages';
import { lowerThisThread } from '../priority';
import { StartSlots } from './startSlots';
import { executeTask, installOutputCapture, LoadError, threadCpuClock } from './taskExecution';

installOutputCapture();

let channel: BroadcastChannel | undefined;

/** Created on the first notice: most tasks never print. */
function post(n: WorkerNotice): void {
	channel ??= new BroadcastChannel(config.channel);
	channel.postMessage(n);
}

/** Set once per pool (piscina's workerData), so each task message is only its id and arguments. */
export interface ThreadWorkerData {
	bundle: string;
	fn: string;
	channel: string;
	startSlots: SharedArrayBuffer;
	lowPriority: boolean;
}

export type ThreadTaskInput = [taskId: number, args: unknown[]];

const config = workerData as ThreadWorkerData;
if (config.lowPriority) {
	lowerThisThread();
}
const slots = new StartSlots(config.startSlots);
const slot = slots.claim();

/** A finished task in the cheapest form to clone; failures keep the full object. */
export type ThreadTaskDone = [taskId: number, threadId: number, startT: number, endT: number, cpuMs: number | undefined, result: string];

export default function runTask([taskId, args]: ThreadTaskInput): ThreadTaskDone | WorkerTaskResult | Promise<ThreadTaskDone | WorkerTaskResult> {
	let result: WorkerTaskResult | Promise<WorkerTaskResult>;
	try {
		result = executeTask(
			config.bundle,
			config.fn,
			taskId,
			args,
			(t) => {
				if (slot !== undefined) {
					slots.started(slot, taskId, t, threadId);
				} else {
					post({ type: 'start', taskId, t, threadId });
				}
			},
			(stream, text) => post({ type: 'output', taskId, stream, text }),
			threadCpuClock,
		);
	} catch (e) {
		ended();
		if (e instanceof LoadError) {
			return { taskId, ok: false, error: e.info, startT: 0, endT: 0, threadId };
		}
		throw e;
	}
	return result instanceof Promise ? result.then(reply) : reply(result);
}

function reply(result: WorkerTaskResult): ThreadTaskDone | WorkerTaskResult {
	ended();
	return result.ok ? [result.taskId, threadId, result.startT, result.endT, result.cpuMs, result.result ?? ''] : { ...result, threadId };
}

function ended(): void {
	if (slot !== undefined) {
		slots.ended(slot);
	}
}
