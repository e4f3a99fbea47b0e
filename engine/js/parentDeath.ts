/**
 * A JS process worker learns that its host is gone from the IPC channel ('disconnect'), but only
 * when its event loop runs: one stuck in a long or endless call would live on, a core busy, after
 * the host was killed. On Linux the workers start through util-linux's `setpriv --pdeathsig KILL`,
 * and the kernel ends each one when the thread that started it dies. Where setpriv is missing (or
 * too old for the option) workers start as before. A worker thread watching the parent from
 * inside each process cost ~60 ms and ~80 ms of CPU per worker here; one exec costs ~1 ms.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

let launcher: string | null | undefined;

/** The setpriv binary to start workers through, or undefined; checked once per thread. */
export function parentDeathLauncher(): string | undefined {
	if (launcher === undefined) {
		launcher = null;
		if (process.platform === 'linux') {
			const found = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
			if (found && spawnSync(found, ['--pdeathsig', 'KILL', '--', 'true'], { stdio: 'ignore', timeout: 5000 }).status === 0) {
				launcher = found;
			}
		}
	}
	return launcher ?? undefined;
}

/** `fork()` options that start `execArgv` + the module under the launcher when there is one. */
export function forkThroughLauncher(execArgv: string[]): { execPath?: string; execArgv: string[] } {
	const setpriv = parentDeathLauncher();
	return setpriv ? { execPath: setpriv, execArgv: ['--pdeathsig', 'KILL', '--', process.execPath, ...execArgv] } : { execArgv };
}
