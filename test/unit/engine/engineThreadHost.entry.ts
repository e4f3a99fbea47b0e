/**
 * A process whose only work is a run on the engine thread, started and not awaited: it must live
 * until the run ends (the thread is ref'd while it hosts runs) and then exit on its own (an idle
 * thread is unref'd). Spawned by engineThread.test.ts.
 */
import { EngineThread } from '../../../engine/thread/engineThread';

const [file, fn, inputs] = process.argv.slice(2);
const engine = new EngineThread();
const handle = engine.start({ runId: 'alive', file: file!, fn: fn!, language: 'javascript', pool: 'thread', workers: 1, inputs: inputs!, cpuSampleMs: 0 }, () => undefined);
void handle.done.then((end) => console.log(JSON.stringify(end.counts)));
