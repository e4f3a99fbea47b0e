"""What the runner's parts share: a task's state (one byte per task in Run.states) and the limits
the host keeps."""
import poolscope_worker as pw

# A task's state: one byte per task in Run.states. A dict per task cost ~270 bytes (27 MB at
# 100,000 tasks) and an allocation each before the first submit.
PENDING, CALL_QUEUE, RUNNING, ENDED = 0, 1, 2, 3
NO_INFO = {}  # Run.task_info of a task that has none (read only)
NAN = float("nan")
UNFINISHED = pw.UNFINISHED
RUN_OUTPUT_LIMIT = 256 * 1024  # as RUN_OUTPUT_LIMIT in engine/protocol/events.ts
# How long worker processes get to exit once a finished run's pool is shut down.
WORKER_EXIT_GRACE_S = 2.0
