"""Memory: every worker process is a whole interpreter with its own copy of this module, and
what a task keeps stays in the process that ran it. The panel's workers table shows each worker
process's resident memory, the timeline draws the run's over time (the runner's and its
workers' together), and the summary its peak."""
import time

cache = []  # one per process: a process worker's own, or the runner's for threads


# poolscope: inputs=[(25,)] * 8
def remembers(mb):
    # A cache that never forgets: each call keeps mb megabytes where it ran, for good. On a
    # process pool each worker grows by what its own tasks kept; on a thread pool the one
    # process holds it all. Compare the two: same code, where the memory lands differs.
    cache.append(b"x" * (mb * 1024 * 1024))
    time.sleep(0.3)
    return f"{len(cache)} blocks kept in this process"


# poolscope: pool=process workers=2 maxTasksPerChild=2
# poolscope: inputs=[(25,)] * 8
def recycled(mb):
    # The same leak, with each worker replaced after 2 tasks (ProcessPoolExecutor
    # max_tasks_per_child, Python 3.11+): the workers table lists each worker that ran, each
    # ending "recycled" with at most 2 blocks kept, and no worker's memory climbs past that.
    return remembers(mb)


# poolscope: inputs=range(100_000)
def eager(i):
    # The executor takes every input at once (submit per input, and map too): 100,000 futures
    # wait in the runner before the first few finish. Its memory climbs while they are submitted
    # (here 26 -> 215 MB in 1.5 s) and stays there: freed objects' memory is kept by the
    # interpreter for reuse, not given back. Feed a pool in slices when the inputs are many.
    time.sleep(0.0002)
    return i
