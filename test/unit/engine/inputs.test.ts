/** The inputs expression: literals read as data on the caller's thread, everything else evaluated off it. */
import * as assert from 'node:assert/strict';
import { evaluateInputs, literalInputs } from '../../../engine/js/inputs';

describe('JS inputs', () => {
	it('a plain literal is read as data: arrays spread as arguments, numeric separators, strings kept as written', () => {
		assert.deepEqual(literalInputs('[[38], [38]]'), { ok: true, items: [[38], [38]] });
		assert.deepEqual(literalInputs('[1_000_000, 2]'), { ok: true, items: [[1_000_000], [2]] });
		assert.deepEqual(literalInputs('[["a_1", 2], "b"]'), { ok: true, items: [['a_1', 2], ['b']] });
		assert.deepEqual(literalInputs('[1.5, -2e3, true, null]'), { ok: true, items: [[1.5], [-2e3], [true], [null]] });
	});

	it('anything that is code, or JavaScript but not JSON, is left to the evaluator', () => {
		for (const expr of ['[1, 2,]', 'Array.from({ length: 3 }, (_, i) => [i])', "['a']", '[{ "a": 1 }]', '[1_2_]', '[x]', '({ length: 2 })', '[Infinity]']) {
			assert.equal(literalInputs(expr), undefined, expr);
		}
	});

	it('gives the same calls either way', async () => {
		for (const expr of ['[[38], [38]]', '[1_000_000, 2]', '[["a_1", 2], "b"]', '[1.5, -2e3, true, null, []]']) {
			const fast = await evaluateInputs(expr);
			const evaluated = await evaluateInputs(`(${expr})`); // parenthesised: not a literal any more
			assert.deepEqual(fast, evaluated, expr);
		}
		assert.deepEqual(await evaluateInputs('[1, 2,]'), { ok: true, items: [[1], [2]] });
	});
});
