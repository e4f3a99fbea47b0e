/** What the panel's webview posts is untrusted: the one schema check the extension runs on it. */
import * as assert from 'node:assert/strict';
import { isWebviewMessage } from '../../../webview/messages';

describe('Messages from the webview (isWebviewMessage)', () => {
	it('a forged command (run a file, a made-up type, the wrong field types) is dropped; the panel\'s own messages pass', () => {
		const forged: unknown[] = [
			{ command: 'run', file: '/etc/x' },
			{ type: 'run', file: '/etc/x', fn: 'f' },
			{ type: 'runFunction', file: '/etc/x' },
			{ type: 'rerun' },
			{ type: 'rerun', runId: 42 },
			{ type: 'rerun', runId: 'x'.repeat(5000) },
			{ type: 'cancelTask', runId: 'r1', taskId: -1 },
			{ type: 'cancelTask', runId: 'r1', taskId: 1.5 },
			{ type: 'openLocation', file: '/tmp/a.py', line: '3' },
			{ type: 'compareRuns', runIds: ['r1', 'r1'] },
			{ type: 'compareRuns', runIds: ['r1'] },
			'ready',
			null,
			undefined,
			[{ type: 'ready' }],
		];
		for (const m of forged) {
			assert.equal(isWebviewMessage(m), false, JSON.stringify(m));
		}
		const own: unknown[] = [
			{ type: 'ready' },
			{ type: 'cancelRun', runId: 'r1' },
			{ type: 'cancelTask', runId: 'r1', taskId: 0 },
			{ type: 'rerun', runId: 'r1' },
			{ type: 'openLocation', file: '/tmp/a.py', line: 3, column: 1 },
			{ type: 'compareRuns', runIds: ['r1', 'r2'] },
			{ type: 'deleteHistory', id: 'h1' },
		];
		for (const m of own) {
			assert.equal(isWebviewMessage(m), true, JSON.stringify(m));
		}
	});
});
