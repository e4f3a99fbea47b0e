/**
 * `npm run bench`: every speed target as a ratio against the raw library, measured in the same
 * run on the same machine (never a timed assertion in a test). `--json` prints one JSON object
 * per row; `--quick` uses smaller inputs. Sections live in their own files.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRow, BenchSection } from './benchTypes';

/** Sections are separate bundles (out/test/bench/<name>Bench.js), loaded by path at run time. */
function loadSections(): [string, BenchSection][] {
	const sections: [string, BenchSection][] = [];
	for (const name of ['js', 'python', 'extension']) {
		const file = join(__dirname, `${name}Bench.js`);
		if (existsSync(file)) {
			// eslint-disable-next-line @typescript-eslint/no-require-imports
			sections.push([name, (require(file) as { default: BenchSection }).default]);
		}
	}
	return sections;
}

function table(rows: BenchRow[]): string {
	const head = ['benchmark', 'ratio', 'goal', 'ok', 'detail'];
	const body = rows.map((r) => [
		r.name,
		r.ratio.toFixed(2),
		r.goal === undefined ? '' : `>= ${r.goal}`,
		r.goal === undefined ? '' : r.ratio >= r.goal ? 'yes' : 'NO',
		r.detail,
	]);
	const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
	const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
	return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
	const json = process.argv.includes('--json');
	const quick = process.argv.includes('--quick');
	const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
	const rows: BenchRow[] = [];
	for (const [name, section] of loadSections()) {
		if (only && only !== name) {
			continue;
		}
		const sectionRows = await section({ quick });
		rows.push(...sectionRows);
		if (json) {
			for (const r of sectionRows) {
				process.stdout.write(`${JSON.stringify(r)}\n`);
			}
		}
	}
	if (!json) {
		process.stdout.write(`${table(rows)}\n`);
	}
}

main().catch((e) => {
	console.error(e);
	process.exit(1);
});
