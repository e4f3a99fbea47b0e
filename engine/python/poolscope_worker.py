"""Worker-side half of Poolscope's Python runner: what runs inside pool workers.

Lives in its own module (not the runner script) so that process-pool workers can import it
by name under every start method (fork, spawn, forkserver).
"""
import array
import codecs
import collections
import faulthandler
import io
import os
import reprlib
import sys
import threading
import time
import types

# Built in (no file of the user's can stand in for it), and without `signal`'s 0.4 ms of enums.
import _signal

REAL_EXIT = os._exit  # the runner replaces os._exit and os.system in thread pools; its forked children need these
REAL_SYSTEM = os.system

_notices = None  # multiprocessing queue to the runner (process pools only)
_stack_dir = None
# What this worker runs right now, in shared memory the runner polls: [pid, task id (-1 idle),
# start ms, task to stop (-1 none), 1 while the runner reads this slot's fd 1 and 2 pipes] per
# worker. Two queue messages per task (start, end) cost more than the no-op task itself; three
# stores in shared memory cost nothing. The exact start and end ride on the result.
SLOT_FIELDS = 5
READING = 4
_slots = None
_slot = -1
# The task whose user code runs now (-1 outside it): the only place a timeout may raise.
_stoppable = -1


# What the runner and a process pool import while a run goes on, some only as a worker starts:
# imported before the user's folder goes on sys.path (past it in a spawned worker), so that a
# queue.py or random.py next to the user's file, common in a folder of concurrency exercises,
# cannot stand in for them and break the runner itself.
THREAD_POOL_MODULES = ("concurrent.futures.thread", "queue", "weakref", "importlib.util", "importlib.machinery")
PROCESS_POOL_MODULES = THREAD_POOL_MODULES + (
    "concurrent.futures.process", "multiprocessing", "multiprocessing.connection", "multiprocessing.queues",
    "multiprocessing.synchronize", "multiprocessing.sharedctypes", "multiprocessing.heap", "multiprocessing.reduction",
    "multiprocessing.resource_sharer", "multiprocessing.spawn", "multiprocessing.util", "tempfile", "ctypes", "pickle", "select",
) + (
    ("multiprocessing.popen_spawn_win32",) if sys.platform == "win32" else
    ("multiprocessing.popen_fork", "multiprocessing.popen_spawn_posix", "multiprocessing.popen_forkserver",
     "multiprocessing.forkserver", "multiprocessing.resource_tracker", "fcntl", "termios")
)


def import_past_user_paths(names, user_paths):
    """Imports `names` from anywhere on sys.path but `user_paths` (the user's folders)."""
    import importlib

    saved = sys.path[:]
    sys.path[:] = [p for p in saved if p not in user_paths]
    try:
        for name in names:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as e:
                if e.name != name:
                    raise
    finally:
        sys.path[:] = saved + [p for p in sys.path if p not in saved]


def start_workers_past_user_paths(user_paths):
    """Spawned and forkserver workers start with the runner's sys.path minus the user's folders,
    which their initializer puts back before it imports the user's file: a spawned process loads
    much of the standard library before any code of ours runs in it (runpy imports pkgutil), and
    a pkgutil.py or queue.py next to the user's file broke every worker with "exited with code 1"."""
    try:
        import multiprocessing.spawn as spawn
    except ImportError:
        return
    real = spawn.get_preparation_data
    if getattr(real, "poolscope", False):
        return

    def get_preparation_data(name):
        data = real(name)
        if "sys_path" in data:
            data["sys_path"] = [p for p in data["sys_path"] if p not in user_paths]
        return data

    get_preparation_data.poolscope = True
    spawn.get_preparation_data = get_preparation_data


def now_ms():
    return time.monotonic() * 1000.0


PREVIEW_LIMIT = 200


# Containers are shown bounded: the full repr of a 10-million-item list took 1.2 s and 89 MB to
# be cut to 200 characters, holding the GIL the pool's other threads wait for.
_bounded = reprlib.Repr()
_bounded.maxlevel = 4  # as deep as the JS previews (util.inspect depth 3 below the top)
_bounded.maxtuple = _bounded.maxlist = _bounded.maxarray = _bounded.maxdict = 20
_bounded.maxset = _bounded.maxfrozenset = _bounded.maxdeque = 20
_bounded.maxstring = _bounded.maxlong = _bounded.maxother = 40  # inside a container
_SCALARS = (type(None), bool, int, float, complex)
_TEXTS = (str, bytes, bytearray)
_CONTAINERS = (list, tuple, dict, set, frozenset, collections.deque, array.array)


def exception_text(exc):
    """str(exc), which the user's __str__ may break (raise, or return no string): then as the
    traceback module says it."""
    try:
        return str(exc)
    except Exception as e:  # noqa: BLE001 - any failure of the user's __str__
        try:
            return "<exception str() failed: %s: %s>" % (type(e).__name__, e)
        except Exception:  # noqa: BLE001
            return "<exception str() failed>"


def preview(value, limit=PREVIEW_LIMIT):
    t = type(value)
    try:
        if t in _SCALARS:
            text = repr(value)
        elif t in _TEXTS:
            text = repr(value[:limit]) if len(value) > limit else repr(value)
        elif t in _CONTAINERS:
            text = _bounded.repr(value)
        else:
            text = repr(value)
    except Exception as e:  # a broken __repr__ must not fail the task
        text = "<unrepresentable %s: %s>" % (t.__name__, exception_text(e))
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# What each thread of this process runs now: thread ident -> (task id, start ms). Task output
# is routed by it, and the runner's monitor announces long thread tasks from it. One dict set per
# task instead of binding two thread-local streams: on a no-op task that binding cost more than
# the task.
running = {}


def _send_whole_lines(pending, key, text, send, *to):
    """Whole lines per event, `send(*to, piece)`: print() writes the text and the newline
    separately. A `\r` ends a line too: a progress bar (tqdm) redraws with it and writes no
    newline until done. The rest waits in pending[key], unless it grows past 8 KB."""
    buf = pending.pop(key, "") + text
    cut = max(buf.rfind("\n"), buf.rfind("\r")) + 1
    if cut:
        send(*to, buf[:cut])
    rest = buf[cut:]
    if len(rest) > 8192:
        send(*to, rest)
    elif rest:
        pending[key] = rest


class _TaskStream(io.TextIOBase):
    """sys.stdout/sys.stderr replacement: text written by a task goes to that task. A text stream
    in full (writelines, .buffer for bytes, reconfigure, ...): click, rich and friends write bytes
    to sys.stdout.buffer or wrap it, and a task that does must not fail for lack of it."""

    def __init__(self, name, real, sink):
        super().__init__()
        self._name = name
        self._real = real
        self._sink = sink
        self._pending = {}  # thread ident -> what its task wrote after its last newline
        # Output no task wrote (the module as it loads, a thread it started): whole lines to
        # `loose(stream, text)` once one is set, else straight to the real stream.
        self._loose = None
        self._loose_pending = {}
        self.buffer = _TaskBuffer(self)

    def end_task(self, ident, task_id):
        rest = self._pending.pop(ident, None)
        if rest:
            self._sink(task_id, self._name, rest)

    def write(self, text):
        ident = threading.get_ident()
        now = running.get(ident)
        if now is None:
            origin = getattr(threading.current_thread(), "poolscope_task", None)
            if origin is None or not _still_running(origin):
                # Once its task has ended, a thread it started (a helper pool's, serving later
                # tasks' work) writes the run's output: it was all charged to the first task.
                return self._write_loose(ident, text)
            # A thread a task started, while that task runs: what it writes is that task's.
            self._sink(origin, self._name, text)
            return len(text)
        _send_whole_lines(self._pending, ident, text, self._sink, now[0], self._name)
        return len(text)

    def _write_loose(self, ident, text):
        if self._loose is None:
            return self._real.write(text)
        _send_whole_lines(self._loose_pending, ident, text, self._loose, self._name)
        return len(text)

    def flush_loose(self):
        """What was written outside tasks after the last newline (print(end=""), then nothing)."""
        loose = self._loose
        while loose is not None and self._loose_pending:
            try:
                _, rest = self._loose_pending.popitem()
            except KeyError:
                return
            loose(self._name, rest)

    def flush(self):
        if self._loose_pending and threading.get_ident() not in running:
            self.flush_loose()
        try:
            self._real.flush()
        except Exception:
            pass

    def writable(self):
        return True

    def isatty(self):
        return False

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "strict"

    @property
    def line_buffering(self):
        return True

    @property
    def name(self):
        return "<%s>" % self._name

    def reconfigure(self, **_settings):
        """Output is always UTF-8 and line-routed here: a library asking for that gets it."""

    def close(self):
        """A task that closes sys.stdout must not end the output of every other task."""

    def fileno(self):
        return self._real.fileno()


class _TaskBuffer(io.BufferedIOBase):
    """sys.stdout.buffer: bytes a task writes join its text output (UTF-8, invalid bytes replaced)."""

    def __init__(self, text):
        super().__init__()
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        self._text.flush()

    def writable(self):
        return True

    def close(self):
        """As for the text stream: closing it would end every task's output."""

    def fileno(self):
        return self._text.fileno()


_streams = None


def _still_running(task_id):
    return any(now[0] == task_id for now in list(running.values()))


def _task_of_this_thread():
    now = running.get(threading.get_ident())
    if now is not None:
        return now[0]
    origin = getattr(threading.current_thread(), "poolscope_task", None)
    return origin if origin is not None and _still_running(origin) else None


_subprocess_patched = False


def capture_subprocess_output():
    """Once `subprocess` is loaded: a child process a task starts without redirecting its output
    writes to a pipe of that task's instead of this process's stdout and stderr (shared by every
    task, and unseen). The user's Popen object is unchanged (its .stdout stays None)."""
    global _subprocess_patched
    subprocess = sys.modules.get("subprocess")
    if subprocess is None or _subprocess_patched:
        return
    _subprocess_patched = True
    real_init = subprocess.Popen.__init__

    def init(self, args, *rest, **kwargs):
        task_id = _task_of_this_thread() if _streams is not None else None
        pipes = []
        if task_id is not None:
            # Popen(args, bufsize, executable, stdin, stdout, stderr, ...): only what is left to inherit.
            for position, name in ((3, "stdout"), (4, "stderr")):
                if len(rest) <= position and kwargs.get(name) is None:
                    r, w = os.pipe()
                    kwargs[name] = w
                    pipes.append((r, w, name))
        try:
            real_init(self, args, *rest, **kwargs)
        except BaseException:
            for r, w, _ in pipes:
                os.close(r)
                os.close(w)
            raise
        if task_id is not None:
            started_by[self.pid] = task_id
        for r, w, name in pipes:
            os.close(w)  # the child has its own copy: the pipe ends when the child does
            _start_pump(r, task_id, name, "poolscope-subprocess-output")

    subprocess.Popen.__init__ = init


def system_from_task(command, _real=REAL_SYSTEM):
    """os.system in a thread pool: the shell's output is the calling task's, as a subprocess's
    is (threads share one fd 1, so a bare os.system could only be the run's output). Same shell
    (/bin/sh -c) and the same return value (the wait status); outside a task, the real one."""
    task_id = _task_of_this_thread() if _streams is not None else None
    if task_id is None or os.name != "posix":
        return _real(command)
    import subprocess  # patched on import: the child gets pipes of this task's

    code = subprocess.call(command, shell=True)
    return code << 8 if code >= 0 else -code


# A task that forks (os.fork, or a fork-context multiprocessing Process or pool of its own) gets
# for its child what a subprocess gets: pipes of that task's for fd 1 and 2. The hooks run in the
# forking thread; a thread-local keeps two threads forking at once apart.
_fork_local = threading.local()


def _before_fork():
    global forked_from_task
    task_id = _task_of_this_thread() if _streams is not None else None
    forked_from_task = forked_from_task or task_id is not None
    _fork_local.task = None if task_id is None else (task_id, [(name, os.pipe()) for name in ("stdout", "stderr")])


def _after_fork_in_parent():
    forked, _fork_local.task = getattr(_fork_local, "task", None), None
    if forked is not None:
        task_id, pipes = forked
        for name, (r, w) in pipes:
            os.close(w)  # the child's copy is the only writer: EOF when it (and its children) end
            _start_pump(r, task_id, name, "poolscope-fork-output")


def _after_fork_in_child():
    """In a task's child: its own plain streams on the task's pipes. Not Poolscope's process: no
    routing by thread, and what it starts inherits those pipes. (One of Poolscope's own workers,
    forked by the executor, has no task: process_initializer sets it up.)"""
    global _streams, _pumps_lock
    # No pump thread lives on in a child, and the lock may have been held by one at the fork.
    _pumps_lock = threading.Lock()
    _pumps.clear()
    forked, _fork_local.task = getattr(_fork_local, "task", None), None
    if forked is None:
        return
    for fd, (_name, (r, w)) in zip((1, 2), forked[1]):
        os.dup2(w, fd)
        os.close(r)
        os.close(w)
    _streams = None
    threading.Thread.start = _thread_start
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="replace", line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", line_buffering=True)


class _PatchSubprocessOnImport:
    """A meta path finder that patches `subprocess` right after its first import (also one
    inside a task's function), then removes itself: the runner does not import it for nothing."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name != "subprocess":
            return None
        if cls in sys.meta_path:
            sys.meta_path.remove(cls)
        import importlib.machinery

        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        real_exec = spec.loader.exec_module

        def exec_module(module):
            real_exec(module)
            capture_subprocess_output()

        spec.loader.exec_module = exec_module
        return spec


# Processes tasks started through subprocess (pid -> task id), and whether a task forked: only then
# does a thread pool's end look for processes left running (a pass over /proc).
started_by = {}
forked_from_task = False


def leftover_processes(own):
    """Processes still running in this runner's process group (Linux: /proc), other than `own`
    (the runner, its pool's workers, multiprocessing's helpers): what tasks started and left.
    [(pid, parent pid, command line)]; nothing where /proc or the group is not ours."""
    group = os.getpid()
    if os.getpgrp() != group:
        return []
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    commands = {}

    def command_of(pid):
        if pid not in commands:
            try:
                with open("/proc/%d/cmdline" % pid, "rb") as f:
                    commands[pid] = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
            except OSError:
                commands[pid] = ""
        return commands[pid]

    found = []
    for name in names:
        if not name.isdigit() or int(name) in own:
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as f:
                stat = f.read()
            # pid (comm) state ppid pgrp ...: the command name may hold spaces and parentheses.
            fields = stat[stat.rindex(b")") + 2:].split()
            if int(fields[2]) != group or fields[0] in (b"Z", b"X"):
                continue
        except (OSError, ValueError, IndexError):
            continue
        pid, ppid = int(name), int(fields[1])
        command = command_of(pid)
        if command and command == command_of(ppid):
            # os.fork, a fork-context Process: its parent's command line.
            command = "a fork of the runner" if ppid == group else "a fork of pid %d" % ppid
        found.append((pid, ppid, command or stat[stat.index(b"(") + 1:stat.rindex(b")")].decode("utf-8", "replace")))
    return sorted(found)


_pumps = []  # the threads reading children's pipes, until they have ended
_pumps_lock = threading.Lock()  # tasks start children from several threads


def _start_pump(fd, task_id, name, thread_name):
    t = threading.Thread(target=_pump, args=(fd, task_id, name), name=thread_name, daemon=True)
    with _pumps_lock:
        _pumps[:] = [p for p in _pumps if p.is_alive()]
        _pumps.append(t)
    t.start()


def join_pumps(timeout):
    """At the run's end: what children wrote before they exited is read and sent before the
    run's last event (a task that waited for its child ended first, and a pump thread scheduled
    later lost the child's last line once the run had closed its events). A child that still runs
    (left behind on purpose) gets `timeout` seconds in all."""
    deadline = time.monotonic() + timeout
    with _pumps_lock:
        pumps = list(_pumps)
    for t in pumps:
        t.join(max(0.0, deadline - time.monotonic()))


def _pump(fd, task_id, name):
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    try:
        while True:
            data = os.read(fd, 65536)
            text = decoder.decode(data, final=not data)
            if text:
                _streams[0]._sink(task_id, name, text)
            if not data:
                break
    finally:
        os.close(fd)


_thread_start = threading.Thread.start


def _start_from_task(self):
    """Thread.start, remembering which task started the thread (its output goes to that task)."""
    origin = _task_of_this_thread()
    if origin is not None:
        self.poolscope_task = origin
    return _thread_start(self)


def install_streams(sink, loose=None):
    """`sink(task_id, stream, text)` gets what tasks write; `loose(stream, text)` what the rest of
    the process writes (None: the real stream)."""
    global _streams
    threading.Thread.start = _start_from_task
    if not getattr(install_streams, "fork_hooks", False) and hasattr(os, "register_at_fork"):
        install_streams.fork_hooks = True  # once a process (a forked worker inherits them)
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent, after_in_child=_after_fork_in_child)
    if "subprocess" in sys.modules:
        capture_subprocess_output()
    elif _PatchSubprocessOnImport not in sys.meta_path:
        sys.meta_path.insert(0, _PatchSubprocessOnImport)
    if _streams is None:
        _streams = (
            _TaskStream("stdout", sys.stdout, sink),
            _TaskStream("stderr", sys.stderr, sink),
        )
        sys.stdout, sys.stderr = _streams
    else:
        # A forked worker inherits the runner's streams: point them at this process's sinks,
        # dropping what the runner had not yet sent (it sends that itself).
        for s in _streams:
            s._sink = sink
            s._loose_pending = {}
    for s in _streams:
        s._loose = loose
    return _streams


def flush_loose():
    if _streams is not None:
        for s in _streams:
            s.flush_loose()


def task_ended(ident, task_id):
    """Sends what a task wrote after its last newline (nearly free when it wrote none)."""
    for s in _streams:
        if s._pending:
            s.end_task(ident, task_id)


def _queue_sink(task_id, stream, text):
    _notices.put(("output", task_id, stream, text))


# What a worker process may send of output outside tasks: a module printing in a loop from a
# thread it started must not flood the runner (which keeps less than this per run anyway).
_loose_left = 256 * 1024 + 1


def _queue_loose(stream, text):
    global _loose_left
    if _loose_left <= 0:
        return
    text = text[:_loose_left]
    _loose_left -= len(text)
    _notices.put(("loose", os.getpid(), stream, text))


def _die_with(runner_pid):
    """Linux: the kernel ends this worker when the process that started it dies. A runner that is
    killed or crashes cannot end its workers, and they would wait on the call queue forever (its
    write end is theirs too). The host ends the runner's process group as well; this covers a
    host that died with it."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, _signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:  # no libc prctl: the host's group kill still applies
        return
    # The runner died before the signal was armed: nobody would send it. Its own child sees that
    # as a new parent at once; a zombie runner (dead, not yet reaped) still answers kill(pid, 0),
    # so /proc says whether it lives (a forkserver's child has the forkserver as parent).
    if os.getppid() != runner_pid and not _alive(runner_pid):
        os._exit(1)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


# What a process worker writes to its file descriptors 1 and 2 below sys.stdout and sys.stderr
# (os.system(), a C library's printf, sys.__stdout__) goes into pipes of its own, which the runner
# reads (with its own GIL: a C call that writes a lot while holding ours never waits for us) and
# gives to the task this worker's slot names. True once fd 1 and 2 are such pipes.
_own_fds = False
_unread = array.array("i", [0])
fcntl = termios = None  # imported by capture_fds


def capture_fds(pipes):
    """fd 1 and 2 become the writing ends of this worker's pipes. A crash dump (faulthandler) goes
    to fd 2 too: the task that crashed is the one the slot names, and the pipe keeps the dump after
    the worker is gone (the runner holds the writing ends as well, and reads what is there)."""
    global _own_fds, fcntl, termios
    try:
        # Here, not at the top: a thread-pool run never needs them. PROCESS_POOL_MODULES has the
        # runner import them before the user's folder is on sys.path (forked workers inherit them).
        import fcntl
        import termios
    except ImportError:  # Windows
        return
    try:
        for conn, fd in zip(pipes, (1, 2)):
            os.dup2(conn.fileno(), fd)
    except OSError:
        return
    _own_fds = True
    # Under every start method, not only fork's inherited one: a spawned worker's segfault said
    # nothing but its signal.
    faulthandler.enable(file=2, all_threads=True)


def _unread_bytes(fd):
    try:
        fcntl.ioctl(fd, termios.FIONREAD, _unread, True)
    except OSError:
        return 0
    return _unread[0]


def _wait_read(at):
    """Until the runner has read what this task wrote to fd 1 and 2 (a shell command's last
    line) and given it to the task: it reads while the slot still names the task. Both pipes
    empty is not enough: the runner may have taken the last bytes and not yet read the slot, which
    would then name the next task (a stress run's task 2 lost its line to the task before it), so
    the slot's READING flag must be down too, looked at after the pipes. Nearly free when it wrote
    nothing."""
    try:
        sys.__stdout__.flush()
        sys.__stderr__.flush()
    except (OSError, ValueError, AttributeError):
        pass
    deadline = None
    while _unread_bytes(1) or _unread_bytes(2) or _slots[at + READING]:
        now = time.monotonic()
        deadline = deadline or now + 1.0  # a runner that stopped reading: do not hang the task
        if now > deadline:
            return
        time.sleep(0.0002)


def process_initializer(notices, stack_dir, slots=None, next_slot=None, runner_pid=None, user_module=None, user_paths=(), output_pipes=()):
    """Runs once in every process-pool worker."""
    global _notices, _stack_dir, _slots, _slot
    missing = [p for p in user_paths if p not in sys.path]
    if missing:
        sys.path[0:0] = missing  # a spawned worker started without them (start_workers_past_user_paths)
    if runner_pid is not None:
        _die_with(runner_pid)
    _notices = notices
    _stack_dir = stack_dir
    index = -1
    if slots is not None:
        # The first free slot (pid 0): never taken, or freed by the runner when the worker that
        # had it was recycled (max_tasks_per_child). None free: queue notices instead.
        with next_slot.get_lock():
            for i in range(len(slots) // SLOT_FIELDS):
                at = SLOT_FIELDS * i
                if slots[at] == 0:
                    _slots, _slot, index = slots, i, i
                    slots[at + 1] = -1
                    slots[at + 2] = 0
                    slots[at + 3] = -1
                    slots[at] = os.getpid()
                    break
    if 0 <= index < len(output_pipes):
        capture_fds(output_pipes[index])
    for pipes in output_pipes:  # this worker's copies: fd 1 and 2 are its own now
        for conn in pipes:
            conn.close()
    # Stacks on demand: the runner sends SIGUSR1 and reads the file.
    path = os.path.join(stack_dir, "%d.txt" % os.getpid())
    f = open(path, "w")
    faulthandler.register(_signal.SIGUSR1, file=f, all_threads=True)
    if _slot >= 0 and hasattr(_signal, "SIGUSR2"):
        _signal.signal(_signal.SIGUSR2, _stop_task)
    install_streams(_queue_sink, _queue_loose)
    if user_module and user_module not in sys.modules:
        # A spawned or forkserver worker imports the user's file again: here, where a failure
        # (top-level code that only works once, in the runner) can be told, rather than while
        # unpickling its first task, where the worker just dies with code 1.
        import importlib
        import traceback

        try:
            importlib.import_module(user_module)
        except BaseException as e:
            notices.put(("importFailed", os.getpid(), type(e).__name__, exception_text(e), traceback.format_exc()))
            raise
    notices.put(("worker", os.getpid(), now_ms()))


def run_in_process(fn, task_id, args):
    """The callable a ProcessPoolExecutor runs: the user's function, timed and instrumented."""
    global _stoppable
    pid = os.getpid()
    slot = SLOT_FIELDS * _slot
    start = now_ms()
    if slot >= 0:
        _slots[slot + 2] = start  # the start before the id: a reader that sees the id sees its start
        _slots[slot + 1] = task_id
    else:
        _notices.put(("start", task_id, pid, start))
    ident = threading.get_ident()
    running[ident] = (task_id, start)
    cpu0 = time.process_time()
    try:
        _stoppable = task_id
        value = fn(*args)
        if type(value) in UNFINISHED:
            value = finish_call(value)
        _stoppable = -1
    except BaseException as e:
        _stoppable = -1
        # Where and when it ran rides on the exception, as on a result: a task that fails before
        # the runner's poll saw it start is still charged to its worker, for its own time.
        _tag(e, task_id, (pid, start, now_ms(), (time.process_time() - cpu0) * 1000.0))
        raise
    finally:
        end = now_ms()
        cpu = (time.process_time() - cpu0) * 1000.0
        if _own_fds and slot >= 0:
            _wait_read(slot)
        del running[ident]
        task_ended(ident, task_id)
        if slot >= 0:
            _slots[slot + 1] = -1
        else:
            _notices.put(("end", task_id, pid, end))
    # Fail like the executor would, but with a message naming the value's type.
    if type(value) in _PLAIN:
        return (value, preview(value), start, end, cpu, pid)
    import pickle  # loaded already by multiprocessing; a thread-pool run never loads it (~1 ms)

    try:
        pickle.dumps(value)
    except Exception as e:
        raise _tag(ResultNotPicklable(
            "the result of type %s cannot be pickled, so it cannot travel back from the worker process: %s"
            % (type(value).__name__, e)
        ), task_id, (pid, start, end, cpu)) from None
    return (value, preview(value), start, end, cpu, pid)


class TaskTimeout(BaseException):
    """Raised inside a task past its timeout (by a process worker's signal handler, or in a
    thread as an asynchronous exception), so that its worker lives on and a process pool is
    not broken. A BaseException, like KeyboardInterrupt: `except Exception` does not swallow it."""


def _stop_task(signum, frame):
    """SIGUSR2 from the runner: stop the task named in this worker's slot, if it still runs
    user code. Never in our own wrapper (`frame` is run_in_process's, or a cleanup after it):
    an exception there would skip its bookkeeping; the runner signals again until it stops."""
    at = SLOT_FIELDS * _slot
    target = _stoppable
    if target < 0 or _slots[at + 3] != target or frame is None or frame.f_code is run_in_process.__code__:
        return
    _slots[at + 3] = -1
    raise TaskTimeout("task %d ran past its timeout: Poolscope raised this inside it to stop it" % target)


def _tag(exc, task_id, ran=None):
    """Names the task on its exception (the attribute travels with the pickled exception):
    `map` with a chunksize raises a chunk's exception at the chunk's first task, not at the
    task that raised it. `ran`: (pid, start ms, end ms, CPU ms) of the call."""
    try:
        exc.poolscope_task_id = task_id
        if ran is not None:
            exc.poolscope_ran = ran
    except Exception:  # an exception type that takes no attributes
        pass
    return exc


_PLAIN = (type(None), bool, int, float, str, bytes)

# A call of an `async def` or generator function returns before its body has run: the work
# happens when the result is awaited or iterated. In a pool that would show a task done in a
# microsecond with "<coroutine object ...>" (or, from a process, a pickling error), and a
# RuntimeWarning nobody sees. So the worker finishes the call where it is, inside the task's time.
UNFINISHED = frozenset((types.CoroutineType, types.GeneratorType, types.AsyncGeneratorType))
MAX_YIELDED = 1_000_000


def _too_many(kind):
    return RuntimeError("the %s yielded more than %d values: Poolscope stopped collecting them (a task's result is the list of what it yields)" % (kind, MAX_YIELDED))


def finish_call(value):
    kind = type(value)
    if kind is types.GeneratorType:
        out = []
        for item in value:
            out.append(item)
            if len(out) > MAX_YIELDED:
                value.close()
                raise _too_many("generator")
        return out
    import asyncio  # only for async functions: ~25 ms of imports a runner need not pay otherwise

    if kind is types.CoroutineType:
        return asyncio.run(value)

    async def drain():
        out = []
        async for item in value:
            out.append(item)
            if len(out) > MAX_YIELDED:
                await value.aclose()
                raise _too_many("async generator")
        return out

    return asyncio.run(drain())


class ResultNotPicklable(Exception):
    pass
