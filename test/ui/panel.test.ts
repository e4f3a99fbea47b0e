import * as assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { closeWindow, openWorkbench, runCommand, webviewFrame } from './workbench';

describe('Pool panel in the workbench (Playwright)', () => {
	let page: Page | undefined;
	after(async () => {
		await closeWindow(page);
	});

	it('"Poolscope: Show Pool Panel" from the command palette opens a webview whose DOM is readable', async () => {
		page = await openWorkbench();
		await runCommand(page, 'Poolscope: Show Pool Panel');
		const tab = page.locator('.tab', { hasText: 'Poolscope' });
		await tab.first().waitFor({ state: 'visible', timeout: 30_000 });
		const frame = await webviewFrame(page, '[data-testid="app"]');
		// The element is in the HTML; its content comes from the bundle, so wait for the script to run.
		await frame.waitForFunction(() => (document.querySelector('[data-testid="app"]')?.childElementCount ?? 0) > 0, undefined, { timeout: 15_000 });
		const text = await frame.evaluate(() => document.querySelector('[data-testid="app"]')?.textContent ?? '');
		assert.match(text, /Poolscope/);
	});

	it('the real webview runs under our Content-Security-Policy: nothing remote, no inline script, only our nonced bundle', async () => {
		const frame = await webviewFrame(page!, '[data-testid="app"]');
		const got = await frame.evaluate(async () => {
			const meta = document.querySelector('meta[http-equiv="Content-Security-Policy"]');
			const csp = meta?.getAttribute('content') ?? '';
			// VS Code puts its own inline script (acquireVsCodeApi) at the top of the head, ahead of our policy.
			const scripts = [...document.scripts].map((s) => ({ src: s.src, nonce: s.nonce, beforePolicy: Boolean(meta && meta.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_PRECEDING), text: (s.textContent ?? '').slice(0, 60) }));
			// Markup that reaches the DOM as HTML must not run: an inline script and an inline handler.
			const w = window as unknown as { __inlineRan?: number; __handlerRan?: number };
			const s = document.createElement('script');
			s.textContent = 'window.__inlineRan = 1';
			document.body.append(s);
			const img = document.createElement('img');
			img.setAttribute('src', 'data:image/gif;base64,R0lGODlhAQABAAAAACw=');
			img.setAttribute('onload', 'window.__handlerRan = 1');
			document.body.append(img);
			await new Promise((r) => setTimeout(r, 300));
			s.remove();
			img.remove();
			return { csp, scripts, inlineRan: w.__inlineRan, handlerRan: w.__handlerRan };
		});
		const directives = new Map(got.csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k!, v]));
		assert.deepEqual(directives.get('default-src'), ["'none'"], got.csp);
		const scriptSrc = directives.get('script-src') ?? [];
		assert.equal(scriptSrc.length, 1, got.csp);
		assert.match(scriptSrc[0]!, /^'nonce-[A-Za-z0-9+/=]{16,}'$/, got.csp);
		for (const [k, v] of directives) {
			for (const source of v) {
				assert.doesNotMatch(source, /unsafe|^https?:\/\/(?!.*vscode-cdn)|^\*$/, `${k} ${source}`);
			}
		}
		const ours = got.scripts.filter((s) => !s.beforePolicy);
		assert.equal(ours.length, 1, JSON.stringify(got.scripts));
		assert.match(ours[0]!.src, /\/out\/webview\/main\.js$/);
		assert.equal(`'nonce-${ours[0]!.nonce}'`, scriptSrc[0]);
		assert.ok(got.scripts.filter((s) => s.beforePolicy).every((s) => !s.src), `a script from a file ahead of the policy: ${JSON.stringify(got.scripts)}`);
		assert.equal(got.inlineRan, undefined, 'an inline script ran in the webview');
		assert.equal(got.handlerRan, undefined, 'an inline event handler ran in the webview');
	});
});
