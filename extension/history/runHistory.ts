/**
 * The workspace's history of runs and comparisons, on disk (the extension's workspace storage):
 * an index plus one gzip file per entry, bounded by count and bytes, oldest dropped first.
 * Plain Node (no `vscode`), so it is unit-tested against a real folder.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { configLabel } from '../../engine/compare/measurement';
import { PackedReader, type PackedEvents } from '../../engine/protocol/eventPacking';
import type { PoolEvent, RunFinishedEvent, RunStartedEvent } from '../../engine/protocol/events';
import type { RunRequest } from '../../engine/runTypes';
import type { ComparisonView, HistoryEntry } from '../../webview/messages';
import { EventLog } from '../runs/eventLog';

export interface StoredRun {
	request: RunRequest;
	events: PoolEvent[];
	truncated: boolean;
}

/**
 * A run to save, its events as the log keeps them: packed (`eventPacking.ts`), written as they are.
 * Each event as a JSON object cost a 100k-task run's save ~0.3 s of the extension host's thread
 * and ~0.3 s of gzip, just as the panel draws the run's end; packed, ~0.03 s and ~0.2 s.
 */
export interface RunToSave {
	request: RunRequest;
	started?: RunStartedEvent;
	finished: RunFinishedEvent;
	batches: readonly PackedEvents[];
	truncated: boolean;
}

/**
 * A packed batch in a history file: its typed arrays as base64 of their bytes (little-endian, as
 * on every platform VS Code runs on), everything else as it is.
 */
interface StoredBatch {
	kinds: string;
	t: string;
	id: string;
	w: string;
	d: string;
	c: string;
	text: string;
	len: string;
	other: PoolEvent[];
}

export interface PackedRun {
	request: RunRequest;
	batches: PackedEvents[];
	truncated: boolean;
}

/** A run's file: format 2 holds packed batches; files written before it hold `events`. */
interface RunFile {
	format?: number;
	request: RunRequest;
	truncated: boolean;
	events?: PoolEvent[];
	batches?: StoredBatch[];
}

const RUN_FORMAT = 2;

export interface HistoryLimits {
	maxEntries: number;
	/** Total compressed bytes; the newest entry is kept even when it alone is larger. */
	maxBytes: number;
}

export const DEFAULT_LIMITS: HistoryLimits = { maxEntries: 200, maxBytes: 200 * 1024 * 1024 };

const INDEX = 'index.json';
const INDEX_VERSION = 1;

export class RunHistory {
	private _entries: HistoryEntry[] = [];
	/** Entries other folders of the same workspace keep (see `sameWorkspaceDirs`): read, never evicted. */
	private _others: HistoryEntry[] = [];
	private readonly _otherDir = new Map<string, string>();
	/** Writes one at a time: the index is rewritten after each. */
	private _queue: Promise<unknown> = Promise.resolve();

	constructor(private readonly _dir: string, private readonly _limits: HistoryLimits = DEFAULT_LIMITS) {}

	/** Newest last. */
	public get entries(): readonly HistoryEntry[] {
		return this._others.length === 0 ? this._entries : [...this._others, ...this._entries].sort((a, b) => a.savedAt - b.savedAt);
	}

	public get dir(): string {
		return this._dir;
	}

	/**
	 * Reads the index (a missing or unreadable one starts an empty history; never throws), and
	 * those of `otherDirs`, the same workspace's other history folders, whose entries are listed
	 * and opened but never evicted from here.
	 */
	public async load(otherDirs: readonly string[] = []): Promise<void> {
		this._entries = await readIndex(this._dir);
		const own = new Set(this._entries.map((e) => e.id));
		this._others = [];
		this._otherDir.clear();
		for (const dir of otherDirs) {
			for (const e of await readIndex(dir)) {
				if (!own.has(e.id) && !this._otherDir.has(e.id)) {
					this._others.push(e);
					this._otherDir.set(e.id, dir);
				}
			}
		}
	}

	/**
	 * Reads the indexes again for entries another extension host wrote since `load` (the old host
	 * of a reloaded window saves the runs it ended, into this folder or another of the workspace's):
	 * they join the list. Whether any did.
	 */
	public refresh(otherDirs: readonly string[] = []): Promise<boolean> {
		return this.enqueue(async () => {
			const known = new Set(this.entries.map((e) => e.id));
			const own = (await readIndex(this._dir)).filter((e) => !known.has(e.id));
			if (own.length) {
				this._entries = [...this._entries, ...own].sort((a, b) => a.savedAt - b.savedAt);
				own.forEach((e) => known.add(e.id));
			}
			let others = 0;
			for (const dir of otherDirs) {
				for (const e of await readIndex(dir)) {
					if (!known.has(e.id)) {
						this._others.push(e);
						this._otherDir.set(e.id, dir);
						known.add(e.id);
						others++;
					}
				}
			}
			return own.length + others > 0;
		});
	}

	public saveRun(run: StoredRun | RunToSave): Promise<HistoryEntry | undefined> {
		if ('events' in run) {
			const end = run.events.find((e): e is RunFinishedEvent => e.type === 'run.finished');
			if (!end) {
				return Promise.resolve(undefined);
			}
			const started = run.events.find((e): e is RunStartedEvent => e.type === 'run.started');
			return this.saveRun({ request: run.request, started, finished: end, batches: new EventLog(run.request.runId, run.events).batches(), truncated: run.truncated });
		}
		const { request: r, started: start, finished: end } = run;
		const label = configLabel({ pool: r.pool, workers: start ? start.workers : r.workers ?? 0, chunksize: r.chunksize, startMethod: start ? start.startMethod : r.startMethod });
		const entry: HistoryEntry = {
			id: r.runId, kind: 'run', savedAt: Date.now(), fn: r.fn, file: r.file, language: r.language, label,
			outcome: end.outcome, wallMs: end.wallMs, inputs: r.inputs, bytes: 0, truncated: run.truncated || undefined,
		};
		return this.write(entry, runChunks(run));
	}

	public saveComparison(view: ComparisonView): Promise<HistoryEntry> {
		const entry: HistoryEntry = {
			id: view.id, kind: 'comparison', savedAt: Date.now(), fn: view.fn, file: view.file, language: view.language,
			label: `${view.kind}: ${view.measurements.map((m) => configLabel(m.config)).join(', ')}`, outcome: view.state, bytes: 0,
		};
		return this.write(entry, [JSON.stringify(view)]);
	}

	public async readRun(id: string): Promise<StoredRun> {
		const run = await this.readRunPacked(id);
		const events: PoolEvent[] = [];
		for (const batch of run.batches) {
			const reader = new PackedReader(run.request.runId, batch);
			for (const e of reader.next(reader.length)) {
				events.push(e);
			}
		}
		return { request: run.request, events, truncated: run.truncated };
	}

	/** A run as the extension keeps one: its events packed, as the panel takes them. */
	public async readRunPacked(id: string): Promise<PackedRun> {
		const file = await this.read(id, 'run') as RunFile;
		if ((file.format ?? 1) > RUN_FORMAT) {
			throw new Error(`run "${id}" was saved by a newer Poolscope (history format ${file.format}); update the extension to open it.`);
		}
		const batches = file.batches ? file.batches.map(unstoreBatch) : new EventLog(file.request.runId, file.events).batches();
		return { request: file.request, batches, truncated: file.truncated };
	}

	public async readComparison(id: string): Promise<ComparisonView> {
		return await this.read(id, 'comparison') as ComparisonView;
	}

	public remove(id: string): Promise<void> {
		return this.enqueue(async () => {
			const other = this._otherDir.get(id);
			if (other !== undefined) {
				// That folder's index still lists it; a load drops entries whose file is gone.
				this._others = this._others.filter((e) => e.id !== id);
				this._otherDir.delete(id);
				await rm(entryFile(other, id), { force: true });
				return;
			}
			this._entries = this._entries.filter((e) => e.id !== id);
			await rm(this.file(id), { force: true });
			await this.writeIndex();
		});
	}

	/** Resolves when every write so far is on disk. */
	public flush(): Promise<void> {
		return this.enqueue(async () => undefined);
	}

	private async read(id: string, kind: HistoryEntry['kind']): Promise<unknown> {
		const entry = this.entries.find((e) => e.id === id && e.kind === kind);
		if (!entry) {
			throw new Error(`No ${kind} "${id}" in the history.`);
		}
		const parts: Buffer[] = [];
		await pipeline(createReadStream(entryFile(this._otherDir.get(id) ?? this._dir, id)), createGunzip(), async function* (source: AsyncIterable<Buffer>) {
			for await (const b of source) {
				parts.push(b);
			}
		});
		return JSON.parse(Buffer.concat(parts).toString('utf8'));
	}

	private write(entry: HistoryEntry, chunks: Iterable<string>): Promise<HistoryEntry> {
		return this.enqueue(async () => {
			await mkdir(this._dir, { recursive: true });
			const target = this.file(entry.id);
			const tmp = `${target}.tmp`;
			await pipeline(Readable.from(chunks), createGzip(), createWriteStream(tmp));
			await rename(tmp, target);
			entry.bytes = (await stat(target)).size;
			this._entries = [...this._entries.filter((e) => e.id !== entry.id), entry];
			await this.evict();
			await this.writeIndex();
			return entry;
		});
	}

	private async evict(): Promise<void> {
		let total = this._entries.reduce((n, e) => n + e.bytes, 0);
		while (this._entries.length > 1 && (this._entries.length > this._limits.maxEntries || total > this._limits.maxBytes)) {
			const old = this._entries.shift()!;
			total -= old.bytes;
			await rm(this.file(old.id), { force: true });
		}
	}

	private async writeIndex(): Promise<void> {
		const tmp = join(this._dir, `${INDEX}.tmp`);
		await writeFile(tmp, JSON.stringify({ version: INDEX_VERSION, entries: this._entries }));
		await rename(tmp, join(this._dir, INDEX));
	}

	private file(id: string): string {
		return entryFile(this._dir, id);
	}

	private enqueue<T>(step: () => Promise<T>): Promise<T> {
		const next = this._queue.then(step, step);
		this._queue = next.catch(() => undefined);
		return next;
	}
}

/** Ids hold function names (any identifier), so files are named by a hash of the id. */
function entryFile(dir: string, id: string): string {
	return join(dir, `${createHash('sha256').update(id).digest('hex').slice(0, 24)}.json.gz`);
}

/** A folder's entries whose file is still there; a missing or unreadable index is an empty history (never throws). */
async function readIndex(dir: string): Promise<HistoryEntry[]> {
	try {
		const index = JSON.parse(await readFile(join(dir, INDEX), 'utf8')) as { version?: number; entries?: HistoryEntry[] };
		const entries = index.version === INDEX_VERSION && Array.isArray(index.entries) ? index.entries : [];
		const present = await Promise.all(entries.map((e) => stat(entryFile(dir, e.id)).then(() => true, () => false)));
		return entries.filter((_, i) => present[i]);
	} catch {
		return [];
	}
}

/**
 * The history folders other windows of the same workspace may have written. VS Code gives an
 * extension host the workspace's storage folder only if it can lock it, else `<folder>-1`, `-2`...
 * After a quick "Reload Window" the old host may still hold the lock, so the new one gets
 * `<folder>-1` and would find none of the runs the window showed (a CI failure of the reload
 * test). Layout: `<root>/<workspace>[-N]/<extension id>/history`.
 */
export async function sameWorkspaceDirs(historyDir: string): Promise<string[]> {
	const extDir = dirname(historyDir);
	const wsDir = dirname(extDir);
	const root = dirname(wsDir);
	const bases = (name: string) => {
		const m = /^(.+)-\d+$/.exec(name);
		return m ? [name, m[1]!] : [name];
	};
	const mine = new Set(bases(basename(wsDir)));
	let names: string[];
	try {
		names = await readdir(root);
	} catch {
		return [];
	}
	return names
		.filter((n) => n !== basename(wsDir) && bases(n).some((b) => mine.has(b)))
		.sort()
		.map((n) => join(root, n, basename(extDir), basename(historyDir)));
}

/** One batch per step (at most the panel's message size, ~1 ms): the host is never held long. */
function* runChunks(run: RunToSave): Generator<string> {
	yield `{"format":${RUN_FORMAT},"request":${JSON.stringify(run.request)},"truncated":${run.truncated},"batches":[`;
	let first = true;
	for (const p of run.batches) {
		const part = JSON.stringify(storeBatch(p));
		yield first ? part : `,${part}`;
		first = false;
	}
	yield ']}';
}

function base64(a: Float64Array | Int32Array): string {
	return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** A fresh (so aligned) buffer: a decoded Buffer may sit at any offset of Node's pool. */
function bytes(text: string): ArrayBuffer {
	return new Uint8Array(Buffer.from(text, 'base64')).buffer;
}

function storeBatch(p: PackedEvents): StoredBatch {
	return { kinds: p.kinds, t: base64(p.t), id: base64(p.id), w: base64(p.w), d: base64(p.d), c: base64(p.c), text: p.text, len: base64(p.len), other: p.other };
}

function unstoreBatch(b: StoredBatch): PackedEvents {
	return { kinds: b.kinds, t: new Float64Array(bytes(b.t)), id: new Int32Array(bytes(b.id)), w: new Int32Array(bytes(b.w)), d: new Float64Array(bytes(b.d)), c: new Float64Array(bytes(b.c)), text: b.text, len: new Int32Array(bytes(b.len)), other: b.other };
}
