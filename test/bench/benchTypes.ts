/** One row of `npm run bench`: a ratio measured side by side in the same run. */
export interface BenchRow {
	name: string;
	/** ours / reference as a speed ratio (>1 = faster), or a plain figure for rows with no goal. */
	ratio: number;
	/** The ratio we aim for (ratio >= goal), absent for informational rows. */
	goal?: number;
	/** Human detail: the raw figures behind the ratio. */
	detail: string;
}

export type BenchSection = (opts: { quick: boolean }) => Promise<BenchRow[]>;
