/**
 * A process whose only work is a run on the engine thread, started and not awaited: it must live
 * until the run ends (the thread is ref'd while it hosts runs) and then exit on its own (an idle
 * thread is unref'd). Spawned by engineThread.test.ts. With `low-session`, a low-priority run on
 * an engine that lowers its session while runs are live (spawned in a session of its own); with
 * `recover`, such an engine and no run: what a new host does as it starts.
 */
import { EngineThread } from '../../../engine/thread/engineThread';

const [file, fn, inputs, mode] = process.argv.slice(2);
const lowSession = mode === 'low-session';
const engine = new EngineThread({ lowerSessionWhileRunning: lowSession || mode === 'recover' });
if (mode === 'recover') {
	setTimeout(() => undefined, 3_000);
} else {
	const handle = engine.start({ runId: 'alive', file: file!, fn: fn!, language: 'javascript', pool: 'thread', workers: 1, inputs: inputs!, cpuSampleMs: 0, ...(lowSession ? { priority: 'low' as const } : {}) }, () => undefined);
	console.log('started');
	void handle.done.then((end) => {
		console.log(JSON.stringify(end.counts));
		if (lowSession) {
			setTimeout(() => undefined, 3_000); // alive a while, for its session's priority to be read
		}
	});
}
