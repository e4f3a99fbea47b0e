import * as assert from 'node:assert/strict';
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

	it('opens one pool panel, and reuses it when run again', async () => {
		const poolscope = await api();
		await vscode.commands.executeCommand('poolscope.showPanel');
		assert.ok(poolscope.panel(), 'no panel after Show Pool Panel');
		assert.ok(await until(() => poolscopeTabs().length === 1), `expected one Poolscope tab: ${describeTabs()}`);
		// The webview loads its bundle and says ready: the panel is really alive, not just a tab.
		const ready = await new Promise<boolean>((resolve) => {
			const panel = poolscope.panel()!;
			if (panel.ready) {
				resolve(true);
				return;
			}
			const sub = panel.onReady(() => { sub.dispose(); resolve(true); });
			setTimeout(() => { sub.dispose(); resolve(false); }, 30_000);
		});
		assert.ok(ready, 'the webview never posted ready');
		await vscode.commands.executeCommand('poolscope.showPanel');
		await new Promise((r) => setTimeout(r, 500));
		assert.equal(poolscopeTabs().length, 1, `a second Show Pool Panel opened another tab: ${describeTabs()}`);
		poolscope.panel()?.dispose();
		const closed = await until(() => poolscopeTabs().length === 0);
		assert.ok(closed, 'the panel tab stayed open after dispose');
	});
});
