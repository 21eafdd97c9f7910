#!/usr/bin/env python3
"""End-to-end test of queuelens-exporter --captain.apply on this machine's real cgroup v1 `cpu`
hierarchy: a Kubernetes-style container cgroup with a busy process, a fake kubelet whose pod list
opts the pod in, and the exporter run with the process privileges deploy/node-captain grants (uid
0, no capabilities, no new privileges). Checks that cpu.cfs_quota_us and the process's measured
CPU follow the Captain's limit within the pod's bounds, that a kubelet-style resize is not fought,
that SIGTERM puts the original value back, and that without uid 0 writes are counted as
permission errors while the exporter keeps running. Skips, saying why, where there is no
writable cgroup v1 cpu hierarchy or no root.

usage: captain_e2e_test.py EXPORTER_BINARY REPO_ROOT
"""
import hashlib
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
import urllib.request

EXPORTER = sys.argv[1] if len(sys.argv) > 1 else "build/bin/queuelens-exporter"
DEADLINE_S = 20
PERIOD_US = 100000
ORIGINAL_US = 150000  # the limit "the kubelet" set: 1.5 cores


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return r.read().decode()


def sample(text, name, labels=""):
    m = re.search("^%s%s (\\S+)$" % (re.escape(name), re.escape("{%s}" % labels if labels else "")),
                  text, re.M)
    return float(m.group(1)) if m else None


def v1_hierarchies():
    """Mount points of the v1 hierarchies with the cpu and the cpuacct controllers, or None."""
    mounts = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            fstype, options = fields[fields.index("-") + 1], fields[-1].split(",")
            for controller in ("cpu", "cpuacct"):
                if fstype == "cgroup" and controller in options:
                    mounts[controller] = fields[4]
    return mounts if len(mounts) == 2 else None


def why_not_writable():
    """None when a cgroup can be made and limited in the v1 cpu hierarchy, else the reason."""
    if os.geteuid() != 0:
        return "needs root to create cgroups"
    if not shutil.which("setpriv"):
        return "needs setpriv (util-linux) to drop privileges"
    mounts = v1_hierarchies()
    if not mounts:
        return "no cgroup v1 cpu and cpuacct hierarchies here (this test covers v1 hosts)"
    probe = os.path.join(mounts["cpu"], "queuelens-captain-probe-%d" % os.getpid())
    try:
        os.mkdir(probe)
        try:
            with open(os.path.join(probe, "cpu.cfs_quota_us"), "w") as f:
                f.write("50000")
        finally:
            os.rmdir(probe)
    except OSError as e:
        return "the cgroup v1 cpu hierarchy is not writable here: %s" % e
    return None


def cpu_seconds(pid):
    """utime + stime of a process, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# The process privileges of deploy/node-captain/exporter-node-captain.yaml on top of the base's
# securityContext (every capability dropped, no privilege escalation, gid 65532): uid 0 and
# nothing more.
def node_captain_privileges(uid):
    return ["setpriv", "--reuid=%d" % uid, "--regid=65532", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]


class Kubelet(http.server.BaseHTTPRequestHandler):
    pods = {"items": []}

    def do_GET(self):
        body = json.dumps(Kubelet.pods).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


REASON = why_not_writable()


@unittest.skipIf(REASON, REASON or "")
class CaptainApplyRealCgroupTest(unittest.TestCase):
    def setUp(self):
        mounts = v1_hierarchies()
        self.uid = "c0ffee00-0000-4000-8000-%012d" % os.getpid()
        self.cid = hashlib.sha256(self.uid.encode()).hexdigest()
        rel = os.path.join("kubepods", "burstable", "pod" + self.uid, self.cid)
        self.made = []  # directories created, deepest last
        for controller in ("cpu", "cpuacct"):
            path = mounts[controller]
            for part in rel.split("/"):
                path = os.path.join(path, part)
                if not os.path.isdir(path):
                    os.mkdir(path)
                    self.made.append(path)
        self.dir = os.path.join(mounts["cpu"], rel)
        self.quota_file = os.path.join(self.dir, "cpu.cfs_quota_us")
        with open(os.path.join(self.dir, "cpu.cfs_period_us"), "w") as f:
            f.write(str(PERIOD_US))
        with open(self.quota_file, "w") as f:
            f.write(str(ORIGINAL_US))
        self.busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for controller in ("cpu", "cpuacct"):
            with open(os.path.join(mounts[controller], rel, "cgroup.procs"), "w") as f:
                f.write("%d\n" % self.busy.pid)
        self.kubelet = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Kubelet)
        threading.Thread(target=self.kubelet.serve_forever, daemon=True).start()
        self.set_pod(max_cpu="500m")
        self.proc = None

    def tearDown(self):
        for p in (self.proc, self.busy):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        if self.proc is not None:
            self.proc.stderr.close()
        self.kubelet.shutdown()
        self.kubelet.server_close()
        deadline = time.monotonic() + DEADLINE_S
        for d in reversed(self.made):
            while os.path.exists(d):
                try:
                    os.rmdir(d)
                except OSError:  # EBUSY until the killed process has left
                    if any(os.path.isdir(os.path.join(d, e)) for e in os.listdir(d)):
                        break  # a parent holding another run's cgroups: leave it to that run
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)

    def set_pod(self, max_cpu, opted=True):
        annotations = {"queuelens.io/captain-min-cpu": "100m",
                       "queuelens.io/captain-max-cpu": max_cpu}
        if opted:
            annotations["queuelens.io/cpu-control"] = "captain"
        Kubelet.pods = {"items": [{
            "metadata": {"uid": self.uid, "namespace": "e2e", "name": "busy-0",
                         "annotations": annotations},
            "status": {"containerStatuses": [
                {"name": "busy", "containerID": "containerd://" + self.cid}]}}]}

    def start(self, uid):
        self.proc = subprocess.Popen(
            node_captain_privileges(uid) +
            [EXPORTER, "--kernel.enabled", "--kernel.interval=200ms",
             "--kernel.discovery-interval=1s", "--otlp.listen-address=",
             "--web.listen-address=127.0.0.1:0", "--path.procfs=/proc", "--path.sysfs=/sys",
             "--kubelet.url=http://127.0.0.1:%d/pods" % self.kubelet.server_address[1],
             "--captain.apply"],
            stderr=subprocess.PIPE, text=True)
        self.stderr = []
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.stderr.append(line)
                m = re.search(r"serving /metrics .*\(port (\d+)\)", line)
                if m:
                    self.web = "http://127.0.0.1:%s" % m.group(1)
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(DEADLINE_S):
            self.fail("exporter did not start:\n" + "".join(self.stderr))

    def quota(self):
        with open(self.quota_file) as f:
            return int(f.read())

    def wait_quota(self, predicate, what):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            q = self.quota()
            if predicate(q):
                return q
            time.sleep(0.05)
        self.fail("cpu.cfs_quota_us never became %s (last %d):\n%s"
                  % (what, self.quota(), "".join(self.stderr[-20:])))

    def measured_cores(self, seconds=2.0):
        t0, c0 = time.monotonic(), cpu_seconds(self.busy.pid)
        time.sleep(seconds)
        return (cpu_seconds(self.busy.pid) - c0) / (time.monotonic() - t0)

    def wait_metric(self, name, labels, predicate):
        deadline = time.monotonic() + DEADLINE_S
        text = ""
        while time.monotonic() < deadline:
            text = get(self.web + "/metrics")
            v = sample(text, name, labels)
            if v is not None and predicate(v):
                return text
            time.sleep(0.1)
        self.fail("%s{%s} never matched; last scrape:\n%s" % (name, labels, text))

    def test_quota_and_cpu_follow_the_captain_and_sigterm_restores(self):
        self.start(0)
        with open("/proc/%d/status" % self.proc.pid) as f:
            self.assertEqual(int(re.search(r"(?m)^CapEff:\s*(\w+)$", f.read()).group(1), 16), 0,
                             "the exporter holds no capability")
        labels = 'namespace="e2e",pod="busy-0",container="busy"'
        # The Captain starts from 1.5 cores; the pod's ceiling of 0.5 holds every write there
        # (the busy process is throttled, so the Captain asks for more: t = 0).
        self.wait_quota(lambda q: q == PERIOD_US // 2, "50000 (0.5 cores)")
        half = self.measured_cores()
        print("limit 0.5 cores: busy process measured %.3f cores" % half)
        self.assertLess(half, 0.5 + 0.08)
        self.assertGreater(half, 0.3)
        text = self.wait_metric("queuelens_captain_applied_cpu_cores", labels, lambda v: v == 0.5)
        self.assertGreaterEqual(sample(text, "queuelens_captain_writes_total", 'kind="limit"'), 1)

        # The pod's ceiling drops to 0.25: the next discovery reads it, the next write obeys it.
        self.set_pod(max_cpu="250m")
        self.wait_quota(lambda q: q == PERIOD_US // 4, "25000 (0.25 cores)")
        quarter = self.measured_cores()
        print("limit 0.25 cores: busy process measured %.3f cores" % quarter)
        # The quota bounds the process from above; other load on the machine may take more
        # from below, so the lower bounds are loose.
        self.assertLess(quarter, 0.25 + 0.08)
        self.assertGreater(quarter, 0.1)

        # The kubelet resizes the pod to 1.2 cores: the Captain restarts from there (and is
        # clamped to the ceiling again); the resized value is the one SIGTERM puts back.
        with open(self.quota_file, "w") as f:
            f.write("120000")
        self.wait_metric("queuelens_captain_resizes_total", "", lambda v: v == 1)
        self.wait_quota(lambda q: q == PERIOD_US // 4, "25000 again after the resize")
        text = get(self.web + "/metrics")
        for reason in ("read_only", "permission", "vanished", "invalid", "io"):
            self.assertEqual(
                sample(text, "queuelens_captain_write_errors_total", 'reason="%s"' % reason), 0)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=DEADLINE_S), 0)
        self.assertEqual(self.quota(), 120000, "SIGTERM wrote the original (resized) value back")

    def test_opt_out_restores_the_original(self):
        self.start(0)
        self.wait_quota(lambda q: q == PERIOD_US // 2, "50000 (0.5 cores)")
        self.set_pod(max_cpu="500m", opted=False)
        self.wait_quota(lambda q: q == ORIGINAL_US, "150000 again after the opt-out")
        self.wait_metric("queuelens_captain_writes_total", 'kind="restore"', lambda v: v == 1)
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=DEADLINE_S), 0)
        self.assertEqual(self.quota(), ORIGINAL_US)

    def test_without_uid_0_writes_fail_counted_and_the_exporter_runs_on(self):
        self.start(65532)
        self.wait_metric("queuelens_captain_write_errors_total", 'reason="permission"',
                         lambda v: v >= 1)
        self.assertEqual(self.quota(), ORIGINAL_US)
        self.assertIsNone(self.proc.poll())
        self.assertEqual(sum("cannot write" in line for line in self.stderr), 1,
                         "logged once for the container")
        self.proc.send_signal(signal.SIGTERM)
        self.assertEqual(self.proc.wait(timeout=DEADLINE_S), 0)
        self.assertEqual(self.quota(), ORIGINAL_US)


if __name__ == "__main__":
    if REASON:
        print("SKIP: " + REASON)
    unittest.main(argv=sys.argv[:1], verbosity=2)
