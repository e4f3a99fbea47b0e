import * as assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { api, EXTENSION_ID, until } from './helpers';

function poolscopeTabs(): vscode.Tab[] {
	return vscode.window.tabGroups.all.flatMap((g) => g.tabs).filter(
		(t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('poolscope.panel'),
	);
}


const describeTabs = () => JSON.stringify(vscode.window.tabGroups.all.flatMap((g) => g.tabs).map((t) => [t.label, t.input instanceof vscode.TabInputWebview ? t.input.viewType : typeof t.input]));

describe('Poolscope extension in a real VS Code', () => {
	it('activates', async () => {
		await api();
		assert.equal(vscode.extensions.getExtension(EXTENSION_ID)?.isActive, true);
	});

	it('registers its commands', async () => {
		await api();
		const commands = await vscode.commands.getCommands(true);
		assert.ok(commands.includes('poolscope.showPanel'), 'poolscope.showPanel is not registered');
	});

	it('opens one pool panel, and reuses it when run again', async function () {
		this.timeout(120_000);
		const poolscope = await api();
		poolscope.panel()?.dispose();
		assert.ok(await until(() => poolscopeTabs().length === 0), `a Poolscope tab stayed open: ${describeTabs()}`);
		const file = join(vscode.workspace.workspaceFolders![0]!.uri.fsPath, 'js', 'zz_panel_twice.mjs');
		writeFileSync(file, 'export function twice(x) {\n  return 2 * x;\n}\n');
		const target = { uri: vscode.Uri.file(file).toString(), fn: 'twice' };
		try {
			const first = await poolscope.run(target, { pool: 'thread', workers: 1, inputs: '[[1], [2]]' });
			assert.ok(first, 'the first run did not start');
			const panel = poolscope.panel();
			assert.ok(panel, 'the run opened no panel');
			// What reached the webview (posted while it was ready and visible), run by run: its
			// end, live or in the replay the webview gets when it says ready.
			const ended = new Set<string>();
			const selected: string[] = [];
			const post = panel.post.bind(panel);
			panel.post = (m) => {
				if (panel.ready && panel.visible) {
					if (m.type === 'packed' && m.packed.other.some((e) => e.type === 'run.finished')) {
						ended.add(m.runId);
					} else if (m.type === 'select') {
						selected.push(m.runId);
					}
				}
				post(m);
			};
			assert.equal((await first.handle!.done).counts.finished, 2);
			assert.ok(await until(() => ended.has(first.request.runId), 30_000), 'the first run never reached the webview');
			assert.ok(await until(() => poolscopeTabs().length === 1), `expected one Poolscope tab: ${describeTabs()}`);

			const second = await poolscope.run(target, { pool: 'thread', workers: 1, inputs: '[[3], [4], [5]]' });
			assert.ok(second, 'the second run did not start');
			assert.equal(poolscope.panel(), panel, 'the second run made another panel');
			assert.equal((await second.handle!.done).counts.finished, 3);
			assert.ok(await until(() => ended.has(second.request.runId), 30_000), 'the second run never reached the webview');
			assert.ok(selected.includes(second.request.runId), 'the second run was not selected in the panel');
			assert.equal(poolscopeTabs().length, 1, `the second run opened another tab: ${describeTabs()}`);
			// Both runs are the panel's: a replay (a reload, a hidden panel shown again) has them.
			const replayed = poolscope.runs.replay().map((r) => r.runId);
			assert.ok(replayed.includes(first.request.runId) && replayed.includes(second.request.runId), replayed.join(', '));
			await vscode.commands.executeCommand('poolscope.showPanel');
			await new Promise((r) => setTimeout(r, 500));
			assert.equal(poolscopeTabs().length, 1, `Show Pool Panel opened another tab: ${describeTabs()}`);
			panel.dispose();
			assert.ok(await until(() => poolscopeTabs().length === 0), 'the panel tab stayed open after dispose');
		} finally {
			rmSync(file, { force: true });
		}
	});
});
