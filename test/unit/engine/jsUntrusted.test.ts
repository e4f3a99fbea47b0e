/**
 * What the user's code throws, returns or sends is not trusted (real worker threads and child
 * processes): an error whose message or stack cannot be read, an Error.prepareStackTrace that
 * throws, a message of megabytes, a result whose preview throws, a process.send meant for a parent
 * that is not there. Each of these once aborted the host, hung a process pool or flooded it.
 */
import * as assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_LINE_LIMIT, ERROR_MESSAGE_LIMIT, ERROR_STACK_LIMIT } from '../../../engine/protocol/events';
import { childProcesses, JS_FIXTURES, ofType, run } from './jsHelpers';
import { waitFor } from '../../harness/processes';

const POOLS = ['thread', 'process', 'serial'] as const;
const FILE = join(JS_FIXTURES, 'untrusted.js');

async function ended(fn: string, pool: (typeof POOLS)[number], inputs = '3', nothingLeft = true) {
	const r = run({ file: FILE, fn, inputs, pool, workers: 1 });
	const end = await r.done;
	if (nothingLeft) {
		assert.ok(await waitFor(() => childProcesses().length === 0, 5_000), `left behind: ${childProcesses().join(' | ')}`);
	}
	return { end, events: r.events };
}

describe('JS pools: what the user\'s code throws, returns or sends is not trusted', function () {
	this.timeout(60_000);

	for (const pool of POOLS) {
		describe(pool, () => {
			it('an error whose message getter throws fails its own task, says so, and keeps the frames at the user\'s line; the worker goes on', async () => {
				const { end, events } = await ended('messageGetterThrows', pool);
				assert.equal(end.outcome, 'completed');
				assert.deepEqual(end.counts, { submitted: 3, finished: 0, failed: 3, cancelled: 0, timedOut: 0, rejected: 0 });
				const failed = ofType(events, 'task.failed');
				assert.deepEqual(failed.map((f) => f.taskId).sort(), [0, 1, 2]);
				for (const f of failed) {
					assert.equal(f.error.kind, 'exception');
					assert.match(f.error.message, new RegExp(`^\\(its message could not be read: Error: getter boom ${f.taskId}\\)$`));
					assert.ok(f.error.frames?.some((fr) => fr.file === FILE && fr.line === 3 && fr.function === 'messageGetterThrows'), JSON.stringify(f.error.frames));
				}
				assert.equal(ofType(events, 'worker.started').length, 1, 'one worker ran all three: none died');
			});

			it('a lazy message that fails on a field the error lacks (HttpError without a response) is the task\'s error, not a hang', async () => {
				const { end, events } = await ended('lazyMessage', pool, '2');
				assert.equal(end.counts.failed, 2);
				for (const f of ofType(events, 'task.failed')) {
					assert.equal(f.error.name, 'HttpError');
					assert.match(f.error.message, /its message could not be read: TypeError: Cannot read properties of undefined \(reading 'status'\)/);
					assert.ok(f.error.frames?.some((fr) => fr.file === FILE && fr.line === 13), JSON.stringify(f.error.frames));
				}
			});

			it('an Error.prepareStackTrace that throws (left in place for later tasks): each task fails with its own message and a stack at the user\'s line', async () => {
				const { end, events } = await ended('prepareStackTraceThrows', pool);
				assert.equal(end.counts.failed, 3);
				for (const f of ofType(events, 'task.failed')) {
					assert.equal(f.error.message, `plain ${f.taskId}`);
					assert.equal(f.error.frames?.[0]?.file, FILE, f.error.stack);
					assert.equal(f.error.frames?.[0]?.line, 19);
				}
				assert.equal(ofType(events, 'worker.started').length, 1);
			});

			it('an Error.prepareStackTrace that returns the call sites: the stack is text again, at the user\'s source line (source map)', async () => {
				const { events } = await ended('callSiteStack', pool, '2');
				for (const f of ofType(events, 'task.failed')) {
					assert.match(f.error.stack ?? '', new RegExp(`^Error: sites ${f.taskId}\\n    at callSiteStack \\(${FILE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:24:\\d+\\)`));
					assert.doesNotMatch(f.error.stack ?? '', /bundle\.cjs|node:async_hooks/);
				}
			});

			it('a message of 2 MB is cut (saying by how much), the stack bounded, its frames kept', async () => {
				const { events } = await ended('hugeMessage', pool, '2');
				for (const f of ofType(events, 'task.failed')) {
					assert.ok(f.error.message.length < ERROR_MESSAGE_LIMIT + 100, `message of ${f.error.message.length}`);
					assert.ok(/^e{8192}… \(1,991,80\d more characters cut\)$/.test(f.error.message), f.error.message.slice(-80));
					assert.ok((f.error.stack ?? '').length <= ERROR_LINE_LIMIT * 2 + ERROR_STACK_LIMIT, `stack of ${f.error.stack?.length}`);
					assert.equal(f.error.frames?.[0]?.file, FILE);
					assert.equal(f.error.frames?.[0]?.line, 28);
				}
			});

			it('an error\'s own fields (code, path) are shown with its stack, as Node prints them', async () => {
				const { events } = await ended('codedError', pool, '1');
				const f = ofType(events, 'task.failed')[0]!;
				assert.equal(f.error.message, 'no such file');
				assert.match(f.error.stack ?? '', /\n {4}\{ code: 'E42', path: '\/nowhere' \}/);
			});

			it('a result whose preview throws is still a result: the task finished, its preview says what failed', async () => {
				const { end, events } = await ended('previewThrows', pool, '2');
				assert.equal(end.counts.finished, 2);
				for (const f of ofType(events, 'task.finished')) {
					assert.equal(f.result, '<its preview failed: Error: inspect boom>');
				}
			});
		});
	}

	it('process pool: process.send from a task (a module written as a forked child) reaches no one: the tasks finish, the engine lives, one warning says where it went', async () => {
		const r = run({ file: FILE, fn: 'sendsToParent', inputs: '4', pool: 'process', workers: 2 });
		const end = await r.done;
		assert.equal(end.outcome, 'completed');
		assert.equal(end.counts.finished, 4);
		const results = ofType(r.events, 'task.finished').map((f) => f.result).sort();
		assert.deepEqual(results, ['[ 0, true ]', '[ 1, true ]', '[ 2, true ]', '[ 3, true ]'], 'process.send still answers as Node\'s does');
		const warnings = ofType(r.events, 'run.warning').filter((w) => /process\.send/.test(w.message));
		assert.equal(warnings.length, 1, JSON.stringify(warnings));
		assert.match(warnings[0]!.message, /^task \d called process\.send\(\{ type: 'done', result: undefined, i: \d \}\): in a Poolscope process pool the parent is Poolscope, which does not read your code's messages, so it was dropped/);
		assert.ok(await waitFor(() => childProcesses().length === 0, 5_000));
	});

	for (const pool of ['thread', 'serial'] as const) {
		it(`${pool}: what a task posts on its thread's parentPort (which carries Poolscope's notices) is not taken for one: no forged output or start, the run ends`, async () => {
			const r = run({ file: FILE, fn: 'postsToParentPort', inputs: '4', pool, workers: 2 });
			const end = await r.done;
			assert.deepEqual([end.outcome, end.counts.finished], ['completed', 4]);
			const out = ofType(r.events, 'task.output').map((o) => o.text).join('');
			assert.doesNotMatch(out, /forged/);
			assert.equal(out.split('\n').filter((l) => l.startsWith('real ')).sort().join(','), 'real 0,real 1,real 2,real 3');
			const workers = new Set(ofType(r.events, 'worker.started').map((w) => w.threadId));
			assert.ok(!workers.has(999), 'no worker made up from a forged start');
		});
	}

	for (const pool of ['thread', 'serial'] as const) {
		it(`${pool}: process.kill(process.pid) from a task is refused (it would end the host, a worker thread being one of its threads): the task fails saying so; signal 0 still answers`, async () => {
			const { end, events } = await ended('killsOwnProcess', pool, '2');
			assert.equal(end.outcome, 'completed');
			assert.equal(end.counts.failed, 2);
			for (const f of ofType(events, 'task.failed')) {
				assert.match(f.error.message, new RegExp(`^task ${f.taskId} called process\\.kill\\(process\\.pid, "SIGTERM"\\): a worker thread is a thread of the host process`));
			}
			assert.deepEqual(ofType((await ended('asksIfAlive', pool, '1')).events, 'task.finished').map((f) => f.result), ['true']);
		});
	}

	it('process pool: a function that kills its workers (out of memory) stops new ones once, says so once, and V8\'s crash dump is not the tasks\' output', async () => {
		const r = run({ file: FILE, fn: 'leaks', inputs: '6', pool: 'process', workers: 2, maxHeapMb: 32 });
		const end = await r.done;
		assert.equal(end.counts.failed, 6, JSON.stringify(end.counts));
		const stops = ofType(r.events, 'run.warning').filter((w) => /Poolscope stopped starting new ones/.test(w.message));
		assert.equal(stops.length, 1, stops.map((w) => w.message).join(' | '));
		const stoppedAt = r.events.indexOf(stops[0]!);
		assert.deepEqual(r.events.slice(stoppedAt).filter((e) => e.type === 'worker.started'), [], 'no worker started after the stop');
		assert.ok(ofType(r.events, 'task.failed').some((f) => f.error.kind === 'outOfMemory'));
		const output = ofType(r.events, 'task.output').map((o) => o.text).join('');
		assert.doesNotMatch(output, /Last few GCs|FATAL ERROR|Reached heap limit/);
		assert.ok(await waitFor(() => childProcesses().length === 0, 5_000));
	});

	describe('processes a task leaves running are ended with the run, and named', () => {
		/** Live processes whose command line is `sleep <duration>` (not zombies). */
		const sleeping = (duration: string): number[] => readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number).filter((pid) => {
			try {
				const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
				return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8') === `sleep\0${duration}\0`;
			} catch {
				return false;
			}
		});

		before(function () {
			if (process.platform !== 'linux') {
				this.skip(); // ended only where /proc says whose they are
			}
		});

		for (const pool of POOLS) {
			it(`${pool}: a child (spawn) and a shell's child (exec) left running are ended, a warning names them; one started detached is kept; one waited for is no warning`, async () => {
				for (const [fn, duration] of [['leavesChild', '37.123'], ['leavesShellChild', '37.124']] as const) {
					const { end, events } = await ended(fn, pool, '2');
					assert.equal(end.counts.finished, 2);
					const warnings = ofType(events, 'run.warning').filter((w) => /still running when/.test(w.message));
					assert.equal(warnings.length, 1, `${fn}: ${JSON.stringify(warnings)}`); // one worker (process) or one run (threads)
					assert.match(warnings.map((w) => w.message).join('\n'), new RegExp(`pid \\d+ \\((/bin/sh -c )?sleep ${duration.replace('.', '\\.')}\\) from (task [01]|worker process \\d+'s tasks)`));
					assert.ok(await waitFor(() => sleeping(duration).length === 0, 2_000), `${fn} left: ${sleeping(duration).join(', ')}`);
				}
				const kept = await ended('leavesDetached', pool, '1', false);
				const pid = Number(ofType(kept.events, 'task.finished')[0]?.result);
				try {
					assert.equal(ofType(kept.events, 'run.warning').filter((w) => /still running when/.test(w.message)).length, 0);
					assert.ok(sleeping('37.125').includes(pid), `the detached child (pid ${pid}) is the user's to keep`);
				} finally {
					for (const left of sleeping('37.125')) {
						process.kill(left, 'SIGKILL');
					}
				}
				const waited = await ended('waitsForChild', pool, '2');
				assert.equal(waited.end.counts.finished, 2);
				assert.equal(ofType(waited.events, 'run.warning').length, 0, JSON.stringify(ofType(waited.events, 'run.warning')));
			});
		}
	});
});
