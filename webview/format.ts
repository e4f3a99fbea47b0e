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
	// Rounded to whole seconds first: 119.6 s read "1 min 60 s".
	const secs = Math.round(v / 1000);
	if (secs < 3600) {
		return `${Math.floor(secs / 60)} min ${secs % 60} s`;
	}
	return `${Math.floor(secs / 3600)} h ${Math.floor((secs % 3600) / 60)} min`;
}

export function pct(v: number | undefined): string {
	return v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v * 100)}%`;
}

/** One formatter: `toLocaleString('en-US')` builds one per call (the panel calls it ~30 times a frame). */
const grouped = new Intl.NumberFormat('en-US');

export function num(v: number): string {
	return grouped.format(v);
}

/** Tasks a second, with the digits a rate of 40 tasks in 3 hours still shows ("0.0 tasks/s" said none). */
export function rate(perSecond: number): string {
	if (!Number.isFinite(perSecond) || perSecond <= 0) {
		return '0 tasks/s';
	}
	if (perSecond >= 0.1) {
		return `${perSecond.toFixed(perSecond >= 100 ? 0 : 1)} tasks/s`;
	}
	const perMinute = perSecond * 60;
	return perMinute >= 0.1 ? `${perMinute.toFixed(1)} tasks/min` : `${(perMinute * 60).toFixed(1)} tasks/h`;
}

/** A run's throughput: the one it reported, or, when it reported none (a runner that died), its count over its time. */
export function runRate(done: number, elapsedMs: number, reported: number | undefined): number {
	return reported !== undefined && reported > 0 ? reported : elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
}
