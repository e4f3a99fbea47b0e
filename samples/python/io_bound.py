"""I/O-bound Python: threads release the GIL while they wait, so a thread pool with many
workers scales far past the core count. No network needed: the wait is a sleep."""
import time


# poolscope: inputs=[(i, 0.3) for i in range(16)]
def download(i, seconds):
    time.sleep(seconds)  # stands for a network round trip
    return f"file {i} after {seconds}s"
