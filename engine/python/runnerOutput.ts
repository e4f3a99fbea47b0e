/**
 * What reaches the runner's own fd 1 and 2 below Python's sys.stdout (os.system() outside a task,
 * a C extension, sys.__stdout__, a crash dump) is the run's output between two marks the runner
 * writes there: RAW_START just before run.started, RAW_END just before run.finished. Before the
 * first it is the launcher's (a pyenv shim's chatter). The host reads those pipes and the events'
 * in no set order, so the run's part is told by its place in the stream itself: a task's os.write
 * right after the start was taken for the launcher's, and one just before the end was read after
 * run.finished had gone out (1 run in 30 on a busy machine) and dropped.
 */
export const RAW_START = '\u0000poolscope: run output from here\u0000\n';
export const RAW_END = '\u0000poolscope: run output ends here\u0000\n';

/** One of the runner's streams, read in chunks that may split a mark anywhere. */
export class MarkedStream {
	private state: 'before' | 'open' | 'ended' = 'before';
	/** The end of the last chunk that may be the start of a mark. */
	private held = '';

	/** The run's part of the next chunk. */
	take(text: string): string {
		if (this.state === 'before') {
			const seen = this.held + text;
			const at = seen.indexOf(RAW_START);
			if (at < 0) {
				this.held = seen.slice(partialMarkAt(seen, RAW_START));
				return '';
			}
			this.state = 'open';
			this.held = '';
			text = seen.slice(at + RAW_START.length);
		}
		if (this.state !== 'open') {
			return '';
		}
		const seen = this.held + text;
		const at = seen.indexOf(RAW_END);
		if (at >= 0) {
			this.state = 'ended';
			this.held = '';
			return seen.slice(0, at);
		}
		const cut = partialMarkAt(seen, RAW_END);
		this.held = seen.slice(cut);
		return seen.slice(0, cut);
	}

	get ended(): boolean {
		return this.state === 'ended';
	}

	/** At the pipe's end (no end mark came): what was held back as a possible mark was output. */
	rest(): string {
		const rest = this.state === 'open' ? this.held : '';
		this.held = '';
		return rest;
	}
}

/** The runner's stdout and stderr as one text, without the marks (an error message quotes it). */
export function withoutMarks(text: string): string {
	return text.split(RAW_START).join('').split(RAW_END).join('');
}

/** Where the part of `text` that may be the beginning of `mark` starts (text.length: none). */
function partialMarkAt(text: string, mark: string): number {
	for (let i = text.indexOf(mark[0], Math.max(0, text.length - mark.length + 1)); i >= 0; i = text.indexOf(mark[0], i + 1)) {
		if (mark.startsWith(text.slice(i))) {
			return i;
		}
	}
	return text.length;
}
