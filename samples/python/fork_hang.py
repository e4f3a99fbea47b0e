"""Fork and threads: a worker forked while another thread holds a lock starts with that lock
locked, and nothing in the worker will ever release it."""
import threading
import time

# A module that starts a thread as it is imported (a metrics flusher, a heartbeat, a cache
# refresher): this one holds the stats lock most of the time.
stats_lock = threading.Lock()
stats = {"calls": 0}


def _flush_stats_forever():
    while True:
        with stats_lock:
            time.sleep(0.01)  # "writing the stats out"
        time.sleep(0.001)


threading.Thread(target=_flush_stats_forever, name="stats-flusher", daemon=True).start()


# poolscope: timeoutMs=2000
# poolscope: inputs=range(4)
def count_call(x):
    # With the fork start method (Linux's default before Python 3.14) each process worker is a
    # copy of the runner made while stats-flusher most likely held stats_lock: the copy is locked
    # and its holder was not copied. The run warns as it forks; the tasks hang until their
    # timeout. With spawn or forkserver every task finishes: count_call_spawned, below.
    with stats_lock:
        stats["calls"] += 1
        return x


# poolscope: timeoutMs=2000 startMethod=spawn
# poolscope: inputs=range(4)
def count_call_spawned(x):
    # The same call on spawned workers: each imports this module afresh, with a stats-flusher and
    # a stats_lock of its own, so every task finishes (a few ms waiting for its own flusher).
    return count_call(x)
