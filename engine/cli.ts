/**
 * `poolscope`: the engine without VS Code. `run` prints a readable summary, or with --json one
 * protocol event per line on stdout and nothing else there.
 */
import { availableParallelism, constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { advise, adviseChunksize, amdahlFit, speedups } from './compare/advice';
import { chunksizeConfigs, comparableStartMethods, compareConfigs, configLabel, powersOfTwoUpTo, runConfigs, sweepConfigs, type BaseRequest, type Config, type Measurement } from './compare/compare';
import { amdahlSentence, peakMemoryLabel, seenLabel } from './compare/measurement';
import { parseArgs } from 'node:util';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chunksizeApplies, findFunctions, findStaticMethods, languageOfFile, MAX_WORKERS, type SourceFunction, type SourceLanguage } from './source/sourceFunctions';
import { megabytes, type PoolEvent, type PoolKind, type PythonStartMethod, type RunFinishedEvent } from './protocol/events';
import { applyEvents, awaitedWords, CORE_WAIT_WORTH_SAYING, createRunModel, gilSample, WAIT_LABELS, workerCpuShares, workerLooks } from './protocol/runModel';
import { toChromeTrace } from './trace/chromeTrace';
import { startRun } from './startRun';
import { STACKS_SHOWN, STALL_ADVICE } from './stall/stallWatch';
import { MIN_MAX_HEAP_MB } from './runTypes';

const HELP = `Usage: poolscope run <file> <function> [--inputs <expr>] [options]
       poolscope compare <file> <function> [--inputs <expr>] [--workers N] [--start-methods fork,spawn] [--repeat N] [--json]
       poolscope sweep <file> <function> [--inputs <expr>] [--pool thread|process] [--workers 1,2,4,8] [--repeat N] [--json]
       poolscope sweep <file> <function> [--inputs <expr>] --pool process --chunksizes 1,10,100 [--workers N] [--json]

Runs a top-level function of a Python, JavaScript or TypeScript file once per input, on a pool,
and reports every worker, task and queue. What the code prints is shown as it comes, each line
labelled with its task ([task 3]) or, outside tasks, the process ([main], [worker 1]).

Options:
  --pool thread|process|serial   the pool (default: process for Python, thread for JS/TS,
                                 as "Run in parallel" in the editor)
  --workers N                    pool size (default: the pool's own default)
  --inputs <expr>                an expression yielding an iterable (one call per item; a
                                 tuple/array item is spread as arguments), or a count N (0..N-1)
  --timeout <ms>                 per-task timeout; a task over it is stopped
  --stall <ms>                   run: tasks running and none started, ended or printed for
                                 this long is looked at (do they compute or wait?), and a hang
                                 is told at once (default 10000, longer when tasks take long;
                                 0: never, nor a file that never finishes loading)
  --max-queue N                  bound the pending queue; the producer waits when it is full
  --chunksize N                  items per message (process pools; Python map)
  --start-method fork|spawn|forkserver   Python process pools
  --max-tasks-per-child N        Python process pools (3.11+): a worker is replaced after N tasks
  --mode submit|map              Python: executor.submit per item (default) or executor.map
  --priority normal|low          low: workers at nice 10, so other programs stay responsive
                                 (default: normal)
  --max-heap-mb N                JS pools: heap limit per worker (default 1024; 0: Node's own);
                                 a call past it fails with "out of memory", its worker replaced
  --python <path>                Python interpreter (default: python3, then python, on PATH)
  --json                         one protocol event per line on stdout, nothing else (compare
                                 and sweep: one measurement per line, then the advice)
  --trace <file>                 also write a Chrome trace-event file (Perfetto, chrome://tracing)
  -h, --help                     this text

Flags left out are taken from the function's \`poolscope:\` comments (inputs=..., pool=...,
workers=N, timeoutMs=N, maxTasksPerChild=N, startMethod=..., mode=..., chunksize=N), as a click on
"Run in parallel" in the editor does.

compare runs the function serially, on a thread pool and on a process pool, one after another,
and says which to use; sweep runs one pool at each worker count and fits Amdahl's law, or, with
--chunksizes, one process pool at each chunksize (the first is the baseline).
  --repeat N                     repetitions per configuration (1-5); the median is shown
  --start-methods a,b            compare (Python): one process pool per start method
  --chunksizes 1,10,100          sweep: chunksizes instead of worker counts (process pools)

Exit code: 0 when every task finished; 1 when any failed, timed out or was cancelled;
2 for a usage error or code that could not load.`;

/** The functions the editor would show lenses on, and `fn` among them with its `poolscope:` comments. */
function declaredFor(file: string, fn: string, language: SourceLanguage): { names: string[]; declared?: SourceFunction } {
	let text: string;
	try {
		text = readFileSync(file, 'utf8');
	} catch {
		return { names: [] }; // unreadable for another reason than a missing file: the run says why
	}
	const found = fn.includes('.') ? findStaticMethods(text, language) : findFunctions(text, language);
	return { names: found.map((f) => f.name), declared: found.find((f) => f.name === fn) };
}

function usage(message: string): never {
	process.stderr.write(`poolscope: ${message}\n\nRun "poolscope --help" for usage.\n`);
	process.exit(2);
}

function positiveInt(name: string, v: string | undefined): number | undefined {
	if (v === undefined) {
		return undefined;
	}
	if (!/^\d+$/.test(v) || Number(v) < 1) {
		usage(`--${name} must be a whole number of at least 1 (got "${v}")`);
	}
	// As the setting and a comment: 5,000 JS worker threads (or forks) took the machine for minutes.
	if (name === 'workers' && Number(v) > MAX_WORKERS) {
		usage(`--workers must be a whole number from 1 to ${MAX_WORKERS} (got "${v}")`);
	}
	return Number(v);
}

async function main(): Promise<void> {
	let parsed;
	try {
		parsed = parseArgs({
			allowPositionals: true,
			options: {
				pool: { type: 'string' },
				workers: { type: 'string' },
				inputs: { type: 'string' },
				timeout: { type: 'string' },
				stall: { type: 'string' },
				'max-queue': { type: 'string' },
				chunksize: { type: 'string' },
				'start-method': { type: 'string' },
				mode: { type: 'string' },
				priority: { type: 'string' },
				'max-heap-mb': { type: 'string' },
				'max-tasks-per-child': { type: 'string' },
				python: { type: 'string' },
				json: { type: 'boolean', default: false },
				trace: { type: 'string' },
				repeat: { type: 'string' },
				'start-methods': { type: 'string' },
				chunksizes: { type: 'string' },
				help: { type: 'boolean', short: 'h', default: false },
			},
		});
	} catch (e) {
		usage(e instanceof Error ? e.message : String(e));
	}
	const { values: given, positionals } = parsed;
	if (given.help || positionals.length === 0) {
		process.stdout.write(`${HELP}\n`);
		process.exit(given.help ? 0 : 2);
	}
	const [command, file, fn] = positionals;
	if (command !== 'run' && command !== 'compare' && command !== 'sweep') {
		usage(`unknown command "${command}" (one of run, compare, sweep)`);
	}
	if (!file || !fn) {
		usage('run needs a file and a function name');
	}
	const language = languageOfFile(file);
	if (!language) {
		usage(`${file}: not a Python, JavaScript or TypeScript file`);
	}
	// Said before anything else: a missing file or a folder read as "--inputs is required".
	const stat = statSync(file, { throwIfNoEntry: false });
	if (!stat) {
		usage(`${file}: no such file`);
	}
	if (stat.isDirectory()) {
		usage(`${file} is a folder: give the Python, JavaScript or TypeScript file that defines ${fn}`);
	}
	// As one click in the editor: the function's poolscope comments fill in what the flags leave out.
	const { names, declared } = declaredFor(file, fn, language);
	if (declared?.problems?.length) {
		usage(`the poolscope comment above ${fn} in ${file} cannot be read: ${declared.problems.join('; ')}`);
	}
	const o = {
		...given,
		inputs: given.inputs ?? declared?.inputs,
		pool: given.pool ?? declared?.options?.pool ?? (language === 'python' ? 'process' : 'thread'),
		workers: given.workers ?? (declared?.options?.workers !== undefined ? String(declared.options.workers) : undefined),
		timeout: given.timeout ?? (declared?.options?.timeoutMs ? String(declared.options.timeoutMs) : undefined),
		'max-tasks-per-child': given['max-tasks-per-child'] ?? (declared?.options?.maxTasksPerChild ? String(declared.options.maxTasksPerChild) : undefined),
		'start-method': given['start-method'] ?? declared?.options?.startMethod,
		mode: given.mode ?? declared?.options?.mode,
	};
	// A declared chunksize is for process pools (and Python's map): one that --pool or --mode
	// took elsewhere is left out, as the editor's "Run on Thread Pool" leaves it out.
	const declaredChunksize = declared?.options?.chunksize !== undefined && chunksizeApplies(o.pool, language, o.mode) ? String(declared.options.chunksize) : undefined;
	o.chunksize = given.chunksize ?? declaredChunksize;
	if (o.inputs === undefined && !declared && names.length) {
		usage(`${file} has no top-level function ${fn} (functions in this file: ${names.join(', ')}); for one defined another way, give --inputs`);
	}
	if (o.inputs === undefined) {
		usage('--inputs is required when no `poolscope: inputs=` comment sits above the function (e.g. --inputs 8 or --inputs "[[1], [2]]")');
	}
	if (!['thread', 'process', 'serial'].includes(o.pool)) {
		usage(`--pool must be thread, process or serial (got "${o.pool}")`);
	}
	if (o['start-method'] && !['fork', 'spawn', 'forkserver'].includes(o['start-method'])) {
		usage(`--start-method must be fork, spawn or forkserver (got "${o['start-method']}")`);
	}
	if (o.mode && !['submit', 'map'].includes(o.mode)) {
		usage(`--mode must be submit or map (got "${o.mode}")`);
	}
	if (o.priority && !['normal', 'low'].includes(o.priority)) {
		usage(`--priority must be normal or low (got "${o.priority}")`);
	}
	const priority = o.priority as 'normal' | 'low' | undefined;
	if (o['max-heap-mb'] !== undefined && (!/^\d+$/.test(o['max-heap-mb']) || (Number(o['max-heap-mb']) > 0 && Number(o['max-heap-mb']) < MIN_MAX_HEAP_MB))) {
		usage(`--max-heap-mb must be 0 (Node's own limit) or a whole number of MB from ${MIN_MAX_HEAP_MB} (got "${o['max-heap-mb']}")`);
	}
	const maxHeapMb = o['max-heap-mb'] === undefined ? undefined : Number(o['max-heap-mb']);
	// A flag that would do nothing is refused, saying where it applies: silently ignored, it made a
	// comparison look like it had measured what was asked.
	refuseIdleFlags(command, language, o.pool, given);
	if (o['max-queue'] !== undefined && language === 'python') {
		usage('--max-queue bounds the pending queue of JS pools; a Python executor takes every submit at once (its call queue, in a process pool, holds workers + 1)');
	}
	if (o.chunksize !== undefined && language === 'python' && o.mode !== 'map') {
		usage('--chunksize applies to executor.map in Python: add --mode map');
	}
	if (o.repeat !== undefined && command === 'run') {
		usage('--repeat is for compare and sweep');
	}
	if (o['start-methods'] !== undefined && command !== 'compare') {
		usage('--start-methods is for compare (a run or a sweep takes --start-method)');
	}
	if (o.trace !== undefined && command !== 'run') {
		usage('--trace writes one run\'s trace: use it with run');
	}
	if (o.trace !== undefined && !existsSync(dirname(resolve(o.trace)))) {
		usage(`--trace ${o.trace}: the folder ${dirname(resolve(o.trace))} does not exist`);
	}
	if (o.trace !== undefined && statSync(o.trace, { throwIfNoEntry: false })?.isDirectory()) {
		usage(`--trace ${o.trace} is a folder: give the trace file's name`);
	}
	if (command === 'compare' || command === 'sweep') {
		await compareCommand(command, {
			file: resolve(file), fn, language, inputs: o.inputs, pythonPath: o.python, workspaceRoot: process.cwd(),
			startMethod: o['start-method'] as PythonStartMethod | undefined, timeoutMs: positiveInt('timeout', o.timeout),
			maxTasksPerChild: positiveInt('max-tasks-per-child', o['max-tasks-per-child']), priority,
			maxHeapMb, maxQueue: positiveInt('max-queue', o['max-queue']), mode: o.mode as 'submit' | 'map' | undefined,
		}, o);
		return;
	}
	const runId = `cli-${process.pid}`;
	const model = createRunModel(runId);
	const all: PoolEvent[] = [];
	let early: PoolEvent[] | undefined = o.json ? [] : undefined;
	const handle = startRun({
		runId,
		file: resolve(file),
		fn,
		language,
		pool: o.pool as PoolKind,
		workers: positiveInt('workers', o.workers),
		inputs: o.inputs,
		timeoutMs: positiveInt('timeout', o.timeout),
		stallMs: o.stall === '0' ? 0 : positiveInt('stall', o.stall),
		maxQueue: positiveInt('max-queue', o['max-queue']),
		chunksize: positiveInt('chunksize', o.chunksize),
		startMethod: o['start-method'] as PythonStartMethod | undefined,
		maxTasksPerChild: positiveInt('max-tasks-per-child', o['max-tasks-per-child']),
		mode: o.mode as 'submit' | 'map' | undefined,
		priority,
		maxHeapMb,
		pythonPath: o.python,
		workspaceRoot: process.cwd(),
	}, (batch) => {
		if (early) {
			// A Python module prints as it is imported, before the runner can say run.started (it
			// needs the inputs' count): a --json reader gets run.started first all the same.
			const at = batch.findIndex((e) => e.type === 'run.started');
			if (at < 0) {
				early.push(...batch);
				return;
			}
			batch = [batch[at]!, ...early, ...batch.slice(0, at), ...batch.slice(at + 1)];
			early = undefined;
		}
		applyEvents(model, batch);
		if (o.trace) {
			all.push(...batch);
		}
		if (o.json) {
			if (!stdoutClosed) {
				process.stdout.write(`${batch.map((e) => JSON.stringify(e)).join('\n')}\n`);
			}
		} else {
			printRunOutput(batch);
		}
	});
	onInterrupt('cancelling', (why) => void handle.cancel(`interrupted (${why})`));
	onStdoutClosed(() => void handle.cancel('its output was closed (the reader of stdout went away)'));
	const end = await handle.done;
	if (!o.json && !stdoutClosed) {
		endOpenLines();
		process.stdout.write(summary(end, model));
	}
	if (o.trace) {
		const { writeFileSync } = await import('node:fs');
		try {
			writeFileSync(o.trace, JSON.stringify(toChromeTrace(all)));
		} catch (e) {
			// After the summary: a trace that cannot be written must not take the run's report with it.
			process.stderr.write(`poolscope: the trace could not be written: ${e instanceof Error ? e.message : String(e)}\n`);
			process.exitCode = 1;
			return;
		}
	}
	if (end.outcome === 'error') {
		process.stderr.write(`poolscope: ${end.error?.name ?? 'Error'}: ${end.error?.message ?? 'the run failed'}${end.error?.hint ? `\n  ${end.error.hint}` : ''}\n`);
		process.exitCode = end.error?.kind === 'load' ? 2 : 1;
		return;
	}
	const c = end.counts;
	process.exitCode = c.failed + c.timedOut + c.cancelled + c.rejected > 0 ? 1 : 0;
}

/**
 * A flag the user gave that the run would ignore is refused, saying where it applies (only flags
 * given: what a `poolscope:` comment says is how one click runs it, and an explicit --pool wins).
 */
function refuseIdleFlags(command: 'run' | 'compare' | 'sweep', language: SourceLanguage, pool: string, given: Record<string, string | boolean | undefined>): void {
	const python = language === 'python';
	// compare runs a process pool whatever --pool says; run and sweep only the pool named.
	const processPool = command === 'compare' || pool === 'process';
	const poolNote = command === 'compare' ? '' : ` (this ${command} is on a ${pool} pool)`;
	if (given.pool !== undefined && command === 'compare') {
		usage('compare runs serially, on a thread pool and on a process pool itself: --pool is for run and sweep');
	}
	if (given.stall !== undefined && command !== 'run') {
		usage('--stall is for run (compare and sweep measure: they leave a stalled run to --timeout)');
	}
	if (given.chunksizes !== undefined && command !== 'sweep') {
		usage('--chunksizes is for sweep (one process pool per chunksize)');
	}
	if (given.chunksize !== undefined && command !== 'run') {
		usage(`--chunksize is for run: ${command === 'sweep' ? 'sweep --chunksizes 1,10,100 compares chunksizes' : 'compare sends one task per message in every configuration'}`);
	}
	if (given.chunksize !== undefined && pool !== 'process') {
		usage(`--chunksize applies to process pools${poolNote}`);
	}
	if (given.workers !== undefined && command === 'run' && pool === 'serial') {
		usage('--workers does nothing in a serial run (one call after another, on one worker)');
	}
	for (const flag of ['start-method', 'max-tasks-per-child'] as const) {
		if (given[flag] !== undefined && !python) {
			usage(`--${flag} is for Python process pools (this is a ${language} file)`);
		}
		if (given[flag] !== undefined && !processPool) {
			usage(`--${flag} is for Python process pools${poolNote}`);
		}
	}
	if (given.mode !== undefined && !python) {
		usage('--mode is for Python (executor.submit or executor.map); a JS pool takes one call per input');
	}
	if (given['max-heap-mb'] !== undefined && python) {
		usage('--max-heap-mb caps a JS worker\'s heap; a Python worker has no such limit');
	}
	if (given.python !== undefined && !python) {
		usage('--python is for Python files; a JS or TS file runs on this Node');
	}
}

/**
 * Ctrl-C: `cancel` once, saying `doing`; a second Ctrl-C quits at once. SIGTERM (`kill`, `timeout`)
 * and SIGHUP (the terminal closed) too: their default ended the CLI at once and left the run's JS
 * bundle folder behind. Returns what interrupted it ("Ctrl-C", "SIGTERM"), once it has.
 */
function onInterrupt(doing: string, cancel: (why: string) => void): () => string | undefined {
	let interrupted: string | undefined;
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.on(signal, () => {
			if (interrupted) {
				process.exit(128 + constants.signals[signal]);
			}
			interrupted = signal === 'SIGINT' ? 'Ctrl-C' : signal;
			process.stderr.write(`poolscope: ${doing} (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again to quit at once)\n`);
			cancel(interrupted);
		});
	}
	return () => interrupted;
}

let stdoutClosed = false;

/**
 * `poolscope run ... --json | head`: the reader goes away, and the next write failed with an
 * unhandled EPIPE (a Node stack trace, and the run's bundle folder left behind). The run is
 * cancelled as Ctrl-C would, nothing more is written to stdout, and the process ends normally.
 */
function onStdoutClosed(cancel: () => void): void {
	process.stdout.on('error', (e: NodeJS.ErrnoException) => {
		if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') {
			throw e;
		}
		if (!stdoutClosed) {
			stdoutClosed = true;
			cancel();
		}
	});
}

function list(name: string, v: string): number[] {
	const values = v.split(',').map((w) => positiveInt(name, w.trim())!);
	const twice = values.find((n, i) => values.indexOf(n) !== i);
	if (twice !== undefined) {
		usage(`--${name} lists ${twice} twice`);
	}
	return values;
}

async function compareCommand(command: 'compare' | 'sweep', base: BaseRequest, o: { workers?: string; repeat?: string; pool: string; json: boolean; 'start-methods'?: string; chunksizes?: string }): Promise<void> {
	const cores = availableParallelism();
	const repeat = positiveInt('repeat', o.repeat) ?? 1;
	if (repeat > 5) {
		usage('--repeat is at most 5');
	}
	let configs: Config[];
	const chunked = command === 'sweep' && o.chunksizes !== undefined;
	if (command === 'compare') {
		const methods = o['start-methods'] ? o['start-methods'].split(',').map((m) => m.trim()) : [];
		const bad = methods.find((m) => !['fork', 'spawn', 'forkserver'].includes(m));
		if (bad !== undefined) {
			usage(`--start-methods takes fork, spawn and forkserver (got "${bad}")`);
		}
		if (methods.length && base.language !== 'python') {
			usage('--start-methods is for Python files');
		}
		const comparable = comparableStartMethods(methods as PythonStartMethod[], base.maxTasksPerChild);
		if (comparable.note) {
			process.stderr.write(`poolscope: ${comparable.note}\n`);
		}
		configs = compareConfigs(positiveInt('workers', o.workers) ?? cores, comparable.methods);
	} else if (chunked) {
		const sizes = list('chunksizes', o.chunksizes!);
		if (sizes.length < 2) {
			usage('--chunksizes needs at least two sizes, e.g. 1,10,100');
		}
		if (o.pool !== 'process') {
			usage('a chunksize sweep needs --pool process (chunks are what a process pool sends per message)');
		}
		configs = chunksizeConfigs('process', positiveInt('workers', o.workers) ?? cores, sizes, base.language);
	} else {
		if (o.pool === 'serial') {
			usage('sweep needs --pool thread or --pool process');
		}
		configs = [{ pool: 'serial', workers: 1 }, ...sweepConfigs(o.pool as PoolKind, o.workers ? list('workers', o.workers) : powersOfTwoUpTo(2 * cores))];
	}
	const handle = runConfigs(base, configs, repeat, (m) => {
		if (stdoutClosed) {
			return;
		}
		if (o.json) {
			process.stdout.write(`${JSON.stringify({ type: 'measurement', ...m })}\n`);
		} else {
			process.stderr.write(`  ${configLabel(m.config)}: ${(m.wallMs / 1000).toFixed(3)} s\n`);
		}
	});
	const interruptedAt = onInterrupt('stopping the comparison', () => void handle.cancel());
	onStdoutClosed(() => void handle.cancel());
	let ms: Measurement[];
	try {
		ms = await handle.done;
	} catch (e) {
		process.stderr.write(`poolscope: ${e instanceof Error ? e.message : String(e)}\n`);
		process.exitCode = 2;
		return;
	}
	const interrupted = interruptedAt();
	if (interrupted) {
		// What ran is shown, but no fit or advice from a comparison cut short.
		process.stderr.write(`poolscope: interrupted (${interrupted}) after ${ms.length} of ${configs.length} configurations\n`);
	}
	const sp = speedups(ms, chunked ? 'first' : 'serial');
	const advice = interrupted ? 'Interrupted: no advice from part of a comparison.' : chunked ? adviseChunksize(ms, base.language) : advise(ms, cores, base.language);
	const points = ms.filter((m) => m.config.pool !== 'serial').map((m) => ({ workers: m.config.workers, speedup: sp.get(m)! }));
	// A fit needs two points of the curve at least (one point fits any serial fraction).
	const serialFraction = command === 'sweep' && !chunked && !interrupted && points.length >= 2 ? amdahlFit(points, cores) : undefined;
	if (stdoutClosed) {
		// Nobody reads the table any more (`| head`).
	} else if (o.json) {
		process.stdout.write(`${JSON.stringify({ type: 'advice', advice, cores, serialFraction, speedups: ms.map((m) => ({ ...m.config, speedup: sp.get(m) })) })}\n`);
	} else {
		// Columns that say something for this table only (chunksize only in a chunksize sweep, ...).
		const columns: [string, (m: Measurement) => string][] = [
			['pool', (m) => `${m.config.pool}${m.config.startMethod ? ` (${m.config.startMethod})` : ''}`],
			['workers', (m) => String(m.config.workers)],
			...(chunked ? [['chunksize', (m: Measurement) => String(m.config.chunksize)] as [string, (m: Measurement) => string]] : []),
			['wall (median)', (m) => `${(m.wallMs / 1000).toFixed(3)} s`],
			['min-max', (m) => (repeat > 1 ? `${(m.minMs / 1000).toFixed(3)}-${(m.maxMs / 1000).toFixed(3)}` : '')],
			[chunked ? `vs chunksize ${ms[0]?.config.chunksize}` : 'speedup', (m) => `${sp.get(m)!.toFixed(2)}x`],
			['cpu/wall', (m) => (m.cpuShare !== undefined ? m.cpuShare.toFixed(2) : '')],
			['one call', (m) => (m.taskMs !== undefined ? `${(m.taskMs / 1000).toFixed(3)} s` : '')],
			['machine CPU', (m) => (m.machineCpu !== undefined ? `${Math.round(m.machineCpu * 100)}%` : '')],
			['GIL wait', (m) => (m.gilWaitShare !== undefined ? `${Math.round(m.gilWaitShare * 100)}%` : '')],
			// What the workers were seen in inside their tasks (Linux looks; none in a measured run).
			...(ms.some((m) => seenLabel(m).text) ? [['seen', (m: Measurement) => seenLabel(m).text] as [string, (m: Measurement) => string]] : []),
			['peak memory', (m) => peakMemoryLabel(m)],
			// Tasks that failed or timed out end early: a row with them did not do the same work.
			...(ms.some((m) => m.failed > 0) ? [['failed', (m: Measurement) => String(m.failed)] as [string, (m: Measurement) => string]] : []),
		];
		const head = columns.map(([name]) => name);
		const rows = ms.map((m) => columns.map(([, cell]) => cell(m)));
		const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
		const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
		process.stdout.write(`${[line(head), ...rows.map(line)].join('\n')}\n`);
		if (serialFraction !== undefined) {
			process.stdout.write(`${amdahlSentence(serialFraction)} (${cores} cores)\n`);
		}
		process.stdout.write(`${advice}\n`);
	}
	process.exitCode = interrupted || ms.some((m) => m.failed > 0) ? 1 : 0;
}

/** Per stream, the source whose last line is still open (it printed no newline yet). */
const openLine: Partial<Record<'stdout' | 'stderr', string>> = {};

/**
 * What the user's code prints, as it comes, each line labelled with who wrote it (as GNU
 * parallel's --tag does): a task (`[task 3]`), or outside tasks the main process or a worker
 * (the module as it loads, in every spawned worker too).
 */
function printRunOutput(batch: readonly PoolEvent[]): void {
	for (const e of batch) {
		if (e.type === 'run.warning' && e.kind === 'stalled') {
			// A hang is said when seen, with its stacks, not only in the summary once the run ends
			// (which a hung run reaches only by Ctrl-C).
			endOpenLines();
			process.stderr.write(`poolscope: warning: ${e.message.replace(STACKS_SHOWN, 'The stacks taken then (below) show')}\n${(e.detail ?? '').split('\n').filter(Boolean).map((l) => `    ${l}\n`).join('')}`);
			continue;
		}
		if (e.type === 'run.warning' && e.kind === 'stallEnded') {
			endOpenLines();
			process.stderr.write(`poolscope: ${e.message}\n`);
			continue;
		}
		if (e.type !== 'run.output' && e.type !== 'task.output') {
			continue;
		}
		const source = e.type === 'task.output' ? `task ${e.taskId}` : e.workerId === undefined ? 'main' : `worker ${e.workerId}`;
		let text = '';
		let rest = e.text;
		if (openLine[e.stream] !== undefined && openLine[e.stream] !== source) {
			text += '\n'; // another source's unfinished line: end it rather than run on
			openLine[e.stream] = undefined;
		}
		// stdout and stderr most often share one terminal: a line left open on the other stream
		// is ended there first, or this line's label landed in the middle of it.
		const other = e.stream === 'stdout' ? 'stderr' : 'stdout';
		if (openLine[other] !== undefined) {
			process[other].write('\n');
			openLine[other] = undefined;
		}
		while (rest) {
			// A bare carriage return redraws the line (a progress bar): the label is written again
			// after it, or the redraw wrote over it.
			const end = /\r(?!\n)|\n/.exec(rest);
			const cut = end ? end.index + 1 : rest.length;
			text += openLine[e.stream] === source ? rest.slice(0, cut) : `[${source}] ${rest.slice(0, cut)}`;
			openLine[e.stream] = end ? undefined : source;
			rest = rest.slice(cut);
		}
		process[e.stream].write(text);
	}
}

/** Ends an unfinished line of run output before the summary starts. */
function endOpenLines(): void {
	for (const stream of ['stdout', 'stderr'] as const) {
		if (openLine[stream] !== undefined) {
			process[stream].write('\n');
			openLine[stream] = undefined;
		}
	}
}

function gilNote(sample: { from: number; of: number } | undefined): string {
	return sample ? ` (from the CPU time of ${sample.from} of ${sample.of} tasks: the others were too short to read it)` : '';
}

function coreWaitNote(end: RunFinishedEvent): string {
	return end.coreWaitShare !== undefined && end.coreWaitShare >= CORE_WAIT_WORTH_SAYING
		? `, and ${Math.round(end.coreWaitShare * 100)}% waiting for a CPU core: other processes kept the machine busy (the GIL's share reads best on a quiet machine)`
		: '';
}

/** What looking at the threads found besides the GIL (Linux thread pools; threadWaits.ts). */
function seenWaitsNote(end: RunFinishedEvent): string {
	const worth = (share: number | undefined) => share !== undefined && share >= CORE_WAIT_WORTH_SAYING;
	const parts = [
		worth(end.ioWaitShare) ? `${Math.round(end.ioWaitShare! * 100)}% blocked in I/O or asleep` : '',
		worth(end.lockWaitShare) ? `${Math.round(end.lockWaitShare! * 100)}% waiting on a Lock, a queue or an event` : '',
	].filter(Boolean);
	return parts.length ? `; ${parts.join(', ')} (not the GIL; seen in ${end.waitSamples ?? 0} looks at the threads)` : '';
}

/** What a worker's tasks were seen waiting on, 5% of the looks or more each: "seen waiting on a lock, queue or event 70%". */
function waitsSeen(counts: number[] | undefined): string {
	const n = counts?.reduce((a, b) => a + b, 0) ?? 0;
	if (!counts || n < 20) {
		return '';
	}
	const parts = counts.map((c, k) => [c, k] as const).filter(([c, k]) => k > 0 && c >= 0.05 * n).sort((a, b) => b[0] - a[0]);
	return parts.length ? `seen ${parts.map(([c, k]) => `${WAIT_LABELS[k]} ${Math.round((c / n) * 100)}%`).join(', ')} of its tasks' time` : '';
}

/** Busy is not computing, after a worker's utilization: " (on a CPU 18%; seen waiting on a lock ... 70% of its tasks' time)". */
function busyNote(...parts: string[]): string {
	const said = parts.filter(Boolean);
	return said.length ? ` (${said.join('; ')})` : '';
}

function summary(end: RunFinishedEvent, model: ReturnType<typeof createRunModel>): string {
	const s = model.started;
	const c = end.counts;
	// A run that failed before any task existed (a load error, said on stderr) has no counts to show.
	const noTasks = end.outcome === 'error' && c.submitted === 0;
	const inputs = s && !noTasks ? `, ${s.inputCount} input${s.inputCount === 1 ? '' : 's'}` : '';
	const cpuShares = workerCpuShares(model);
	const looks = workerLooks(model);
	const lines = [
		// No header from a runner that never started (no interpreter): its 0 workers and 0 cores are no facts.
		s && !(noTasks && s.cores === 0) ? `${s.fn} (${s.file}) on a ${s.pool} pool, ${s.workers} worker${s.workers === 1 ? '' : 's'}${inputs}, ${s.cores} cores, ${s.runtime}${s.startMethod ? `, start method ${s.startMethod}` : ''}` : '',
		noTasks ? `error before any task ran: wall ${(end.wallMs / 1000).toFixed(3)} s` : `${end.outcome}: wall ${(end.wallMs / 1000).toFixed(3)} s, ${end.throughput.toFixed(1)} tasks/s`,
		noTasks ? '' : `tasks: ${c.finished} finished, ${c.failed} failed, ${c.timedOut} timed out, ${c.cancelled} cancelled${c.rejected ? `, ${c.rejected} rejected` : ''} (of ${c.submitted})`,
		...end.workers.map((w) => {
			const m = model.workers.get(w.workerId);
			const memory = m?.peakRss !== undefined ? `, memory peak ${megabytes(m.peakRss)}` : m?.peakHeap !== undefined ? `, heap peak ${megabytes(m.peakHeap)}` : '';
			return `  worker ${w.workerId}${w.pid ? ` pid ${w.pid}` : w.threadId !== undefined ? ` thread ${w.threadId}` : ''}: ${w.tasks} task${w.tasks === 1 ? '' : 's'}, busy ${(w.busyMs / 1000).toFixed(3)} s, utilization ${Math.round(w.utilization * 100)}%${busyNote(cpuShares.has(w.workerId) ? `on a CPU ${Math.round(cpuShares.get(w.workerId)! * w.utilization * 100)}%` : '', waitsSeen(looks.get(w.workerId)))}${memory}`;
		}),
		...(model.peakRss !== undefined ? [`memory (resident): ${model.peakMainRss !== undefined ? `${s?.language === 'python' ? 'runner' : 'main process'} peak ${megabytes(model.peakMainRss)}, ` : ''}all the run's processes together peak ${megabytes(model.peakRss)}`] : []),
		...(end.gilWaitShare !== undefined ? [`GIL: threads spent about ${Math.round(end.gilWaitShare * 100)}% of their time waiting for it${gilNote(gilSample(end))}${coreWaitNote(end)}${seenWaitsNote(end)}`] : []),
		...(end.awaitedTasks ? [`awaited: ${end.awaitedTasks} of ${c.finished + c.failed} ${awaitedWords(s?.language)}`] : []),
	];
	const failed = [...model.tasks.values()].filter((t) => t.error).slice(0, 5);
	// What to do about a failure (a lambda a process pool cannot pickle: what to pass instead) is in
	// its hint, once per kind of failure; a timeout's is printed with its stack snapshot below.
	const hinted = new Set<string>();
	for (const t of failed) {
		lines.push(`  task ${t.taskId} (${t.input}): ${t.error!.name}: ${t.error!.message}`);
		const hint = t.error!.hint;
		if (hint && t.error!.kind !== 'timeout' && !hinted.has(hint)) {
			hinted.add(hint);
			lines.push(`    ${hint}`);
		}
	}
	const reasons = new Map<string, number>();
	for (const t of model.tasks.values()) {
		if (t.state === 'cancelled' && t.cancelReason) {
			reasons.set(t.cancelReason, (reasons.get(t.cancelReason) ?? 0) + 1);
		}
	}
	for (const [reason, n] of reasons) {
		lines.push(`  ${n} cancelled: ${reason}`);
	}
	// A timeout's stack snapshot is where every worker was at that moment (a deadlock shows each
	// thread waiting on its lock): the first one is worth the lines.
	const timedOut = failed.find((t) => t.error!.kind === 'timeout' && t.error!.stack);
	if (timedOut) {
		lines.push(`  task ${timedOut.taskId} timed out. ${timedOut.error!.hint ?? ''}`.trimEnd(), ...timedOut.error!.stack!.trimEnd().split('\n').map((l) => `    ${l}`));
	}
	const stallEnds = new Set(model.stallEnds);
	const stallsOver = new Set(model.stallsOver);
	for (const [i, w] of model.warnings.entries()) {
		let [first, ...rest] = w.split('\n');
		if (stallEnds.has(i)) {
			lines.push(`then: ${first}`); // the stall above it is over
			continue;
		}
		// A stall's stacks went to stderr when it was seen; one that ended needs no advice.
		first = first!.replace(STACKS_SHOWN, 'The stacks taken then (printed when it was seen) show');
		if (stallsOver.has(i)) {
			first = first.replace(` ${STALL_ADVICE}`, '');
		}
		// A timeout's stack snapshot is printed once, above, under its task.
		// A stall's stacks were printed when it was seen (stderr), and are out of date by now.
		const detail = (timedOut && / timed out; stacks of every worker taken/.test(first!)) || /^No task has started, ended or printed for /.test(first!) ? [] : rest;
		lines.push(`warning: ${first}`, ...detail.map((l) => `    ${l.trim()}`));
	}
	return `${lines.filter(Boolean).join('\n')}\n`;
}

main().catch((e) => {
	process.stderr.write(`poolscope: internal error: ${e instanceof Error ? e.stack : String(e)}\n`);
	process.exit(1);
});
