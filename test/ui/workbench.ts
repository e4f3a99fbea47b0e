/** Driving the code-server workbench with Playwright (helpers shared by the UI tests). */
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { uiContext } from '../harness/uiContext';

/** A fresh workbench window (by default with the extension under development), ready for input. */
export async function openWorkbench(url = uiContext().workbenchUrl()): Promise<Page> {
	const ctx = uiContext();
	const page = await ctx.browser.newPage({ viewport: { width: 1400, height: 900 } });
	await page.goto(url);
	await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
	// The status bar fills once the extension host is up; commands work from then on.
	await page.waitForSelector('.statusbar', { timeout: 60_000 });
	return page;
}

/**
 * Closes a test's window, saying first if it has unsaved editors: none of the UI tests leaves one
 * on purpose, and a save prompt for one blocked a CI run ("Untitled-1": decisions.md).
 */
export async function closeWindow(page: Page | undefined): Promise<void> {
	if (!page || page.isClosed()) {
		return;
	}
	if (await page.locator('.tab.dirty').count().catch(() => 0)) {
		process.stdout.write(`      (the window closes with unsaved editors: ${await pageState(page)})\n`);
	}
	await page.close();
}

export async function runCommand(page: Page, title: string): Promise<void> {
	await withPageState(page, () => runCommandOnce(page, title));
}

async function runCommandOnce(page: Page, title: string): Promise<void> {
	// Retried: right after load the palette may not yet know the extension's commands.
	for (let attempt = 0; attempt < 5; attempt++) {
		// Focus the window without moving the editor's cursor: the title bar is neutral ground.
		await page.locator('.part.titlebar').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
		await page.keyboard.press('Control+Shift+P');
		const input = page.locator('.quick-input-widget input');
		await input.waitFor({ state: 'visible', timeout: 15_000 });
		await input.fill(`>${title}`);
		const exact = new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
		const row = page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: exact }) }).first();
		if (await row.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false)) {
			// A click on this row, not Enter: Enter runs the focused row, which may be another
			// command that also matches (a recently used one, a longer title).
			await row.click();
			return;
		}
		await page.keyboard.press('Escape');
		await page.waitForTimeout(2_000);
	}
	throw new Error(`command "${title}" not found in the palette`);
}

/** Answers a command's prompt: waits for the box that says `prompt`, types `value`, presses Enter. */
export async function answerQuickInput(page: Page, prompt: string, value: string): Promise<void> {
	const box = page.locator('.quick-input-widget', { hasText: prompt });
	await box.waitFor({ state: 'visible', timeout: 20_000 });
	await page.locator('.quick-input-widget input').fill(value);
	await page.keyboard.press('Enter');
	await box.waitFor({ state: 'hidden' });
}

/** The innermost frame of a webview whose document has `selector` (webviews nest two iframes). */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		for (const frame of page.frames()) {
			if (!frame.url().includes('/webview/')) {
				continue;
			}
			const found = await frame.evaluate((s) => Boolean(document.querySelector(s)), selector).catch(() => false);
			if (found) {
				return frame;
			}
		}
		await page.waitForTimeout(250);
	}
	throw new Error(`no webview frame with ${selector} within ${timeoutMs} ms ${await pageState(page)}`);
}

/** Quick Open with `file:line`: the file opens with the cursor on that line. */
export async function openFileAt(page: Page, name: string, line: number): Promise<void> {
	await withPageState(page, () => openFileAtOnce(page, name, line));
}

async function openFileAtOnce(page: Page, name: string, line: number): Promise<void> {
	const base = name.split('/').pop()!;
	// Retried: a window just reloaded may answer the first query before its extension host (which
	// searches the files here) is up, and quick open does not ask again by itself.
	for (let attempt = 0; ; attempt++) {
		// Keys typed while a webview has focus go to the webview: take focus back first.
		await page.locator('.part.titlebar').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
		await page.keyboard.press('Control+P');
		const input = page.locator('.quick-input-widget input');
		await input.waitFor({ state: 'visible', timeout: 15_000 });
		await input.fill(`${name}:${line}`);
		// Wait for the file itself, not just any row.
		const row = page.locator('.quick-input-list .monaco-list-row', { hasText: base }).first();
		const last = attempt === 2;
		try {
			await row.waitFor({ state: 'visible', timeout: last ? 30_000 : 10_000 });
			break;
		} catch (e) {
			if (last) {
				throw e;
			}
		}
		await page.keyboard.press('Escape');
		await page.waitForTimeout(1_000);
	}
	await page.keyboard.press('Enter');
	await page.locator('.tab', { hasText: base }).first().waitFor({ state: 'visible', timeout: 20_000 });
	await page.locator('.statusbar', { hasText: `Ln ${line},` }).waitFor({ state: 'visible', timeout: 20_000 });
}

/**
 * For a describe that shares one workbench page: a screenshot when a test fails (printed with its
 * path), and the page closed at the end.
 */
export function pageLifecycle(page: () => Page | undefined): void {
	afterEach(async function () {
		const p = page();
		if (this.currentTest?.state === 'failed' && p) {
			const file = join(__dirname, '..', 'ui-failure.png');
			await p.screenshot({ path: file }).catch(() => undefined);
			process.stdout.write(`      screenshot of the failure: ${file}\n      the window at the failure: ${await pageState(p)}\n`);
		}
	});
	after(async () => {
		await closeWindow(page());
	});
}

/**
 * Runs a step; if it fails, its error's first line (all the run's summary keeps) also says what the
 * workbench showed: a CI failure has no screenshot to look at.
 */
export async function withPageState<T>(page: Page, step: () => Promise<T>): Promise<T> {
	try {
		return await step();
	} catch (e) {
		if (e instanceof Error) {
			const [first, ...rest] = e.message.split('\n');
			e.message = [`${first} ${await pageState(page)}`, ...rest].join('\n');
		}
		throw e;
	}
}

/** One line on the workbench's state: modal dialogs, toasts, quick input, tabs, focus, status bar. */
export async function pageState(page: Page): Promise<string> {
	const state = await page.evaluate(() => {
		const text = (el: Element | null | undefined) => ((el as HTMLElement | null | undefined)?.innerText ?? '').replace(/\s+/g, ' ').trim().slice(0, 160);
		const visible = (el: Element) => (el as HTMLElement).offsetParent !== null;
		const all = (sel: string) => [...document.querySelectorAll(sel)].filter(visible);
		const quick = document.querySelector('.quick-input-widget');
		const active = document.activeElement;
		return {
			dialogs: all('.monaco-dialog-box').map(text),
			toasts: all('.notification-toast').map(text),
			quickInput: quick && visible(quick) ? `"${(quick.querySelector('input') as HTMLInputElement | null)?.value ?? ''}", rows: ${all('.quick-input-list .monaco-list-row').slice(0, 3).map(text).join(' | ') || 'none'}` : 'closed',
			// Active tabs start with ">", unsaved ones with "*".
			tabs: all('.tab').map((t) => `${t.classList.contains('active') ? '>' : ''}${t.classList.contains('dirty') ? '*' : ''}${text(t)}`).join(', '),
			focus: active ? `${active.tagName.toLowerCase()}.${[...active.classList].slice(0, 3).join('.')}` : 'none',
			statusBar: text(document.querySelector('.statusbar')),
			editor: text(document.querySelector('.editor-instance .view-lines')),
		};
	}).catch((e: unknown) => ({ error: String(e).split('\n')[0] }));
	return `[page: ${JSON.stringify(state)}]`;
}

/**
 * "View: Close All Editors". A dirty editor makes it ask whether to save, a modal that blocks the
 * next step: CI had an "Untitled-1" nobody in this suite opens. It is said, with what it held,
 * and not saved.
 */
export async function closeAllEditors(page: Page): Promise<void> {
	const dirty = await page.locator('.tab.dirty').count();
	const before = dirty ? await pageState(page) : '';
	await runCommand(page, 'View: Close All Editors');
	for (let i = 0; i < dirty; i++) {
		const dontSave = page.locator('.monaco-dialog-box .monaco-button', { hasText: "Don't Save" });
		if (!(await dontSave.waitFor({ state: 'visible', timeout: 5_000 }).then(() => true, () => false))) {
			break;
		}
		process.stdout.write(`      (a dirty editor was open, closed unsaved: ${before})\n`);
		await dontSave.click();
	}
}
