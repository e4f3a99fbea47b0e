/**
 * How much parallelism this machine really gives right now. Ratio tests compare pools against
 * serial; on a shared VM whose other tenants take the cores, "2 workers = 2x" cannot hold, and a
 * failure would say nothing about Poolscope. Measured with two plain Node processes and a
 * fixed amount of work, run together and then one after the other.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

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

/**
 * The same loop pinned to each core in turn (Linux `taskset`), in ms; undefined where it cannot
 * be pinned. A VM's vCPUs need not be equally fast: on this one a loop took 0.53 s on cpu0 and
 * 0.89 s on cpu1, so two workers could not reach 2x whatever the pool did.
 */
export async function coreTimes(): Promise<number[] | undefined> {
	if (process.platform !== 'linux') {
		return undefined;
	}
	const times: number[] = [];
	for (let cpu = 0; cpu < Math.min(availableParallelism(), 8); cpu++) {
		const t = performance.now();
		const ok = await new Promise<boolean>((resolve) => spawn('taskset', ['-c', String(cpu), process.execPath, '-e', WORK], { stdio: 'ignore' }).on('close', (code) => resolve(code === 0)).on('error', () => resolve(false)));
		if (!ok) {
			return undefined;
		}
		times.push(performance.now() - t);
	}
	return times;
}

/**
 * Wall time of an empty Node start (median of `n`), in ms, with the given environment. Node 20
 * reads NODE_EXTRA_CA_CERTS into a certificate store at start-up (nodejs/node#40524), which on
 * this machine costs every process worker ~40-60 ms; Node 24 defers it.
 */
export async function nodeStartMs(env: NodeJS.ProcessEnv, n = 7): Promise<number> {
	const times: number[] = [];
	for (let i = 0; i < n; i++) {
		const t = performance.now();
		await new Promise<void>((resolve) => spawn(process.execPath, ['-e', ''], { stdio: 'ignore', env }).on('close', () => resolve()));
		times.push(performance.now() - t);
	}
	times.sort((a, b) => a - b);
	return times[n >> 1]!;
}
