/**
 * Piscina worker: runs a batch of calls of the user's function (a single call unless they are
 * short). Starts are written to the pool's shared start slots, output is announced live through
 * the thread's parentPort (piscina itself only reports the end).
 */
import { readlinkSync } from 'node:fs';
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { NOTICE, type WorkerNotice, type WorkerTaskResult } from './taskMessages';
import { now } from '../clock';
import { lowerThisThread } from '../priority';
import { BatchLog } from './batchLog';
import { installDescriptorCapture } from './descriptorCapture';
import { OutputBacklog, outputUnits } from './outputBacklog';
import { StartSlots } from './startSlots';
import { installChildTracking } from './leftoverChildren';
import { executeTask, failCallThatCannotSettle, installExitReport, installLateErrorReport, installNoStdin, installOutputCapture, installSelfKillGuard, LoadError, prepareFunction, taskNow, threadCpuClock } from './taskExecution';

installDescriptorCapture(installOutputCapture(
	(taskId, stream, text) => post({ type: 'output', taskId, stream, text }),
	(stream, text) => post({ type: 'runOutput', stream, text, threadId }),
));
installChildTracking(post, taskNow);
installSelfKillGuard();
installLateErrorReport(post);
installNoStdin();
installExitReport(post);

/**
 * To the host alone, through the thread's parentPort (piscina hands what is not its own to the
 * pool's 'message' event). A BroadcastChannel delivered every notice to every other worker of
 * the pool as well, where a thread busy in a call let them pile up unread: two threads printing
 * in a loop grew the host's process by 100 MB a second.
 */
function post(n: WorkerNotice): void {
	if (n.type === 'output' || n.type === 'runOutput') {
		backlog.reserve(outputUnits(n.text));
	}
	Atomics.add(posted, 0, 1);
	parentPort!.postMessage({ [NOTICE]: n });
}

/** Set once per pool (piscina's workerData), so each task message is only its id and arguments. */
export interface ThreadWorkerData {
	bundle: string;
	fn: string;
	/** Names the BroadcastChannel that says the bundle is written (`${channel}:load`). */
	channel: string;
	startSlots: SharedArrayBuffer;
	batchLog: SharedArrayBuffer;
	lowPriority: boolean;
	/** Notices posted by every worker of the pool (one Int32): the host waits for them all. */
	noticeCount: SharedArrayBuffer;
	/** One Int32, 1 once the bundle is written (then also broadcast on `${channel}:load`). */
	bundleWritten: SharedArrayBuffer;
	/** Output posted and read (OutputBacklog): a printing call waits for the host. */
	outputBacklog: SharedArrayBuffer;
}

export type ThreadTaskInput = [taskId: number, args: unknown[]];
/** One piscina task: a batch id (from 1) and the calls to make in order. */
export type ThreadBatchInput = [batch: number, tasks: ThreadTaskInput[]];

const config = workerData as ThreadWorkerData;
if (config.lowPriority) {
	lowerThisThread();
}
const posted = new Int32Array(config.noticeCount);
const backlog = new OutputBacklog(config.outputBacklog);
const slots = new StartSlots(config.startSlots);
const slot = slots.claim();
const log = new BatchLog(config.batchLog);

// The user's module loads as soon as it is written (the pool starts while esbuild bundles), as a
// process worker's does at init: the worker shows "starting" until then (its lane was blank),
// and what the module does as it loads is not the first task's. A module that fails to load
// is reported by the first task. The channel first, then the flag: a worker that misses the
// broadcast sees the flag.
let loadSignalOpen = true;
{
	let asked = false;
	const load = () => {
		if (asked) {
			return;
		}
		asked = true;
		signal.close();
		loadSignalOpen = false;
		let loading: Promise<void> | undefined;
		try {
			loading = prepareFunction(config.bundle, config.fn);
		} catch {
			// the first task reports it
		}
		if (loading) {
			void loading.then(ready);
		} else {
			ready();
		}
	};
	const signal = new BroadcastChannel(`${config.channel}:load`);
	signal.onmessage = load;
	if (Atomics.load(new Int32Array(config.bundleWritten), 0)) {
		load();
	}
}

/** A finished task in the cheapest form to clone; failures keep the full object. */
export type ThreadTaskDone = [taskId: number, threadId: number, startT: number, endT: number, cpuMs: number | undefined, result: string, awaited?: 1];
export type ThreadTaskReply = ThreadTaskDone | WorkerTaskResult;

/**
 * Runs the batch's calls in order and returns their results; fewer than asked when the host
 * revoked the batch or its log filled up (the host runs the rest again elsewhere). Synchronous
 * while the calls are: a promise per no-op task showed in the pool's throughput.
 */
export default function runBatch(input: ThreadBatchInput): ThreadTaskReply[] | Promise<ThreadTaskReply[]> {
	let importing: Promise<void> | undefined;
	try {
		importing = prepareFunction(config.bundle, config.fn);
	} catch {
		// A module that fails to load: the first task's executeTask reports it.
	}
	if (importing) {
		return importing.then(() => {
			ready();
			return runLoaded(input);
		});
	}
	ready(); // a batch that came before the load signal: ready before its first call starts
	return runLoaded(input);
}

let readySent = false;

/**
 * This thread's OS thread id (Linux): /proc/thread-self names the thread that reads it, and a
 * sync read runs on this thread. Node's threadId is its own count, which /proc does not know;
 * with this the host can read the thread's CPU time (engine/stall).
 */
function osThreadId(): number | undefined {
	try {
		const tid = Number(/\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'))?.[1]);
		return Number.isInteger(tid) && tid > 0 ? tid : undefined;
	} catch {
		return undefined; // not Linux
	}
}

/** Once, when the module has loaded (by the load signal or by the first batch, whichever came first). */
function ready(): void {
	if (!readySent) {
		readySent = true;
		const tid = osThreadId();
		post({ type: 'ready', threadId, t: now(), ...(tid !== undefined ? { tid } : {}) });
	}
}

function runLoaded([batch, tasks]: ThreadBatchInput): ThreadTaskReply[] | Promise<ThreadTaskReply[]> {
	// Without a slot (a pool that replaced hundreds of workers) there is no log: one task only.
	const logged = tasks.length > 1 && slot !== undefined;
	if (logged) {
		log.begin(slot, batch);
	}
	const replies: ThreadTaskReply[] = [];
	const from = (i: number): ThreadTaskReply[] | Promise<ThreadTaskReply[]> => {
		for (; i < tasks.length; i++) {
			if (logged ? !log.claim(slot, i) : i > 0) {
				break;
			}
			const [taskId, args] = tasks[i]!;
			const result = runTask(taskId, args);
			if (result instanceof Promise) {
				const position = i;
				return result.then((r) => (keep(r, position) ? from(position + 1) : replies));
			}
			if (!keep(result, i)) {
				break;
			}
		}
		return replies;
	};
	const keep = (reply: ThreadTaskReply, position: number): boolean => {
		replies.push(reply);
		return !logged || log.finished(slot, position, JSON.stringify(reply));
	};
	const done = from(0);
	// A promise a call left rejected with no handler is told at the end of the turn it ran in,
	// after the reply: the last batch's reply ended the run and the notice came too late, lost.
	// One turn more per batch (not per call) puts the notice first.
	return Array.isArray(done) ? new Promise((resolve) => setImmediate(resolve, done)) : done.then((r) => new Promise((resolve) => setImmediate(resolve, r)));
}

function runTask(taskId: number, args: unknown[]): ThreadTaskReply | Promise<ThreadTaskReply> {
	let result: WorkerTaskResult | Promise<WorkerTaskResult>;
	// Counted even when a timer is active now (one an earlier call left behind, the module's own):
	// skipping the watch then left a call that can never settle "running" for good, the run with it.
	// Such a timer still counts as able to settle it until it is gone (portsKeepingAlive).
	// Not the load signal: it closes when its message comes, maybe during this call, and a port
	// of the call's own (a worker it waits on) then read as idle (the call "could never settle").
	const idlePorts = portsOpen() - (loadSignalOpen ? 1 : 0);
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
	if (result instanceof Promise) {
		watchPending(result, idlePorts);
		return result.then(reply);
	}
	return reply(result);
}

/** MessagePorts (piscina's own, the parentPort notices go on) when everything else keeping the thread alive is counted apart; undefined when something else is there too. */
function portsKeepingAlive(): number | undefined {
	const active = process.getActiveResourcesInfo();
	return active.every((r) => r === 'MessagePort') ? active.length : undefined;
}

/** The MessagePorts open now, whatever else is: what the thread has without the call's own. */
function portsOpen(): number {
	let n = 0;
	for (const r of process.getActiveResourcesInfo()) {
		n += r === 'MessagePort' ? 1 : 0;
	}
	return n;
}

const QUIET_CHECKS = 5;
const QUIET_EVERY_MS = 200;

/**
 * A process worker learns from 'beforeExit' that a pending call can never settle; a thread's
 * loop never empties (piscina's ports keep it awake), so a pending call is watched instead: when
 * nothing but the ports that were there before the call keeps the thread alive (no timer, no
 * I/O, no port or worker of the call's own) for a second, nothing can settle it. Unref'd checks,
 * so they do not count themselves.
 */
function watchPending(call: Promise<unknown>, idlePorts: number): void {
	let settled = false;
	let quiet = 0;
	call.then(() => { settled = true; }, () => { settled = true; });
	const check = () => {
		if (settled) {
			return;
		}
		const ports = portsKeepingAlive();
		quiet = ports !== undefined && ports <= idlePorts ? quiet + 1 : 0;
		if (quiet >= QUIET_CHECKS) {
			failCallThatCannotSettle();
			return;
		}
		setTimeout(check, QUIET_EVERY_MS).unref();
	};
	setTimeout(check, QUIET_EVERY_MS).unref();
}

function reply(result: WorkerTaskResult): ThreadTaskReply {
	ended();
	if (!result.ok || result.collected) {
		return { ...result, threadId };
	}
	const done: ThreadTaskDone = [result.taskId, threadId, result.startT, result.endT, result.cpuMs, result.result ?? ''];
	if (result.awaited) {
		done.push(1);
	}
	return done;
}

function ended(): void {
	if (slot !== undefined) {
		slots.ended(slot);
	}
}
