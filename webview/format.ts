export function ms(v: number | undefined): string {
	if (v === undefined || !Number.isFinite(v)) {
		return '–';
	}
	if (v < 1) {
		return `${v.toFixed(2)} ms`;
	}
	if (v < 1000) {
		return `${v.toFixed(v < 10 ? 1 : 0)} ms`;
	}
	if (v < 60_000) {
		return `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;
	}
	return `${Math.floor(v / 60_000)} min ${Math.round((v % 60_000) / 1000)} s`;
}

export function pct(v: number | undefined): string {
	return v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v * 100)}%`;
}

/** One formatter: `toLocaleString('en-US')` builds one per call (the panel calls it ~30 times a frame). */
const grouped = new Intl.NumberFormat('en-US');

export function num(v: number): string {
	return grouped.format(v);
}
