/** Milliseconds on CLOCK_MONOTONIC: the same clock in every thread and process of the machine
 * (Python's time.monotonic() reads it too), so events from anywhere order without translation. */
export function now(): number {
	return Number(process.hrtime.bigint()) / 1e6;
}
