"""CPU-bound Python: the GIL lets one thread run Python bytecode at a time, so a thread pool
is no faster than running serially. A process pool runs one interpreter per worker and scales
up to the number of cores (David Beazley's countdown experiment)."""


# poolscope: inputs=[(10_000_000,)] * 4
def countdown(n):
    while n > 0:
        n -= 1
    return "done"


# poolscope: inputs=[(5_000_000,)] * 4
def pi_series(terms):
    total = 0.0
    sign = 1.0
    for k in range(terms):
        total += sign / (2 * k + 1)
        sign = -sign
    return 4 * total
