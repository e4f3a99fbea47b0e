// CPU-bound JavaScript: worker threads run it in parallel (no GIL in Node),
// so a thread pool of N workers is up to N times faster, up to the core count.

// poolscope: inputs=[[30], [30], [30], [30]]
function fib(n) {
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

// poolscope: inputs=[[20_000_000], [20_000_000], [20_000_000], [20_000_000]]
function countdown(n) {
	while (n > 0) {
		n--;
	}
	return 'done';
}

module.exports = { fib, countdown };
