import type { ShownState } from '../panelState';
import { cssVar } from '../dom';

/** State colours from the VS Code theme (re-read when the theme changes). */
let cache: Record<ShownState, string> | undefined;

export function stateColors(): Record<ShownState, string> {
	cache ??= {
		submitted: cssVar('--vscode-disabledForeground', '#888'),
		queued: cssVar('--vscode-charts-yellow', '#cca700'),
		// The chart colours are all taken; the terminal's cyan has a default in every kind of theme
		// and a hue no other state has, in light, dark and high-contrast themes (docs/decisions.md).
		callQueue: cssVar('--vscode-terminal-ansiCyan', '#11a8cd'),
		running: cssVar('--vscode-charts-blue', '#3794ff'),
		finished: cssVar('--vscode-charts-green', '#388a34'),
		failed: cssVar('--vscode-charts-red', '#f14c4c'),
		cancelled: cssVar('--vscode-charts-purple', '#b180d7'),
		timedOut: cssVar('--vscode-charts-orange', '#d18616'),
		rejected: cssVar('--vscode-errorForeground', '#f48771'),
	};
	return cache;
}

/**
 * What a thread waited on (WAIT_LETTERS order; on a CPU is the bar's own colour): the GIL orange,
 * a lock purple, either (not told apart) yellow, I/O or sleep grey.
 */
let waitCache: (string | undefined)[] | undefined;

export function waitColors(): (string | undefined)[] {
	waitCache ??= [
		undefined,
		cssVar('--vscode-charts-orange', '#d18616'),
		cssVar('--vscode-charts-purple', '#b180d7'),
		cssVar('--vscode-charts-yellow', '#cca700'),
		cssVar('--vscode-descriptionForeground', '#888'),
	];
	return waitCache;
}

export function forgetColors(): void {
	cache = undefined;
	waitCache = undefined;
}

// Two dark themes share the body class: the variables on <html> change too.
const themeChange = new MutationObserver(forgetColors);
themeChange.observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeChange.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });

/** Black or white, whichever reads better on `color` (#rgb, #rrggbb or rgb()/rgba(); else the theme's text colour). */
export function inkOn(color: string): string {
	let rgb: number[] | undefined;
	const hex = /^#([0-9a-f]{3}|[0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color.trim());
	if (hex) {
		const d = hex[1]!;
		rgb = d.length === 3 ? [...d].map((c) => parseInt(c + c, 16)) : [0, 2, 4].map((i) => parseInt(d.slice(i, i + 2), 16));
	} else {
		const fn = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)/i.exec(color.trim());
		rgb = fn ? [Number(fn[1]), Number(fn[2]), Number(fn[3])] : undefined;
	}
	if (!rgb) {
		return cssVar('--vscode-foreground', '#cccccc');
	}
	// Relative luminance (WCAG): the contrast with black and with white, the larger wins.
	const [r, g, b] = rgb.map((v) => {
		const c = v / 255;
		return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
	}) as [number, number, number];
	const l = 0.2126 * r + 0.7152 * g + 0.0722 * b;
	return (l + 0.05) / 0.05 >= 1.05 / (l + 0.05) ? '#000000' : '#ffffff';
}
