/**
 * How much parallelism this machine really gives right now. Ratio tests compare pools against
 * serial; on a shared VM whose other tenants take the cores, "2 workers = 2x" cannot hold, and a
 * failure would say nothing about Poolscope. Measured with two plain Node processes and a
 * fixed amount of work, run together and then one after the other.
 */
import { spawn } from 'node:child_process';

const WORK = 'let x = 0; for (let i = 0; i < 3e8; i++) { x += i % 7; } if (x < 0) console.log(x);';

function once(): Promise<void> {
	return new Promise((resolve) => spawn(process.execPath, ['-e', WORK], { stdio: 'ignore' }).on('close', () => resolve()));
}

export async function parallelCapacity(): Promise<number> {
	let t = performance.now();
	await once();
	await once();
	const sequential = performance.now() - t;
	t = performance.now();
	await Promise.all([once(), once()]);
	const together = performance.now() - t;
	return sequential / together;
}
