/** What the always-on parts of the extension cost: the status bar's CPU sampler. */
import { CpuSampler } from '../../engine/cpu/cpuSampler';
import type { BenchSection } from './benchTypes';

const extensionBench: BenchSection = async ({ quick }) => {
	const seconds = quick ? 3 : 10;
	// The sampler at the status bar's default rate (1 Hz) and at 10x that, measured as CPU
	// time of this process over wall time, with nothing else running in it.
	const rows = [];
	for (const hz of [1, 10]) {
		let samples = 0;
		const before = process.cpuUsage();
		const t0 = performance.now();
		const sampler = new CpuSampler(1000 / hz, () => { samples++; });
		await new Promise((r) => setTimeout(r, seconds * 1000));
		sampler.dispose();
		const used = process.cpuUsage(before);
		const wall = performance.now() - t0;
		const share = (used.user + used.system) / 1000 / wall;
		rows.push({
			name: `status bar CPU sampler at ${hz} Hz: share of one core (goal < 0.2%)`,
			ratio: 0.002 / Math.max(share, 1e-9),
			goal: 1,
			detail: `${(share * 100).toFixed(3)}% of a core over ${seconds} s, ${samples} samples (ratio = budget / cost)`,
		});
	}
	return rows;
};

export default extensionBench;
