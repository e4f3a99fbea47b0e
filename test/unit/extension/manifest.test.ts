/** package.json's contributions agree with each other: the editor's menus show where the extension works. */
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..', '..');

interface MenuItem {
	command: string;
	when?: string;
}

describe('package.json', () => {
	const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { activationEvents: string[]; contributes: { menus: Record<string, MenuItem[]> } };
	// The languages that activate the extension are the ones its code lenses are registered for.
	const languages = manifest.activationEvents.filter((e) => e.startsWith('onLanguage:')).map((e) => e.slice('onLanguage:'.length));

	it('the editor menus (context menu, title bar) show for every language that gets the lenses, JSX and TSX too', () => {
		assert.ok(languages.includes('typescriptreact') && languages.includes('python'), `activation languages: ${languages.join(', ')}`);
		const items = [...manifest.contributes.menus['editor/context']!, ...manifest.contributes.menus['editor/title']!];
		for (const item of items) {
			const m = /editorLangId =~ \/(.*)\/$/.exec(item.when ?? '');
			assert.ok(m, `${item.command}: when "${item.when}" is not an editorLangId match`);
			const re = new RegExp(m[1]!);
			assert.deepEqual(languages.filter((l) => !re.test(l)), [], `${item.command} is missing from the menu for these languages`);
		}
	});
});
