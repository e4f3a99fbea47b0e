/**
 * A process-pool worker (child_process.fork): receives batches of calls over IPC, runs them one
 * after another, reports output and end of each (the host infers starts from the order).
 */
import type { HostToProcess, ProcessToHost } from './taskMessages';
import { executeTask, failCallThatCannotSettle, installExitReport, installLateErrorReport, installNoStdin, installOutputCapture, LoadError, loadFunction, prepareFunction, processCpuClock } from './taskExecution';

const send = (m: ProcessToHost) => process.send?.(m);
let bundle = '';
let fn = '';
let queue = Promise.resolve();

installOutputCapture(
	(taskId, stream, text) => send({ type: 'output', taskId, stream, text }),
	(stream, text) => send({ type: 'runOutput', stream, text }),
);
installLateErrorReport(send);
installNoStdin();
const exit = process.exit.bind(process); // ours: the user's module may not end a worker (installExitReport)
installExitReport(send);

// The host gone (killed, crashed): nobody will collect results, so stop at once.
process.on('disconnect', () => exit(0));

// While an async call is pending the IPC channel does not keep the process alive by itself, so
// an event loop with nothing left in it says so ('beforeExit'): the call can never settle.
const channel = (process as { channel?: { ref(): void; unref(): void } }).channel;
process.on('beforeExit', () => {
	channel?.ref();
	// Not from here: the next call may start (and unref) before the loop looks again, and Node
	// asks 'beforeExit' once per emptied loop; an immediate is a turn of its own.
	setImmediate(failCallThatCannotSettle);
});

process.on('message', (m: HostToProcess) => {
	if (m.type === 'init') {
		bundle = m.bundle;
		fn = m.fn;
		const load = () => {
			try {
				loadFunction(bundle, fn);
				send({ type: 'ready', pid: process.pid });
			} catch (e) {
				if (e instanceof LoadError) {
					send({ type: 'loadError', error: e.info });
				} else {
					throw e;
				}
			}
		};
		let importing: Promise<void> | undefined;
		try {
			importing = prepareFunction(bundle, fn);
		} catch {
			// load() reports it
		}
		if (importing) {
			queue = queue.then(() => importing).then(load); // tasks that arrive meanwhile wait
		} else {
			load();
		}
		return;
	}
	queue = queue.then(async () => {
		for (const task of m.tasks) {
			const call = executeTask(
				bundle, fn, task.taskId, task.args,
				() => undefined, // the host knows: see ProcessPool.readStarts
				(stream, text) => send({ type: 'output', taskId: task.taskId, stream, text }),
				processCpuClock,
			);
			let result;
			if (call instanceof Promise) {
				channel?.unref();
				try {
					result = await call;
				} finally {
					channel?.ref();
				}
			} else {
				result = call;
			}
			send({ type: 'done', result: { ...result, pid: process.pid } });
		}
	});
});
