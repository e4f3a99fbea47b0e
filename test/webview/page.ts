/** The panel's bundle in a real Chromium, served with the same CSP as in VS Code. */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { PoolEvent } from '../../engine/protocol/events';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { HostToWebview } from '../../webview/messages';

const OUT = join(__dirname, '..', '..', 'webview');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface PanelPage {
	context: BrowserContext;
	page: Page;
	server: Server;
	cspViolations: string[];
	post(message: HostToWebview): Promise<void>;
	close(): Promise<void>;
}

/**
 * One Chromium per test file (this module is bundled into each), a fresh context (its own
 * renderer, storage and state) per panel: a launch per test was ~1 s of each of 63 tests
 * (stage 212 -> 162 s). A browser that crashed or was closed is launched again.
 */
let shared: Promise<Browser> | undefined;

async function browser(): Promise<Browser> {
	const b = shared ? await shared.catch(() => undefined) : undefined;
	if (b?.isConnected()) {
		return b;
	}
	shared = chromium.launch({ executablePath: process.env.POOLSCOPE_CHROMIUM ?? '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS });
	return shared;
}

// Root hook: the stage's browser closes with the stage (the harness also ends its process group).
after(async () => {
	const b = shared && (await shared.catch(() => undefined));
	shared = undefined;
	await b?.close();
});

export async function openPanel(): Promise<PanelPage> {
	const nonce = 'dGVzdG5vbmNl';
	const server = createServer((req, res) => {
		const url = (req.url ?? '/').split('?')[0]!;
		if (url === '/') {
			const origin = `http://${req.headers.host}`;
			res.setHeader('Content-Type', 'text/html');
			res.setHeader('Content-Security-Policy', `default-src 'none'; style-src ${origin}; font-src ${origin}; img-src ${origin} data:; script-src 'nonce-${nonce}'`);
			res.end(`<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8"><link href="/codicon.css" rel="stylesheet"><link href="/main.css" rel="stylesheet"></head><body class="vscode-dark"><div id="app" data-testid="app"></div><script nonce="${nonce}" src="/main.js"></script></body></html>`);
			return;
		}
		try {
			const body = readFileSync(join(OUT, url.replace(/^\//, '').replace(/\.\./g, '')));
			res.setHeader('Content-Type', url.endsWith('.js') ? 'text/javascript' : url.endsWith('.css') ? 'text/css' : 'application/octet-stream');
			res.end(body);
		} catch {
			res.statusCode = 404;
			res.end();
		}
	});
	await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
	const port = (server.address() as { port: number }).port;
	const context = await (await browser()).newContext({ viewport: { width: 1300, height: 1000 } });
	const page = await context.newPage();
	const cspViolations: string[] = [];
	page.on('console', (m) => {
		if (/Content Security Policy|Refused to/.test(m.text())) {
			cspViolations.push(m.text());
		}
	});
	page.on('pageerror', (e) => cspViolations.push(`page error: ${e.message}`));
	await page.goto(`http://127.0.0.1:${port}/`);
	await page.waitForSelector('[data-testid="empty"]');
	return {
		context, page, server, cspViolations,
		// Resolves once the panel has taken the message: a bare postMessage returns before it is
		// dispatched, and settled() then read the state from before it. Messages are dispatched in
		// order, so a marker posted after it arriving means the panel's listener has run on it.
		post: (message) => page.evaluate((m) => new Promise<void>((resolve) => {
			const marker = `posted-${Math.random()}`;
			const taken = (e: MessageEvent) => {
				if (e.data === marker) {
					window.removeEventListener('message', taken);
					resolve();
				}
			};
			window.addEventListener('message', taken);
			window.postMessage(m, '*');
			window.postMessage(marker, '*');
		}), message as unknown as Record<string, unknown>),
		close: async () => {
			await context.close();
			server.closeAllConnections(); // keep-alive sockets would hold close() open
			await new Promise((r) => server.close(r));
		},
	};
}

/**
 * A fresh panel for each test of the describe it is called in (handed to `use`), closed after
 * it; a test that set off a CSP violation fails.
 */
export function panelPerTest(use: (p: PanelPage) => void): void {
	let current: PanelPage | undefined;
	beforeEach(async () => {
		current = await openPanel();
		use(current);
	});
	afterEach(async () => {
		const p = current!;
		current = undefined;
		try {
			assert.deepEqual(p.cspViolations, [], 'the bundle must run under the panel CSP without violations');
		} finally {
			await p.close();
		}
	});
}

export async function nextFrames(page: Page, n = 2): Promise<void> {
	await page.evaluate((count) => new Promise<void>((resolve) => {
		let left = count;
		const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
		requestAnimationFrame(tick);
	}), n);
}

export async function text(page: Page, testid: string): Promise<string> {
	return (await page.locator(`[data-testid="${testid}"]`).first().textContent()) ?? '';
}

/** Until the panel has folded every event it was sent (it does so in slices per frame). */
/** Every event posted is folded and drawn (a live run redraws at its own cadence, not every frame). */
export async function settled(page: Page): Promise<void> {
	await page.waitForFunction(() => document.body.dataset.pending === '0' && document.body.dataset.version === document.body.dataset.folded, undefined, { timeout: 60_000 });
	await nextFrames(page, 2);
}

/** Posts a run's events as the extension does (in batches of `batch`), then waits until they are drawn. */
export async function feed(p: PanelPage, runId: string, events: PoolEvent[], batch = 500): Promise<void> {
	for (let i = 0; i < events.length; i += batch) {
		await p.post({ type: 'events', runId, events: events.slice(i, i + batch) });
	}
	await settled(p.page);
}
