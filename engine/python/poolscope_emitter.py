"""The runner's channel to the host: protocol events as JSON lines on file descriptor 3 (never the
user's stdout), batched every 50 ms, per-task events packed into compact records."""
import array
import binascii
import json
import os
import threading
import time

import poolscope_worker as pw


def _encode_other(value):
    """Number columns (doubles in an array or packed bytes, native byte order: the host runs on
    this machine) as base64; anything else json cannot encode as its str()."""
    if isinstance(value, array.array):
        value = value.tobytes()
    if isinstance(value, bytes):
        return binascii.b2a_base64(value, newline=False).decode("ascii")
    return str(value)


def encode_batch(batch):
    """A batch as its JSON line. Number columns are spliced in as base64 text, outside json.dumps:
    its string escaping scans every character of them (0.7 ms for a 5,000-task record, twice the
    base64 encoding itself), and base64 has nothing to escape."""
    parts = []
    plain = []
    for record in batch:
        if type(record) is list and len(record) == 3 and isinstance(record[1], (bytes, array.array)):
            if plain:
                parts.append(json.dumps(plain, default=_encode_other)[1:-1])
                plain = []
            parts.append('[%s,"%s",%s]' % (json.dumps(record[0]), _encode_other(record[1]), json.dumps(record[2], default=_encode_other)))
        else:
            plain.append(record)
    if plain:
        parts.append(json.dumps(plain, default=_encode_other)[1:-1])
    return '{"events": [' + ", ".join(parts) + "]}"


class Emitter:
    """Batches events onto fd 3 every 50 ms (or at 2000 events) from any thread."""

    def __init__(self, run_id, fd):
        self.run_id = run_id
        self.out = os.fdopen(fd, "w", buffering=1 << 16, encoding="utf-8")
        self.lock = threading.Lock()
        self.buf = []
        self.weight = 0  # events the buffered records stand for (an "S" record: up to 1000)
        self.closed = False
        t = threading.Thread(target=self._loop, name="poolscope-emitter", daemon=True)
        t.start()

    def _event(self, type_, t, fields):
        fields["type"] = type_
        fields["runId"] = self.run_id
        fields["t"] = pw.now_ms() if t is None else t
        return fields

    def emit(self, type_, t=None, **fields):
        self.compact_many((self._event(type_, t, fields),), 1)

    def emit_last(self, type_, t=None, **fields):
        """The run's last event, and the emitter closed in the same step: an event another thread
        (the monitor's queue depths) emitted between the two went out after run.finished."""
        event = self._event(type_, t, fields)
        with self.lock:
            if self.closed:
                return
            self.buf.append(event)
            self.closed = True
        self.flush()

    def compact(self, *record):
        """The per-task events as short lists (code, t, taskId, ...): with 100k tasks, building
        and encoding a dict with repeated keys per event is most of the runner's cost. The
        host (pythonBackend.ts, expandCompact) turns them back into protocol events."""
        self.compact_many((record,), 1)

    def column(self, code, numbers, text):
        """One task's numbers and text, added to the packed record [code, doubles, texts] at the
        end of the buffer (a new one unless the last record is one of `code`): per-task lists
        made JSON encoding the runner's largest cost, holding the GIL the executor needs."""
        with self.lock:
            if self.closed:
                return
            buf = self.buf
            last = buf[-1] if buf else None
            if type(last) is not list or last[0] != code:
                last = [code, array.array("d"), []]
                buf.append(last)
            last[1].extend(numbers)
            last[2].append(text)
            self.weight += 1
            big = self.weight >= 2000
        if big:
            self.flush()

    def compact_many(self, records, weight):
        """Buffers records (event dicts or compact lists); weight is how many tasks or events
        they stand for, so a batch of tasks flushes as soon as 2000 single records would."""
        with self.lock:
            if self.closed:
                return
            self.buf.extend(records)
            self.weight += weight
            big = self.weight >= 2000
        if big:
            self.flush()

    def reply(self, obj):
        self.flush()
        with self.lock:
            self.out.write(json.dumps({"reply": obj}) + "\n")
            self.out.flush()

    def loading(self):
        """Tells the host the runner is up and about to import the user's file: if the process
        ends before run.started, the file or its inputs ended it (not a program that is no Python)."""
        self.flush()
        with self.lock:
            self.out.write('{"loading": true}\n')
            self.out.flush()

    def flush(self):
        with self.lock:
            if not self.buf:
                return
            batch, self.buf = self.buf, []
            self.weight = 0
            self.out.write(encode_batch(batch) + "\n")
            self.out.flush()

    def close(self):
        self.flush()
        with self.lock:
            self.closed = True

    def forked(self):
        """In any child forked from the runner (a worker, a task's os.fork): not one line on the
        host's channel, not even the parent's buffered events (they were the parent's to send)."""
        self.lock = threading.Lock()  # the parent's may have been held by a thread the child lacks
        self.closed = True
        self.buf = []
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, self.out.fileno())
            os.close(null)
        except OSError:
            pass

    def _loop(self):
        while not self.closed:
            time.sleep(0.05)
            try:
                self.flush()
            except Exception:
                return
