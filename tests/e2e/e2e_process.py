"""A binary the end-to-end tests start: its stderr is collected, and it is ready once a line
matching each wanted pattern has told its port ("(port N)": the binaries log the port they bound,
so tests can ask for port 0)."""
import re
import signal
import subprocess
import threading


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
