// I/O-bound JavaScript: each call mostly waits, on a timer it awaits. A pool's worker runs one
// call at a time, so more threads overlap more waits; but one event loop overlaps them all
// (Promise.all), and Compare's advice says so. A pool pays off for waits that block the thread.

// poolscope: inputs=Array.from({ length: 16 }, (_, i) => [i, 200])
async function download(i, ms) {
	await new Promise((resolve) => setTimeout(resolve, ms));
	return `file ${i}: ${ms} ms`;
}

module.exports = { download };

// No inputs comment here: the first run asks for them, and Poolscope remembers the answer.
function shout(text) {
	return String(text).toUpperCase();
}

module.exports.shout = shout;
