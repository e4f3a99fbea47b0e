// I/O-bound JavaScript: each call mostly waits. Even one thread overlaps waits with async
// code; a pool helps when each call blocks its thread (here: a timer per call).

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
