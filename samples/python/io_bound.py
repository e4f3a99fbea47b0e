"""I/O-bound Python: threads release the GIL while they wait, so a thread pool with many
workers scales far past the core count. No network needed: `download` waits in a sleep,
`fetch` in a real socket, on a slow web server this module starts on 127.0.0.1."""
import http.server
import os
import threading
import time
import urllib.request


# poolscope: inputs=[(i, 0.3) for i in range(16)]
def download(i, seconds):
    time.sleep(seconds)  # stands for a network round trip
    return f"file {i} after {seconds}s"


# A real HTTP request to a local server that answers each one after 0.3 s (the "network"),
# so each call waits where a real download does: in the socket. Try it on 1 thread, then 8.
# poolscope: pool=thread workers=8
# poolscope: inputs=[(i,) for i in range(16)]
def fetch(i):
    with urllib.request.urlopen(f"http://127.0.0.1:{_local_server_port()}/file/{i}", timeout=10) as reply:
        body = reply.read()
    return f"file {i}: {len(body):,} bytes"


_server = None  # (pid, port): each process (a pool's worker too) starts its own on first use
_server_lock = threading.Lock()


def _local_server_port():
    global _server
    with _server_lock:
        if _server is None or _server[0] != os.getpid():  # a forked worker has no server thread
            class SlowFiles(http.server.BaseHTTPRequestHandler):
                def do_GET(self):
                    time.sleep(0.3)  # the latency of a far-away server
                    body = b"x" * 200_000
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

                def log_message(self, *args):
                    pass  # a line per request would land in the output of the task that started it

            server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), SlowFiles)
            threading.Thread(target=server.serve_forever, name="sample-web-server", daemon=True).start()
            _server = (os.getpid(), server.server_address[1])
        return _server[1]
