import { join } from 'node:path';
import { Piscina } from 'piscina';
import { bundleUserFunction } from '../../engine/js/userModule';
import { StartSlots } from '../../engine/js/startSlots';
import { workerFile } from '../../engine/paths';
const FIX = join(__dirname, '..', '..', '..', 'test', 'bench', 'fixtures');
(async () => {
	const b = await bundleUserFunction(join(FIX, 'noop.js'), 'noop');
	const raws: number[] = []; const ws: number[] = [];
	for (let r = 0; r < 6; r++) {
		let t0 = performance.now();
		let pool = new Piscina({ filename: join(FIX, 'raw-worker.js'), minThreads: 2, maxThreads: 2 });
		await Promise.all(Array.from({ length: 20000 }, (_, i) => pool.run(i)));
		await pool.destroy();
		raws.push(performance.now() - t0);
		t0 = performance.now();
		pool = new Piscina({ filename: workerFile('threadTask'), minThreads: 2, maxThreads: 2, recordTiming: false, workerData: { bundle: b.file, fn: 'noop', channel: 'x', startSlots: StartSlots.create().buffer } });
		await Promise.all(Array.from({ length: 20000 }, (_, i) => pool.run([i, [i]])));
		await pool.destroy();
		ws.push(performance.now() - t0);
	}
	const med = (a: number[]) => a.slice().sort((x, y) => x - y)[a.length >> 1]!;
	console.log('raw', med(raws).toFixed(0), Math.min(...raws).toFixed(0), 'our worker', med(ws).toFixed(0), Math.min(...ws).toFixed(0), 'ratio', (med(raws) / med(ws)).toFixed(2));
	b.dispose();
})();
