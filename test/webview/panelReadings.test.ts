/**
 * What the panel says must not mislead (real Chromium, the panel's CSP, protocol events): found
 * by a review that fed it real CLI runs. Each case here showed something else before.
 */
import * as assert from 'node:assert/strict';
import type { PoolEvent } from '../../engine/protocol/events';
import { feed, nextFrames, panelPerTest, settled, text, type PanelPage } from './page';
import { synthRun } from './synthetic';

describe('Pool panel: what it says must not mislead (Chromium)', function () {
	this.timeout(120_000);
	let p!: PanelPage;
	panelPerTest((opened) => {
		p = opened;
	});

	it('a new run opens its timeline fitted, not in the window zoomed into the last one (which showed none of its bars)', async () => {
		await feed(p, 'long', synthRun({ runId: 'long', tasks: 40, workers: 2, taskMs: 1000 }));
		const canvas = p.page.locator('[data-testid="timeline-canvas"]');
		const box = (await canvas.boundingBox())!;
		await p.page.mouse.move(box.x + box.width * 0.9, box.y + 30);
		for (let i = 0; i < 8; i++) {
			await p.page.mouse.wheel(0, -100);
		}
		await nextFrames(p.page);
		assert.ok(Number(await canvas.getAttribute('data-bars')) < 40, 'zoomed in: only some bars in view');
		await feed(p, 'short', synthRun({ runId: 'short', tasks: 10, workers: 2, taskMs: 5 }));
		await nextFrames(p.page);
		assert.equal(await canvas.getAttribute('data-bars'), '10', 'every bar of the new run in view');
	});

	it('zooming in as far as it goes stays there (it snapped back out to the whole run)', async () => {
		await feed(p, 'tiny', synthRun({ runId: 'tiny', tasks: 8, workers: 2, taskMs: 1 }));
		const canvas = p.page.locator('[data-testid="timeline-canvas"]');
		await canvas.focus();
		const bars: number[] = [];
		for (let i = 0; i < 40; i++) {
			await p.page.keyboard.press('+');
			if (i % 10 === 9) {
				await nextFrames(p.page);
				bars.push(Number(await canvas.getAttribute('data-bars')));
			}
		}
		assert.ok(bars.every((n) => n < 8), `the window never went back to the whole run: ${bars.join(', ')}`);
	});

	it('zooming out and panning stop at the run\'s edges (the run shrank to a sliver, or slid out of view)', async () => {
		await feed(p, 'edges', synthRun({ runId: 'edges', tasks: 20, workers: 2, taskMs: 10 }));
		const canvas = p.page.locator('[data-testid="timeline-canvas"]');
		const zoom = () => p.page.evaluate(() => (JSON.parse(sessionStorage.getItem('poolscope-state') ?? '{}') as { zoom?: { from: number; to: number } }).zoom);
		await canvas.focus();
		await p.page.keyboard.press('=');
		assert.ok(await zoom(), '"=" (the + key without Shift) zooms in');
		for (const key of ['+', '+']) {
			await p.page.keyboard.press(key);
		}
		const zoomed = (await zoom())!;
		const span = zoomed.to - zoomed.from;
		for (let i = 0; i < 30; i++) {
			await p.page.keyboard.press('ArrowLeft');
		}
		const left = (await zoom())!;
		assert.equal(left.from, 0, `panned left as far as the run's start: ${JSON.stringify(left)}`);
		assert.ok(Math.abs(left.to - left.from - span) < 1e-6, 'panning keeps the window\'s width');
		for (let i = 0; i < 60; i++) {
			await p.page.keyboard.press('ArrowRight');
		}
		const right = (await zoom())!;
		await nextFrames(p.page);
		assert.ok(Number(await canvas.getAttribute('data-bars')) > 0, `bars still in view after panning right: ${JSON.stringify(right)}`);
		for (let i = 0; i < 30; i++) {
			await p.page.keyboard.press('-');
		}
		assert.equal(await zoom(), undefined, 'zoomed out past the whole run: the run fitted');
		await nextFrames(p.page);
		assert.equal(await canvas.getAttribute('data-bars'), '20');
	});

	it('the future selected in the grid is outlined on the timeline, also among 5,000 sub-pixel bars', async () => {
		for (const [runId, tasks] of [['few', 20], ['many', 5000]] as const) {
			await feed(p, runId, synthRun({ runId, tasks, workers: 2, taskMs: 10 }), 2000);
			await settled(p.page);
			await p.page.focus('[data-testid="futures-grid"]');
			await p.page.keyboard.press('Home');
			for (let i = 0; i < 7; i++) {
				await p.page.keyboard.press('ArrowRight');
			}
			await settled(p.page);
			const canvas = p.page.locator('[data-testid="timeline-canvas"]');
			const at = await canvas.getAttribute('data-selected');
			assert.match(at ?? '', /^\d+,[01]$/, `${runId}: the selected future has its mark on a lane (${at})`);
			// The outline's left edge, in the focus colour (the page has no theme: cssVar's fallback).
			const [x, lane] = at!.split(',').map(Number) as [number, number];
			const rgb = await canvas.evaluate((c: HTMLCanvasElement, [px, py]) => [...c.getContext('2d')!.getImageData(px!, py!, 1, 1).data].slice(0, 3), [30 + x - 1, 16 + lane * 18 + 9]);
			assert.deepEqual(rgb, [0, 127, 212], `${runId}: outline pixel`);
		}
	});

	it('hovering the timeline of a big run does not walk every task at each mouse move', async () => {
		await feed(p, 'big', synthRun({ runId: 'big', tasks: 20_000, workers: 4, taskMs: 1 }), 5000);
		await settled(p.page);
		const box = (await p.page.locator('[data-testid="timeline-canvas"]').boundingBox())!;
		const walks = await p.page.evaluate(({ x, y, w }) => {
			// Every walk of the run's tasks goes through one of its Map's iterators.
			let n = 0;
			const proto = Map.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
			const saved = { forEach: proto.forEach!, values: proto.values!, entries: proto.entries! };
			for (const name of ['forEach', 'values', 'entries'] as const) {
				proto[name] = function (this: Map<unknown, unknown>, ...a: unknown[]) {
					n += this.size >= 20_000 ? 1 : 0;
					return saved[name].apply(this, a);
				};
			}
			const c = document.querySelector('[data-testid="timeline-canvas"]')!;
			try {
				for (let i = 0; i < 40; i++) {
					c.dispatchEvent(new MouseEvent('mousemove', { clientX: x + 40 + (i * (w - 60)) / 40, clientY: y + 16 + 18 * 3 + 5, bubbles: true }));
				}
			} finally {
				Object.assign(proto, saved);
			}
			return n;
		}, { x: box.x, y: box.y, w: box.width });
		assert.ok(walks <= 1, `${walks} walks of the run for 40 mouse moves`);
		assert.match(await p.page.locator('.tooltip').textContent() ?? '', /^task \d+ \(\(\d+,\)\) on worker 3: /);
		// And the bar under the pointer is the one a click selects.
		await p.page.mouse.click(box.x + box.width / 2, box.y + 16 + 18 * 2 + 5);
		await settled(p.page);
		assert.equal(await p.page.locator('[data-testid="details"] dd[data-field="worker"]').textContent(), '#2');
	});

	it('[ and ] on the timeline step through the tasks of the selected task\'s worker, for the keyboard', async () => {
		const events = synthRun({ runId: 'steps', tasks: 20, workers: 2, taskMs: 10 });
		await feed(p, 'steps', events);
		// Worker 0's tasks in the order they started there.
		const onZero = events.filter((e): e is Extract<PoolEvent, { type: 'task.started' }> => e.type === 'task.started' && e.workerId === 0).sort((a, b) => a.t - b.t).map((e) => e.taskId);
		const heading = () => p.page.locator('[data-testid="details"] h3').textContent();
		await p.page.focus('[data-testid="futures-grid"]');
		await p.page.keyboard.press('Home'); // future 0, on worker 0
		await settled(p.page);
		assert.equal(await heading(), `Future ${onZero[0]}`);
		await p.page.focus('[data-testid="timeline-canvas"]');
		await p.page.keyboard.press(']');
		await settled(p.page);
		assert.equal(await heading(), `Future ${onZero[1]}`);
		await p.page.keyboard.press(']');
		await p.page.keyboard.press(']');
		await p.page.keyboard.press('[');
		await settled(p.page);
		assert.equal(await heading(), `Future ${onZero[2]}`);
		assert.equal(await p.page.locator('[data-testid="details"] dd[data-field="worker"]').textContent(), '#0');
		assert.equal(await p.page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'timeline-canvas', 'the focus stays on the timeline');
	});

	it('results keep their line breaks; a long token in an error or a name wraps instead of widening the panel', async () => {
		await p.page.setViewportSize({ width: 500, height: 900 });
		const events = synthRun({ runId: 'texts', tasks: 2, workers: 1, fn: `f_${'x'.repeat(300)}`, failEvery: 2, result: () => "'line one\\nline two'\nsecond line", errorMessage: `bad response: ${'y'.repeat(3000)}` });
		await feed(p, 'texts', events);
		await p.page.locator('[data-testid="futures-grid"]').focus();
		await p.page.keyboard.press('Home');
		await settled(p.page);
		const width = () => p.page.evaluate(() => document.documentElement.scrollWidth);
		assert.ok(await width() <= 520, `page ${await width()} px wide in a 500 px panel`);
		const result = p.page.locator('[data-testid="result"]');
		assert.equal(await result.evaluate((el) => getComputedStyle(el).whiteSpace), 'pre-wrap');
		assert.ok((await result.boundingBox())!.height > 25, 'two lines high');
		await p.page.keyboard.press('ArrowRight');
		await settled(p.page);
		assert.match(await text(p.page, 'details'), /yyyy/);
		assert.ok(await width() <= 520, `page ${await width()} px wide with the error shown`);
	});

	it('a run that completed with failures says so in its status and its tab; tabs are numbered; arrow keys move between them', async () => {
		await feed(p, 'a', synthRun({ runId: 'a', tasks: 10, workers: 2, failEvery: 5 }));
		await feed(p, 'b', synthRun({ runId: 'b', tasks: 10, workers: 2 }));
		const tabs = p.page.locator('[data-testid="runs"] [role="tab"]');
		assert.deepEqual(await tabs.allTextContents(), ['#1 countdown · process ×2 · completed (2 failed)', '#2 countdown · process ×2 · completed']);
		await p.page.locator('[data-testid="runs"] [data-run="a"]').click();
		await settled(p.page);
		assert.match(await text(p.page, 'run-live'), /^completed · .* · 10\/10 done \(2 failed\) · [\d.]+ tasks\/s/);
		assert.doesNotMatch(await text(p.page, 'run-live'), /CPU now/, 'the machine\'s CPU now says nothing about a finished run');
		assert.equal(await p.page.locator('[data-testid="summary"] h3').textContent(), 'Summary: not every task finished');
		await p.page.keyboard.press('ArrowRight');
		await settled(p.page);
		assert.equal(await p.page.locator('[data-testid="runs"] [aria-selected="true"]').getAttribute('data-run'), 'b');
		assert.equal(await p.page.evaluate(() => (document.activeElement as HTMLElement).dataset.run), 'b');
	});

	it('long runs read in hours and minutes, and a slow rate keeps its digits (186 min 0 s, 0.0 tasks/s before)', async () => {
		const events = synthRun({ runId: 'slow', tasks: 40, workers: 2, taskMs: 279_000 });
		await feed(p, 'slow', events);
		const live = await text(p.page, 'run-live');
		assert.match(live, /^completed · \d h \d{1,2} min · 40\/40 done · [\d.]+ tasks\/min/);
	});

	it('a thread left stuck past its timeout reads "left stuck (timeout)", not a process\'s "exited (timeout, code 0)"', async () => {
		const runId = 'stuck';
		const t0 = 5_000;
		const events: PoolEvent[] = [
			{ type: 'run.started', runId, t: t0, fn: 'deadlock', file: '/w/faults.py', language: 'python', pool: 'thread', workers: 1, options: { workers: 1, timeoutMs: 100 }, inputCount: 1, cores: 2, runtime: 'CPython 3.11.7', stages: ['pending', 'executing'] },
			{ type: 'worker.started', runId, t: t0 + 1, workerId: 0, threadId: 77 },
			{ type: 'task.submitted', runId, t: t0 + 1, taskId: 0, input: '0' },
			{ type: 'task.started', runId, t: t0 + 2, taskId: 0, workerId: 0 },
			{ type: 'task.failed', runId, t: t0 + 110, taskId: 0, workerId: 0, durationMs: 108, error: { kind: 'timeout', name: 'TimeoutError', message: 'task 0 ran past its timeout of 100 ms' } },
			{ type: 'worker.exited', runId, t: t0 + 120, workerId: 0, code: 0, signal: null, reason: 'timeout' },
			{ type: 'run.finished', runId, t: t0 + 120, outcome: 'completed', wallMs: 120, counts: { submitted: 1, finished: 0, failed: 0, cancelled: 0, timedOut: 1, rejected: 0 }, throughput: 8.3, workers: [{ workerId: 0, threadId: 77, tasks: 1, busyMs: 108, utilization: 0.9 }] },
		];
		await feed(p, runId, events);
		assert.match(await text(p.page, 'workers'), /left stuck \(timeout\)/);
		assert.doesNotMatch(await text(p.page, 'workers'), /code 0/);
	});

	it('a state chip counts what it filters to: a worker that started its next task before the last one\'s result arrived has two running', async () => {
		const runId = 'ahead';
		const t0 = 9_000;
		const events: PoolEvent[] = [
			{ type: 'run.started', runId, t: t0, fn: 'f', file: '/w/f.py', language: 'python', pool: 'process', workers: 1, options: { workers: 1 }, inputCount: 3, cores: 2, runtime: 'CPython 3.11.7', stages: ['pending', 'callQueue', 'executing', 'resultQueue'] },
			{ type: 'worker.started', runId, t: t0 + 1, workerId: 0, pid: 4100 },
			...[0, 1, 2].map((taskId): PoolEvent => ({ type: 'task.submitted', runId, t: t0 + 1, taskId, input: String(taskId) })),
			{ type: 'task.started', runId, t: t0 + 2, taskId: 0, workerId: 0 },
			{ type: 'task.started', runId, t: t0 + 3, taskId: 1, workerId: 0 }, // task 0's result still on its way
		];
		await feed(p, runId, events);
		const shownFor = async (chip: string) => {
			await p.page.locator(`.chip:has([data-testid="count-${chip}"])`).click();
			await settled(p.page);
			return [await text(p.page, `count-${chip}`), await p.page.locator('[data-testid="futures-canvas"]').getAttribute('data-total')];
		};
		assert.deepEqual(await shownFor('running'), ['2', '2']);
		assert.deepEqual(await shownFor('queued'), ['1', '1']);
	});

	it('the Queues row never ends a line on an arrow: each arrow wraps with the stage it points to', async () => {
		const runId = 'six';
		await feed(p, runId, [
			{ type: 'run.started', runId, t: 1, fn: 'f', file: '/w/f.py', language: 'python', pool: 'process', workers: 2, options: { workers: 2 }, inputCount: 3, cores: 2, runtime: 'CPython 3.11.7', stages: ['pending', 'callQueue', 'executing', 'resultQueue'] },
		]);
		const lines = () => p.page.evaluate(() => [...document.querySelectorAll('[data-testid="pipeline"] .arrow')].map((arrow) => {
			const a = arrow.getBoundingClientRect();
			const box = arrow.nextElementSibling!.getBoundingClientRect();
			return { arrowMiddle: a.top + a.height / 2, boxTop: box.top, boxBottom: box.bottom, wrapped: box.top > document.querySelector('[data-testid="pipeline"] .stage')!.getBoundingClientRect().bottom };
		}));
		let wrappedSomewhere = false;
		for (const width of [360, 420, 480, 540, 600, 700, 900]) {
			await p.page.setViewportSize({ width, height: 900 });
			await settled(p.page);
			const arrows = await lines();
			assert.equal(arrows.length, 5, 'six stages, five arrows');
			for (const [i, a] of arrows.entries()) {
				assert.ok(a.arrowMiddle > a.boxTop && a.arrowMiddle < a.boxBottom, `${width} px: arrow ${i + 1} is not on the line of the stage it points to`);
			}
			wrappedSomewhere ||= arrows.some((a) => a.wrapped);
		}
		assert.ok(wrappedSomewhere, 'the row wrapped at some width (else this checked nothing)');
	});

	it('a run that failed to load shows its error, not empty queues, workers, timeline and grid, and no "0 inputs"', async () => {
		const runId = 'noload';
		const events: PoolEvent[] = [
			{ type: 'run.started', runId, t: 1, fn: 'nosuch', file: '/w/cpu_bound.py', language: 'python', pool: 'thread', workers: 6, options: { workers: 6 }, inputCount: 0, cores: 2, runtime: 'CPython 3.11.7', stages: ['pending', 'executing'] },
			{ type: 'run.finished', runId, t: 40, outcome: 'error', wallMs: 39, counts: { submitted: 0, finished: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0 }, throughput: 0, workers: [], error: { kind: 'load', name: 'FunctionNotFound', message: "no top-level function 'nosuch' in /w/cpu_bound.py", hint: 'Functions in this file: countdown, pi_series' } },
		];
		await feed(p, runId, events);
		for (const id of ['pipeline', 'workers', 'timeline', 'futures']) {
			assert.equal(await p.page.locator(`[data-testid="${id}"]`).isVisible(), false, `${id} hidden`);
		}
		assert.match(await text(p.page, 'summary'), /The run failed[\s\S]*FunctionNotFound[\s\S]*Functions in this file: countdown, pi_series/);
		assert.doesNotMatch(await text(p.page, 'run-facts'), /inputs/);
		// A run that did run tasks keeps every section.
		await feed(p, 'ran', synthRun({ runId: 'ran', tasks: 4, workers: 2 }));
		assert.equal(await p.page.locator('[data-testid="timeline"]').isVisible(), true);
	});

	it('the CPU under the lanes is drawn where it was sampled only: one sample mid-run is no ramp from 0 at the run\'s start', async () => {
		const events = synthRun({ runId: 'cpu', tasks: 20, workers: 2, taskMs: 10 });
		const end = events.findIndex((e) => e.type === 'run.finished');
		const t0 = events[0]!.t;
		const last = events[end]!.t;
		events.splice(end, 0, { type: 'cpu.sample', runId: 'cpu', t: t0 + (last - t0) * 0.7, total: 0.9, perCore: [0.9, 0.9] });
		await feed(p, 'cpu', events);
		await nextFrames(p.page);
		const alpha = await p.page.locator('[data-testid="timeline-canvas"]').evaluate((c: HTMLCanvasElement) => {
			const dpr = c.width / c.clientWidth;
			const lanes = Number(c.dataset.lanes);
			const base = 16 + lanes * 18 + 4 + 44 - 8; // the CPU band's baseline (timeline.ts: AXIS, LANE, CPU_H)
			const sum = (x0: number, x1: number) => {
				const d = c.getContext('2d')!.getImageData(Math.round(x0 * dpr), Math.round((base - 4) * dpr), Math.round((x1 - x0) * dpr), Math.round(3 * dpr)).data;
				let n = 0;
				for (let i = 3; i < d.length; i += 4) {
					n += d[i]!;
				}
				return n;
			};
			const plot = c.clientWidth - 8 - 30;
			return { start: sum(30 + 5, 30 + plot * 0.3), sample: sum(30 + plot * 0.6, 30 + plot * 0.8), all: sum(0, c.clientWidth - 1) };
		});
		assert.equal(alpha.start, 0, 'nothing drawn before the sample');
		assert.ok(alpha.sample > 0, `the sample is drawn: ${JSON.stringify(alpha)}`);
	});

	it('the future each arrow key lands on is announced to screen readers (the canvas grid has no cells to read)', async () => {
		await feed(p, 'a11y', synthRun({ runId: 'a11y', tasks: 12, workers: 2, failEvery: 4 }));
		const grid = p.page.locator('[data-testid="futures-grid"]');
		assert.equal(await grid.getAttribute('role'), 'group');
		await grid.focus();
		// Pressed within one frame, as a held key repeats: each press moves on from the last.
		await grid.evaluate((el) => {
			for (const key of ['Home', 'ArrowRight', 'ArrowRight', 'ArrowRight']) {
				el.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
			}
		});
		await settled(p.page);
		const live = p.page.locator('[data-testid="futures-announce"]');
		assert.equal(await live.getAttribute('aria-live'), 'polite');
		assert.match(await live.textContent() ?? '', /^future 3, failed, [\d.]+ ms, 4 of 12$/);
	});
});
