"""The process-pool part of the runner's Run (poolscope_runner.py): results and worker processes
as the executor reports them, the workers' notices and output pipes, recycled and replaced
workers, and tasks stopped past their timeout."""
import codecs
import concurrent.futures as cf
import os
# The signal numbers without `signal` (see poolscope_runner).
import _signal
import sys
import threading
import time
import traceback
from time import monotonic

import poolscope_worker as pw
from poolscope_states import CALL_QUEUE, ENDED, NAN, NO_INFO, PENDING, RUNNING, WORKER_EXIT_GRACE_S

# How long a process task past its timeout has to stop after TaskTimeout is raised in it.
STOP_GRACE_MS = 1000
# Worker slots whose fd 1 and 2 get pipes of their own (two fds each here, and every spawned worker
# receives them all): 64 covers 32 workers and their replacements.
OUTPUT_PIPE_SLOTS = 64


class ProcessPoolPart:
    """Run's process-pool methods (a mixin: the state they read is Run's, made in Run.__init__)."""

    def warn_of_threads_at_fork(self):
        """Before each fork of a worker (fork start method): threads of the user's (started as
        their module was imported, or by a library it imports) running in the runner at that
        moment are told once. Fork copies only the forking thread: a lock one of them holds then
        is locked in the worker for good, and a task that takes it waits forever (a stall with
        idle workers and no clue why; CPython 3.12+ has a DeprecationWarning for it). Inherited by
        a forked worker, where a task's own fork must not write to the runner's channel."""
        if self.fork_threads_told or os.getpid() != self.runner_pid:
            return
        me = threading.current_thread()
        main = threading.main_thread()
        theirs = [t.name for t in threading.enumerate() if t is not me and t is not main and not t.name.startswith("poolscope-")
                  and t.name != "QueueFeederThread" and not isinstance(t, getattr(cf.process, "_ExecutorManagerThread", ()))]
        if not theirs:
            return
        self.fork_threads_told = True
        n = len(theirs)
        self.em.emit("run.warning", message=(
            "The workers are forked while %d other thread%s of the runner %s running (%s), started as %s was imported: fork copies only the thread "
            "that forks, so a lock %s holds at that moment stays locked in every worker, with no thread there to release it, and a task that takes "
            "it waits forever. Use the spawn or forkserver start method (each worker then imports the module afresh), or start such threads under "
            '`if __name__ == "__main__":`.') % (
                n, "" if n == 1 else "s", "is" if n == 1 else "are", ", ".join(repr(name) for name in theirs[:5]) + (", ..." if n > 5 else ""),
                os.path.basename(self.file), "it" if n == 1 else "one of them"))

    def handle_done(self, done_items):
        """Drains finished futures in batches: a blocking get woke this thread once per result,
        and each wake took the GIL from the executor's own thread, the one a bare executor's
        speed depends on."""
        while not self.done_event.is_set():
            try:
                fut = done_items.popleft()
            except IndexError:
                time.sleep(0.005)
                continue
            try:
                self.future_done(fut.poolscope_task_id, fut)
            except Exception as e:  # noqa: BLE001 - one bad result must not stop the others
                traceback.print_exc()
                self.fail_internal(fut.poolscope_task_id, e)
            # Answered: let it go (see drain_finished). It was kept before its callback was added.
            self.futures[fut.poolscope_task_id] = None

    def future_done(self, task_id, fut):
        if fut.cancelled():
            if self.end_task(task_id, "cancelled"):
                self.em.emit("task.cancelled", taskId=task_id, reason=self.cancel_reason if self.cancelling else "cancelled by user", wasRunning=False)
            return
        exc = fut.exception()
        if exc is None:
            self.result(task_id, fut.result())
        else:
            self.fail(task_id, exc)

    def result(self, task_id, result):
        """A process-pool result: one lock and one record ("P") for what the monitor did not
        announce yet (the start, the wait in the result queue) and the end."""
        _value, text, start, end, cpu, pid = result
        worker = self.worker_for(pid, pid=pid, ready_at=start) if pid is not None else None
        with self.lock:
            state = self.states[task_id]
            info = self.task_info.get(task_id, NO_INFO)
            if info.get("timedOut") or state == ENDED:
                return
            if worker is None:
                worker = self.worker_of(task_id, None)
            seen = (1 if state == RUNNING else 0) | (2 if info.get("resultQueue") else 0)
            self.move(task_id, ENDED)
            self.counts["finished"] += 1
            self.ended += 1
            if worker is not None:
                worker["tasks"] += 1
                worker["busyMs"] += end - start
            if self.ended >= self.total:
                self.all_answered()
            # From the worker's end to now the result travelled the result queue.
            self.em.column("P", (start, task_id, worker["workerId"] if worker else -1, end, NAN if cpu is None else cpu, max(end, pw.now_ms()), seen), text)

    def worker_of(self, task_id, pid):
        with self.lock:
            if pid is not None:
                return self.worker_for(pid, pid=pid)
            wid = self.task_info.get(task_id, NO_INFO).get("worker")
            for w in self.workers.values():
                if w["workerId"] == wid:
                    return w
        return None

    def note_starting(self):
        """Worker processes the executor has started that have not said they are ready: shown as
        starting. spawn and forkserver start an interpreter and import the user's file in each
        (a heavy import shows here), fork barely takes a poll."""
        for pid in list(self.processes):
            if pid not in self.workers and pid not in self.exit_reported:
                self.worker_for(pid, pid=pid, ready=False)

    def remember_processes(self):
        procs = getattr(self.executor, "_processes", None) or {}
        for pid, p in list(procs.items()):
            self.processes.setdefault(pid, p)

    def stop_notices(self):
        try:
            self.notices.put(("stop",))
        except Exception:  # noqa: BLE001 - the queue is gone: so is its reader
            pass

    def drain_notices(self):
        # Until finish() says stop: a worker's last words (its output as it exits) come after
        # every task has its answer.
        while True:
            try:
                msg = self.notices.get()
            except (EOFError, OSError):
                return
            kind = msg[0]
            if kind == "worker":
                self.worker_for(msg[1], pid=msg[1], ready_at=msg[2])
            elif kind == "start":
                _, task_id, pid, t = msg
                self.task_started(task_id, self.worker_for(pid, pid=pid, ready_at=t), t)
            elif kind == "end":
                _, task_id, pid, t = msg
                with self.lock:
                    queued = self.states[task_id] == RUNNING
                if queued:
                    self.em.emit("task.queued", t=t, taskId=task_id, stage="resultQueue")
            elif kind == "output":
                _, task_id, stream, text = msg
                self.output_sink(task_id, stream, text)
            elif kind == "loose":
                _, pid, stream, text = msg
                self.loose_output(stream, text, self.worker_for(pid, pid=pid, ready=False))  # (printing is no sign of ready)
            elif kind == "importFailed":
                self.import_failures.setdefault(msg[1], msg[2:])
            elif kind == "stop":
                return

    def open_output_pipes(self, ctx, n):
        """A pipe for fd 1 and one for fd 2 per worker slot (the slot a worker takes at start),
        read here: os.system() in a task, a C library's printf, sys.__stdout__ are that task's
        output. A worker past the slots writes to the runner's own stdout (the run's output)."""
        writers = []
        for slot in range(n):
            pair = []
            for stream in ("stdout", "stderr"):
                r, w = ctx.Pipe(duplex=False)
                os.set_blocking(r.fileno(), False)
                # "conn" keeps the Connection alive: collected, it would close its fd.
                self.out_pipes[r.fileno()] = {"conn": r, "slot": slot, "stream": stream, "decoder": codecs.getincrementaldecoder("utf-8")("replace")}
                pair.append(w)
            writers.append(tuple(pair))
        threading.Thread(target=self.read_worker_output, name="poolscope-worker-output", daemon=True).start()
        return writers

    def read_worker_output(self):
        import select

        while True:
            try:
                ready, _, _ = select.select(list(self.out_pipes), [], [])
            except (OSError, ValueError):
                return
            with self.out_lock:
                for fd in ready:
                    try:
                        self.read_pipe(fd)
                    except Exception:  # noqa: BLE001 - a reader that stopped would block the workers' writes
                        traceback.print_exc()

    def drain_worker_output(self):
        """What the pipes hold now; before the run's end, after the workers' last words."""
        with self.out_lock:
            for fd in list(self.out_pipes):
                self.read_pipe(fd)

    def read_pipe(self, fd):
        """A worker's task waits at its end until its pipes are read and the slot's READING flag
        is down (poolscope_worker._wait_read), so the slot cannot move on from a task between our
        read of what it wrote and our look at the slot: the task named after the read is the
        writer's. (If it moved, it moved before this read began: what we read came after.)"""
        p = self.out_pipes[fd]
        base = pw.SLOT_FIELDS * p["slot"]
        at = base + 1
        while True:
            self.slots[base + pw.READING] = 1
            try:
                data = os.read(fd, 65536)
            except OSError:  # BlockingIOError: all read
                data = None
            task = int(self.slots[at])
            self.slots[base + pw.READING] = 0
            if not data:
                return  # (never b"" while we hold the writing ends too)
            text = p["decoder"].decode(data)
            if not text:
                continue
            if task >= 0:
                self.output_sink(task, p["stream"], text)
            else:
                pid = int(self.slots[pw.SLOT_FIELDS * p["slot"]])
                self.loose_output(p["stream"], text, self.worker_for(pid, pid=pid, ready=False) if pid > 0 else None)

    def poll_slots(self):
        """What each worker process runs now, from shared memory: starts (their exact time is
        in the slot) and tasks that left their worker but whose result has not arrived yet."""
        slots = self.slots
        n = pw.SLOT_FIELDS
        for i in range(len(self.slot_seen)):
            pid = int(slots[n * i])
            if pid <= 0:
                continue
            task_id = slots[n * i + 1]
            start = slots[n * i + 2]
            if task_id != slots[n * i + 1]:
                continue  # changed while read: next time
            task_id = int(task_id)
            seen = self.slot_seen[i]
            if seen >= 0 and seen != task_id:
                with self.lock:
                    waiting = self.is_task(seen) and self.states[seen] == RUNNING and not self.task_info.get(seen, NO_INFO).get("resultQueue")
                    if waiting:
                        self.info(seen)["resultQueue"] = True
                if waiting:
                    self.em.emit("task.queued", taskId=seen, stage="resultQueue")
            self.slot_seen[i] = task_id
            if task_id >= 0:
                if self.is_task(task_id) and self.states[task_id] in (PENDING, CALL_QUEUE):
                    self.task_started(task_id, self.worker_for(pid, pid=pid, ready_at=start), start)

    def report_recycled(self):
        """Workers that ended after their max_tasks_per_child tasks, which the executor replaces:
        said as they go, and their slot freed for a replacement."""
        if self.cancelling or self.finishing or getattr(self.executor, "_broken", False):
            return  # (at the end they exit as the pool shuts down: finish() tells that)
        n = pw.SLOT_FIELDS
        for pid, p in list(self.processes.items()):
            if pid in self.exit_reported or p.exitcode != 0:
                continue  # running, or a death: the broken pool's path tells that
            self.exit_reported.add(pid)
            now = pw.now_ms()
            with self.lock:
                w = self.workers.get(pid)
                if w is not None:
                    w["exitedAt"] = now
                    self.em.emit("worker.exited", t=now, workerId=w["workerId"], code=0, signal=None, reason="recycled")
            slot = self.slot_of(pid)
            if slot is not None:
                self.slots[n * slot + 1] = -1
                self.slots[n * slot] = 0

    def replace_recycled(self):
        """CPython 3.11 to 3.13.x and 3.14 betas do not always replace a worker that
        max_tasks_per_child ended (gh-115634: a stale idle-worker token says one is idle), and
        once none is left the queued tasks never run: the run hung. When the pool stays short of
        a worker for 100 ms with work still queued, the runner starts the replacement the way
        the executor would (under its lock, so a fixed executor that just did never gets two),
        and says so once. On a fixed CPython the executor replaces it first and this does nothing."""
        ex = self.executor
        procs = getattr(ex, "_processes", None)
        if procs is None or getattr(ex, "_shutdown_lock", None) is None or self.cancelling or self.finishing:
            return
        with self.lock:
            queued = self.depth[PENDING] + self.depth[CALL_QUEUE]
        alive = sum(1 for p in list(procs.values()) if p.exitcode is None)
        if not queued or alive >= ex._max_workers:
            self.short_since = None
            return
        now = pw.now_ms()
        if self.short_since is None:
            self.short_since = now
        elif now - self.short_since >= 100:
            self.short_since = None
            self.in_keeper(self.spawn_replacement)

    def spawn_replacement(self):
        ex = self.executor
        procs = ex._processes
        with ex._shutdown_lock:
            if self.finishing or getattr(ex, "_shutdown_thread", False) or getattr(ex, "_broken", False):
                return
            if sum(1 for p in list(procs.values()) if p.exitcode is None) >= ex._max_workers:
                return
            ex._spawn_process()
        self.replaced_for_cpython += 1
        if self.replaced_for_cpython == 1:
            self.em.emit("run.warning", message=(
                "CPython %d.%d.%d did not replace a worker that max_tasks_per_child ended, with tasks still queued: a known bug "
                "(gh-115634, fixed in later releases) after which the executor hangs once no worker is left. Poolscope started "
                "the replacement itself, as the executor would, and does so for the rest of this run." % sys.version_info[:3]))

    def in_keeper(self, job):
        """Runs `job` on a thread that lives as long as the runner. A worker process dies with
        the thread that started it (PR_SET_PDEATHSIG follows the parent thread, not the process:
        _die_with), so one started from the monitor was SIGKILLed when the monitor ended, while
        the pool was still shutting down."""
        if self.keeper is None:
            import queue

            jobs = self.keeper = queue.SimpleQueue()

            def loop():
                while True:
                    try:
                        jobs.get()()
                    except Exception:  # noqa: BLE001 - a failed start must not end the keeper
                        traceback.print_exc()

            threading.Thread(target=loop, name="poolscope-keeper", daemon=True).start()
        self.keeper.put(job)

    def fail_stranded(self):
        """A submit racing the pool's breakage can put its work item in after the executor failed
        the pending ones (before 3.13 its terminate_broken does not take the submit lock): that
        future would never end and the run would wait forever (CI hit it, ~1 run in 10 of a
        worker dying while 20,000 tasks are submitted). Once the executor's own thread has ended,
        nothing else will answer what is still pending: it fails as the others did."""
        ex = self.executor
        broken = getattr(ex, "_broken", None)
        if not broken:
            return
        manager = getattr(ex, "_executor_manager_thread", None)
        if manager is not None and manager.is_alive():
            return
        stranded = getattr(ex, "_pending_work_items", None) or {}
        for work_id, item in list(stranded.items()):
            stranded.pop(work_id, None)
            try:
                item.future.set_exception(sys.modules["concurrent.futures.process"].BrokenProcessPool(broken))
            except cf.InvalidStateError:
                pass  # answered meanwhile

    def slot_of(self, pid):
        n = pw.SLOT_FIELDS
        for i in range(len(self.slot_seen)):
            if int(self.slots[n * i]) == pid:
                return i
        return None

    def slot_runs(self, slot, pid, task_id):
        """Whether worker `pid` is still in `slot`, running `task_id`."""
        n = pw.SLOT_FIELDS
        return int(self.slots[n * slot]) == pid and self.slots[n * slot + 1] == task_id

    def follow_stops(self):
        """Process tasks past their timeout: signalled (again every 100 ms, in case the signal
        met the worker outside the task's own code) until their slot moves on; killed once the
        grace is over."""
        now = pw.now_ms()
        for task_id, stop in list(self.stopping.items()):
            slot, pid, kill_at, signal_at = stop
            if not self.slot_runs(slot, pid, task_id):
                del self.stopping[task_id]  # stopped (or its worker is gone)
            elif now >= kill_at:
                del self.stopping[task_id]
                self.timed_out_pids.add(pid)
                self.kill_worker(pid)
                self.em.emit("run.warning", message=(
                    "task %d did not stop within %.0f s of the TaskTimeout raised inside it: its worker process (pid %d) was killed, "
                    "and a ProcessPoolExecutor whose worker dies is broken: the tasks still pending fail with BrokenProcessPool" % (task_id, STOP_GRACE_MS / 1000, pid)))
            elif now >= signal_at:
                stop[3] = now + 100
                try:
                    os.kill(pid, _signal.SIGUSR2)
                except OSError:
                    pass

    def kill_worker(self, pid):
        try:
            os.kill(pid, _signal.SIGKILL)
        except OSError:
            pass

    def still_stopping(self):
        """Workers still in a task that timed out (within its grace to stop): pids."""
        return {pid for task_id, (slot, pid, _, _) in list(self.stopping.items()) if self.slot_runs(slot, pid, task_id)}

    def end_lingering_workers(self, timed_out=frozenset(), call_queue=None):
        """Worker processes still alive a while after the pool was shut down, with every task
        answered: something a task started keeps them (a thread that is not a daemon). They are
        ended, with their stacks in a warning so the user sees what held them. Workers still in
        a task that timed out (`timed_out`, pids) are ended once the others have exited: the run
        is over, and their task has its answer. The others are told to exit first, as the
        executor would once nothing runs (its stop sentinel in the call queue, one each), since
        it waits for the stuck task's result; a worker killed first breaks the pool, and the
        executor SIGTERMs the rest."""
        from multiprocessing.connection import wait

        waited_from = pw.now_ms()
        deadline = monotonic() + WORKER_EXIT_GRACE_S
        # Each process's sentinel, which is ready once it has ended, whoever reaps it: join() then
        # exitcode read None for a worker the executor's own thread had just reaped (Python 3.13,
        # about one fork run in four), and a clean run warned of a lingering worker with no stack.
        running = {}
        for p in self.processes.values():
            try:
                running[p.sentinel] = p
            except ValueError:  # closed: ended
                pass
        if timed_out and call_queue is not None:
            for p in running.values():
                if p.pid not in timed_out and p.exitcode is None:
                    try:
                        call_queue.put_nowait(None)
                    except Exception:  # noqa: BLE001 - closed: the executor is ending them already
                        break
        while any(p.pid not in timed_out for p in running.values()) and monotonic() < deadline:
            for ended in wait(list(running), timeout=max(0.0, deadline - monotonic())):
                running.pop(ended, None)
        for sentinel, p in list(running.items()):
            if p.pid in timed_out:
                self.timed_out_pids.add(p.pid)
                running.pop(sentinel)
                p.kill()
                p.join(timeout=1)
        lingering = list(running.values())
        if not lingering:
            return
        self.ended_at = waited_from  # the run's time is its tasks', not this clean-up's
        stacks = self.snapshot()
        for p in lingering:
            try:
                p.kill()
                p.join(timeout=1)
            except Exception:  # noqa: BLE001 - already gone
                pass
        self.em.emit(
            "run.warning",
            message="worker process%s %s did not exit after the run (%.0f s): a task left something running in it, such as a thread that is not a daemon; ended" % (
                "es" if len(lingering) > 1 else "", ", ".join(str(p.pid) for p in lingering), WORKER_EXIT_GRACE_S),
            detail=stacks,
        )


def no_replacement_after_shutdown(executor):
    """CPython gh-119592 / gh-132969 (fixed in 3.12.11, 3.13.4 and later): after
    shutdown(wait=False), which the runner uses so that a worker held by a task's leftover thread
    cannot keep the run open, the executor's own thread still replaces a worker that
    max_tasks_per_child ended, reads the process table shutdown has just cleared, and dies with a
    TypeError traceback on our stderr (the run's output, every maxTasksPerChild=1 run here). As
    the fix does: no replacement once shutdown has begun. Both run under the executor's shutdown
    lock, so the check cannot race the flag."""
    real = executor._adjust_process_count

    def adjust():
        if getattr(executor, "_shutdown_thread", False) or getattr(executor, "_processes", None) is None:
            return
        real()

    executor._adjust_process_count = adjust


class ProcessAtImport(RuntimeError):
    pass


def refuse_processes_at_import(file, method):
    """A module that starts processes when imported (a pool at the top level, no
    `if __name__ == "__main__":`) cannot run on a spawn or forkserver pool: each worker imports it
    again and starts processes of its own. Plain Python then fails with "An attempt has been made
    to start a new process before the current process has finished its bootstrapping phase" or,
    as here, where workers import the module by unpickling the function, hangs (the nested pool
    pickles the function by reference and waits for the import lock its worker holds). So the
    runner's own import refuses, naming the line, before any worker exists."""
    import multiprocessing.process as mpp

    real = mpp.BaseProcess.start
    name = os.path.basename(file)

    def start(process):
        raise ProcessAtImport(
            "%s starts a process while it is being imported: with the %s start method every worker imports %s again, and would start processes of its own (plain Python fails or hangs the same way)" % (name, method, name)
        )

    mpp.BaseProcess.start = start

    def restore():
        mpp.BaseProcess.start = real

    return restore
