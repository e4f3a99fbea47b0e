/** What the always-on parts of the extension cost: the status bar's CPU sampler. */
import { execFileSync } from 'node:child_process';
import { CpuSampler } from '../../engine/cpu/cpuSampler';
import type { PoolEvent } from '../../engine/protocol/events';
import { MAX_MESSAGE_EVENTS } from '../../engine/eventCoalescer';
import { packEvents, type PackedEvents } from '../../engine/protocol/eventPacking';
import { applyEvents, createRunModel, tallyPacked } from '../../engine/protocol/runModel';
import { EventLog } from '../../extension/runs/eventLog';
import type { BenchRow, BenchSection } from './benchTypes';

interface ChildFigures {
	share: number;
	samples: number;
}

/**
 * One measurement in a fresh Node process (this file, `--sampler-child=<hz>,<seconds>`): CPU time
 * over wall time after start-up, with the sampler at `hz` (0 = none, the idle baseline). In the
 * bench's own process the figure included V8 still collecting the heaps of the rows before it.
 */
async function child(hz: number, seconds: number): Promise<void> {
	let samples = 0;
	const before = process.cpuUsage();
	const t0 = performance.now();
	const sampler = hz > 0 ? new CpuSampler(1000 / hz, () => { samples++; }) : undefined;
	await new Promise((r) => setTimeout(r, seconds * 1000));
	sampler?.dispose();
	const used = process.cpuUsage(before);
	const share = (used.user + used.system) / 1000 / (performance.now() - t0);
	process.stdout.write(JSON.stringify({ share, samples } satisfies ChildFigures));
}

function measure(hz: number, seconds: number): ChildFigures {
	return JSON.parse(execFileSync(process.execPath, [__filename, `--sampler-child=${hz},${seconds}`], { encoding: 'utf8' })) as ChildFigures;
}

interface MemoryFigures {
	objects: number;
	kept: number;
}

/**
 * In a fresh process with `--expose-gc` (this file, `--memory-child`): the heap a finished
 * 100k-task run takes in the extension host, kept as event objects with a full run model (before
 * 2026-11-27) and as the extension keeps it now: the engine thread's packed messages in its
 * EventLog and a tally without task models, the same from the run's start to its end.
 * The events are those of a run of samples/js/io.js `shout` over "t0".."t99999".
 */
function memoryChild(): void {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) {
		throw new Error('run with --expose-gc');
	}
	const heap = () => {
		gc();
		gc();
		return process.memoryUsage().heapUsed;
	};
	const base = heap();
	const runId = 'shout-1a2b3c4d';
	const events: PoolEvent[] = [];
	for (let i = 0; i < 100_000; i++) {
		events.push({ type: 'task.submitted', runId, t: 1e6 + i * 0.01, taskId: i, input: JSON.stringify(`t${i}`) }, { type: 'task.queued', runId, t: 1e6 + i * 0.01, taskId: i, stage: 'pending' });
	}
	for (let i = 0; i < 100_000; i++) {
		events.push({ type: 'task.started', runId, t: 2e6 + i * 0.1, taskId: i, workerId: i % 2 }, { type: 'task.finished', runId, t: 2e6 + i * 0.1 + 0.05, taskId: i, workerId: i % 2, durationMs: 0.05, cpuMs: 0.04, result: `'T${i}'` });
	}
	const objects = (() => {
		const model = createRunModel(runId);
		applyEvents(model, events);
		return heap() - base; // while the full model is alive
	})();
	// As the engine thread sends them: packed messages of the coalescer's size, tallied and kept as they are.
	const messages: PackedEvents[] = [];
	for (let i = 0; i < events.length; i += MAX_MESSAGE_EVENTS) {
		messages.push(packEvents(events.slice(i, i + MAX_MESSAGE_EVENTS)));
	}
	events.length = 0;
	const tally = createRunModel(runId);
	const log = new EventLog(runId);
	for (const m of messages.splice(0)) {
		tallyPacked(tally, m);
		log.appendPacked(m);
	}
	const kept = heap() - base;
	process.stdout.write(JSON.stringify({ objects, kept, logged: log.length, tallied: tally.counts.finished } satisfies MemoryFigures & { logged: number; tallied: number }));
}

const extensionBench: BenchSection = async ({ quick }) => {
	const seconds = quick ? 3 : 10;
	const rows: BenchRow[] = [];
	const idle = measure(0, seconds);
	for (const hz of [1, 10]) {
		const m = measure(hz, seconds);
		const cost = Math.max(0, m.share - idle.share);
		rows.push({
			name: `status bar CPU sampler at ${hz} Hz: share of one core (goal < 0.2%)`,
			ratio: 0.002 / Math.max(cost, 1e-9),
			goal: 1,
			detail: `${(cost * 100).toFixed(3)}% of a core over ${seconds} s (${(m.share * 100).toFixed(3)}% with it, ${(idle.share * 100).toFixed(3)}% for an idle Node process), ${m.samples} samples (ratio = budget / cost)`,
		});
	}
	const mem = JSON.parse(execFileSync(process.execPath, ['--expose-gc', __filename, '--memory-child'], { encoding: 'utf8' })) as MemoryFigures;
	rows.push({
		name: 'extension host: MB kept for a finished 100k-task run',
		ratio: mem.kept / 1e6,
		detail: `packed event log + a tally without task models, during the run and after; as event objects with a full model: ${(mem.objects / 1e6).toFixed(1)} MB (${(mem.objects / mem.kept).toFixed(1)}x)`,
	});
	return Promise.resolve(rows);
};

export default extensionBench;

if (process.argv.includes('--memory-child')) {
	memoryChild();
}
const childArg = process.argv.find((a) => a.startsWith('--sampler-child='));
if (childArg) {
	const [hz, seconds] = childArg.slice('--sampler-child='.length).split(',').map(Number);
	void child(hz!, seconds!);
}
