import type { TaskState } from '../../engine/protocol/runModel';
import { cssVar } from '../dom';

/** State colours from the VS Code theme (re-read when the theme changes). */
let cache: Record<TaskState, string> | undefined;

export function stateColors(): Record<TaskState, string> {
	cache ??= {
		submitted: cssVar('--vscode-disabledForeground', '#888'),
		queued: cssVar('--vscode-charts-yellow', '#cca700'),
		running: cssVar('--vscode-charts-blue', '#3794ff'),
		finished: cssVar('--vscode-charts-green', '#388a34'),
		failed: cssVar('--vscode-charts-red', '#f14c4c'),
		cancelled: cssVar('--vscode-charts-purple', '#b180d7'),
		timedOut: cssVar('--vscode-charts-orange', '#d18616'),
		rejected: cssVar('--vscode-errorForeground', '#f48771'),
	};
	return cache;
}

export function forgetColors(): void {
	cache = undefined;
}

// Two dark themes share the body class: the variables on <html> change too.
const themeChange = new MutationObserver(forgetColors);
themeChange.observe(document.body, { attributes: true, attributeFilter: ['class'] });
themeChange.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
