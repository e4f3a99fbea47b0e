/**
 * The Queues and Futures parts of the panel the issue names (real Chromium, the panel's CSP,
 * protocol events): the call queue as a state of its own, bounded queues and their back-pressure,
 * a finished future's timings, the stack snapshot.
 */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../engine/protocol/events';
import { feed, nextFrames, panelPerTest, settled, text, type PanelPage } from './page';
import { synthRun } from './synthetic';

const PROCESS_STAGES = ['pending', 'callQueue', 'executing', 'resultQueue'];

/** A live Python process pool of 2: tasks 0-1 running, 2-4 in the call queue (max_workers + 1: full), 5-7 pending. */
function callQueueRun(runId: string): PoolEvent[] {
	const t0 = 50_000;
	const events: PoolEvent[] = [
		{ type: 'run.started', runId, t: t0, fn: 'countdown', file: '/w/cpu_bound.py', language: 'python', pool: 'process', workers: 2, options: { workers: 2 }, inputCount: 8, cores: 2, runtime: 'CPython 3.11.7', stages: PROCESS_STAGES },
		{ type: 'worker.started', runId, t: t0 + 1, workerId: 0, pid: 4200 },
		{ type: 'worker.started', runId, t: t0 + 1, workerId: 1, pid: 4201 },
	];
	for (let i = 0; i < 8; i++) {
		events.push({ type: 'task.submitted', runId, t: t0 + 2, taskId: i, input: `(${i},)` });
		events.push({ type: 'task.queued', runId, t: t0 + 2, taskId: i, stage: 'pending' });
	}
	for (let i = 0; i < 5; i++) {
		events.push({ type: 'task.queued', runId, t: t0 + 3, taskId: i, stage: 'callQueue' });
	}
	events.push({ type: 'task.started', runId, t: t0 + 4, taskId: 0, workerId: 0 });
	events.push({ type: 'task.started', runId, t: t0 + 4, taskId: 1, workerId: 1 });
	events.push({ type: 'queue.depth', runId, t: t0 + 5, depths: { pending: 3, callQueue: 3, executing: 2, resultQueue: 0 }, full: ['callQueue'] });
	return events;
}

describe('Pool panel: queues, the call queue and a future\'s timings (Chromium)', function () {
	this.timeout(120_000);
	let p!: PanelPage;
	panelPerTest((opened) => {
		p = opened;
	});

	const canvas = () => p.page.locator('[data-testid="futures-canvas"]');
	const chip = (f: string) => p.page.locator(`.chip:has([data-testid="count-${f}"])`);
	/** The colour at (6, 6) CSS px of the grid: inside the first cell shown, clear of its id. */
	const firstCellRgb = () => canvas().evaluate((c: HTMLCanvasElement) => {
		const k = c.width / c.clientWidth;
		const d = c.getContext('2d')!.getImageData(Math.round(6 * k), Math.round(6 * k), 1, 1).data;
		return `${d[0]},${d[1]},${d[2]}`;
	});
	const filterTo = async (f: string) => {
		await chip(f).click();
		await settled(p.page);
		return { count: await text(p.page, `count-${f}`), shown: await canvas().getAttribute('data-total'), labels: await canvas().getAttribute('data-labels'), rgb: await firstCellRgb() };
	};

	it('a future in the call queue has its own colour, chip and words; each chip counts what it filters to', async () => {
		await feed(p, 'cq', callQueueRun('cq'));
		assert.equal(await chip('callQueue').isVisible(), true, 'a Python process pool has an "in call queue" chip');
		assert.match(await chip('callQueue').textContent() ?? '', /^in call queue 3$/);
		// The page has no theme: each state is drawn in its cssVar fallback.
		const callQueue = await filterTo('callQueue');
		assert.deepEqual(callQueue, { count: '3', shown: '3', labels: '2 3 4', rgb: '17,168,205' }, 'the call queue: terminal cyan');
		const pending = await filterTo('queued');
		assert.deepEqual(pending, { count: '3', shown: '3', labels: '5 6 7', rgb: '204,167,0' }, '"pending" no longer counts or shows the call queue: charts yellow');
		const running = await filterTo('running');
		assert.deepEqual(running, { count: '2', shown: '2', labels: '0 1', rgb: '55,148,255' });
		assert.notEqual(callQueue.rgb, '136,136,136', 'not the grey of "submitted"');

		// A future leaves the call queue when it starts: both chips follow, and still show what they count.
		await feed(p, 'cq', [{ type: 'task.started', runId: 'cq', t: 50_010, taskId: 2, workerId: 0 }]);
		assert.deepEqual(await filterTo('callQueue'), { count: '2', shown: '2', labels: '3 4', rgb: '17,168,205' });
		assert.equal((await filterTo('running')).count, '3');
		for (const f of ['all', 'queued', 'callQueue', 'running', 'finished', 'failed', 'cancelled']) {
			const seen = await filterTo(f);
			assert.equal(seen.count, seen.shown, `the "${f}" chip counts what it shows`);
		}

		// Its words: the details, and what a screen reader hears on the grid.
		await filterTo('all');
		await p.page.focus('[data-testid="futures-grid"]');
		await p.page.keyboard.press('Home');
		await p.page.keyboard.press('ArrowRight');
		await p.page.keyboard.press('ArrowRight');
		await p.page.keyboard.press('ArrowRight');
		await settled(p.page);
		assert.match(await text(p.page, 'futures-announce'), /^future 3, in call queue, 4 of 8$/);
		assert.equal(await p.page.locator('[data-testid="details"] dd[data-field="state"]').textContent(), 'in call queue');
		assert.equal(await p.page.locator('[data-testid="cancel-task"]').isDisabled(), true, 'a future in the call queue cannot be cancelled');

		// A pool without a call queue has no such chip.
		await feed(p, 'threads', synthRun({ runId: 'threads', tasks: 6, workers: 2, pool: 'thread' }));
		await filterTo('all');
		assert.equal(await chip('callQueue').isVisible(), false, 'no call queue, no chip');
	});

	it('a full bounded queue is marked, with its bound: a JS run\'s maxQueue and a Python process pool\'s call queue', async () => {
		const stage = (id: string) => ({
			count: () => text(p.page, `stage-${id}`),
			bound: () => p.page.locator(`[data-testid="stage-bound-${id}"]`),
			mark: () => p.page.locator(`[data-testid="stage-full-${id}"]`),
			full: () => p.page.locator(`.stage:has([data-testid="stage-${id}"])`).evaluate((b) => b.classList.contains('full')),
		});
		const js = 'bounded';
		const t0 = 70_000;
		const events: PoolEvent[] = [
			{ type: 'run.started', runId: js, t: t0, fn: 'work', file: '/w/work.js', language: 'javascript', pool: 'thread', workers: 2, options: { workers: 2, maxQueue: 4 }, inputCount: 20, cores: 2, runtime: 'node v22.0.0', stages: ['pending', 'dispatched', 'executing'] },
		];
		for (let i = 0; i < 8; i++) {
			events.push({ type: 'task.submitted', runId: js, t: t0 + 1, taskId: i, input: String(i) });
			events.push({ type: 'task.queued', runId: js, t: t0 + 1, taskId: i, stage: 'pending' });
		}
		events.push({ type: 'queue.depth', runId: js, t: t0 + 2, depths: { pending: 4, dispatched: 2, executing: 2 }, full: ['pending'] });
		await feed(p, js, events);
		const pending = stage('pending');
		assert.equal(await pending.count(), '4');
		assert.equal(await pending.bound().textContent(), 'of 4', 'maxQueue is the pending stage\'s bound');
		assert.equal(await pending.full(), true);
		assert.equal(await pending.mark().isVisible(), true, 'the full marker shows');
		assert.equal(await pending.mark().textContent(), ' · full');
		assert.equal(await stage('dispatched').bound().isVisible(), false, 'an unbounded stage shows no bound');
		assert.equal(await stage('dispatched').mark().isVisible(), false);
		// Room again: the marker goes, the bound stays.
		await feed(p, js, [{ type: 'queue.depth', runId: js, t: t0 + 3, depths: { pending: 3, dispatched: 2, executing: 2 } }]);
		assert.equal(await pending.full(), false);
		assert.equal(await pending.mark().isVisible(), false);
		assert.equal(await pending.bound().textContent(), 'of 4');

		await feed(p, 'cq', callQueueRun('cq'));
		const callQueue = stage('callQueue');
		assert.equal(await callQueue.count(), '3');
		assert.equal(await callQueue.bound().textContent(), 'of 3', 'max_workers + 1 for a pool of 2');
		assert.equal(await callQueue.full(), true);
		assert.equal(await callQueue.mark().isVisible(), true);
		assert.match(await p.page.locator('.stage:has([data-testid="stage-callQueue"])').getAttribute('title') ?? '', /At most 3 \(max_workers \+ 1 = 3\)\. Full: the executor moves no more futures into it/);
		assert.equal(await stage('pending').bound().isVisible(), false, 'a Python pending queue is unbounded');
		// An ended run's queues are empty: the last depth's "full" is not shown on a 0.
		await feed(p, 'cq', [{ type: 'run.finished', runId: 'cq', t: 50_100, outcome: 'cancelled', wallMs: 100, counts: { submitted: 8, finished: 0, failed: 0, cancelled: 8, timedOut: 0, rejected: 0 }, throughput: 0, workers: [] }]);
		assert.equal(await callQueue.count(), '0');
		assert.equal(await callQueue.full(), false);
		assert.equal(await callQueue.mark().isVisible(), false);
	});

	it('a finished future\'s details show its queue wait and wall time beside its CPU time', async () => {
		const runId = 'timed';
		const t0 = 90_000;
		await feed(p, runId, [
			{ type: 'run.started', runId, t: t0, fn: 'countdown', file: '/w/cpu_bound.py', language: 'python', pool: 'process', workers: 1, options: { workers: 1 }, inputCount: 2, cores: 2, runtime: 'CPython 3.11.7', stages: PROCESS_STAGES },
			{ type: 'worker.started', runId, t: t0 + 1, workerId: 0, pid: 4300 },
			{ type: 'task.submitted', runId, t: t0 + 10, taskId: 0, input: '(0,)' },
			{ type: 'task.submitted', runId, t: t0 + 10, taskId: 1, input: '(1,)' },
			{ type: 'task.queued', runId, t: t0 + 10, taskId: 0, stage: 'pending' },
			{ type: 'task.queued', runId, t: t0 + 10, taskId: 1, stage: 'pending' },
			{ type: 'task.started', runId, t: t0 + 12, taskId: 0, workerId: 0 },
			{ type: 'task.finished', runId, t: t0 + 262, taskId: 0, workerId: 0, durationMs: 250, cpuMs: 240, result: '0' },
			// Waited 1.25 s (pending, then the call queue) and ran 2.5 s on 1 s of CPU.
			{ type: 'task.queued', runId, t: t0 + 100, taskId: 1, stage: 'callQueue' },
			{ type: 'task.started', runId, t: t0 + 1260, taskId: 1, workerId: 0 },
			{ type: 'task.finished', runId, t: t0 + 3760, taskId: 1, workerId: 0, durationMs: 2500, cpuMs: 1000, result: '1' },
		]);
		await p.page.focus('[data-testid="futures-grid"]');
		await p.page.keyboard.press('End');
		await settled(p.page);
		const field = (k: string) => p.page.locator(`[data-testid="details"] dd[data-field="${k}"]`).textContent();
		assert.equal(await p.page.locator('[data-testid="details"] h3').textContent(), 'Future 1');
		assert.equal(await field('state'), 'finished');
		assert.equal(await field('queue wait'), '1.25 s', 'from its submission to its start');
		assert.equal(await field('wall time'), '2.50 s');
		assert.equal(await field('CPU time'), '1.00 s (40% of wall)');
		await p.page.keyboard.press('Home');
		await settled(p.page);
		assert.equal(await field('queue wait'), '2.0 ms');
		assert.equal(await field('wall time'), '250 ms');
		assert.equal(await field('CPU time'), '240 ms (96% of wall)');
	});

	it('Stacks asks the host for a snapshot of the run, shows the one it sends, and Close hides it', async () => {
		const runId = 'live-py';
		await p.page.setViewportSize({ width: 1300, height: 500 }); // the snapshot's place is below the fold
		// A live run: a snapshot is for workers that still run.
		await feed(p, runId, synthRun({ runId, tasks: 6, workers: 2 }).filter((e) => e.type !== 'run.finished'));
		const stacksButton = p.page.locator('[data-testid="snapshot-stacks"]');
		const section = p.page.locator('[data-testid="stacks"]');
		assert.equal(await section.isVisible(), false, 'no snapshot before one is asked for');
		await stacksButton.click();
		const posted = await p.page.evaluate(() => window.__poolscopePosted ?? []);
		assert.deepEqual(posted.at(-1), { type: 'snapshotStacks', runId });
		const snapshot = 'Worker 0 (pid 4000) running task 4:\n  File "/work/samples/python/cpu_bound.py", line 12, in countdown\n    n -= 1';
		await p.post({ type: 'stacks', runId, text: snapshot });
		await nextFrames(p.page);
		assert.equal(await section.isVisible(), true);
		assert.equal(await text(p.page, 'stacks-text'), snapshot);
		assert.ok(await section.evaluate((s) => {
			const r = s.getBoundingClientRect();
			return r.top < window.innerHeight && r.bottom > 0;
		}), 'the snapshot is scrolled into view (it is drawn below the futures)');
		await p.page.locator('[data-testid="stacks-close"]').click();
		assert.equal(await section.isVisible(), false, 'Close hides it');
		// An ended run has no workers to look at; a JS run has no Python stacks.
		await feed(p, runId, synthRun({ runId, tasks: 6, workers: 2 }).filter((e) => e.type === 'run.finished'));
		assert.equal(await stacksButton.isDisabled(), true);
		await feed(p, 'js', synthRun({ runId: 'js', tasks: 4, workers: 2, language: 'javascript', pool: 'thread' }));
		assert.equal(await stacksButton.isVisible(), false);
	});
	it('a refused "Cancel future" says why in that future\'s details, and turns its Cancel off until it moves on', async () => {
		const runId = 'js-live';
		const t0 = 110_000;
		const events: PoolEvent[] = [
			{ type: 'run.started', runId, t: t0, fn: 'work', file: '/w/work.js', language: 'javascript', pool: 'thread', workers: 2, options: { workers: 2 }, inputCount: 6, cores: 2, runtime: 'node v22.0.0', stages: ['pending', 'dispatched', 'executing'] },
			{ type: 'worker.started', runId, t: t0 + 1, workerId: 0 },
			{ type: 'worker.started', runId, t: t0 + 1, workerId: 1 },
		];
		for (let i = 0; i < 6; i++) {
			events.push({ type: 'task.submitted', runId, t: t0 + 2, taskId: i, input: String(i) });
			events.push({ type: 'task.queued', runId, t: t0 + 2, taskId: i, stage: 'pending' });
		}
		events.push({ type: 'task.started', runId, t: t0 + 3, taskId: 0, workerId: 0 });
		events.push({ type: 'task.started', runId, t: t0 + 3, taskId: 1, workerId: 1 });
		await feed(p, runId, events);
		const cancel = p.page.locator('[data-testid="cancel-task"]');
		const reason = p.page.locator('[data-testid="cancel-reason"]');
		const open = async (taskId: number) => {
			await p.page.fill('[data-testid="futures-search"]', `#${taskId}`);
			await p.page.press('[data-testid="futures-search"]', 'Enter');
			await settled(p.page);
			assert.equal(await p.page.locator('[data-testid="details"] h3').textContent(), `Future ${taskId}`);
		};
		await open(2);
		assert.equal(await cancel.isEnabled(), true, 'future 2 reads pending: its Cancel is on');
		await cancel.click();
		assert.deepEqual((await p.page.evaluate(() => window.__poolscopePosted ?? [])).at(-1), { type: 'cancelTask', runId, taskId: 2 });
		// What the host answers when the future was already handed to a busy worker (engine/js/jsBackend.ts).
		const why = 'task 2 was already dispatched to a worker: like a future in CPython\'s call queue it can no longer be cancelled on its own; cancel the run to stop it';
		await p.post({ type: 'cancelRefused', runId: 'elsewhere', taskId: 3, reason: 'another run\'s task 3' });
		await p.post({ type: 'cancelRefused', runId, taskId: 2, reason: why });
		await settled(p.page);
		assert.equal(await text(p.page, 'notice'), `Task 2 was not cancelled: ${why}×`, 'the notice still says it');
		assert.equal(await cancel.isDisabled(), true, 'a refused cancel is not offered again');
		assert.equal(await reason.textContent(), `Not cancelled: ${why}`);
		assert.equal(await cancel.getAttribute('title'), `Not cancelled: ${why}`);
		await open(3);
		assert.equal(await cancel.isEnabled(), true, 'another pending future keeps its Cancel (a refusal for another run\'s task 3 changed nothing)');
		assert.equal(await reason.count(), 0);
		// Future 2 starts: its state says why now.
		await feed(p, runId, [{ type: 'task.started', runId, t: t0 + 20, taskId: 2, workerId: 0 }]);
		await open(2);
		assert.equal(await reason.textContent(), 'Running: cancel the run to stop it.');
	});
});
