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


# poolscope: inputs=range(4)
def shell_echo(i):
    # Below print(): a command the task starts writes to its own stdout, not to sys.stdout.
    # Poolscope still gives each command's line to the task that started it, on either pool.
    os.system(f"echo task {i} says hello from the shell")
    return i


# poolscope: inputs=range(4)
def raw_write(i):
    # Below print() too, straight to the process's file descriptor 1. A process pool's workers
    # each have their own, so each line is its task's; a thread pool's threads share one, so
    # there the lines are the run's output ("Output outside tasks"), whose task cannot be told.
    os.write(1, f"task {i} wrote to fd 1\n".encode())
    return i
