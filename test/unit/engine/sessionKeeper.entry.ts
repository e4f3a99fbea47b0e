/**
 * Leads a session of its own (spawned detached) and starts, in that same session, each command
 * line it reads on stdin (a JSON array of arguments to node), saying `host <pid>` for each: the
 * stand-in for code-server's server, which outlives the extension hosts it starts.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

createInterface({ input: process.stdin }).on('line', (line) => {
	const child = spawn(process.execPath, JSON.parse(line) as string[], { stdio: ['ignore', 'inherit', 'inherit'] });
	console.log(`host ${child.pid}`);
});
