/** The panel follows VS Code's colour theme: light, dark and high contrast (Playwright on code-server). */
import * as assert from 'node:assert/strict';
import type { Frame, Page } from 'playwright-core';
import { closeWindow, openFileAt, openWorkbench, runCommand, webviewFrame } from './workbench';

async function pickTheme(page: Page, name: string): Promise<void> {
	// Through the palette, clicking the command itself: Enter would take the fuzzy best match,
	// which can be "Browse Color Themes in Marketplace" (offline here).
	await page.locator('.part.titlebar').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
	await page.keyboard.press('Control+Shift+P');
	const input = page.locator('.quick-input-widget input');
	await input.waitFor({ state: 'visible', timeout: 15_000 });
	await input.fill('>Preferences: Color Theme');
	await page.locator('.quick-input-list .monaco-list-row[aria-label^="Preferences: Color Theme"]').first().click({ timeout: 15_000 });
	// The theme picker replaces the palette: wait for its list before typing into it.
	await page.locator('.quick-input-list .monaco-list-row', { hasText: /Modern/ }).first().waitFor({ state: 'visible', timeout: 15_000 });
	await input.fill(name);
	await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click({ timeout: 15_000 });
}

/** The webview's theme class, its text colour and a stage box's border, as the browser computed them. */
function look(frame: Frame): Promise<{ kind: string; text: string; bg: string; stageBorder: string; contrastBorder: string }> {
	return frame.evaluate(() => {
		const body = document.body;
		const stage = document.querySelector('.stage');
		return {
			kind: ['vscode-high-contrast-light', 'vscode-high-contrast', 'vscode-light', 'vscode-dark'].find((c) => body.classList.contains(c)) ?? '',
			text: getComputedStyle(body).color,
			bg: getComputedStyle(body).backgroundColor,
			stageBorder: stage ? getComputedStyle(stage).borderTopColor : '',
			contrastBorder: getComputedStyle(body).getPropertyValue('--vscode-contrastBorder').trim(),
		};
	});
}

/** Relative luminance of an `rgb(r, g, b)` colour, 0 (black) to 1 (white). */
function luminance(rgb: string): number {
	const [r, g, b] = (rgb.match(/\d+/g) ?? ['0', '0', '0']).map(Number);
	return (0.2126 * r! + 0.7152 * g! + 0.0722 * b!) / 255;
}

describe('Themes (Playwright on code-server)', function () {
	this.timeout(180_000);
	let page: Page | undefined;
	after(async () => {
		if (page) {
			await pickTheme(page, 'Light Modern').catch(() => undefined); // back to this workbench's default
			await closeWindow(page);
		}
	});

	it('light, dark and high contrast: the panel takes the theme\'s colours, borders in high contrast', async () => {
		page = await openWorkbench();
		await openFileAt(page, 'js/cpu.js', 6);
		await runCommand(page, 'Poolscope: Run Function in Thread Pool');
		let frame = await webviewFrame(page, '.stage', 60_000);
		await frame.waitForFunction(() => document.querySelector('[data-testid="run-live"]')?.getAttribute('data-state') === 'completed', undefined, { timeout: 60_000 });
		await pickTheme(page, 'Dark Modern');
		frame = await webviewFrame(page, '.stage', 30_000);
		await frame.waitForFunction(() => document.body.classList.contains('vscode-dark'), undefined, { timeout: 30_000 });
		const dark = await look(frame);
		assert.ok(luminance(dark.bg) < 0.3 && luminance(dark.text) > 0.6, JSON.stringify(dark));

		await pickTheme(page, 'Light Modern');
		frame = await webviewFrame(page, '.stage', 30_000);
		await frame.waitForFunction(() => document.body.classList.contains('vscode-light'), undefined, { timeout: 30_000 });
		const light = await look(frame);
		assert.ok(luminance(light.bg) > 0.7 && luminance(light.text) < 0.4, JSON.stringify(light));

		await pickTheme(page, 'Dark High Contrast');
		frame = await webviewFrame(page, '.stage', 30_000);
		await frame.waitForFunction(() => document.body.classList.contains('vscode-high-contrast'), undefined, { timeout: 30_000 });
		const hc = await look(frame);
		assert.ok(hc.contrastBorder, 'the high-contrast theme defines a contrast border');
		// The stage boxes carry the theme's contrast border (our high-contrast rule).
		const expected = await frame.evaluate((c) => {
			const probe = document.createElement('div');
			probe.style.color = c;
			document.body.append(probe);
			const v = getComputedStyle(probe).color;
			probe.remove();
			return v;
		}, hc.contrastBorder);
		assert.equal(hc.stageBorder, expected, JSON.stringify(hc));
	});

	it('the filter that is on is told apart from the others in every theme, not by the focus ring alone', async () => {
		page ??= await openWorkbench();
		let frame = await webviewFrame(page, '.stage', 5_000).catch(() => undefined);
		if (!frame) {
			await openFileAt(page, 'js/cpu.js', 6);
			await runCommand(page, 'Poolscope: Run Function in Thread Pool');
			frame = await webviewFrame(page, '.stage', 60_000);
		}
		for (const theme of ['Light Modern', 'Dark Modern', 'Dark High Contrast', 'Light High Contrast']) {
			await pickTheme(page, theme);
			frame = await webviewFrame(page, '.chip', 30_000);
			await frame.waitForFunction(() => document.body.classList.length > 0, undefined, { timeout: 30_000 });
			// Light Modern's focus border and badge are the same blue: an outline in that colour
			// around the pressed chip could not be seen, and a focus ring looked the same anyway.
			const chips = await frame.evaluate(() => {
				(document.activeElement as HTMLElement | null)?.blur();
				const pressed = document.querySelector('.chip[aria-pressed="true"]')!;
				const other = document.querySelector('.chip[aria-pressed="false"]')!;
				const look = (e: Element) => ({ bg: getComputedStyle(e).backgroundColor, fg: getComputedStyle(e).color, mark: getComputedStyle(e, '::before').content });
				return { pressed: look(pressed), other: look(other) };
			});
			const where = `${theme}: ${JSON.stringify(chips)}`;
			assert.notEqual(chips.pressed.mark, 'none', `the pressed chip carries a check mark (${where})`);
			assert.equal(chips.other.mark, 'none', where);
			if (!theme.includes('High Contrast')) {
				assert.notEqual(chips.pressed.bg, chips.other.bg, `the pressed chip is filled, the others not (${where})`);
			}
		}
	});
});
