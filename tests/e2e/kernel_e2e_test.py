#!/usr/bin/env python3
"""End-to-end test of queuelens-exporter as a DaemonSet would run it: kernel collection only (no
span source), reading a fixture node through --path.procfs/--path.sysfs, naming containers from a
fake kubelet, scraped over HTTP while the node's counters move, and linted by promtool. Then, as root, the
exporter on this machine's /proc and /sys with the privileges deploy/node-taskstats grants.

usage: kernel_e2e_test.py EXPORTER_BINARY REPO_ROOT
"""
import http.server
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

EXPORTER = sys.argv[1] if len(sys.argv) > 1 else "build/bin/queuelens-exporter"
ROOT = sys.argv[2] if len(sys.argv) > 2 else "."
FIXTURES = os.path.join(ROOT, "tests/fixtures/kernel")
PROMTOOL = "/usr/bin/promtool"
DEADLINE_S = 20

FRONTEND = 'namespace="shop",pod="frontend-7d9f8b6c5-x2k4p",container="frontend"'


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def sample(text, name, labels=""):
    """The value of one series, or None."""
    m = re.search("^%s%s (\\S+)$" % (re.escape(name), re.escape("{%s}" % labels if labels else "")),
                  text, re.M)
    return float(m.group(1)) if m else None


def overlay(src, dst):
    """Writes every file of src over dst in place, as the kernel rewrites statistics files."""
    for dirpath, _, files in os.walk(src):
        for f in files:
            rel = os.path.relpath(os.path.join(dirpath, f), src)
            target = os.path.join(dst, rel)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(os.path.join(dirpath, f), "rb") as i, open(target, "r+b" if os.path.exists(target) else "wb") as o:
                data = i.read()
                o.seek(0)
                o.write(data)
                o.truncate()


class Kubelet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(os.path.join(FIXTURES, "kubelet_pods.json"), "rb") as f:
            body = f.read()
        self.send_response(200 if self.path == "/pods" else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class KernelOnlyExporterTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="queuelens-kernel-e2e-")
        self.node = os.path.join(self.tmp, "node")
        shutil.copytree(os.path.join(FIXTURES, "v2_systemd"), self.node)
        self.kubelet = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kubelet)
        threading.Thread(target=self.kubelet.serve_forever, daemon=True).start()
        self.proc = subprocess.Popen(
            [EXPORTER, "--kernel.enabled", "--kernel.interval=100ms", "--otlp.listen-address=",
             "--web.listen-address=127.0.0.1:0",
             "--path.procfs=" + os.path.join(self.node, "proc"),
             "--path.sysfs=" + os.path.join(self.node, "sys"),
             "--kubelet.url=http://127.0.0.1:%d/pods" % self.kubelet.server_address[1]],
            stderr=subprocess.PIPE, text=True)
        self.stderr = []
        ready = threading.Event()
        self.port = None

        def read():
            for line in self.proc.stderr:
                self.stderr.append(line)
                m = re.search(r"serving /metrics .*\(port (\d+)\)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(DEADLINE_S):
            self.proc.kill()
            raise AssertionError("exporter did not start:\n" + "".join(self.stderr))
        self.web = "http://127.0.0.1:%d" % self.port

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(DEADLINE_S)
        self.proc.stderr.close()
        self.kubelet.shutdown()
        self.kubelet.server_close()
        shutil.rmtree(self.tmp)

    def wait_for(self, predicate):
        """Scrapes until predicate(text) holds; bounded by DEADLINE_S."""
        deadline = time.monotonic() + DEADLINE_S
        text = ""
        while time.monotonic() < deadline:
            text = get(self.web + "/metrics")
            if predicate(text):
                return text
            time.sleep(0.05)
        self.fail("condition not met; last scrape:\n" + text)

    def test_daemonset_mode(self):
        text = self.wait_for(
            lambda t: (sample(t, "queuelens_kernel_collections_total") or 0) >= 2)
        self.assertEqual(sample(text, "queuelens_kernel_containers"), 6)
        self.assertEqual(sample(text, "queuelens_container_runqueue_wait_seconds_total", FRONTEND), 0.25)
        self.assertEqual(sample(text, "queuelens_container_cpu_limit_cores", FRONTEND), 2)
        # The default --kernel.taskstats=auto: a fixture tree is no PID namespace of ours.
        self.assertEqual(sample(text, "queuelens_kernel_info",
                                'cgroup_mode="v2",task_counters="schedstat"'), 1)
        self.assertEqual(sample(text, "queuelens_kernel_source_success", 'source="kubelet"'), 1)
        # No span source: the span families are there, empty.
        self.assertNotRegex(text, r"(?m)^queuelens_requests_total\{")

        # The node moves on: threads come and go, a TID is reused, CPU runs.
        overlay(os.path.join(FIXTURES, "v2_systemd_t1"), self.node)
        text = self.wait_for(lambda t: sample(
            t, "queuelens_container_runqueue_wait_seconds_total", FRONTEND) == 0.55)
        self.assertAlmostEqual(
            sample(text, "queuelens_container_interference_ratio", FRONTEND), 0.1875)
        self.assertEqual(
            sample(text, "queuelens_kernel_errors_total", 'source="tasks",reason="pid_reused"'), 1)

        if os.path.exists(PROMTOOL):
            lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, text=True,
                                  capture_output=True)
            self.assertEqual(lint.returncode, 0, lint.stdout + lint.stderr)

        page = get(self.web + "/")
        self.assertIn("<h2>Containers on this node</h2>", page)
        self.assertIn("<td>jobs</td><td>nightly-report-28731</td><td>report</td>", page)

        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=DEADLINE_S), 0)


def cgroup_dirs(name):
    """Where a cgroup `name` goes so the exporter reads it: the v1 cpu and cpuacct hierarchies,
    or the unified one of a cgroup v2 host; [] elsewhere."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype, options = fields[fields.index("-") + 1], fields[-1].split(",")
            for controller in ("cpu", "cpuacct"):
                if fstype == "cgroup" and controller in options:
                    mounts[controller] = fields[4]
            if fstype == "cgroup2":
                mounts["unified"] = fields[4]
    if "cpu" in mounts and "cpuacct" in mounts:
        return sorted({os.path.join(mounts[c], name) for c in ("cpu", "cpuacct")})
    unified = mounts.get("unified")
    if unified and os.path.exists(os.path.join(unified, "cgroup.controllers")):
        with open(os.path.join(unified, "cgroup.controllers")) as f:
            if "cpu" in f.read().split():
                return [os.path.join(unified, name)]
    return []


# The process privileges of deploy/node-taskstats/exporter-node-taskstats.yaml on top of the
# base's securityContext (every capability dropped, no privilege escalation): uid 0, NET_ADMIN.
def node_taskstats_privileges(capabilities):
    return ["setpriv", "--reuid=0", "--regid=0", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all" + "".join(",+" + c for c in capabilities), "--no-new-privs"]


CAP_NET_ADMIN_MASK = 1 << 12


@unittest.skipUnless(os.geteuid() == 0 and shutil.which("setpriv"), "needs root and setpriv")
class NodeTaskstatsPrivilegesTest(unittest.TestCase):
    """The real kernel answers taskstats queries from an exporter holding only what
    deploy/node-taskstats grants, and refuses them (exit 2 with `on`) without NET_ADMIN."""

    def setUp(self):
        self.name = "queuelens-e2e-%d" % os.getpid()
        self.dirs = cgroup_dirs(self.name)
        if not self.dirs:
            self.skipTest("no cgroup hierarchy with the cpu controller here")
        for d in self.dirs:
            os.mkdir(d)
        # Three busy processes on this machine's cores: they wait for each other in the run queue.
        self.busy = []
        for _ in range(3):
            p = subprocess.Popen([sys.executable, "-c", "while True: pass"])
            self.busy.append(p)
            for d in self.dirs:
                with open(os.path.join(d, "cgroup.procs"), "w") as f:
                    f.write("%d\n" % p.pid)
        self.exporters, self.readers = [], []

    def tearDown(self):
        for p in self.busy + self.exporters:
            if p.poll() is None:
                p.kill()
                p.wait()
        for reader in self.readers:
            reader.join(DEADLINE_S)
        for p in self.exporters:
            p.stderr.close()
        for d in self.dirs:
            deadline = time.monotonic() + DEADLINE_S
            while os.path.exists(d):
                try:
                    os.rmdir(d)
                except OSError:  # EBUSY until the killed processes have left it
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def start(self, capabilities, taskstats):
        self.proc = subprocess.Popen(
            node_taskstats_privileges(capabilities) +
            [EXPORTER, "--kernel.enabled", "--kernel.interval=200ms", "--otlp.listen-address=",
             "--web.listen-address=127.0.0.1:0", "--path.procfs=/proc", "--path.sysfs=/sys",
             "--kernel.taskstats=" + taskstats,
             "--kernel.cgroup-include=/" + re.escape(self.name)],
            stderr=subprocess.PIPE, text=True)
        self.exporters.append(self.proc)
        self.stderr = []
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.stderr.append(line)
                m = re.search(r"serving /metrics .*\(port (\d+)\)", line)
                if m:
                    self.web = "http://127.0.0.1:%s" % m.group(1)
                    ready.set()
        self.readers.append(threading.Thread(target=read, daemon=True))
        self.readers[-1].start()
        return ready

    def wait_ready(self, ready):
        if not ready.wait(DEADLINE_S):
            self.fail("exporter did not start:\n" + "".join(self.stderr))

    @staticmethod
    def task_counters(text):
        m = re.search(r'(?m)^queuelens_kernel_info\{[^}]*task_counters="(\w+)"[^}]*\} 1$', text)
        return m and m.group(1)

    def wait_for_wait(self, above):
        """Scrapes until the cgroup's run-queue wait exceeds `above`; returns scrape and value."""
        pattern = re.compile(r'(?m)^queuelens_container_runqueue_wait_seconds_total\{[^}]*%s[^}]*\} (\S+)$'
                             % re.escape(self.name))
        deadline = time.monotonic() + DEADLINE_S
        text = ""
        while time.monotonic() < deadline:
            text = get(self.web + "/metrics")
            m = pattern.search(text)
            if m and float(m.group(1)) > above:
                return text, float(m.group(1))
            time.sleep(0.1)
        self.fail("run-queue wait of %s never exceeded %g; last scrape:\n%s" % (self.name, above, text))

    def test_net_admin_alone_answers_taskstats(self):
        self.wait_ready(self.start(["net_admin"], "on"))
        with open("/proc/%d/status" % self.proc.pid) as f:
            eff = int(re.search(r"(?m)^CapEff:\s*(\w+)$", f.read()).group(1), 16)
        self.assertEqual(eff, CAP_NET_ADMIN_MASK, "the exporter holds NET_ADMIN and nothing else")
        text, first = self.wait_for_wait(0)
        self.assertEqual(self.task_counters(text), "taskstats")
        self.assertEqual(sample(text, "queuelens_kernel_source_success", 'source="tasks"'), 1)
        self.assertEqual(sample(text, "queuelens_kernel_threads"), 3)  # processes, here
        self.wait_for_wait(first)  # and it grows while the three compete
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=DEADLINE_S), 0)

    def test_without_net_admin_on_fails_at_start_and_auto_falls_back(self):
        self.start([], "on")
        self.assertEqual(self.proc.wait(timeout=DEADLINE_S), 2)
        self.assertIn("needs CAP_NET_ADMIN", "".join(self.stderr))
        self.wait_ready(self.start([], "auto"))
        text, _ = self.wait_for_wait(0)
        self.assertEqual(self.task_counters(text), "schedstat")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
