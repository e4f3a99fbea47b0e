/**
 * A root hook for the whole integration suite: an unsaved new document a test leaves behind is
 * said (with the test's name) and discarded. Left in this window, it was restored into every
 * window the UI stage opened on the same workspace (code-server keeps the workspace's editors
 * and their unsaved text on the server), where "Close All Editors" stopped at its save prompt.
 */
import * as vscode from 'vscode';
import { LINE_TAG } from '../harness/mochaRun';
import { discard } from './helpers';

afterEach(async function () {
	const left = vscode.workspace.textDocuments.filter((d) => d.isUntitled && d.isDirty && !d.isClosed);
	for (const doc of left) {
		console.log(`${LINE_TAG}   (test "${this.currentTest?.fullTitle()}" left an unsaved new document, discarded: ${doc.uri.toString()} ${JSON.stringify(doc.getText().slice(0, 80))})`);
		await discard(doc);
	}
});
