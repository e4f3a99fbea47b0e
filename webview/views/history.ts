import type { HistoryEntry } from '../messages';
import { button, h, icon, syncChildren } from '../dom';
import { ms } from '../format';
import { post } from '../vscodeApi';

/**
 * The workspace's history, newest first: open a run or comparison again, delete one, or tick
 * two runs and compare them (the older one is the baseline).
 */
export class HistoryView {
	public readonly el = h('details', { class: 'history', 'data-testid': 'history' });
	private readonly summary = h('summary', {});
	private readonly list = h('ul', { class: 'history-list', 'aria-label': 'Runs and comparisons kept in this workspace' });
	private readonly compare: HTMLButtonElement;
	private entries: HistoryEntry[] = [];
	private readonly ticked = new Set<string>();
	/** A row per entry, kept while the entry is: a new entry is inserted, the others stay put. */
	private readonly rows = new Map<string, { row: HTMLLIElement; shows: string }>();

	constructor(open: boolean, private readonly onToggle: (open: boolean) => void) {
		this.compare = button('', { 'data-testid': 'history-compare', title: 'Compare the two ticked runs: B (newer) against A (older)' }, () => {
			const ids = this.entries.filter((e) => this.ticked.has(e.id)).map((e) => e.id);
			if (ids.length === 2) {
				post({ type: 'compareRuns', runIds: [ids[0]!, ids[1]!] });
			}
		});
		this.compare.append(icon('diff'), ' Compare the two ticked runs');
		this.el.open = open;
		this.el.addEventListener('toggle', () => this.onToggle(this.el.open));
		this.el.append(this.summary, h('div', { class: 'history-actions' }, this.compare), this.list);
		this.render([]);
	}

	public render(entries: HistoryEntry[]): void {
		this.entries = entries;
		for (const id of [...this.ticked]) {
			if (!entries.some((e) => e.id === id)) {
				this.ticked.delete(id);
			}
		}
		this.summary.textContent = `History (${entries.length})`;
		this.el.hidden = entries.length === 0;
		const rows = [...entries].reverse().map((e) => {
			const shows = JSON.stringify(e);
			let kept = this.rows.get(e.id);
			if (kept?.shows !== shows) {
				kept = { row: this.row(e), shows };
				this.rows.set(e.id, kept);
			}
			return kept.row;
		});
		for (const id of [...this.rows.keys()]) {
			if (!entries.some((e) => e.id === id)) {
				this.rows.delete(id);
			}
		}
		syncChildren(this.list, rows);
		this.updateCompare();
	}

	private row(e: HistoryEntry): HTMLLIElement {
		const when = new Date(e.savedAt);
		const tick = h('input', { type: 'checkbox', 'aria-label': `Tick ${e.fn} ${e.label} to compare`, 'data-testid': 'history-tick' });
		tick.checked = this.ticked.has(e.id);
		tick.disabled = e.kind !== 'run';
		tick.addEventListener('change', () => {
			if (tick.checked) {
				this.ticked.add(e.id);
			} else {
				this.ticked.delete(e.id);
			}
			this.updateCompare();
		});
		const open = button('', { class: 'link', 'data-testid': 'history-open', title: e.kind === 'run' ? 'Show this run' : 'Show this comparison' }, () => post({ type: 'openHistory', id: e.id }));
		open.append(icon(e.kind === 'run' ? 'play' : 'graph'), ` ${e.fn}: ${e.label}`);
		const del = button('', { class: 'link', 'aria-label': `Delete ${e.fn} ${e.label} from the history`, title: 'Delete from the history' }, () => post({ type: 'deleteHistory', id: e.id }));
		del.append(icon('trash'));
		return h('li', { 'data-testid': 'history-entry', 'data-id': e.id, 'data-kind': e.kind, class: e.outcome },
			tick, open,
			h('span', { class: 'muted' }, ` ${e.outcome}${e.wallMs !== undefined ? ` · ${ms(e.wallMs)}` : ''}${e.inputs ? ` · inputs ${e.inputs}` : ''}${e.truncated ? ' · events truncated' : ''} · ${when.toLocaleDateString()} ${when.toLocaleTimeString()}`),
			del);
	}

	private updateCompare(): void {
		this.compare.disabled = this.ticked.size !== 2;
		this.compare.title = this.ticked.size === 2 ? 'Compare the two ticked runs: B (newer) against A (older)' : `Tick two runs to compare them (${this.ticked.size} ticked)`;
	}
}
