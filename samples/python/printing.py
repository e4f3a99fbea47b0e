"""print() inside tasks: Poolscope captures it per task, so the interleaving of threads is
visible instead of lost in one console."""
import time


# poolscope: inputs=range(6)
def chatty(i):
    for step in range(3):
        print(f"task {i}: step {step}")
        time.sleep(0.05)
    return i
