/**
 * Captured output as a terminal would leave it: a progress bar (tqdm, a `\r`-redrawn counter)
 * keeps its last state instead of every redraw, and colour codes are dropped. Pure; used by the
 * run model for task and run output, so the per-task limit counts what is shown.
 */

// CSI sequences (colours, cursor moves) and OSC titles: text in a panel, not a terminal.
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

/** `prev` (already normalized) with `add` appended: only prev's last, unfinished line can change. */
export function appendTerminal(prev: string, add: string): string {
	if (add.includes('\u001b')) {
		add = add.replace(ANSI, '');
	}
	if (!add.includes('\r') && !prev.endsWith('\r')) {
		return prev + add; // the common case: plain lines
	}
	const from = prev.lastIndexOf('\n') + 1;
	const lines = (prev.slice(from) + add).split('\n');
	const last = lines.length - 1;
	return prev.slice(0, from) + lines.map((line, i) => collapse(line, i === last)).join('\n');
}

/** A line with carriage returns: what was written after the last one (a finished line's `\r\n` is a plain end). */
function collapse(line: string, open: boolean): string {
	if (!line.includes('\r')) {
		return line;
	}
	const parts = line.split('\r');
	const lastText = [...parts].reverse().find((p) => p !== '') ?? '';
	// An open line that ends in \r: the next write replaces it, so the \r stays to say so.
	return open && line.endsWith('\r') ? `${lastText}\r` : lastText;
}
