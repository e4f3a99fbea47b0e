/** What the always-on parts of the extension cost: the status bar's CPU sampler. */
import { execFileSync } from 'node:child_process';
import { CpuSampler } from '../../engine/cpu/cpuSampler';
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
	return Promise.resolve(rows);
};

export default extensionBench;

const childArg = process.argv.find((a) => a.startsWith('--sampler-child='));
if (childArg) {
	const [hz, seconds] = childArg.slice('--sampler-child='.length).split(',').map(Number);
	void child(hz!, seconds!);
}
