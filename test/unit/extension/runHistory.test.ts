/** The history on a real folder: what is written comes back, bounds hold, damage is survived. */
import * as assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { packEvents } from '../../../engine/protocol/eventPacking';
import type { PoolEvent } from '../../../engine/protocol/events';
import type { RunRequest } from '../../../engine/runTypes';
import { RunHistory, sameWorkspaceDirs, type StoredRun } from '../../../extension/history/runHistory';
import type { ComparisonView } from '../../../webview/messages';

function fakeRun(runId: string, tasks: number, wallMs = 100): StoredRun {
	const request: RunRequest = { runId, file: '/w/cpu.py', fn: 'countdown', language: 'python', pool: 'process', workers: 2, inputs: `range(${tasks})`, startMethod: 'spawn' };
	const events: PoolEvent[] = [{
		type: 'run.started', runId, t: 0, fn: 'countdown', file: '/w/cpu.py', language: 'python', pool: 'process', workers: 2,
		options: { workers: 2 }, inputCount: tasks, cores: 2, runtime: 'CPython 3.11', startMethod: 'spawn', stages: ['pending', 'executing'],
	}];
	for (let i = 0; i < tasks; i++) {
		events.push({ type: 'task.submitted', runId, t: i, taskId: i, input: `(${i},)` });
		events.push({ type: 'task.started', runId, t: i + 0.1, taskId: i, workerId: i % 2 });
		events.push({ type: 'task.finished', runId, t: i + 0.9, taskId: i, workerId: i % 2, durationMs: 0.8, cpuMs: 0.7, result: String(i * i) });
	}
	events.push({
		type: 'run.finished', runId, t: tasks + 1, outcome: 'completed', wallMs,
		counts: { submitted: tasks, finished: tasks, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: tasks / (wallMs / 1000), workers: [],
	});
	return { request, events, truncated: false };
}

describe('RunHistory (workspace storage)', () => {
	let dir: string;
	beforeEach(() => {
		dir = mkdtempSync(join(tmpdir(), 'poolscope-history-'));
	});
	afterEach(() => rmSync(dir, { recursive: true, force: true }));

	it('keeps runs and comparisons across instances (a window reload) and reads them back whole', async () => {
		const h = new RunHistory(dir);
		await h.load();
		const run = fakeRun('countdown-1a2b', 50);
		const entry = await h.saveRun(run);
		assert.ok(entry);
		assert.equal(entry.label, 'process ×2 (spawn)');
		assert.equal(entry.outcome, 'completed');
		assert.equal(entry.inputs, 'range(50)');
		assert.ok(entry.bytes > 0);
		const view: ComparisonView = { id: 'compare-countdown-1', kind: 'compare', fn: 'countdown', file: '/w/cpu.py', language: 'python', cores: 2, measurements: [{ config: { pool: 'serial', workers: 1 }, wallMs: 10, minMs: 10, maxMs: 10, outcome: 'completed', failed: 0 }], pending: 0, state: 'done', advice: 'use a process pool' };
		await h.saveComparison(view);

		const again = new RunHistory(dir);
		await again.load();
		assert.deepEqual(again.entries.map((e) => [e.id, e.kind]), [['countdown-1a2b', 'run'], ['compare-countdown-1', 'comparison']]);
		assert.deepEqual(await again.readRun('countdown-1a2b'), run);
		assert.deepEqual(await again.readComparison('compare-countdown-1'), view);
		await assert.rejects(again.readRun('compare-countdown-1'), /No run "compare-countdown-1" in the history/);
	});

	it('after a reload that got the lock-fallback folder (<workspace>-1), the runs the window saved before are still listed and open; eviction never touches them', async () => {
		// VS Code's layout: <workspaceStorage>/<workspace>[-N]/<extension id>/history.
		const home = (ws: string) => join(dir, ws, 'poolscope.poolscope', 'history');
		const before = new RunHistory(home('-1cc080b3'));
		await before.load();
		await before.saveRun(fakeRun('fib-1', 4, 100));
		await before.saveRun(fakeRun('fib-2', 4, 100));
		const unrelated = new RunHistory(home('77aa01'));
		await unrelated.saveRun(fakeRun('other-1', 2));

		assert.deepEqual(await sameWorkspaceDirs(home('-1cc080b3-1')), [home('-1cc080b3')]);
		assert.deepEqual(await sameWorkspaceDirs(home('-1cc080b3')), [], 'no fallback folder exists yet');
		const after = new RunHistory(home('-1cc080b3-1'), { maxEntries: 1, maxBytes: 1e9 });
		await after.load(await sameWorkspaceDirs(home('-1cc080b3-1')));
		assert.deepEqual(after.entries.map((e) => e.id), ['fib-1', 'fib-2']);
		assert.deepEqual(await after.readRun('fib-2'), fakeRun('fib-2', 4, 100));
		await after.saveRun(fakeRun('fib-3', 4));
		assert.deepEqual(after.entries.map((e) => e.id), ['fib-1', 'fib-2', 'fib-3'], 'the bound applies to its own folder only');
		// The next reload gets the first folder again: it sees what the fallback one saved.
		assert.deepEqual(await sameWorkspaceDirs(home('-1cc080b3')), [home('-1cc080b3-1')]);
		const back = new RunHistory(home('-1cc080b3'));
		await back.load(await sameWorkspaceDirs(home('-1cc080b3')));
		assert.deepEqual(back.entries.map((e) => e.id), ['fib-1', 'fib-2', 'fib-3']);
		await back.remove('fib-3');
		await after.load();
		assert.deepEqual(after.entries.map((e) => e.id), [], 'removed from the folder that held it');
	});

	it('a run the old host of a reloaded window saves after this host read the history is listed once read again (its folder or the fallback one)', async () => {
		const home = (ws: string) => join(dir, ws, 'poolscope.poolscope', 'history');
		// This (new) host read the history first: in the same folder as the old host, and in another.
		const same = new RunHistory(home('-2dd1'));
		await same.load(await sameWorkspaceDirs(home('-2dd1')));
		const fallback = new RunHistory(home('-2dd1-1'));
		await fallback.load(await sameWorkspaceDirs(home('-2dd1-1')));
		// The old host ends its run as the window goes, and saves it.
		const old = new RunHistory(home('-2dd1'));
		await old.load();
		await old.saveRun(fakeRun('late-1', 3));
		assert.equal(await same.refresh(await sameWorkspaceDirs(home('-2dd1'))), true);
		assert.equal(await fallback.refresh(await sameWorkspaceDirs(home('-2dd1-1'))), true);
		for (const h of [same, fallback]) {
			assert.deepEqual(h.entries.map((e) => e.id), ['late-1']);
			assert.equal((await h.readRun('late-1')).events.length, fakeRun('late-1', 3).events.length);
			assert.equal(await h.refresh(await sameWorkspaceDirs(h.dir)), false, 'nothing new the second time');
		}
		// Saved into the same folder, it stays in the index this host writes next.
		await same.saveRun(fakeRun('next-1', 1));
		const after = new RunHistory(home('-2dd1'));
		await after.load();
		assert.deepEqual(after.entries.map((e) => e.id), ['late-1', 'next-1']);
	});

	it('drops the oldest entries beyond the count and the byte bound, files included', async () => {
		const h = new RunHistory(dir, { maxEntries: 3, maxBytes: 1e9 });
		for (let i = 0; i < 5; i++) {
			await h.saveRun(fakeRun(`r${i}`, 5));
		}
		assert.deepEqual(h.entries.map((e) => e.id), ['r2', 'r3', 'r4']);
		assert.equal(readdirSync(dir).filter((f) => f.endsWith('.json.gz')).length, 3);

		const small = new RunHistory(join(dir, 'small'), { maxEntries: 100, maxBytes: 1 });
		await small.saveRun(fakeRun('big-1', 2000));
		await small.saveRun(fakeRun('big-2', 2000));
		// Over the byte bound, only the newest stays (it is kept even though alone it is larger).
		assert.deepEqual(small.entries.map((e) => e.id), ['big-2']);
	});

	it('a run of 100,000 tasks is stored compressed and read back with every event', async () => {
		const h = new RunHistory(dir);
		const run = fakeRun('big', 100_000, 5000);
		const entry = await h.saveRun(run);
		const back = await h.readRun('big');
		assert.equal(back.events.length, run.events.length);
		assert.deepEqual(back.events.at(-1), run.events.at(-1));
		// ~30 MB of JSON; gzip keeps the history small.
		assert.ok(entry!.bytes < 8 * 1024 * 1024, `${entry!.bytes} bytes`);
	});

	it('a run is stored as packed batches (typed arrays as base64), the way the log keeps it, and read back event for event', async () => {
		const h = new RunHistory(dir);
		const run = fakeRun('packed-1', 40_000);
		// Some events the columns do not hold, between them: they keep their place.
		run.events.splice(5, 0, { type: 'task.output', runId: 'packed-1', t: 1.5, taskId: 1, stream: 'stdout', text: 'hi\n' });
		run.events.splice(100, 0, { type: 'task.failed', runId: 'packed-1', t: 33.5, taskId: 33, workerId: 1, durationMs: 0.5, error: { kind: 'exception', name: 'ValueError', message: 'bad <b>input</b>' } });
		await h.saveRun(run);
		const file = readdirSync(dir).find((f) => f.endsWith('.json.gz'))!;
		const stored = JSON.parse(gunzipSync(readFileSync(join(dir, file))).toString('utf8')) as { format: number; events?: unknown; batches: { t: unknown; kinds: string }[] };
		assert.equal(stored.format, 2);
		assert.equal(stored.events, undefined);
		// 120,003 events: batches of at most the panel's message size.
		assert.equal(stored.batches.length, 8);
		assert.equal(typeof stored.batches[0]!.t, 'string');
		const back = await h.readRun('packed-1');
		assert.deepEqual(back, run);
	});

	it('a run file written before the packed format (events as JSON objects) still opens', async () => {
		const h = new RunHistory(dir);
		const run = fakeRun('old-1', 30);
		await h.saveRun(run);
		const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.json.gz'))!);
		writeFileSync(file, gzipSync(JSON.stringify({ request: run.request, truncated: false, events: run.events })));
		const again = new RunHistory(dir);
		await again.load();
		assert.deepEqual(await again.readRun('old-1'), run);
		// Opened in the editor, it is packed as a live run's log is.
		const packed = await again.readRunPacked('old-1');
		assert.deepEqual(packed.batches, [packEvents(run.events)]);
		assert.equal(packed.truncated, false);
	});

	it('a run file from a newer Poolscope says so instead of opening half of it', async () => {
		const h = new RunHistory(dir);
		const run = fakeRun('new-1', 3);
		await h.saveRun(run);
		const file = join(dir, readdirSync(dir).find((f) => f.endsWith('.json.gz'))!);
		writeFileSync(file, gzipSync(JSON.stringify({ format: 3, request: run.request, truncated: false, columns: {} })));
		await assert.rejects(h.readRun('new-1'), /run "new-1" was saved by a newer Poolscope \(history format 3\); update the extension to open it/);
	});

	it('a run given as the log\'s batches is stored as they are', async () => {
		const h = new RunHistory(dir);
		const run = fakeRun('log-1', 10);
		const finished = run.events.at(-1) as Extract<PoolEvent, { type: 'run.finished' }>;
		const batches = [packEvents(run.events.slice(0, 7)), packEvents(run.events.slice(7))];
		await h.saveRun({ request: run.request, finished, batches, truncated: false });
		assert.deepEqual(await h.readRun('log-1'), run);
		assert.deepEqual((await h.readRunPacked('log-1')).batches, batches, 'the batches come back as they were saved');
	});

	it('function names that are not file names (unicode, $) are fine', async () => {
		const h = new RunHistory(dir);
		await h.saveRun(fakeRun('ünïcode$fn/../x-1', 3));
		const again = new RunHistory(dir);
		await again.load();
		assert.equal((await again.readRun('ünïcode$fn/../x-1')).request.runId, 'ünïcode$fn/../x-1');
		assert.deepEqual(readdirSync(dir).sort(), ['index.json', readdirSync(dir).find((f) => f.endsWith('.json.gz'))!].sort());
	});

	it('a damaged index starts an empty history; an entry whose file is gone is dropped; remove deletes', async () => {
		const h = new RunHistory(dir);
		await h.saveRun(fakeRun('a', 3));
		await h.saveRun(fakeRun('b', 3));
		await h.remove('a');
		assert.deepEqual(h.entries.map((e) => e.id), ['b']);
		for (const f of readdirSync(dir).filter((f) => f.endsWith('.json.gz'))) {
			rmSync(join(dir, f));
		}
		const gone = new RunHistory(dir);
		await gone.load();
		assert.equal(gone.entries.length, 0);
		writeFileSync(join(dir, 'index.json'), '{ not json');
		const damaged = new RunHistory(dir);
		await damaged.load();
		assert.equal(damaged.entries.length, 0);
		await damaged.saveRun(fakeRun('c', 3));
		assert.deepEqual(damaged.entries.map((e) => e.id), ['c']);
	});

	it('a run that has not ended is not saved', async () => {
		const h = new RunHistory(dir);
		const run = fakeRun('open', 3);
		run.events.pop();
		assert.equal(await h.saveRun(run), undefined);
		assert.equal(h.entries.length, 0);
	});
});
