"""Faults a process pool must survive, each shown on its own future."""
import os
import threading
import time

lock_a = threading.Lock()
lock_b = threading.Lock()


# poolscope: inputs=range(6)
def sometimes_fails(x):
    if x % 3 == 2:
        raise ValueError(f"bad input {x}")
    print(f"processing {x}")
    return x * 10


# poolscope: inputs=range(4)
def crashes_worker(x):
    if x == 2:
        os._exit(3)  # a dying worker breaks a ProcessPoolExecutor: BrokenProcessPool
    time.sleep(0.2)
    return x


# poolscope: pool=thread workers=2 timeoutMs=2000
# poolscope: inputs=[(0,), (1,)]
def deadlock(i):
    # Two threads take the same two locks in opposite order: each waits for the other. Both
    # time out; the stack snapshot in a timed-out task's details shows where each one waits.
    # (On a process pool each worker has its own two locks: no deadlock there.)
    first, second = (lock_a, lock_b) if i == 0 else (lock_b, lock_a)
    with first:
        time.sleep(0.2)
        with second:
            return i


# poolscope: inputs=[(lambda x: x * 2,)]
def calls_a_lambda(f):
    # A process pool must pickle every argument: a lambda cannot be pickled.
    return f(21)
