"""What threads wait for: the GIL, I/O, or a lock. Run either on its thread pool and read the
summary: it splits the threads' time off the CPU into each (Linux, runs over 0.2 s)."""
import threading
import time


def _parse(rows):
    total = 0
    for k in range(rows):
        total += k * k
    return total


# Download, then parse: each call waits 20 ms (a network round trip, as a sleep) and then
# computes a few ms. The waits overlap on threads; the parsing takes turns on the GIL.
# poolscope: pool=thread workers=8
# poolscope: inputs=[(i,) for i in range(200)]
def fetch_and_parse(i):
    time.sleep(0.02)
    return _parse(60_000)


_totals = threading.Lock()


# One lock held while computing: the pool runs one call at a time, and the other threads wait
# on the lock, not on the GIL (the summary says which).
# poolscope: pool=thread workers=4
# poolscope: inputs=[(i,) for i in range(24)]
def under_one_lock(i):
    with _totals:
        return _parse(800_000)
