"""Poolscope's Python runner (started as runner.py, which checks the version and imports this
module): runs one function on a real concurrent.futures pool and reports every step as
Poolscope protocol events (JSON lines on file descriptor 3, never the user's stdout).
Standard library only; Python 3.9+.

The host writes the request as one JSON line on stdin, then commands (one JSON object a line):
{"cmd": "cancelTask", "taskId": N}, {"cmd": "cancel", "reason": "..."}, {"cmd": "stacks"}. End of stdin means
the host is gone: the runner ends its workers and exits (no orphans).
"""
import sys
import collections
import concurrent.futures as cf
import gc
import importlib
import itertools
import json
import os
# The signal numbers without `signal` (0.4 ms of enum building at start); it is built in, so no
# signal.py next to the user's file can stand in for it.
import _signal
import threading
import time
import traceback

import poolscope_worker as pw  # runner.py put this folder on sys.path
from poolscope_emitter import Emitter
from poolscope_errors import (
    NO_OBJECT, UNPICKLE_HINT, error_info, error_info_from_text, function_not_found, is_broken_pool, picklable,
    signal_name, strip_runner_frames, syntax_frame, unpickling_failure, unpicklable_function, unsent, unsent_call,
)
from poolscope_processes import OUTPUT_PIPE_SLOTS, STOP_GRACE_MS, ProcessAtImport, ProcessPoolPart, no_replacement_after_shutdown, refuse_processes_at_import
from poolscope_states import CALL_QUEUE, ENDED, NO_INFO, PENDING, RUN_OUTPUT_LIMIT, RUNNING
from poolscope_threads import CPU_EVERY_TASK_MS, CPU_SAMPLE, THREAD_STOP_WAIT_MS, ThreadPoolPart, core_waits

# multiprocessing, tempfile and inspect are imported where needed: a thread-pool run starts
# ~15 ms sooner without them.


MAX_INPUTS = 1_000_000  # as the JS side (engine/js/inputs.ts)


def static_member(module, name):
    """`Class.method` for a static method or a class method: it needs no object, and a process
    pool's workers find it by that qualified name as they find a function. Anything else (an
    instance method) is None, and the run says why a pool cannot call it."""
    class_name, _, member = name.partition(".")
    cls = vars(module).get(class_name)
    if not isinstance(cls, type) or "." in member or not isinstance(vars(cls).get(member), NO_OBJECT):
        return None
    return getattr(cls, member)


def module_path(file):
    """The dotted name a file is imported under and the folder that must be on sys.path: a file in
    a package (folders with __init__.py) is imported as part of it, so that its relative imports
    (`from .helpers import x`) work; any other file is a top-level module."""
    folder, name = os.path.split(os.path.splitext(file)[0])
    parts = [name]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        parent, package = os.path.split(folder)
        if not package.isidentifier() or parent == folder:
            break  # "my-project/__init__.py" cannot be imported by name: its modules are the top
        parts.insert(0, package)
        folder = parent
    return ".".join(parts), folder


# Around the run's own output on fd 1 and 2: the same bytes as in runnerOutput.ts.
RAW_START = b"\x00poolscope: run output from here\x00\n"
RAW_END = b"\x00poolscope: run output ends here\x00\n"


def mark_raw_output(mark):
    """The host reads fd 1 and 2 apart from the events' pipe, in no set order: what the run wrote
    there is told by its place between these marks (runnerOutput.ts)."""
    for stream, fd in ((sys.__stdout__, 1), (sys.__stderr__, 2)):
        try:
            if stream is not None:
                stream.flush()
            os.write(fd, mark)
        except (OSError, ValueError):
            pass


class Run(ThreadPoolPart, ProcessPoolPart):
    """One run: its setup, the events of every pool, the monitor, commands and the end. What only
    a thread pool or only a process pool does is in poolscope_threads and poolscope_processes."""

    def __init__(self, req, emitter):
        self.req = req
        self.em = emitter
        self.file = os.path.abspath(req["file"])
        self.loading_since = None  # set while the user's file is imported (see snapshot)
        self.user_dir = os.path.dirname(self.file)
        self.pool = req["pool"]
        self.mode = req.get("mode") or "submit"
        self.timeout_ms = req.get("timeoutMs") or 0
        self.max_tasks = int(req.get("maxTasksPerChild") or 0) if self.pool == "process" else 0
        self.finishing = False
        self.short_since = None  # when the pool was first seen short of a worker with work queued
        self.replaced_for_cpython = 0
        self.keeper = None  # jobs for the thread that outlives every worker it starts (in_keeper)
        self.exit_reported = set()  # worker pids whose worker.exited is out (recycled mid-run)
        self.t0 = pw.now_ms()
        self.cpu_t0 = time.process_time()  # reset when tasks are submitted (finish() may come before)
        self.core_waits0 = None
        self.busy_from = self.t0
        self.ended_at = None
        self.module_name = None
        self.counted = False  # the inputs were a count (range(n))
        self.fn_pickles = None  # whether the function pickles, asked when a call could not be sent
        self.user_paths = []
        self.method = None
        self.loose_chars = 0  # output outside tasks sent so far (run.output)
        self.import_failures = {}  # worker pid -> (exception name, message, traceback text)
        self.lock = threading.RLock()
        self.futures = []
        self.states = bytearray()  # task_id -> PENDING, CALL_QUEUE, RUNNING or ENDED
        self.task_info = {}  # task_id -> dict(start, worker, timedOut, resultQueue): tasks that have any
        self.depth = [0, 0, 0, 0]  # tasks per state (the ENDED count is not read)
        self.running = set()
        self.counts = {"submitted": 0, "finished": 0, "failed": 0, "cancelled": 0, "timedOut": 0, "rejected": 0}
        self.workers = {}  # key (pid or thread ident) -> dict(workerId, pid, threadId, tasks, busyMs, startedAt)
        self.executor = None
        self.pool_thread = None  # the process pool's own thread, joined before the runner exits
        self.out_pipes = {}  # read end's fd -> what its worker slot's fd 1 or 2 sent (open_output_pipes)
        self.out_lock = threading.Lock()
        self.processes = {}  # pid -> multiprocessing.Process, remembered for exit codes
        self.dead = None  # [(pid, exit status)] once the pool broke: what every failed future names
        self.cancelling = False
        self.cancel_reason = "run cancelled"  # what a cancelled task says (the CLI's Ctrl-C: "interrupted (Ctrl-C)")
        self.broken = None
        self.broken_at = None  # when the first future failed with BrokenProcessPool (ms)
        self.done_event = threading.Event()
        self.ended = 0
        # Tasks that ended without going through finished_log (failed, cancelled, timed out):
        # one counter, read in a single step by a worker thread telling whether it ran the last
        # task (two counters the draining thread changes between the reads could miss it, and
        # the run then waited out the 20 ms poll).
        self.ended_elsewhere = 0
        self.total = 0
        self.stack_dir = None
        self.stack_read = {}  # worker pid -> how much of its stack file the snapshots have read
        self.notices = None
        self.notices_thread = None
        self.slots = None
        self.slot_seen = []
        self.timed_out_pids = set()  # workers ended at the run's end while in a task that timed out
        self.thread_stoppable = {}  # thread ident -> task id, while the user's code runs (stoppable)
        self.stop_lock = threading.Lock()
        self.raise_in_thread = None
        self.stopping = {}  # task_id -> [slot index, pid, kill at, signal again at]: process tasks past their timeout
        self.now_running = pw.running  # thread ident -> (task_id, start): thread pools
        self.logged = itertools.count()  # thread tasks that returned
        self.thread_task = None  # thread and serial pools: what each task runs in (make_thread_task)
        self.drain_wake = threading.Event()
        self.runner_pid = os.getpid()
        self.fork_threads_told = False

    # ---- events ----
    def worker_for(self, key, pid=None, thread_id=None, ready=True, ready_at=None):
        """The worker of `key`, announced (worker.started) the first time. ready=False: a worker
        process the executor started whose initializer has not finished (worker.started with
        ready false); the first call that says it is ready sends worker.ready, at `ready_at` (the
        worker's own time: its notice or its first task's start can reach us some ms later)."""
        w = self.workers.get(key)  # known workers without the lock: this runs once per task
        if w is not None and (w["ready"] or not ready):
            return w
        with self.lock:
            w = self.workers.get(key)
            if w is not None:
                if ready and not w["ready"]:
                    w["ready"] = True
                    self.em.emit("worker.ready", t=ready_at, workerId=w["workerId"])
            else:
                # Thread pools: skip: tasks until its CPU clock is read again (make_thread_task);
                # nums, texts: the tasks this thread finished and drain_finished has not yet taken;
                # measured*: its tasks whose CPU was read, their wall and CPU ms (the GIL estimate).
                w = {"workerId": len(self.workers), "pid": pid, "threadId": thread_id, "tasks": 0, "busyMs": 0.0, "startedAt": pw.now_ms(), "exited": False, "ready": ready,
                     "skip": 0, "nums": [], "texts": [], "measuredN": 0, "measuredWall": 0.0, "measuredCpu": 0.0, "idleWall": 0.0}
                self.workers[key] = w
                fields = {"workerId": w["workerId"]}
                if pid is not None:
                    fields["pid"] = pid
                if thread_id is not None:
                    fields["threadId"] = thread_id
                if not ready:
                    fields["ready"] = False
                self.em.emit("worker.started", t=w["startedAt"], **fields)
            return w

    def unfinished_kind(self):
        """What kind of call returns before its work is done (pw.finish_call finishes it)."""
        # The user's own: with a timeout a thread pool calls a wrapper of it (stoppable).
        flags = getattr(getattr(getattr(self, "user_fn", None), "__code__", None), "co_flags", 0)
        if flags & 0x200:  # CO_ASYNC_GENERATOR
            return ("an async generator function", "collects what it yields in its own event loop (asyncio.run)")
        if flags & 0x80:  # CO_COROUTINE
            return ("a coroutine function (async def)", "runs to completion in its own event loop (asyncio.run)")
        if flags & 0x20:  # CO_GENERATOR
            return ("a generator function", "collects what it yields into a list")
        return None

    def move(self, task_id, state):
        """Every state change goes through here, so depths and the running set stay exact
        without the monitor walking every task (100k of them) 50 times a second."""
        old = self.states[task_id]
        self.depth[old] -= 1
        self.depth[state] += 1
        if old == RUNNING:
            self.running.discard(task_id)
        if state == RUNNING:
            self.running.add(task_id)
        self.states[task_id] = state

    def info(self, task_id):
        """The task's own dict of what it has beyond a state, made on first use (to write to)."""
        info = self.task_info.get(task_id)
        if info is None:
            info = self.task_info[task_id] = {}
        return info

    def is_task(self, task_id):
        return 0 <= task_id < len(self.states)

    def task_started(self, task_id, worker, t):
        with self.lock:
            if self.states[task_id] >= RUNNING:
                return
            self.move(task_id, RUNNING)
            info = self.info(task_id)
            info["start"] = t
            info["worker"] = worker["workerId"]
            # Under the lock: a thread that ends the task now must not get its "f" out first.
            self.em.compact("b", t, task_id, worker["workerId"])

    def end_task(self, task_id, state):
        with self.lock:
            if self.states[task_id] == ENDED:
                return False
            self.move(task_id, ENDED)
            self.counts[state] += 1
            self.ended += 1
            self.ended_elsewhere += 1
            if self.ended >= self.total:
                self.all_answered()
            return True

    def all_answered(self):
        # The main thread of a thread-pool run waits on drain_wake: when another thread (the
        # monitor's drain, the map thread) gave the last answer, it waited out its 20 ms poll.
        self.done_event.set()
        self.drain_wake.set()

    def output_sink(self, task_id, stream, text):
        self.em.emit("task.output", taskId=task_id, stream=stream, text=text[:65536])

    def loose_output(self, stream, text, worker=None):
        """Output no task wrote, up to the per-run limit consumers keep (and one character more,
        so they can tell it was cut)."""
        with self.lock:
            room = RUN_OUTPUT_LIMIT + 1 - self.loose_chars
            if room <= 0:
                return
            text = text[:room]
            self.loose_chars += len(text)
        if worker is None:
            self.em.emit("run.output", stream=stream, text=text)
        else:
            self.em.emit("run.output", stream=stream, text=text, workerId=worker["workerId"])

    # ---- setup ----
    def load(self):
        req = self.req
        if not os.path.isfile(self.file):
            raise LoadFailure({"kind": "load", "name": "FileNotFoundError", "message": "file not found: %s" % self.file})
        module_name, root = module_path(self.file)
        self.module_name = module_name
        pw.import_past_user_paths(pw.PROCESS_POOL_MODULES if self.pool == "process" else pw.THREAD_POOL_MODULES, ())
        # Like `python -m pkg.mod` from the package's root (its relative imports work), and like
        # `python mod.py` (its own folder first, for imports of its siblings).
        sys.path.insert(0, self.user_dir)
        user_paths = [self.user_dir]
        if root != self.user_dir:
            sys.path.insert(1, root)
            user_paths.append(root)
            self.user_dir = root  # frames anywhere in the package are the user's
        self.user_paths = user_paths
        method = None
        if self.pool == "process":
            import multiprocessing

            # Not get_start_method(allow_none=False): that fixes the method, and a module that
            # calls set_start_method() when imported would then fail ("context has already been set").
            method = self.requested_method() or multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]
            if self.max_tasks and sys.version_info < (3, 11):
                raise LoadFailure({
                    "kind": "load", "name": "Unsupported",
                    "message": "max tasks per child needs Python 3.11 or newer (ProcessPoolExecutor(max_tasks_per_child=)); this is Python %d.%d.%d" % sys.version_info[:3],
                    "hint": "Pick a newer interpreter, or leave maxTasksPerChild out.",
                })
            if self.max_tasks and method == "fork":
                raise LoadFailure({
                    "kind": "load", "name": "ValueError",
                    "message": "max tasks per child cannot be used with the fork start method: CPython refuses it (ProcessPoolExecutor raises ValueError)",
                    "hint": "Use the spawn or forkserver start method (left unset, Poolscope picks spawn, as CPython does).",
                })
        # As `python file.py` has it: a usage message (argparse) names the user's file, not ours.
        sys.argv = [self.file]
        restore = refuse_processes_at_import(self.file, method) if method not in (None, "fork") else None
        try:
            module = import_unlocked(module_name)
            if os.path.abspath(getattr(module, "__file__", "") or "") != self.file:
                raise LoadFailure({
                    "kind": "load", "name": "ImportError",
                    "message": "importing %s found another module named %r (%s)" % (self.file, module_name, getattr(module, "__file__", "built-in")),
                    "hint": "Rename the file: its name shadows an installed or standard module.",
                })
        except LoadFailure:
            raise
        except BaseException as e:  # noqa: B036 - user code may raise anything at import
            if isinstance(e, SyntaxError) and os.path.abspath(e.filename or "") == self.file:
                # In the file itself: where, as the compiler says it (the import is what compiles
                # the file; a check before it compiled every run's file twice).
                raise LoadFailure({
                    "kind": "load", "name": type(e).__name__,
                    "message": "%s:%s:%s: %s" % (e.filename, e.lineno, e.offset, e.msg),
                    "stack": "".join(traceback.format_exception_only(type(e), e)),
                    "frames": [syntax_frame(e, True)],
                })
            info = error_info(e, self.user_dir, kind="load")
            info["message"] = "importing %s failed: %s: %s" % (os.path.basename(self.file), type(e).__name__, e)
            if isinstance(e, SystemExit):
                info["hint"] = 'The file ends the program when it is imported (sys.exit(), or argparse finding no arguments: Poolscope imports the file, it does not run it as a script). Put that code under `if __name__ == "__main__":`.'
            if isinstance(e, ProcessAtImport):
                info["hint"] = 'Put the code that starts processes under `if __name__ == "__main__":` (it then runs only when the file is run as a script), or run with the fork start method.'
            raise LoadFailure(info)
        finally:
            if restore:
                restore()
        fn_name = req["fn"]
        fn = getattr(module, fn_name, None) if "." not in fn_name else static_member(module, fn_name)
        if not callable(fn):
            raise LoadFailure(function_not_found(module, fn_name, self.file))
        if self.pool == "process" and getattr(fn, "__qualname__", fn_name) != fn_name and not picklable(fn):
            # A bound method (`scale = Scaler(3).scale`) has another name and pickles all the same.
            raise LoadFailure(unpicklable_function(fn, fn_name))
        self.fn = self.user_fn = fn
        if self.timeout_ms and self.pool != "process" and sys.implementation.name == "cpython":
            self.fn = self.stoppable(fn)
        inputs = req["inputs"].strip()
        try:
            if inputs.isascii() and inputs.isdigit():  # a count: range(n), each number one call
                items = list(zip(range(min(int(inputs), MAX_INPUTS + 1))))  # [(0,), (1,), ...]
                self.counted = True
            else:
                items = eval(compile(inputs, "<inputs>", "eval"), dict(vars(module)))  # noqa: S307 - the user's own expression
                if isinstance(items, (int, float)) and not isinstance(items, bool):
                    # A count written as an expression (1_000, 10 ** 4, 1e3), as the JS side reads it.
                    if items < 0 or items != int(items):
                        raise LoadFailure({"kind": "load", "name": "TypeError", "message": "inputs %r: a count must be a whole number, 0 or more (got %r); or write the inputs, e.g. [(1,), (2,)]" % (inputs[:80], items)})
                    items = range(min(int(items), MAX_INPUTS + 1))
                    self.counted = True
                # An endless iterator (itertools.count()) would fill memory: stop one past the limit.
                items = [tuple(i) if isinstance(i, (tuple, list)) else (i,) for i in itertools.islice(items, MAX_INPUTS + 1)]
        except LoadFailure:
            raise
        except BaseException as e:  # noqa: B036
            raise LoadFailure({"kind": "load", "name": type(e).__name__, "message": "inputs %r: %s" % (inputs[:80], pw.exception_text(e))})
        if len(items) > MAX_INPUTS:
            raise LoadFailure({
                "kind": "load", "name": "RangeError", "message": "inputs %r: more than %d inputs" % (inputs[:80], MAX_INPUTS),
                "hint": "An endless iterator, or more calls than a run holds: pass a finite, smaller iterable (a run keeps every future).",
            })
        return items

    def requested_method(self):
        """The start method asked for; with max tasks per child and none asked, spawn, as
        CPython picks (a forked worker cannot be recycled)."""
        return self.req.get("startMethod") or ("spawn" if self.max_tasks else None)

    def default_method(self):
        import multiprocessing
        return multiprocessing.get_start_method(allow_none=False)

    def start(self):
        req = self.req
        low = req.get("priority") == "low" and hasattr(os, "nice")
        if low:
            # The runner, its threads and the worker processes it starts (they inherit it):
            # the editor stays responsive while a run keeps every core busy.
            os.nice(10)
        # Before the user's module loads: a logging handler it makes at import time binds the
        # sys.stderr of that moment, and must get the stream that routes to tasks.
        out, err = pw.install_streams(self.output_sink, self.loose_output)
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self.forked_child)
        # What each thread's task wrote after its last newline, read by thread_task per task.
        self.partial_out, self.partial_err = out._pending, err._pending
        # Our modules and the standard library's live as long as the runner: out of the collector's
        # sight (see the second freeze below), the collections that making the inputs and the task
        # table set off walk only what is new. The user's module comes after: collected as ever.
        gc.freeze()
        self.em.loading()
        self.loading_since = pw.now_ms()  # a stack snapshot meanwhile shows the main thread's
        try:
            items = self.load()
            load_error = None
        except LoadFailure as f:
            items = []
            load_error = f.info
        self.loading_since = None
        cores = os.cpu_count() or 1
        if self.pool == "serial":
            workers = 1
        elif req.get("workers"):
            workers = int(req["workers"])
        elif self.pool == "thread":
            workers = min(32, cores + 4)
        else:
            workers = cores
        self.workers_n = workers
        method = None
        if self.pool == "process":
            method = self.method = self.requested_method() or self.default_method()
        # executor.map keeps the futures of its chunks: which task is in the call queue is not seen
        # (the stage read 0 throughout, its bound counting chunks), so a map run shows no such stage.
        stages = (["pending", "executing", "resultQueue"] if self.mode == "map" else ["pending", "callQueue", "executing", "resultQueue"]) if self.pool == "process" else ["pending", "executing"]
        gil = getattr(sys, "_is_gil_enabled", lambda: True)()
        started = {
            "fn": req["fn"], "file": self.file, "language": "python", "pool": self.pool, "workers": workers,
            "options": {"workers": workers, "timeoutMs": self.timeout_ms or None, "chunksize": req.get("chunksize"), "startMethod": method, "mode": self.mode, **({"priority": "low"} if low else {}), **({"maxTasksPerChild": self.max_tasks} if self.max_tasks else {})},
            "inputCount": len(items), "cores": cores,
            "runtime": "%s %d.%d.%d%s" % ({"cpython": "CPython", "pypy": "PyPy"}.get(sys.implementation.name, sys.implementation.name), *sys.version_info[:3], "" if gil else " (free-threaded)"),
            "gil": gil, "stages": stages, "executable": sys.executable, "pid": os.getpid(),
        }
        if method:
            started["startMethod"] = method
            started["defaultStartMethod"] = self.default_method()
        if self.pool != "process":  # thread and serial run in threads
            started["cpuSampling"] = {"belowMs": CPU_EVERY_TASK_MS, "oneIn": CPU_SAMPLE}
        if self.pool == "thread" and gil and sys.platform.startswith("linux"):
            started["gilProbeThreadId"] = self.start_gil_probe()
        mark_raw_output(RAW_START)
        self.em.emit("run.started", t=self.t0, **started)
        self.em.flush()  # at once: a runner that dies in its first 50 ms must not take the run's start with it
        if self.pool == "process" and workers > 4 * cores and not load_error:
            # As the JS pools say it (threads are left alone: many threads is how I/O-bound work scales).
            self.em.emit("run.warning", message="%d worker processes on %d cores: more than 4 per core only adds start-up time, switching and memory (each is a whole interpreter) for CPU-bound work" % (workers, cores))
        if load_error:
            self.finish("error", load_error)
            return
        unfinished = self.unfinished_kind()
        if unfinished:
            self.em.emit("run.warning", message="%s is %s: a call returns before its body has run, so each task %s in its worker, and its time includes that" % (req["fn"], *unfinished))
            if "asyncio" in unfinished[1]:
                # Here, not in the first task's time (forked workers inherit it).
                pw.import_past_user_paths(("asyncio",), self.user_paths)
        self.total = len(items)
        # The GIL estimate asks whether the interpreter was busy while tasks ran: its start, the
        # user's imports (numpy: hundreds of ms) and loading the inputs are not that.
        self.cpu_t0 = time.process_time()
        self.core_waits0 = core_waits() if self.pool == "thread" else None
        self.busy_from = pw.now_ms()
        if self.cancelling:
            # Cancelled while the module loaded: no executor, every task cancelled as submitted.
            self.submit_records(items)
            self.finish("cancelled")
            return
        if self.pool == "process":
            import multiprocessing
            import tempfile
            ctx = multiprocessing.get_context(method)
            self.notices = ctx.SimpleQueue()
            # Named after the runner: a host that outlives a runner killed mid-run removes it (pythonBackend.ts).
            self.stack_dir = tempfile.mkdtemp(prefix="poolscope-stacks-%d-" % os.getpid())
            # Room for replacements too; a worker beyond it falls back to queue notices.
            self.slots = ctx.RawArray("d", pw.SLOT_FIELDS * 2 * workers)
            self.slot_seen = [-1] * (2 * workers)
            self.next_slot = ctx.Value("i", 0)
            if sys.platform.startswith("linux"):
                import ctypes  # noqa: F401 - for the workers' parent-death signal: forked ones inherit it
            pw.start_workers_past_user_paths(self.user_paths)
            # (POSIX: Windows pipes are handles, which select() does not take.)
            writers = self.open_output_pipes(ctx, min(2 * workers, OUTPUT_PIPE_SLOTS)) if os.name == "posix" else ()
            if method == "fork" and hasattr(os, "register_at_fork"):
                os.register_at_fork(before=self.warn_of_threads_at_fork)
            recycle = {"max_tasks_per_child": self.max_tasks} if self.max_tasks else {}
            self.executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=pw.process_initializer, initargs=(self.notices, self.stack_dir, self.slots, self.next_slot, os.getpid(), self.module_name, self.user_paths, writers), **recycle)
            if self.max_tasks:
                no_replacement_after_shutdown(self.executor)
            self.notices_thread = threading.Thread(target=self.drain_notices, name="poolscope-notices", daemon=True)
            self.notices_thread.start()
        else:
            # Named as a bare executor names them (ThreadPoolExecutor-0_0): what the user's logging prints.
            self.executor = cf.ThreadPoolExecutor(max_workers=workers)
            os._exit = self.exit_from_task
            os.system = pw.system_from_task
        if self.pool != "process":
            self.thread_task = self.make_thread_task()
        self.submit_records(items)
        self.em.flush()  # every task known to the host before any can crash the interpreter
        # What exists now (our modules, the user's module, the inputs, the task table) lives until
        # the run ends: out of the collector's sight, a full collection no longer walks it. The
        # runner's few extra objects per task tipped a 5,000-task thread run into one full
        # collection (5-10 ms) that a bare executor's run does not reach. The tasks' own objects
        # are collected as ever.
        gc.freeze()
        threading.Thread(target=self.monitor, name="poolscope-monitor", daemon=True).start()
        if self.total == 0:
            self.finish("completed")
            return
        if self.cancelling:
            # The cancel came while the executor was being made and found none: nothing ran.
            self.finish("cancelled")
            return
        if self.mode == "map" and self.pool == "process":
            self.run_map(items)
        elif self.mode == "map":
            # The map's iterator waits on each future in turn, on one stuck past its timeout
            # forever: it runs on a thread of its own, and the run ends once every task has
            # an answer (the loop below), the runner's exit ending that thread with the stuck ones.
            threading.Thread(target=self.run_map, args=(items,), name="poolscope-map", daemon=True).start()
        else:
            # Done callbacks run on the executor's own thread (the one that feeds the call
            # queue): they only append the future to a deque that our results thread drains
            # every few ms. Thread-pool tasks report themselves (thread_task).
            done_items = collections.deque()
            if self.pool == "process":
                threading.Thread(target=self.handle_done, args=(done_items,), name="poolscope-results", daemon=True).start()
            # Looked up once: this loop runs once per input, its cost next to the executor's own.
            process = self.pool == "process"
            submit, keep, run_task, fn = self.executor.submit, self.futures.append, self.thread_task, self.fn
            for task_id, args in enumerate(items):
                if self.cancelling:
                    # Cancelled while submitting: the rest never reach the executor.
                    self.cancel_unsubmitted(task_id, len(items))
                    break
                try:
                    f = submit(pw.run_in_process, fn, task_id, args) if process else submit(run_task, task_id, args)
                except RuntimeError as e:
                    if is_broken_pool(e) and not self.cancelling:
                        # The pool broke before this task went in (BrokenProcessPool is a
                        # RuntimeError): it and the rest fail as the submitted ones did, not as
                        # "cancelled" (a race CI hit: a worker died while the last submits ran).
                        for rest in range(task_id, len(items)):
                            self.fail(rest, e)
                    else:  # shut down by a cancel between the check and the submit
                        self.cancel_unsubmitted(task_id, len(items))
                    break
                keep(f)
                if process:
                    if task_id < self.workers_n:
                        self.remember_processes()  # the monitor keeps this up to date afterwards
                    f.poolscope_task_id = task_id
                    f.add_done_callback(done_items.append)
        while not self.done_event.is_set():
            if self.pool == "process":
                self.done_event.wait(0.1)
            else:
                self.drain_wake.wait(0.02)
                self.drain_wake.clear()
                self.drain_finished()
            # Threads cannot be stopped: after a grace, the run ends without them and the
            # runner's exit ends them.
            if self.cancelling and self.pool != "process" and pw.now_ms() - self.cancel_t > 2000:
                break
        self.finish("cancelled" if self.cancelling else "completed")

    def cancel_unsubmitted(self, first, end):
        for task_id in range(first, end):
            if self.end_task(task_id, "cancelled"):
                self.em.emit("task.cancelled", taskId=task_id, reason=self.cancel_reason, wasRunning=False)

    def submit_records(self, items):
        """Every task submitted and pending, announced in chunks ("S", an input preview per task): one
        record per task took 13-17 ms for 5,000 no-op tasks, a fifth of a bare executor's time."""
        t = pw.now_ms()
        n = len(items)
        self.states.extend(bytes(n))  # all PENDING
        self.depth[PENDING] += n
        self.counts["submitted"] += n
        # Inputs that were a count are each task's own id: the host writes them (a number in place
        # of the previews).
        texts = None if self.counted else list(map(pw.preview, [args if len(args) != 1 else args[0] for args in items]))
        for first in range(0, n, 1000):
            k = min(1000, n - first)
            self.em.compact_many([("S", t, first, k if texts is None else texts[first : first + k])], k)

    def run_map(self, items):
        fn = pw.run_in_process if self.pool == "process" else None
        chunksize = int(self.req.get("chunksize") or 1)
        chunks = []
        try:
            if self.pool == "process":
                # The chunks' futures, as executor.map makes them (it submits every chunk before it
                # returns its iterator): once an exception stops the map, the chunks already handed
                # to workers run to the end, and only their futures say what they did.
                submit = self.executor.submit

                def kept_submit(*args, **kwargs):
                    f = submit(*args, **kwargs)
                    chunks.append(f)
                    return f

                self.executor.submit = kept_submit
                try:
                    it = self.executor.map(fn, [self.fn] * len(items), range(len(items)), items, chunksize=chunksize)
                finally:
                    del self.executor.submit
            else:
                it = self.executor.map(self.thread_task, range(len(items)), items)
        except RuntimeError:
            if not self.cancelling:
                raise
            # Cancelled (the executor shut down) while map was still submitting.
            self.cancel_unsubmitted(0, len(items))
            self.all_answered()
            return
        task_id = 0
        try:
            for result in it:
                if self.pool == "process":
                    self.result(task_id, result)
                task_id += 1
        except BaseException as e:  # noqa: B036
            raised = getattr(e, "poolscope_task_id", task_id)
            if self.pool == "process" and isinstance(raised, int) and task_id < raised < len(items):
                self.lost_in_chunk(task_id, raised)
                task_id = raised
            if task_id < len(items):
                self.fail(task_id, e)
                if self.pool == "process" and unsent_call(e):
                    # Its chunk never reached a worker: none of its tasks ran, each failed as it did.
                    for mate in range(task_id + 1, min(task_id + chunksize, len(items))):
                        self.fail(mate, e)
                if self.pool != "process":
                    # map cancelled the futures not yet started; the ones running report
                    # themselves when they end (a thread cannot be stopped).
                    while not self.cancelling and len(self.now_running) > len(self.stuck_threads()):
                        time.sleep(0.02)
                    self.drain_finished()  # the ones that returned are not lost results
                elif len(chunks) * chunksize >= len(items):
                    self.chunks_after_map_stopped(chunks[task_id // chunksize + 1 :], (task_id // chunksize + 1) * chunksize, chunksize, task_id)
                rest = "never ran: executor.map stopped at the first exception (task %d) and cancelled what no worker had taken yet" % task_id
                for later in range(task_id + 1, len(items)):
                    if self.end_task(later, "cancelled"):
                        self.em.emit("task.cancelled", taskId=later, reason=rest, wasRunning=False)
        self.all_answered()

    def lost_in_chunk(self, first, raised):
        """A chunk's results travel back together: the tasks before the one that raised in its
        chunk ran, and their results went down with the chunk. Those it ended."""
        lost = "its result is lost: it ran in the same chunk as task %d, which raised (a chunk's results travel back together)" % raised
        ended = []
        for task_id in range(first, raised):
            if self.end_task(task_id, "cancelled"):
                self.em.emit("task.cancelled", taskId=task_id, reason=lost, wasRunning=True)
                ended.append(task_id)
        return ended

    def chunks_after_map_stopped(self, futures, first, chunksize, stopped_at):
        """The chunks behind the one that stopped a process map: map cancelled those no worker had
        taken (Future.cancel()), and the others ran to the end all the same. Their tasks are
        reported as what they were (finished, or failed), though map's caller never sees them;
        they were all called "never ran". A chunk the executor could not pickle had left map's
        reach too (it cannot be cancelled then), but never reached a worker: it did not run."""
        ran = []
        for i, f in enumerate(futures):
            if f.cancelled():
                continue
            while not f.done() and not self.cancelling:
                cf.wait([f], timeout=0.05)
            if not f.done() or f.cancelled():
                continue
            start = first + i * chunksize
            exc = f.exception()
            if exc is None:
                for k, result in enumerate(f.result()):
                    self.result(start + k, result)
                    ran.append(start + k)
                continue
            if unsent_call(exc):
                for task_id in range(start, min(start + chunksize, self.total)):
                    self.fail(task_id, exc)
                continue
            raised = getattr(exc, "poolscope_task_id", None)
            if isinstance(raised, int):
                ran.extend(self.lost_in_chunk(start, raised))
                self.fail(raised, exc)
                ran.append(raised)
            else:
                # Not from the worker's call (a broken pool, say): it ran only if a worker was seen
                # running it.
                was_running = self.states[start] == RUNNING
                self.fail(start, exc)
                if was_running:
                    ran.append(start)
        if ran:
            self.em.emit("run.warning", message="executor.map stopped at task %d's exception, so its caller gets no result after it; %s had already gone to a worker and ran all the same (shown as what they did)" % (stopped_at, describe_ids(ran)))

    def unsent_what(self, task_id):
        """What of task_id's call could not be pickled: its arguments, unless the function itself
        does not pickle (a callable object holding a lock, which the load's check lets by)."""
        if self.fn_pickles is None:
            self.fn_pickles = picklable(self.user_fn)  # once: every task of a run may fail so
        if not self.fn_pickles:
            return "the function %s" % self.req["fn"]
        chunksize = int(self.req.get("chunksize") or 1) if self.mode == "map" else 1
        first = task_id - task_id % chunksize  # map's chunks start at multiples of chunksize
        last = min(first + chunksize, self.total) - 1
        if last > first:
            # map sends a chunk as one call: which task's arguments failed is not known.
            return "the arguments of tasks %d to %d (one chunk of executor.map, sent whole)" % (first, last)
        return "the arguments of task %d" % task_id

    def fail(self, task_id, exc):
        # Before the waits below: a worker's death is known now, its exit status a moment later,
        # and the task's time ends here, not after them.
        now = pw.now_ms()
        with self.lock:
            if self.task_info.get(task_id, NO_INFO).get("timedOut") or self.states[task_id] == ENDED:
                return
        if is_broken_pool(exc) and self.cancelling:
            # We terminated the workers to cancel the run: that is a cancellation, not a fault.
            if self.end_task(task_id, "cancelled"):
                self.em.emit("task.cancelled", taskId=task_id, reason=self.cancel_reason + ": its worker process was terminated", wasRunning=self.states[task_id] in (RUNNING, CALL_QUEUE))
            return
        info = error_info(exc, self.user_dir)
        if self.pool == "process" and unsent_call(exc):
            info = unsent(info, self.unsent_what(task_id))
        if is_broken_pool(exc):
            # Every future the break fails ends when it was first known, not after the waits below.
            now = self.broken_at = self.broken_at or now
            self.broken = True
            self.remember_processes()
            if self.dead is None:
                # The executor notices a death before the processes are reaped, and then
                # terminates the others: wait (once per run, at most 1 s) until every one has
                # an exit status, so each future's message names them all, the one that died
                # first among them (asking only until one was reaped named a SIGTERM'd sibling).
                codes = []
                for _ in range(20):
                    codes = [(pid, p.exitcode) for pid, p in list(self.processes.items())]
                    if all(code is not None for _, code in codes) and any(code != 0 for _, code in codes):
                        break
                    time.sleep(0.05)
                # The executor SIGTERMs the survivors once one died: the cause is named first.
                self.dead = sorted(((pid, code) for pid, code in codes if code not in (None, 0)), key=lambda d: d[1] == -_signal.SIGTERM)
                # A worker that could not import the file says so before it exits: its notice
                # may still be on its way (once per run, as above).
                for _ in range(10):
                    if self.import_failures:
                        break
                    time.sleep(0.02)
                # A dying worker's last words (faulthandler's dump) were in its pipes before the
                # executor could see it die: read now, they are its task's output before its failure.
                self.drain_worker_output()
            dead = self.dead
            failed_import = next(iter(self.import_failures.items()), None)
            unpickled = unpickling_failure(exc)
            if unpickled and not failed_import:
                # Not a death: the executor could not read a worker's answer, and broke itself
                # (its SIGTERMs to the workers came after). Say that, not "terminated abruptly".
                info["message"] = "a result or exception sent back by a worker could not be unpickled here: %s" % unpickled
                info["hint"] = UNPICKLE_HINT
                dead = None
            elif failed_import:
                pid, (name, message, stack) = failed_import
                info = error_info_from_text("BrokenProcessPool", message, stack, self.user_dir)
                info["message"] = "worker pid %d could not import %s: %s: %s" % (pid, os.path.basename(self.file), name, message)
                info["hint"] = "With the %s start method every worker imports your file again, so its top-level code runs once more in each worker. Code that must run once (set_start_method, starting things) belongs under `if __name__ == \"__main__\":`. The executor is broken: every pending future fails with BrokenProcessPool." % self.method
            elif dead:
                info["message"] = "%s (worker %s)" % (
                    info["message"] or "a worker process died",
                    ", ".join("pid %d %s" % (pid, ("killed by signal %s" % signal_name(-code)) if code < 0 else "exited with code %d" % code) for pid, code in dead),
                )
            if not failed_import and not unpickled:
                info["hint"] = "When one worker of a ProcessPoolExecutor dies, the executor is broken: every pending future fails with BrokenProcessPool."
            if self.states[task_id] == RUNNING and dead:
                info["kind"] = "workerExited"
        ran = getattr(exc, "poolscope_ran", None) if self.pool == "process" else None
        cpu = None
        if isinstance(ran, tuple) and len(ran) == 4:
            # The worker said where and when it ran (run_in_process): announced if the poll missed it.
            pid, start, end, cpu = ran
            worker = self.worker_for(pid, pid=pid, ready_at=start)
            if self.states[task_id] != RUNNING:
                self.task_started(task_id, worker, start)
            duration = max(0.0, end - start)
        else:
            worker = self.worker_of(task_id, None)
            start = self.task_info.get(task_id, NO_INFO).get("start")
            duration = max(0.0, now - start) if start else None
        if self.end_task(task_id, "failed"):
            fields = {"taskId": task_id, "error": info}
            if cpu is not None:
                fields["cpuMs"] = cpu
            if worker:
                fields["workerId"] = worker["workerId"]
                if self.pool == "process" and duration is not None:
                    # It ran there (thread tasks are counted by thread_failed, with their own clock).
                    with self.lock:
                        worker["tasks"] += 1
                        worker["busyMs"] += duration
            if duration is not None:
                fields["durationMs"] = duration
            self.em.emit("task.failed", **fields)

    def fail_internal(self, task_id, exc):
        """Our own error while ending a task: it still gets an ending (the run would wait for it forever)."""
        if self.end_task(task_id, "failed"):
            self.em.emit("task.failed", taskId=task_id, error={
                "kind": "internal", "name": type(exc).__name__,
                "message": "Poolscope's runner failed while ending task %d: %s" % (task_id, pw.exception_text(exc)),
                "stack": traceback.format_exc(),
            })

    # ---- the monitor: call-queue stage, depths, timeouts, worker processes ----
    def monitor(self):
        next_check = 0
        last_depths = None
        while not self.done_event.is_set():
            time.sleep(0.02)
            if self.executor is None:
                continue
            self.remember_processes()
            if self.pool == "process":
                self.fail_stranded()
                if self.max_tasks:
                    self.report_recycled()
                    self.replace_recycled()
                # After the recycled ones' exits: a replacement takes the lane of the worker it
                # replaced only if it starts after that one ended.
                self.note_starting()
            if self.slots is not None:
                self.poll_slots()
                if self.stopping:
                    self.follow_stops()
            elif self.pool != "process":
                self.drain_finished()
                self.announce_threads()
            with self.lock:
                if self.pool == "process":
                    while next_check < len(self.futures):
                        f = self.futures[next_check]
                        if f is not None and f.cancelled():  # by the user: it never reached the call queue
                            next_check += 1
                            continue
                        if f is None or f.running() or f.done():  # None: answered, let go
                            if self.states[next_check] == PENDING:
                                self.move(next_check, CALL_QUEUE)
                                self.em.compact("q", pw.now_ms(), next_check, "callQueue")
                            next_check += 1
                        else:
                            break
                depths = {"pending": self.depth[PENDING], "executing": self.depth[RUNNING]}
                if self.pool == "process":
                    # A task whose worker has moved on is still RUNNING here until its result
                    # arrives: it is in the result queue, not executing (it read "executing 3" on
                    # two workers, and the result queue always 0). At most a few tasks a worker.
                    info = self.task_info
                    leaving = sum(1 for task_id in self.running if info.get(task_id, NO_INFO).get("resultQueue"))
                    depths.update({"executing": self.depth[RUNNING] - leaving, "callQueue": self.depth[CALL_QUEUE], "resultQueue": leaving})
                # A broken pool's running tasks are ending as BrokenProcessPool (their workers are
                # gone): not timing out while the run waits for their exit codes.
                if self.timeout_ms and not (self.pool == "process" and getattr(self.executor, "_broken", False)):
                    now = pw.now_ms()
                    # A thread task that has just returned may not be in the log yet.
                    live = None if self.pool == "process" else {entry[0] for entry in list(self.now_running.values())}
                    for task_id in list(self.running):
                        known = self.info(task_id)  # a running task has its start
                        if live is not None and task_id not in live:
                            continue
                        if known.get("resultQueue"):
                            # It left its worker; its result waits (map hands results over in
                            # order: one behind a long task of another chunk waits for it).
                            continue
                        if not known.get("timedOut") and now - known["start"] > self.timeout_ms:
                            self.time_out(task_id, known)
                    if live is not None and self.depth[PENDING] and not self.cancelling and len(self.stuck_threads(now - THREAD_STOP_WAIT_MS)) >= self.workers_n:
                        self.cancel_behind_stuck()
            full = ["callQueue"] if self.pool == "process" and depths.get("callQueue", 0) >= self.workers_n + 1 else None
            if depths != last_depths:
                last_depths = depths
                fields = {"depths": depths}
                if full:
                    fields["full"] = full
                self.em.emit("queue.depth", **fields)

    def time_out(self, task_id, known):
        known["timedOut"] = True
        timed_out_at = pw.now_ms()  # the task's time ends here, not after the stacks are taken
        worker = self.worker_of(task_id, None)
        info = {"kind": "timeout", "name": "TimeoutError", "message": "task %d ran past its timeout of %d ms" % (task_id, self.timeout_ms)}

        def stop():  # once the stacks are taken: they show where the task was
            if self.pool == "process" and worker and worker.get("pid"):
                slot = self.slot_of(worker["pid"])
                if slot is not None and hasattr(_signal, "SIGUSR2"):
                    info["hint"] = (
                        "Poolscope raised TaskTimeout inside it (a BaseException: `except Exception` does not catch it), so that its worker process (pid %d) "
                        "can go on with the next task without breaking the pool. A task that does not stop within %.0f s (it catches the exception, "
                        "or sits in C code that never checks for signals) gets its worker killed, which breaks the pool: a warning then says so." % (worker["pid"], STOP_GRACE_MS / 1000)
                    )
                    self.slots[pw.SLOT_FIELDS * slot + 3] = task_id
                    now = pw.now_ms()
                    self.stopping[task_id] = [slot, worker["pid"], now + STOP_GRACE_MS, now]
                    self.follow_stops()
                else:
                    self.kill_worker(worker["pid"])
                    info["hint"] = (
                        "Its worker process (pid %d) was killed, and a ProcessPoolExecutor whose worker dies is broken: the tasks still pending fail with BrokenProcessPool. "
                        "For the others to run on, bound the work inside the function (it returns when its time is up), or run it on the thread pool "
                        "(a stuck thread keeps running, the other threads go on)." % worker["pid"]
                    )
            elif self.raise_in_thread is not None and self.stop_thread_task(task_id):
                known["stopRaised"] = pw.now_ms()
                info["hint"] = (
                    "Poolscope raised TaskTimeout inside it (a BaseException: `except Exception` does not catch it): Python code stops there and the thread "
                    "goes on with the next task. A thread waiting in a blocking call (sleep, a lock, a socket, C code) sees it only when that call returns: "
                    "Python cannot stop it sooner, so it may keep running until the run ends. The stack snapshot shows where every worker was."
                )
            else:
                info["hint"] = "Python cannot stop a thread: it keeps running until the function returns, or until every other task is done and the run ends (the runner's exit ends it). The stack snapshot shows where every worker was."

        stacks = info["stack"] = self.snapshot(then=stop)
        self.em.emit("run.warning", message="task %d timed out; stacks of every worker taken" % task_id, detail=stacks)
        if self.end_task(task_id, "timedOut"):
            fields = {"taskId": task_id, "error": info}
            if worker:
                fields["workerId"] = worker["workerId"]
                fields["durationMs"] = timed_out_at - known["start"]
                # Its worker was busy with it until now, as the panel's workers table counts it.
                worker["tasks"] += 1
                worker["busyMs"] += fields["durationMs"]
            self.em.emit("task.failed", **fields)

    # ---- commands ----
    def cancel_task(self, task_id):
        self.drain_finished()
        with self.lock:
            if not self.is_task(task_id):
                return {"ok": False, "reason": "there is no task %d" % task_id}
            state = self.states[task_id]
            if state == ENDED:
                return {"ok": False, "reason": "task %d has already ended" % task_id}
            if state == CALL_QUEUE:
                return {"ok": False, "reason": "task %d is in the call queue: its future is already RUNNING, and Future.cancel() refuses" % task_id}
            if state == RUNNING:
                return {"ok": False, "reason": "task %d is running; Future.cancel() cannot stop it" % task_id}
        f = self.futures[task_id] if task_id < len(self.futures) else None
        if f is not None and f.cancel():
            if self.pool != "process" and self.end_task(task_id, "cancelled"):
                self.em.emit("task.cancelled", taskId=task_id, reason="cancelled by user", wasRunning=False)
            return {"ok": True}
        return {"ok": False, "reason": "Future.cancel() refused: task %d already left the pending queue" % task_id}

    def cancel(self, reason=None):
        if self.cancelling:
            return
        if reason:
            self.cancel_reason = str(reason)
        self.cancelling = True
        self.cancel_t = pw.now_ms()
        if self.executor is None:
            return
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self.pool == "process":
            for pid, p in list(self.processes.items()):
                try:
                    p.terminate()
                except Exception:
                    pass
            threading.Thread(target=self.kill_after_grace, name="poolscope-kill-after-grace", daemon=True).start()
            # Running futures of killed workers end as BrokenProcessPool; report them as cancelled.
        else:
            # Thread-pool futures have no done callback: their cancellations are reported here.
            for task_id, f in enumerate(self.futures):
                if f is not None and f.cancelled() and self.end_task(task_id, "cancelled"):
                    self.em.emit("task.cancelled", taskId=task_id, reason=self.cancel_reason, wasRunning=False)
            running = len(self.now_running)
            if running:
                self.em.emit("run.warning", message="%d thread(s) still running: Python cannot stop a thread, so they run until their function returns" % running)

    def kill_after_grace(self):
        time.sleep(1.0)
        for pid, p in list(self.processes.items()):
            if p.exitcode is None:
                try:
                    os.kill(pid, _signal.SIGKILL)
                except OSError:
                    pass

    def wait_for_stacks(self, pids, limit_s=0.3):
        """Until every worker's stack file has grown and stopped growing (faulthandler writes from
        its signal handler, within a millisecond or two), or `limit_s`. A fixed 0.3 s wait made
        each timeout's stop that much late, and timeouts at once queued behind each other (four
        tasks past a 200 ms limit were stopped at 0.5, 0.8, 1.1 and 1.4 s)."""
        def size(pid):
            try:
                return os.path.getsize(os.path.join(self.stack_dir, "%d.txt" % pid))
            except OSError:
                return -1  # gone: nothing more will come

        deadline = time.monotonic() + limit_s
        last = None
        while time.monotonic() < deadline:
            sizes = [size(pid) for pid in pids]
            if sizes == last and all(sz < 0 or sz > self.stack_read.get(pid, 0) for pid, sz in zip(pids, sizes)):
                return
            last = sizes
            time.sleep(0.005)

    def snapshot(self, then=None):
        """The stacks of every worker; `then()` runs once they are taken, before they are
        formatted (a timeout's stop: the stacks show where the task was)."""
        parts = []
        if self.loading_since is not None:
            # Still importing the user's file (or making the inputs): no worker exists yet, and
            # the main thread is where the run waits.
            frame = sys._current_frames().get(threading.main_thread().ident)
            if frame is not None:
                stack = traceback.StackSummary.extract(traceback.walk_stack(frame))
                stack.reverse()
                stack = traceback.StackSummary.from_list([f for f in stack if not f.filename.startswith("<frozen importlib")])
                parts.append("Main thread (loading %s for %.1f s):\n%s" % (os.path.basename(self.file), (pw.now_ms() - self.loading_since) / 1000.0, strip_runner_frames("".join(stack.format()))))
            del frame
        if self.pool == "process":
            pids = [pid for pid, p in list(self.processes.items()) if p.exitcode is None]
            for pid in pids:
                try:
                    os.kill(pid, _signal.SIGUSR1)
                except OSError:
                    pass
            self.wait_for_stacks(pids)
            for pid in pids:
                path = os.path.join(self.stack_dir, "%d.txt" % pid)
                # Read past the earlier snapshots, not truncated: faulthandler keeps writing at
                # its own offset, and a second snapshot read NULs up to where the first ended.
                try:
                    with open(path) as f:
                        f.seek(self.stack_read.get(pid, 0))
                        text = f.read()
                        self.stack_read[pid] = f.tell()
                except OSError:
                    text = "(no stack: the process is gone)"
                parts.append("Worker process %d:\n%s" % (pid, text.strip()))
        else:
            # Where each thread is, first, with no file read: while other threads keep the GIL
            # busy, every read gives it up and waits ~5 ms to get it back (reading the source
            # lines took 50-180 ms, and the stop for a timeout came that much later).
            frames = sys._current_frames()
            names = {t.ident: t.name for t in threading.enumerate()}
            found = []
            for ident, w in list(self.workers.items()):
                frame = frames.get(ident)
                if frame is None:
                    continue
                stack = traceback.StackSummary.extract(traceback.walk_stack(frame), lookup_lines=False)
                stack.reverse()
                found.append((w, ident, self.now_running.get(ident), stack))
            del frames
            if then is not None:
                then()
            for w, ident, running, stack in found:
                text = strip_runner_frames("".join(stack.format()))
                parts.append("Worker %d (%s, thread %s)%s:\n%s" % (w["workerId"], names.get(ident, "?"), w.get("threadId"), (" running task %d" % running[0]) if running else "", text))
        if then is not None and self.pool == "process":
            then()
        return "\n\n".join(parts) if parts else "(no worker is running)"

    # ---- the end ----
    def end_leftover_processes(self):
        """Processes the tasks started and left running are ended with the run, and named: they
        were ended silently with the runner's group (and a thread pool's run waited a second on
        their output pipes). One started in a session of its own is not in the group: kept."""
        own = {os.getpid()} | set(self.processes) | helper_pids()
        left = pw.leftover_processes(own)
        if self.pool == "process":
            # The runner's own children there are the pool's (one the executor is starting this
            # instant is in no list yet) and multiprocessing's: tasks run in the workers.
            left = [c for c in left if c[1] != os.getpid()]
        if not left:
            return
        for pid, _, _ in left:
            try:
                os.kill(pid, _signal.SIGKILL)
            except OSError:
                pass
        worker_of = {w.get("pid"): w["workerId"] for w in self.workers.values() if w.get("pid") is not None}
        pids = {pid for pid, _, _ in left}

        def origin(pid, ppid):
            if pid in pw.started_by:
                return "task %d" % pw.started_by[pid]
            if ppid in worker_of:
                return "a task on worker %d" % worker_of[ppid]
            if ppid in pids:
                return "pid %d" % ppid
            return "a task"

        listed = ", ".join("pid %d (%s) from %s" % (pid, command[:120], origin(pid, ppid)) for pid, ppid, command in left[:5])
        more = " and %d more" % (len(left) - 5) if len(left) > 5 else ""
        one = len(left) == 1
        self.em.emit("run.warning", message="%s that tasks started %s still running when the run ended, and %s ended with it: %s%s. A run owns what its tasks start; wait for a child in its task (subprocess.run, Popen.wait()), or start it with start_new_session=True to keep it." % (
            "a process" if one else "%d processes" % len(left), "was" if one else "were", "was" if one else "were", listed, more))

    def finish(self, outcome, error=None):
        self.finishing = True
        if not self.cancelling and (self.pool == "process" or pw.started_by or pw.forked_from_task):
            self.end_leftover_processes()
        pw.join_pumps(1.0)  # children's last lines (subprocess, os.system, os.fork) before the end
        pw.flush_loose()  # a last print(end="") outside tasks
        if self.pool != "process" and not self.cancelling:
            self.wait_for_stopping_threads()
        # Threads still inside a task that timed out (a deadlock, an endless loop): every task
        # has an answer, so the run ends without them, and the runner's exit ends them. Waiting
        # for them in shutdown() kept such a run open forever.
        stuck = self.stuck_threads() if self.pool != "process" else set()
        # Before shutdown ends the worker threads (and their schedstat with them).
        core_waits1 = core_waits() if self.core_waits0 is not None else None
        if self.executor is not None:
            if self.pool == "process":
                self.pool_thread = getattr(self.executor, "_executor_manager_thread", None)  # shutdown forgets it
                call_queue = getattr(self.executor, "_call_queue", None)  # this one too
                # Not shutdown(wait=True): it joins the worker processes, and a worker that a task
                # left a (non-daemon) thread running in never exits: the run stayed open forever.
                self.executor.shutdown(wait=False, cancel_futures=True)
                if not self.cancelling:
                    self.end_lingering_workers(self.still_stopping(), call_queue)
            elif not self.cancelling:
                self.executor.shutdown(wait=not stuck, cancel_futures=True)
                self.end_lingering_threads()
            if self.notices is not None:
                # From a thread of its own: a worker the executor terminated while it was writing a
                # notice leaves the queue's write lock taken forever, and the run must still end.
                threading.Thread(target=self.stop_notices, name="poolscope-notices-stop", daemon=True).start()
                # What the workers said before they exited is the run's, before its end.
                if self.notices_thread is not None:
                    self.notices_thread.join(timeout=2)
                self.drain_worker_output()
        self.drain_finished()
        # Anything that never got an answer (a cancelled run) ends as cancelled.
        with self.lock:
            in_threads = {task_id for task_id, _ in list(self.now_running.values())}
            states = self.states
            unanswered = [] if states.count(ENDED) == len(states) else [i for i, state in enumerate(states) if state != ENDED]
            for task_id in unanswered:
                if states[task_id] != ENDED:
                    was_running = states[task_id] in (RUNNING, CALL_QUEUE) or task_id in in_threads
                    reason = self.cancel_reason
                    if was_running and self.pool != "process":
                        reason = self.cancel_reason + " while running: Python cannot stop a thread, so the runner process ended it"
                    if self.end_task(task_id, "cancelled"):
                        self.em.emit("task.cancelled", taskId=task_id, reason=reason, wasRunning=was_running)
        end = self.ended_at or pw.now_ms()
        for key, w in list(self.workers.items()):
            if key in self.exit_reported:
                continue
            code, sig = 0, None
            if self.pool == "process":
                p = self.processes.get(key)
                if p is not None:
                    p.join(timeout=1)
                    # Reaped by the executor's own thread in the same instant, its status reads
                    # None here for a moment (seen with a worker recycled just as the run ended).
                    for _ in range(25):
                        if p.exitcode is not None:
                            break
                        time.sleep(0.02)
                    if p.exitcode is not None and p.exitcode < 0:
                        code, sig = None, signal_name(-p.exitcode)
                    else:
                        code = p.exitcode
            reason = "shutdown" if (code == 0 or code is None and sig is None) else ("cancelled" if self.cancelling else "crash")
            if key in stuck or key in self.timed_out_pids:
                reason = "timeout"
            # A worker the pool's break took down (it died, or the executor then ended it) exited
            # then, not at the run's end, which waited for exit codes first.
            gone_at = min(end, self.broken_at) if reason == "crash" and self.broken_at else end
            self.em.emit("worker.exited", t=gone_at, workerId=w["workerId"], code=code, signal=sig, reason=reason)
        wall = end - self.t0
        summary = []
        for w in self.workers.values():
            alive = max(1e-6, w.get("exitedAt", end) - w["startedAt"])
            s = {"workerId": w["workerId"], "tasks": w["tasks"], "busyMs": w["busyMs"], "utilization": min(1.0, w["busyMs"] / alive)}
            if w.get("pid") is not None:
                s["pid"] = w["pid"]
            if w.get("threadId") is not None:
                s["threadId"] = w["threadId"]
            summary.append(s)
        fields = {"outcome": outcome, "wallMs": wall, "counts": self.counts, "throughput": (self.ended / wall * 1000.0) if wall > 0 else 0, "workers": summary}
        if error:
            fields["error"] = error
        if self.pool == "thread":
            fields.update(self.gil_estimate(end, core_waits1))
        unfinished = self.unfinished_kind()
        if unfinished and "asyncio" in unfinished[1] and self.counts["finished"] + self.counts["failed"]:
            fields["awaitedTasks"] = self.counts["finished"] + self.counts["failed"]
        mark_raw_output(RAW_END)
        self.em.emit_last("run.finished", t=end, **fields)
        self.done_event.set()


def helper_pids():
    """multiprocessing's own processes (the resource tracker, the forkserver): not the user's."""
    pids = set()
    tracker = sys.modules.get("multiprocessing.resource_tracker")
    forkserver = sys.modules.get("multiprocessing.forkserver")
    for pid in (getattr(getattr(tracker, "_resource_tracker", None), "_pid", None), getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)):
        if pid:
            pids.add(pid)
    return pids


# How long a finished run's own exit gets once the host has closed our stdin.
EXIT_AFTER_EOF_S = 3.0


def import_unlocked(name):
    """Imports the user's module the way `python file.py` runs it: its top-level code runs
    without the module's import lock held. importlib.import_module holds that lock throughout, so
    a module that runs a process pool at import time (no `if __name__ == "__main__":` guard, as
    scripts often have) deadlocked the runner: the pool's feeder thread pickles the function by
    reference, which waits for the lock of the module still being imported, while the import
    waits for the pool's results."""
    import importlib.util

    module = sys.modules.get(name)
    if module is not None:
        return module  # a standard module of that name: the caller says the file shadows it
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
        return importlib.import_module(name)  # raises the usual error, or is not a file of source
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


class LoadFailure(Exception):
    def __init__(self, info):
        super().__init__(info.get("message"))
        self.info = info


def main():
    # Commands come on a private copy of stdin: a forked worker closes sys.stdin at start, and
    # would deadlock on its lock if our reader thread held it at fork time.
    control = os.fdopen(os.dup(0), "r", encoding="utf-8")
    # A task that crashes the interpreter (a segfault in native code, an abort) leaves the host
    # the traceback of every thread on stderr: it shows which function, at which line.
    import faulthandler

    faulthandler.enable(file=sys.stderr, all_threads=True)
    sys.stdin = open(os.devnull)
    request = json.loads(control.readline())
    emitter = Emitter(request["runId"], 3)
    run = Run(request, emitter)

    def commands():
        for line in control:
            try:
                cmd = json.loads(line)
            except ValueError:
                continue
            c = cmd.get("cmd")
            if c == "cancelTask":
                emitter.reply({"id": cmd.get("id"), **run.cancel_task(int(cmd["taskId"]))})
            elif c == "cancel":
                run.cancel(cmd.get("reason"))
                emitter.reply({"id": cmd.get("id"), "ok": True})
            elif c == "stacks":
                emitter.reply({"id": cmd.get("id"), "text": run.snapshot()})
        # stdin closed: the host is gone, or done with us (it closes stdin once the run has ended).
        # A finished run is leaving on its own (the main thread: the pool's thread, semaphores,
        # temp folders, then os._exit, which ends this thread too): ending our group at once cut
        # that short, and a forkserver run could leave its socket's folder (/tmp/pymp-*). It gets
        # a few seconds; then, or for a host that went away, the workers end here.
        if run.done_event.is_set():
            time.sleep(EXIT_AFTER_EOF_S)
        for pid in list(run.processes):
            try:
                os.kill(pid, _signal.SIGKILL)
            except OSError:
                pass
        # Before the group's end below, which ends this process too (and no host is left to do it).
        remove_stack_dir(run)
        run_finalizers(("temp dir",))
        # And whatever else the user's code started (a Process from a task, a pool run at import):
        # they are in our group (the host starts us as its leader), and nobody else would end them.
        if os.getpgrp() == os.getpid():
            try:
                os.killpg(os.getpid(), _signal.SIGKILL)
            except OSError:
                pass
        os._exit(0 if run.done_event.is_set() else 1)

    threading.Thread(target=commands, name="poolscope-commands", daemon=True).start()
    try:
        run.start()
    except BaseException as e:  # noqa: B036 - report, never hide
        info = {"kind": "internal", "name": type(e).__name__, "message": "Poolscope's runner failed: %s" % e, "stack": traceback.format_exc()}
        try:
            run.finish("error", info)
        except Exception:
            pass
    emitter.close()
    sys.stdout.flush()
    # The executor's own thread drops the pool's queues as it ends, and their semaphores'
    # finalizers then run in that thread: exiting while one was between unlinking its semaphore
    # and telling the tracker left the tracker's "1 leaked semaphore" warning (and ENOENT) after
    # ~1 forkserver run in 5. By then that thread has nothing left to wait for.
    if run.pool_thread is not None:
        run.pool_thread.join(timeout=1.0)
    run_finalizers()
    remove_stack_dir(run)
    # Leave at once: worker threads of a cancelled thread pool may still run, and only
    # process exit ends them.
    os._exit(0)


def describe_ids(ids):
    """'task 8', 'tasks 8-11', 'tasks 8-9, 12 and 14-15', for a sorted list of task ids."""
    ranges = []
    for i in sorted(ids):
        if ranges and ranges[-1][1] == i - 1:
            ranges[-1][1] = i
        else:
            ranges.append([i, i])
    parts = ["%d" % a if a == b else "%d-%d" % (a, b) for a, b in ranges]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return ("task " if len(ids) == 1 else "tasks ") + text


def remove_stack_dir(run):
    """The folder the process workers wrote their stacks into (one per run: 14,000 of them had piled up in /tmp)."""
    if run.stack_dir:
        import shutil

        shutil.rmtree(run.stack_dir, ignore_errors=True)


def run_finalizers(kinds=("semaphores", "temp dir")):
    """The named semaphores of the pool's queues (spawn and forkserver) and multiprocessing's temp
    folder, released as a normal exit releases them: os._exit skips that. Without the first,
    multiprocessing's resource tracker printed "There appear to be 3 leaked semaphore objects to
    clean up at shutdown" on our stderr, which the host could take for the run's output (a CI
    failure); without the second, every forkserver run left its socket's folder (/tmp/pymp-*:
    1,563 on this machine). Only these finalizers: the others may join threads that wait on
    dead workers."""
    util = sys.modules.get("multiprocessing.util")
    if util is None:
        return
    synchronize = sys.modules.get("multiprocessing.synchronize")
    wanted = set()
    if "temp dir" in kinds:
        wanted.add(util._remove_temp_dir)
    if "semaphores" in kinds and synchronize is not None:
        wanted.add(synchronize.SemLock._cleanup)
    for finalizer in list(getattr(util, "_finalizer_registry", {}).values()):
        if getattr(finalizer, "_callback", None) in wanted:
            try:
                finalizer()
            except Exception:  # noqa: BLE001 - the tracker cleans up what is left
                pass
