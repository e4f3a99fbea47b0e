"""print() inside tasks: Poolscope captures it per task, so the interleaving of threads is
visible instead of lost in one console."""
import os
import time

# Printed by no task: the panel shows it under "Output outside tasks". With the spawn start method
# (Pool... in the code lens) every worker process imports this file again and prints it once more:
# why code that should run once belongs under `if __name__ == "__main__":`.
print(f"printing.py imported in process {os.getpid()}")


# poolscope: inputs=range(6)
def chatty(i):
    for step in range(3):
        print(f"task {i}: step {step}")
        time.sleep(0.05)
    return i
