// TypeScript runs as is: Poolscope bundles it with esbuild, and stack traces point here.

// poolscope: inputs=[[2_000_000], [2_000_000], [2_000_000], [2_000_000]]
export function countPrimes(limit: number): number {
	let count = 0;
	for (let n = 2; n < limit; n++) {
		let prime = true;
		for (let d = 2; d * d <= n; d++) {
			if (n % d === 0) {
				prime = false;
				break;
			}
		}
		if (prime) {
			count++;
		}
	}
	return count;
}
