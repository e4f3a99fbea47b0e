// CPU-bound JavaScript: worker threads run it in parallel (no GIL in Node), so a thread
// pool of N workers is up to N times faster, up to the core count, once calls outlast its start.

// poolscope: inputs=[[37], [37], [37], [37]]
function fib(n) {
	return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

// Each call here takes about a quarter of a second, as the Python samples' do: at fib(30), 8 ms,
// a pool's start-up (a worker thread's first task begins ~80 ms after the run's) ate the gain.
// V8 runs this loop some 30x faster than CPython: 400 million steps take as long as its 10 million.
// poolscope: inputs=[[400_000_000], [400_000_000], [400_000_000], [400_000_000]]
function countdown(n) {
	while (n > 0) {
		n--;
	}
	return 'done';
}

module.exports = { fib, countdown };
