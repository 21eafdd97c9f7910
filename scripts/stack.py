"""The closed loop through the real binaries on loopback, for `make demo` and the Prometheus
end-to-end test: queuelens-sim --live sends the simulated app's spans to queuelens-exporter over
OTLP and keeps a cgroup tree the exporter reads as the node's kernel statistics;
queuelens-recommender scrapes the exporter and the simulator applies its recommendations; a real
Prometheus (Debian's package, when installed) scrapes both with the rules of alerts/ loaded.

Every process logs to a file in the stack's directory and is stopped by Stack.stop().
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url, timeout=5):
    """(status, body) of a GET; status 0 when nothing answered."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, b""


def get_json(url, timeout=5):
    status, body = http_get(url, timeout)
    if status != 200:
        raise RuntimeError("GET %s: HTTP %d" % (url, status))
    return json.loads(body)


class Process:
    def __init__(self, name, argv, log_dir):
        self.name = name
        self.log_path = os.path.join(log_dir, name + ".log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def running(self):
        return self.proc.poll() is None

    def stop(self):
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


class Stack:
    """Starts exporter, recommender, simulator and (optionally) Prometheus; see start()."""

    def __init__(self, workdir, app="hotel-reservation", trace="bursty.txt", speed=1.0,
                 multiplier=0, prometheus=True, bin_dir=os.path.join(ROOT, "build", "bin"),
                 scrape_interval="2s", rule_interval="2s", rule_files=None, extra_jobs=None,
                 warmup=None):
        self.dir = workdir
        self.app_file = os.path.join(ROOT, "sim", "apps", app + ".yaml")
        self.trace_file = trace if os.path.isabs(trace) or trace.startswith("constant") \
            else os.path.join(ROOT, "sim", "traces", trace)
        self.speed = speed
        self.multiplier = multiplier
        self.warmup = warmup  # the simulator's warm-up ramp ("30s"); None: its default
        self.want_prometheus = prometheus
        self.bin = bin_dir
        self.scrape_interval = scrape_interval
        self.rule_interval = rule_interval
        self.rule_files = rule_files or [os.path.join(ROOT, "alerts", f) for f in
                                         ("exporter.rules.yml", "recommender.rules.yml")]
        self.extra_jobs = extra_jobs or {}
        self.procs = []
        self.prometheus_url = None

    # The app file's namespace and SLO, for the recommender's defaults.
    def _app_settings(self):
        with open(self.app_file) as f:
            text = f.read()
        ns = re.search(r"^namespace:\s*(\S+)", text, re.M)
        slo = re.search(r"^slo_p99:\s*(\S+)", text, re.M)
        return (ns.group(1) if ns else "default"), (slo.group(1) if slo else "500ms")

    def _start(self, name, argv):
        p = Process(name, argv, self.dir)
        self.procs.append(p)
        return p

    def _wait_http(self, proc, url, deadline_s=30):
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if not proc.running():
                raise RuntimeError("%s exited at start:\n%s" % (proc.name, proc.log()))
            if http_get(url, timeout=1)[0] == 200:
                return
            time.sleep(0.1)
        raise RuntimeError("%s did not answer %s in %d s:\n%s" % (proc.name, url, deadline_s,
                                                                   proc.log()))

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        self.namespace, slo = self._app_settings()
        cgroup_root = os.path.join(self.dir, "node")
        web, otlp, rec, kubelet = free_port(), free_port(), free_port(), free_port()
        self.exporter_url = "http://127.0.0.1:%d" % web
        self.otlp_url = "http://127.0.0.1:%d/v1/traces" % otlp
        self.recommender_url = "http://127.0.0.1:%d" % rec
        self.kubelet_url = "http://127.0.0.1:%d/pods" % kubelet
        # The simulator stands in for the cluster's kube-state-metrics as well.
        self.kube_state_url = "http://127.0.0.1:%d/metrics" % kubelet

        exporter = self._start("exporter", [
            os.path.join(self.bin, "queuelens-exporter"),
            "--web.listen-address=127.0.0.1:%d" % web,
            "--otlp.listen-address=127.0.0.1:%d" % otlp,
            "--trace.wait=1s", "--window.length=30s", "--log.level=warn",
            "--kernel.enabled", "--kernel.discovery-interval=2s",
            "--path.procfs=" + os.path.join(cgroup_root, "proc"),
            "--path.sysfs=" + os.path.join(cgroup_root, "sys"),
            "--kubelet.url=" + self.kubelet_url,
            # The Captains' throttle targets, from the recommender started next.
            "--recommender.url=" + self.recommender_url, "--recommender.interval=5s"])
        self._wait_http(exporter, self.exporter_url + "/healthz")

        config = os.path.join(self.dir, "workloads.yaml")
        with open(config, "w") as f:
            f.write("# Every service the exporter sees becomes a workload (--discover).\n"
                    "defaults:\n  slo_p99: %s\n  max_replicas: 20\n" % slo)
        recommender = self._start("recommender", [
            os.path.join(self.bin, "queuelens-recommender"),
            "--web.listen-address=127.0.0.1:%d" % rec,
            "--exporter.url=%s/metrics" % self.exporter_url,
            "--exporter.url=" + self.kube_state_url,
            "--config=" + config, "--discover", "--interval=1s", "--log.level=warn",
            "--checkpoint.file=" + os.path.join(self.dir, "recommender-checkpoint.json")])
        self._wait_http(recommender, self.recommender_url + "/healthz")

        sim_argv = [os.path.join(self.bin, "queuelens-sim"), "run", "--live",
                    "--app", self.app_file, "--trace", self.trace_file,
                    "--otlp", self.otlp_url, "--cgroup-root", cgroup_root,
                    "--kubelet-listen", "127.0.0.1:%d" % kubelet,
                    "--recommender", self.recommender_url, "--speed", str(self.speed),
                    "--apply-interval", "2s"]
        if self.multiplier > 0:
            sim_argv += ["--multiplier", str(self.multiplier)]
        if self.warmup is not None:
            sim_argv += ["--warmup", self.warmup]
        self.sim = self._start("sim", sim_argv)

        self._wait_http(self.sim, self.kube_state_url)
        if self.want_prometheus and shutil.which("prometheus"):
            self._start_prometheus({"queuelens-exporter": web, "queuelens-recommender": rec,
                                    "kube-state-metrics": kubelet})
        return self

    def _start_prometheus(self, jobs):
        """jobs: {job name: loopback port}; extra_jobs given to the constructor are added."""
        port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: %s\n  evaluation_interval: %s\n"
                    % (self.scrape_interval, self.rule_interval))
            f.write("rule_files:\n")
            for r in self.rule_files:
                f.write("  - %s\n" % json.dumps(r))
            f.write("scrape_configs:\n")
            for job, p in list(jobs.items()) + list(self.extra_jobs.items()):
                f.write("  - job_name: %s\n    static_configs:\n"
                        "      - targets: ['127.0.0.1:%d']\n" % (job, p))
        prom = self._start("prometheus", [
            shutil.which("prometheus"), "--config.file=" + config,
            "--storage.tsdb.path=" + os.path.join(self.dir, "prometheus-data"),
            "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"])
        self.prometheus_url = "http://127.0.0.1:%d" % port
        self._wait_http(prom, self.prometheus_url + "/-/ready", deadline_s=60)

    def pods(self):
        """{service: (pods, ready pods)} from the simulator's kubelet pod list."""
        counts = {}
        for pod in get_json(self.kubelet_url).get("items", []):
            for c in pod["status"]["containerStatuses"]:
                total, ready = counts.get(c["name"], (0, 0))
                counts[c["name"]] = (total + 1, ready + (1 if c["ready"] else 0))
        return counts

    def query(self, expr):
        """The result list of an instant PromQL query; raises on a query error."""
        doc = get_json(self.prometheus_url + "/api/v1/query?" +
                       urllib.parse.urlencode({"query": expr}), timeout=10)
        if doc.get("status") != "success":
            raise RuntimeError("query %s: %s" % (expr, doc))
        return doc["data"]["result"]

    def stop(self):
        """Stops everything in reverse order; returns {name: exit code}."""
        codes = {}
        for p in reversed(self.procs):
            codes[p.name] = p.stop()
        self.procs = []
        return codes
