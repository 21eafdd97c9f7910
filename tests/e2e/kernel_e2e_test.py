#!/usr/bin/env python3
"""End-to-end test of queuelens-exporter as a DaemonSet would run it: kernel collection only (no
span source), reading a fixture node through --path.procfs/--path.sysfs, naming containers from a
fake kubelet, scraped over HTTP while the node's counters move, and linted by promtool.

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
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(DEADLINE_S):
            self.proc.kill()
            raise AssertionError("exporter did not start:\n" + "".join(self.stderr))
        self.web = "http://127.0.0.1:%d" % self.port

    def tearDown(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
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


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
