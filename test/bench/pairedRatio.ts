/**
 * Ours and the raw library taken in turns, the ratio of each pair, and the median of those: this
 * VM's speed drifts by 10-20% over seconds, so blocks of one then the other (or the best of
 * each) put the drift into the ratio.
 */
export async function pairedRatio(ours: () => Promise<number>, raw: () => Promise<number>, pairs: number): Promise<{ ratio: number; ours: number; raw: number }> {
	const ratios: number[] = [];
	const a: number[] = [];
	const b: number[] = [];
	for (let i = 0; i < pairs; i++) {
		const o = await ours();
		const r = await raw();
		a.push(o);
		b.push(r);
		ratios.push(r / o);
	}
	return { ratio: median(ratios), ours: median(a), raw: median(b) };
}

export function median(xs: number[]): number {
	const s = [...xs].sort((x, y) => x - y);
	return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
