/**
 * A process-pool worker (child_process.fork): receives batches of calls over IPC, runs them one
 * after another, reports the end of each (the host infers starts from the order); what the calls
 * print goes on a pipe of its own (outputPipe.ts).
 */
import { now } from '../clock';
import type { StreamName } from '../protocol/events';
import { installDescriptorCapture } from './descriptorCapture';
import { FrameWriter, OUTPUT_FD, RUN_OUTPUT } from './outputPipe';
import type { HostToProcess, ProcessToHost } from './taskMessages';
import { errorInfo, executeTask, failCallThatCannotSettle, installExitReport, installLateErrorReport, installNoStdin, installOutputCapture, LoadError, loadFunction, prepareFunction, processCpuClock, safePreview, taskNow } from './taskExecution';

const ipcSend = process.send?.bind(process);
// The host gone (EPIPE): nobody will read what the task prints, so stop at once.
const frames = new FrameWriter(OUTPUT_FD, () => exit(0));
// The host holds a message until it has read the output written before it (outputPipe.ts).
const send = (m: ProcessToHost) => ipcSend?.(frames.written ? { ...m, outBytes: frames.written } : m);
const print = (taskId: number, stream: StreamName, text: string) => {
	if (!frames.write(taskId, stream, text)) {
		send(taskId === RUN_OUTPUT ? { type: 'runOutput', stream, text } : { type: 'output', taskId, stream, text });
	}
};

// The IPC channel is Poolscope's: a module written to run as a forked child (process.send(result))
// sent messages its host took for its own, and one of them crashed the engine. The user's code
// keeps a process.send (code that checks for one still finds it), and the run says where it went.
process.send = ((message: unknown, ...rest: unknown[]) => {
	send({ type: 'userSend', taskId: taskNow(), value: safePreview(message, 2) });
	const callback = rest.find((r): r is (error: Error | null) => void => typeof r === 'function');
	callback?.(null);
	return true;
}) as typeof process.send;
let bundle = '';
let fn = '';
let queue = Promise.resolve();

// Below console too (fs.writeSync(1), a child with stdio 'inherit'), as in a thread worker: the
// worker's own fd 1, which the host reads apart from the frames and gives to whichever task runs
// when it arrives, gave 1 line in 40 of a child's output to another task.
installDescriptorCapture(installOutputCapture(
	print,
	(stream, text) => print(RUN_OUTPUT, stream, text),
));
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
			let result;
			try {
				const call = executeTask(
					bundle, fn, task.taskId, task.args,
					() => undefined, // the host knows: see ProcessPool.readStarts
					(stream, text) => print(task.taskId, stream, text),
					processCpuClock,
				);
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
			} catch (e) {
				// Not the user's error (executeTask reports those): ours, and the task still gets an
				// end, or this worker's queue would stop for good and the run wait forever.
				const t = now();
				const error = errorInfo(e, 'internal');
				result = { taskId: task.taskId, ok: false, error: { ...error, message: `Poolscope's worker failed running task ${task.taskId}: ${error.message}` }, startT: t, endT: t };
			}
			if (task === m.tasks[m.tasks.length - 1]) {
				// A promise a call left rejected with no handler is told at the end of this turn: the
				// batch's last result waits for it, else the result that ended the run came first and
				// the notice was lost.
				await new Promise((resolve) => setImmediate(resolve));
			}
			send({ type: 'done', result: { ...result, pid: process.pid } });
		}
	});
});
