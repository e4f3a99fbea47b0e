import { OUTPUT_LIMIT_PER_TASK, RUN_OUTPUT_LIMIT, type PoolEvent } from './protocol/events';

/**
 * Output past what consumers keep (OUTPUT_LIMIT_PER_TASK a task, RUN_OUTPUT_LIMIT a run) is
 * dropped before it leaves the engine's thread for the extension host: a task printing 5 MB
 * cost a 5 MB copy there and in the run's replay log, and the run model cut it to 64 KB anyway.
 * One character more than consumers keep goes through, so they can say the output was cut.
 * (The CLI prints everything: it reads the engine directly.)
 */
export class OutputBudget {
	/** Characters passed per task that printed. */
	private readonly used = new Map<number, number>();
	private runUsed = 0;

	public trim(batch: readonly PoolEvent[]): readonly PoolEvent[] {
		let out: PoolEvent[] | undefined;
		for (let i = 0; i < batch.length; i++) {
			const e = batch[i]!;
			let kept: PoolEvent | undefined = e;
			if (e.type === 'task.output') {
				const used = this.used.get(e.taskId) ?? 0;
				const text = cut(e.text, OUTPUT_LIMIT_PER_TASK + 1 - used);
				this.used.set(e.taskId, used + text.length);
				kept = text === e.text ? e : text ? { ...e, text } : undefined;
			} else if (e.type === 'run.output') {
				const text = cut(e.text, RUN_OUTPUT_LIMIT + 1 - this.runUsed);
				this.runUsed += text.length;
				kept = text === e.text ? e : text ? { ...e, text } : undefined;
			}
			if (kept !== e) {
				out ??= batch.slice(0, i);
			}
			if (out && kept) {
				out.push(kept);
			}
		}
		return out ?? batch;
	}
}

function cut(text: string, room: number): string {
	return room <= 0 ? '' : text.length > room ? text.slice(0, room) : text;
}
