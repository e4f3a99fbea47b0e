/** A few DOM helpers. Every piece of data goes in as text: nothing from a run is ever parsed as HTML. */
export type Child = Node | string | number | undefined | null | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs)) {
		if (v !== undefined) {
			el.setAttribute(k, v);
		}
	}
	for (const c of children) {
		if (c === undefined || c === null || c === false) {
			continue;
		}
		el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
	}
	return el;
}

export function setText(el: Element, text: string): void {
	if (el.textContent !== text) {
		el.textContent = text;
	}
}

export function setClass(el: Element, name: string): void {
	if (el.className !== name) {
		el.className = name;
	}
}

/**
 * Makes `parent`'s children exactly `nodes`, in order, touching only what differs: nodes already
 * in place are not moved (a node taken out and put back mid-click loses the click, and focus).
 */
export function syncChildren(parent: Element, nodes: readonly Element[]): void {
	const keep = new Set<Element>(nodes);
	for (const child of [...parent.children]) {
		if (!keep.has(child)) {
			child.remove();
		}
	}
	nodes.forEach((node, i) => {
		const at = parent.children[i];
		if (at !== node) {
			parent.insertBefore(node, at ?? null);
		}
	});
}

export function button(label: string, attrs: Record<string, string | undefined>, onClick: () => void): HTMLButtonElement {
	const b = h('button', { type: 'button', ...attrs }, label);
	b.addEventListener('click', onClick);
	return b;
}

export function icon(name: string): HTMLElement {
	return h('span', { class: `codicon codicon-${name}`, 'aria-hidden': 'true' });
}

/** A CSS custom property's value (theme colours for canvases). */
const themeVars = new Map<string, string>();

/**
 * A theme variable, read once per theme: getComputedStyle right after a DOM change forces a
 * style recalculation of the whole panel (60 ms at the end of a 100k-task run).
 */
export function cssVar(name: string, fallbackValue: string): string {
	let v = themeVars.get(name);
	if (v === undefined) {
		v = getComputedStyle(document.body).getPropertyValue(name).trim();
		themeVars.set(name, v);
	}
	return v || fallbackValue;
}

// VS Code switches themes by rewriting the variables on <html> and the classes on <body>.
const forgetTheme = new MutationObserver(() => themeVars.clear());
forgetTheme.observe(document.documentElement, { attributes: true, attributeFilter: ['style', 'class'] });
forgetTheme.observe(document.body, { attributes: true, attributeFilter: ['class'] });

/**
 * An element's client size, kept up to date by a ResizeObserver (whose callback runs after
 * layout). Reading clientWidth while drawing forces a layout of the whole panel whenever anything
 * changed since the last one: in the real webview that was the panel's largest cost during a
 * 100k-task run (570 ms of it, in the futures grid's column count).
 */
export function observedSize(el: HTMLElement, onResize: () => void): { width: number; height: number } {
	const size = { width: 0, height: 0 };
	new ResizeObserver(() => {
		size.width = el.clientWidth;
		size.height = el.clientHeight;
		onResize();
	}).observe(el);
	return size;
}

/**
 * Sizes a canvas for the device pixel ratio (sharp on HiDPI) and returns its 2D context scaled
 * to CSS pixels; resizing only when the size changed keeps frames cheap.
 */
export function sizedContext(canvas: HTMLCanvasElement, width: number, height: number): CanvasRenderingContext2D | null {
	const dpr = window.devicePixelRatio || 1;
	if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
		canvas.width = Math.round(width * dpr);
		canvas.height = Math.round(height * dpr);
		canvas.style.width = `${width}px`;
		canvas.style.height = `${height}px`;
	}
	const ctx = canvas.getContext('2d');
	ctx?.setTransform(dpr, 0, 0, dpr, 0, 0);
	return ctx;
}
