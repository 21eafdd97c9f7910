"""What several end-to-end tests share: a started binary whose logged ports tell when it is
ready, a bounded wait for a condition, and a loopback page server."""
import re
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def wait_for(fetch, predicate, what, deadline_s, interval_s):
    """fetch() every interval_s until predicate holds on its answer, which is returned; after
    deadline_s an AssertionError with the last answer."""
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        last = fetch()
        if predicate(last):
            return last
        time.sleep(interval_s)
    raise AssertionError("%s not reached in %g s; last answer: %r" % (what, deadline_s, last))


def serve_page(page, broken=lambda: False):
    """Serves page() as Prometheus text on a free loopback port, or 500 while broken(); returns
    the server (shutdown() and server_close() stop it) and its /metrics URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if broken():
                self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = page().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d/metrics" % server.server_address[1]


class LoggedProcess:
    """A binary whose stderr is collected; ready once a line matching each wanted pattern has told
    its port ("(port N)": the binaries log the port they bound, so tests can ask for port 0)."""


class LoggedProcess:
    def __init__(self, argv, wanted, deadline_s, env=None, stop_timeout_s=10):
        """wanted: {name: regex whose group 1 is the port}; raises AssertionError with the log
        when the ports are not all logged within deadline_s."""
        self.lines = []
        self.ports = {}
        self.stop_timeout_s = stop_timeout_s
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, env=env)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.lines.append(line)
                for name, pattern in wanted.items():
                    m = re.search(pattern, line)
                    if m:
                        self.ports[name] = int(m.group(1))
                if len(self.ports) == len(wanted):
                    ready.set()
            ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(deadline_s) or len(self.ports) != len(wanted):
            self.stop()
            raise AssertionError("%s did not start:\n%s" % (argv[0], self.log()))

    def log(self):
        return "".join(self.lines)

    def stop(self):
        """SIGTERM, then SIGKILL after stop_timeout_s; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()
        return self.proc.returncode
