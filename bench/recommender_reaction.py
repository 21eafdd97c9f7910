#!/usr/bin/env python3
"""Reaction time of the direct-scrape fast path: how long after a load step the recommender
publishes a recommendation that reflects it (performance.md G6: <= 2 s at a 1 s interval).

Each trial starts a fresh queuelens-exporter and queuelens-recommender on loopback, sends a steady
OTLP/HTTP load of single-span requests (50 ms each) to the exporter, steps the load up twenty-fold,
and polls the KEDA endpoint every 20 ms until the recommended replicas rise. Reported per trial:
the time from the step to the first poll that saw the new value, and to the computedAt of that
recommendation (the pass that produced it).

usage: bench/recommender_reaction.py [--trials N] [--window DURATION] [--trace-wait DURATION]
       [--bin build/bin]
"""
import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

SPAN_SECONDS = 0.05
BASE_RPS = 20
STEP_RPS = 400
WARMUP_S = 12
GIVE_UP_S = 60


def post(url, body):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=5) as r:
        r.read()


def get_json(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read())


class Process:
    """A binary started on port 0; ports[name] is read from its "(port N)" log lines."""

    def __init__(self, argv, patterns):
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True)
        lines = []
        self.ports = {}
        while len(self.ports) < len(patterns):
            line = self.proc.stderr.readline()
            if not line:
                self.stop()
                sys.exit("%s did not start:\n%s" % (argv[0], "".join(lines)))
            lines.append(line)
            for name, pattern in patterns.items():
                m = re.search(pattern, line)
                if m:
                    self.ports[name] = int(m.group(1))
        # Keep draining stderr so the child never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Load(threading.Thread):
    """Posts single-span traces every 50 ms at the current rate (requests/s)."""

    def __init__(self, otlp_url):
        super().__init__(daemon=True)
        self.url = otlp_url
        self.rps = BASE_RPS
        self.running = True
        self.next_id = 1

    def batch(self, n):
        now = time.time_ns()
        spans = []
        for _ in range(n):
            self.next_id += 1
            spans.append({"traceId": "%032x" % self.next_id, "spanId": "%016x" % self.next_id,
                          "name": "POST /checkout", "kind": 2,
                          "startTimeUnixNano": str(now - int(SPAN_SECONDS * 1e9)),
                          "endTimeUnixNano": str(now)})
        attrs = [{"key": "service.name", "value": {"stringValue": "checkout"}},
                 {"key": "k8s.namespace.name", "value": {"stringValue": "bench"}},
                 {"key": "k8s.pod.name", "value": {"stringValue": "checkout-5d9f8-x7k2q"}}]
        return json.dumps({"resourceSpans": [{"resource": {"attributes": attrs},
                                              "scopeSpans": [{"spans": spans}]}]}).encode()

    def run(self):
        tick = 0.05
        carry = 0.0
        next_t = time.monotonic()
        while self.running:
            carry += self.rps * tick
            n = int(carry)
            carry -= n
            if n:
                post(self.url, self.batch(n))
            next_t += tick
            time.sleep(max(0.0, next_t - time.monotonic()))


def parse_rfc3339(text):
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=timezone.utc).timestamp()


def trial(args, config_path):
    exporter = Process([os.path.join(args.bin, "queuelens-exporter"),
                        "--web.listen-address=127.0.0.1:0", "--otlp.listen-address=127.0.0.1:0",
                        "--trace.wait=" + args.trace_wait],
                       {"web": r"serving /metrics .*\(port (\d+)\)",
                        "otlp": r"receiving OTLP/HTTP .*\(port (\d+)\)"})
    flags = [os.path.join(args.bin, "queuelens-recommender"), "--web.listen-address=127.0.0.1:0",
             "--exporter.url=http://127.0.0.1:%d/metrics" % exporter.ports["web"],
             "--config=" + config_path]
    if args.window:
        flags.append("--model.window=" + args.window)
    recommender = Process(flags, {"web": r"serving /metrics.*\(port (\d+)\)"})
    url = "http://127.0.0.1:%d/api/v1/recommendations/bench/checkout" % recommender.ports["web"]
    load = Load("http://127.0.0.1:%d/v1/traces" % exporter.ports["otlp"])
    load.start()
    try:
        # A random phase against the 1 s passes, so trials sample every position of the step.
        time.sleep(WARMUP_S + random.random())
        before = get_json(url).get("replicas")
        step = time.time()
        load.rps = STEP_RPS
        while time.time() - step < GIVE_UP_S:
            r = get_json(url)
            if r.get("replicas") is not None and before is not None and r["replicas"] > before:
                seen = time.time() - step
                computed = parse_rfc3339(r["computedAt"]) - step
                return before, r["replicas"], seen, computed
            time.sleep(0.02)
        return before, None, None, None
    finally:
        load.running = False
        load.join()
        recommender.stop()
        exporter.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--window", default="", help="--model.window (default: the recommender's)")
    p.add_argument("--trace-wait", default="100ms", help="the exporter's --trace.wait")
    p.add_argument("--bin", default="build/bin")
    args = p.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("workloads:\n  - namespace: bench\n    workload: checkout\n"
                "    slo_p99: 500ms\n    max_replicas: 100\n")
    try:
        print("load step %d -> %d req/s of %.0f ms spans; exporter --trace.wait=%s; "
              "recommender --interval=1s (default with --exporter.url), --model.window=%s"
              % (BASE_RPS, STEP_RPS, SPAN_SECONDS * 1e3, args.trace_wait,
                 args.window or "default (5 intervals)"))
        seen_all, computed_all = [], []
        for i in range(args.trials):
            before, after, seen, computed = trial(args, f.name)
            if after is None:
                print("trial %d: replicas %s, no rise within %d s" % (i + 1, before, GIVE_UP_S))
                continue
            seen_all.append(seen)
            computed_all.append(computed)
            print("trial %d: replicas %d -> %d, seen %.2f s after the step "
                  "(recommendation computed %.2f s after it)" % (i + 1, before, after, seen,
                                                                 computed))
        if seen_all:
            print("reaction (first poll with the new value): median %.2f s, max %.2f s over %d "
                  "trials" % (statistics.median(seen_all), max(seen_all), len(seen_all)))
            print("reaction (computedAt of that recommendation): median %.2f s, max %.2f s"
                  % (statistics.median(computed_all), max(computed_all)))
    finally:
        os.unlink(f.name)


if __name__ == "__main__":
    main()
