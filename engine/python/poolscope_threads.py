"""The thread-pool part of the runner's Run (poolscope_runner.py): the wrapper each task runs in
inside a worker thread, the drain that turns returned tasks into events, a timeout raised inside
a thread, and the inputs of the GIL estimate."""
import os
import struct
import sys
import threading
import time
import traceback
from threading import get_ident
from time import monotonic, thread_time

import poolscope_worker as pw
from poolscope_states import ENDED, NAN, NO_INFO, PENDING, RUNNING, UNFINISHED, WORKER_EXIT_GRACE_S

# Thread pools: after a task shorter than this (ms), a thread's CPU clock is read around one task in
# CPU_SAMPLE only; see make_thread_task.
CPU_EVERY_TASK_MS = 0.05
# A thread task whose CPU time is under this share of its wall time slept or waited for I/O: a
# thread waiting for the GIL still gets its turns (1/k of the time among k CPU-bound threads).
GIL_MIN_CPU_SHARE = 0.01
CPU_SAMPLE = 16
# A thread run keeps the futures of the tasks answered while it has submitted up to this many,
# until the runner exits (os._exit frees them at no cost): letting each one go as its task is
# answered cost ~0.5 us a task (its Condition and locks), 2-3 ms for 5,000 no-op tasks, a tenth of a
# bare executor's time. Later ones are let go: at most this many stay (~1.6 KB each, ~30 MB).
FUTURES_KEPT_UP_TO = 20_000
# How long a thread past its timeout, with TaskTimeout raised in it, counts as stopping rather
# than stuck (when every worker is stuck, what is pending is cancelled).
THREAD_STOP_WAIT_MS = 250
# The workers' waits for a core are told only from this many ms on: a run of a millisecond or two
# on an idle machine read "31% waiting for a CPU core: other processes kept the machine busy"
# from a few wake-ups' delays.
CORE_WAIT_MIN_MS = 5.0


class ThreadPoolPart:
    """Run's thread-pool methods (a mixin: the state they read is Run's, made in Run.__init__)."""

    def make_thread_task(self):
        """The function each task runs in a worker thread (made once the user's function is known):
        it adds the task's end to this thread's part of the next "T" record; `drain_finished` turns
        those into state changes in bulk, under the lock once per batch. Per task, only a dict entry
        (what runs now: output routing, stacks, and the monitor announcing long tasks), the clocks
        and the record remain here, next to the executor's own work; what they read is bound here
        once (a closure's cells, not the run's attributes: ~0.15 us a task of ~1.3). A task that
        raises is reported at once (rare, and its traceback is needed)."""
        run = self
        workers_get = self.workers.get
        worker_for = self.worker_for
        running = self.now_running
        fn = self.fn
        logged = self.logged
        partial_out, partial_err = self.partial_out, self.partial_err
        preview, finish_call, task_ended = pw.preview, pw.finish_call, pw.task_ended
        native_id = threading.get_native_id

        def thread_task(task_id, args):
            ident = get_ident()
            worker = workers_get(ident) or worker_for(ident, thread_id=native_id())
            # The thread's CPU clock is a system call (1.5-2 us, and in a busy pool it slowed a
            # no-op task's executor by more than a third): read around every task unless this
            # thread's last task took under CPU_EVERY_TASK_MS, then around one in CPU_SAMPLE.
            # The CPU reads enclose the wall clock's: a read's own cost (a system call) then never
            # looks like time spent waiting for the GIL, and CPU is capped at the wall time.
            skip = worker["skip"]
            cpu0 = 0.0 if skip else thread_time()
            start = monotonic() * 1000.0
            running[ident] = (task_id, start)
            try:
                value = fn(*args)
                if type(value) in UNFINISHED:
                    value = finish_call(value)
            except BaseException as e:
                end = monotonic() * 1000.0
                cpu = None if skip else min((thread_time() - cpu0) * 1000.0, end - start)
                task_ended(ident, task_id)
                # Still "running" until reported: map's first exception waits for the running tasks
                # and then calls the rest lost; one that ran and failed was called lost too.
                try:
                    run.thread_failed(task_id, worker, start, end, cpu, e)
                except Exception as internal:  # noqa: BLE001 - ours: the task still gets an ending
                    run.fail_internal(task_id, internal)
                finally:
                    del running[ident]
                raise
            end = monotonic() * 1000.0
            wall = end - start
            if skip:
                cpu = NAN
                # A task that lasted has the next one's CPU read, whatever the count says.
                worker["skip"] = 0 if wall >= CPU_EVERY_TASK_MS else skip - 1
            else:
                cpu = min((thread_time() - cpu0) * 1000.0, wall)
                count_cpu(worker, wall, cpu)
                worker["skip"] = 0 if wall >= CPU_EVERY_TASK_MS else CPU_SAMPLE - 1
            if partial_out or partial_err:  # the task wrote a line without its newline
                task_ended(ident, task_id)
            # Straight into this thread's own part of the "T" record (see drain_finished): the
            # numbers first, then the text, so the texts never outnumber the finished records.
            worker["nums"].extend((start, task_id, worker["workerId"], end, cpu, 0.0))
            worker["texts"].append("None" if value is None else preview(value))
            # "Running" until recorded, for whoever waits for the running tasks (map's exception).
            del running[ident]
            # A timed-out task that returns late is counted twice: a wake too early is only a drain.
            if next(logged) + 1 + run.ended_elsewhere >= run.total:
                run.drain_wake.set()  # likely the last task: no need to wait for a poll

        return thread_task

    def stoppable(self, fn):
        """The user's function, as a thread task that a timeout can stop: while it runs, the
        monitor may raise TaskTimeout in its thread (PyThreadState_SetAsyncExc, as debuggers
        do). Only here, in the user's code: landing in thread_task's bookkeeping or in the
        executor's own loop it would corrupt a record or end a worker thread. So the flag and
        the pending exception are cleared together under the lock the monitor raises under;
        one that lands first (in the finally, say) leaves through here all the same. Runs
        with a timeout only (make_thread_task's function calls it in place of the user's)."""
        import ctypes

        set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc  # (thread id, exception class or NULL)
        c_ulong, timeout = ctypes.c_ulong, ctypes.py_object(pw.TaskTimeout)
        self.raise_in_thread = lambda ident: set_async_exc(c_ulong(ident), timeout)
        stopping = self.thread_stoppable
        lock = self.stop_lock
        running = self.now_running
        ident_of = get_ident
        finish = pw.finish_call

        def call(*args):
            ident = ident_of()
            stopping[ident] = running[ident][0]  # thread_task has just named the task
            try:
                value = fn(*args)
                return finish(value) if type(value) in UNFINISHED else value
            finally:
                with lock:
                    stopping.pop(ident, None)
                    set_async_exc(c_ulong(ident), None)  # one set just now, not landed yet

        return call

    def drain_finished(self):
        """Thread tasks that returned, into events and state changes; called by the monitor, the
        main thread's wait, and before anything that reads task states. Each worker thread
        writes its finished tasks' numbers and result previews into the record itself (six
        numbers a task: start, task id, worker id, end, CPU ms or NaN, and 1 if its start was
        announced already, set here): only that thread appends to them, and this takes whole
        tasks from their front, so no lock is shared with the tasks. Per task, only the state
        and the future are left to this loop, which holds the GIL the pool needs."""
        with self.lock:
            states = self.states
            # An answered task's future is let go in a big run: a million kept futures (each with
            # its Condition) were 1.6 GB of the runner (now ~0.2 GB), and the collector's full
            # collections walked them all. A task can end before the submit loop has kept its
            # future: that one stays. A smaller run keeps them (see FUTURES_KEPT_UP_TO).
            futures = self.futures
            let_go_below = len(futures) if len(futures) > FUTURES_KEPT_UP_TO else 0
            finished = pending = 0
            for worker in list(self.workers.values()):
                texts = worker["texts"]
                k = len(texts)
                if not k:
                    continue
                nums = worker["nums"]
                part = nums[: 6 * k]
                del nums[: 6 * k]
                part_texts = texts[:k]
                del texts[:k]
                late = None
                for j, task_id in enumerate(part[1::6]):
                    state = states[task_id]
                    if state == PENDING:  # its start was never announced: most tasks
                        pending += 1
                        states[task_id] = ENDED
                    elif state == ENDED:  # timed out meanwhile: already reported
                        late = late or []
                        late.append(j)
                    else:
                        self.move(task_id, ENDED)
                        part[6 * j + 5] = 1  # announced
                    if task_id < let_go_below:
                        futures[task_id] = None
                if late:
                    for j in reversed(late):
                        del part[6 * j : 6 * j + 6]
                        del part_texts[j]
                n = len(part_texts)
                finished += n
                worker["tasks"] += n
                worker["busyMs"] += sum(part[3::6]) - sum(part[0::6])
                if n:
                    # Packed as the host reads doubles (a list: extending an array from a tuple
                    # took 340 ns a task in the thread, and struct packs twice as fast as array).
                    # Under the lock: an announcement of a later start must not get out first.
                    self.em.compact_many((["T", struct.pack("%dd" % len(part), *part), part_texts],), n)
            depth = self.depth
            depth[PENDING] -= pending
            self.counts["finished"] += finished
            self.ended += finished
            if self.ended >= self.total:
                self.all_answered()

    def thread_failed(self, task_id, worker, start, end, cpu, exc):
        self.drain_finished()  # the tasks this thread finished before come first
        with self.lock:
            # Timed-out tasks too (ended already): a loop stopped by its timeout spent that time
            # computing or waiting for the GIL, and the estimate left it out (0% from the others).
            if cpu is not None:
                count_cpu(worker, end - start, cpu)
            state = self.states[task_id]
            if state == ENDED:
                return
            if state != RUNNING:
                self.task_started(task_id, worker, start)
            worker["tasks"] += 1
            worker["busyMs"] += end - start
        self.fail(task_id, exc)

    def forked_child(self):
        """A child forked from the runner is not the runner: its os._exit and os.system are the real ones."""
        os._exit = pw.REAL_EXIT
        os.system = pw.REAL_SYSTEM
        self.em.forked()

    def exit_from_task(self, code, _real_exit=os._exit):
        """os._exit, in a runner whose tasks run in its own threads: a task that calls it ends the
        whole interpreter, every other task with it. The host would only see the runner gone, so
        the task says it first."""
        now = self.now_running.get(get_ident())
        if now is not None:
            try:
                task_id = now[0]
                self.drain_finished()  # tasks that returned before it are not lost
                if self.end_task(task_id, "failed"):
                    where = "a thread pool" if self.pool == "thread" else "a serial run (a thread of the runner)"
                    self.em.emit("task.failed", taskId=task_id, durationMs=pw.now_ms() - now[1], error={
                        "kind": "workerExited", "name": "ProcessExit",
                        "message": "task %d called os._exit(%s): in %s that ends the whole Python process, and every task still running or pending with it" % (task_id, code, where),
                        "hint": "Raise an exception to fail one task. In a process pool, os._exit ends only that worker process (and breaks the pool).",
                    })
                self.em.flush()
            except Exception:  # noqa: BLE001 - exiting is what was asked for, whatever happens here
                pass
        _real_exit(code)

    def announce_threads(self):
        """Tasks running longer than a poll get their task.started now, at their real start."""
        for ident, (task_id, start) in list(self.now_running.items()):
            if self.states[task_id] == PENDING:
                worker = self.workers.get(ident)
                if worker is not None:
                    self.task_started(task_id, worker, start)

    def stuck_threads(self, stopped_before=None):
        """Idents of the worker threads still inside a task that timed out (thread pools); with
        `stopped_before`, not those whose TaskTimeout was raised later than that (ms): a Python
        loop takes a few milliseconds to see it."""
        stuck = set()
        for ident, (task_id, _) in list(self.now_running.items()):
            info = self.task_info.get(task_id, NO_INFO)
            if info.get("timedOut") and (stopped_before is None or info.get("stopRaised", 0) < stopped_before):
                stuck.add(ident)
        return stuck

    def wait_for_stopping_threads(self):
        """A thread whose TaskTimeout was raised a moment ago is usually unwinding (a spinning loop
        sees it within a few switch intervals): its time belongs in the GIL estimate and its
        worker's tally. Two spinning threads timed out together both missed the run's end 1 run
        in 6, and the estimate was left without them. Up to THREAD_STOP_WAIT_MS."""
        give_up = pw.now_ms() + THREAD_STOP_WAIT_MS
        while pw.now_ms() < give_up and len(self.stuck_threads()) > len(self.stuck_threads(pw.now_ms() - THREAD_STOP_WAIT_MS)):
            time.sleep(0.005)

    def cancel_behind_stuck(self):
        """Every worker thread is inside a task past its timeout: nothing pending can start, and
        waiting would keep the run open forever. The executor drops its queue; a task a worker
        took in the same instant (not yet in now_running) is reported when it returns."""
        self.executor.shutdown(wait=False, cancel_futures=True)
        in_threads = {task_id for task_id, _ in list(self.now_running.values())}
        reason = "never started: every worker is stuck in a task past its timeout, in a call Python cannot interrupt (TaskTimeout lands when it returns)"
        for task_id in [i for i, state in enumerate(self.states) if state == PENDING]:
            if task_id not in in_threads and self.end_task(task_id, "cancelled"):
                self.em.emit("task.cancelled", taskId=task_id, reason=reason, wasRunning=False)

    def stop_thread_task(self, task_id):
        """TaskTimeout into the thread running `task_id`'s own code (see stoppable)."""
        ident = next((i for i, (t, _) in list(self.now_running.items()) if t == task_id), None)
        with self.stop_lock:
            if ident is None or self.thread_stoppable.get(ident) != task_id:
                return False
            return self.raise_in_thread(ident) == 1

    def end_lingering_threads(self):
        """Thread and serial pools: threads a task started that are not daemons and still run.
        Python would wait for them at exit; the runner leaves with os._exit, which ended them
        mid-work without a word. They get the grace a process pool's workers get, then are named,
        with their stacks, as ended with the runner."""
        executor_threads = set(getattr(self.executor, "_threads", ()) or ())
        main = threading.main_thread()

        def lingering():
            return [t for t in threading.enumerate() if t.is_alive() and not t.daemon and t is not main and t not in executor_threads and not t.name.startswith("poolscope-")]

        threads = lingering()
        if not threads:
            return
        deadline = time.monotonic() + WORKER_EXIT_GRACE_S
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        threads = lingering()
        if not threads:
            return
        frames = sys._current_frames()
        stacks = "\n".join(
            "Thread %r (started by a task, not a daemon):\n%s" % (t.name, "".join(traceback.format_stack(frames[t.ident])) if t.ident in frames else "  (no stack)\n")
            for t in threads
        )
        self.em.emit(
            "run.warning",
            message="%d thread%s that tasks started %s still running %.0f s after the run's last task, and %s ended with the runner: %s. A thread that is not a daemon keeps a plain Python program alive until it ends; "
            "join it in the task that starts it (or make it a daemon, daemon=True, if its work may be lost)." % (
                len(threads), "s" if len(threads) > 1 else "", "were" if len(threads) > 1 else "was", WORKER_EXIT_GRACE_S,
                "were" if len(threads) > 1 else "was", ", ".join(repr(t.name) for t in threads[:5])),
            detail=stacks,
        )

    def start_gil_probe(self):
        """A thread that only sleeps, 10 ms at a time from 0.2 s into the run (shorter runs are
        not looked at), and so waits for nothing but the GIL when it wakes: the engine, seeing
        which futex it waits on then, learns where this interpreter's GIL waits are and tells a
        task waiting for the GIL from one waiting for a Lock (engine/cpu/threadWaits.ts).
        Returns its native id."""
        done = self.done_event

        def probe():
            time.sleep(0.2)
            while not done.is_set():  # not done.wait(): that waits on a lock of its own
                time.sleep(0.01)

        t = threading.Thread(target=probe, name="poolscope-gil-probe", daemon=True)
        t.start()
        return t.native_id

    def gil_estimate(self, end, core_waits1):
        """The run's share of thread time spent waiting for the GIL (and, on Linux, for a core),
        from the tasks whose CPU clock was read; `core_waits1` is core_waits() before shutdown."""
        estimate = {}
        # From the tasks whose CPU was read (every task, or a sample of very short ones).
        walls = sum(w["measuredWall"] for w in self.workers.values())
        cpus = sum(w["measuredCpu"] for w in self.workers.values())
        # Tasks that slept (or waited for I/O) nearly throughout count in the time, not in the
        # waiting: while another thread computed, their sleep read as GIL waits (one CPU-bound
        # task beside three sleeping ones: "76%", where each task waited ~1%).
        idle = sum(w["idleWall"] for w in self.workers.values())
        # Waiting while the interpreter as a whole was busy is waiting for the GIL; waiting
        # while it idled is I/O. process_time covers every thread of this process.
        # A thread waiting for a core (the machine busy with other processes) is neither:
        # its GIL holder may be the one waiting, so the interpreter counts as busy then, and
        # the workers' own waits for a core come off their GIL share (it read 86% for two
        # CPU-bound threads beside four busy processes, 26% once they came off: 60% waited
        # for a core); without schedstat a busy machine read as I/O (0%).
        core_wait = 0.0
        waited = 0.0
        workers_waited = 0.0
        if core_waits1 is not None:
            w0 = self.core_waits0
            waited = sum(max(0.0, d - w0.get(tid, 0.0)) for tid, d in core_waits1.items())
            in_tasks = sum(w["busyMs"] for w in self.workers.values())
            workers_waited = sum(max(0.0, core_waits1[w["threadId"]] - w0.get(w["threadId"], 0.0)) for w in self.workers.values() if w.get("threadId") in core_waits1)
            if in_tasks > 0:
                core_wait = min(1.0, workers_waited / in_tasks)
            # A thread's run_delay counts its whole life (its start, its wakes between
            # tasks), not only its tasks: against a no-op task's 0.02 ms it read "100% waiting
            # for a core". Waiting for a core inside tasks is part of their time off the CPU.
            if walls + idle > 0:
                core_wait = min(core_wait, max(0.0, (walls - cpus) / (walls + idle)))
        window = end - self.busy_from
        busy = ((time.process_time() - self.cpu_t0) * 1000.0 + waited) / window if window > 0 else 0
        if walls > 0 and busy > 0.6:
            estimate["gilWaitShare"] = max(0.0, min(1.0, (walls - cpus) / (walls + idle) - core_wait))
            # Every measured task's time off the CPU, the sleeping ones' too: the engine, which
            # sees from outside what the threads were blocked in, takes the I/O share off it
            # (engine/cpu/threadWaits.ts); without that, gilWaitShare stands as it is.
            estimate["offCpuShare"] = max(0.0, min(1.0, (walls + idle - cpus) / (walls + idle)))
        elif walls + idle > 0:
            estimate["gilWaitShare"] = 0.0
        if walls + idle > 0:
            estimate["gilFromTasks"] = sum(w["measuredN"] for w in self.workers.values())
            if core_waits1 is not None and workers_waited >= CORE_WAIT_MIN_MS:
                estimate["coreWaitShare"] = core_wait
        return estimate


def count_cpu(worker, wall, cpu):
    """A thread task whose CPU time was read, into its worker's part of the GIL estimate."""
    worker["measuredN"] += 1
    if cpu >= GIL_MIN_CPU_SHARE * wall:
        worker["measuredWall"] += wall
        worker["measuredCpu"] += cpu
    else:  # asleep or waiting for I/O nearly throughout: none of it was the GIL
        worker["idleWall"] += wall


def core_waits():
    """Per thread of this process (native id): ms spent runnable but waiting for a CPU core
    (Linux schedstat's run_delay). None where the kernel does not say (macOS, Windows). On a
    machine busy with other processes, a thread's wall time minus its CPU time is mostly this,
    not the GIL."""
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return None
    waits = {}
    for tid in tids:
        try:
            with open("/proc/self/task/%s/schedstat" % tid, "rb", buffering=0) as f:
                waits[int(tid)] = int(f.read().split()[1]) / 1e6
        except (OSError, ValueError, IndexError):
            pass
    return waits or None
