// Faults a pool must survive: each one shows up on its own future, the run goes on.

// poolscope: inputs=[0, 1, 2, 3, 4, 5]
function sometimesFails(x) {
	if (x % 3 === 2) {
		throw new RangeError(`bad input ${x}`);
	}
	console.log(`processing ${x}`);
	return x * 10;
}

// poolscope: inputs=[0, 1, 2, 3]
function crashesWorker(x) {
	if (x === 2) {
		process.exit(3); // ends the worker (thread or process), not the pool
	}
	return x;
}

// poolscope: timeoutMs=1000
// poolscope: inputs=[1, 2]
function neverReturns() {
	for (;;) {
		// Only a timeout (the comment above) or Cancel Run ends it: the worker running it is
		// ended (a thread terminated, a process killed) and replaced.
	}
}

// No timeout here: it spins until you cancel (Cancel Run, or the panel's Cancel), and each
// worker running it is ended, since a busy thread or process cannot be asked to stop.
// poolscope: inputs=[1, 2]
function spinsUntilCancelled() {
	for (;;) {
		// nothing: the loop itself is the point
	}
}

module.exports = { sometimesFails, crashesWorker, neverReturns, spinsUntilCancelled };
