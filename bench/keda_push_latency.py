#!/usr/bin/env python3
"""How soon KEDA can see a load step: through the external-push stream (StreamIsActive pushes when
the recommendation changes; KEDA then reads GetMetrics) versus the metrics-api scaler polling the
JSON every 15 s (its pollingInterval).

Each trial starts a fresh queuelens-exporter and queuelens-recommender (--grpc.listen-address) on
loopback, sends a steady OTLP/HTTP load (recommender_reaction.py's), holds a StreamIsActive open
with the grpc-js client of tests/e2e (keda_grpc_client.mjs, which needs `npm ci` in tests/e2e),
starts a 15 s poller at a random phase, and steps the load up. Reported per trial: the time from
the step to the first push after which GetMetrics shows more replicas, and to the first 15 s poll
that shows them.

usage: bench/keda_push_latency.py [--trials N] [--poll-interval S] [--bin build/bin]
"""
import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recommender_reaction import GIVE_UP_S, STEP_RPS, WARMUP_S, Load, Process, get_json  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLIENT = os.path.join(ROOT, "tests/e2e/keda_grpc_client.mjs")
PROTO = os.path.join(ROOT, "recommender/output/externalscaler.proto")
REF = {"name": "checkout", "namespace": "bench", "scalerMetadata": {"metric": "replicas"}}
METRIC = "s0-queuelens-replicas-bench-checkout"


class PushWatcher:
    """A StreamIsActive held open; on every push, GetMetrics at once (as KEDA does) and the time
    of the first answer above `threshold` once it is set."""

    def __init__(self, address):
        self.proc = subprocess.Popen(["node", CLIENT, "--proto", PROTO, "--address", address],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True)
        self.threshold = None
        self.seen = None
        self.next_id = 1
        self.lock = threading.Lock()
        self.send({"id": 0, "stream": "StreamIsActive", "request": REF})
        threading.Thread(target=self.read, daemon=True).start()

    def send(self, cmd):
        with self.lock:
            self.proc.stdin.write(json.dumps(cmd) + "\n")
            self.proc.stdin.flush()

    def read(self):
        for line in self.proc.stdout:
            msg = json.loads(line)
            if msg["id"] == 0 and "data" in msg:
                with self.lock:
                    self.next_id += 1
                    call_id = self.next_id
                self.send({"id": call_id, "call": "GetMetrics",
                           "request": {"scaledObjectRef": REF, "metricName": METRIC}})
            elif msg.get("ok") and self.threshold is not None and self.seen is None:
                value = msg["response"]["metricValues"][0]["metricValueFloat"]
                if value > self.threshold:
                    self.seen = msg["t"] / 1000

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Poller(threading.Thread):
    """The metrics-api scaler: GET the JSON every `interval` s from a random phase."""

    def __init__(self, url, interval):
        super().__init__(daemon=True)
        self.url, self.interval = url, interval
        self.threshold = None
        self.seen = None
        self.running = True

    def run(self):
        next_t = time.monotonic() + random.random() * self.interval
        while self.running and self.seen is None:
            time.sleep(max(0.0, next_t - time.monotonic()))
            next_t += self.interval
            replicas = get_json(self.url).get("replicas")
            if self.threshold is not None and replicas is not None and replicas > self.threshold:
                self.seen = time.time()


def trial(args, config_path):
    exporter = Process([os.path.join(args.bin, "queuelens-exporter"),
                        "--web.listen-address=127.0.0.1:0", "--otlp.listen-address=127.0.0.1:0",
                        "--trace.wait=100ms"],
                       {"web": r"serving /metrics .*\(port (\d+)\)",
                        "otlp": r"receiving OTLP/HTTP .*\(port (\d+)\)"})
    recommender = Process(
        [os.path.join(args.bin, "queuelens-recommender"), "--web.listen-address=127.0.0.1:0",
         "--grpc.listen-address=127.0.0.1:0",
         "--exporter.url=http://127.0.0.1:%d/metrics" % exporter.ports["web"],
         "--config=" + config_path],
        {"web": r"serving /metrics.*\(port (\d+)\)",
         "grpc": r"serving the KEDA external scaler.*\(port (\d+)\)"})
    url = "http://127.0.0.1:%d/api/v1/recommendations/bench/checkout" % recommender.ports["web"]
    load = Load("http://127.0.0.1:%d/v1/traces" % exporter.ports["otlp"])
    load.start()
    pushes = None
    poller = Poller(url, args.poll_interval)
    try:
        time.sleep(WARMUP_S + random.random())
        # Opened once values exist: before the first pass the stream ends UNAVAILABLE (KEDA
        # would reconnect with backoff).
        pushes = PushWatcher("127.0.0.1:%d" % recommender.ports["grpc"])
        before = get_json(url).get("replicas")
        if before is None:
            return None
        pushes.threshold = poller.threshold = before
        poller.start()
        step = time.time()
        load.rps = STEP_RPS
        deadline = time.monotonic() + GIVE_UP_S + args.poll_interval
        while (pushes.seen is None or poller.seen is None) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pushes.seen is None or poller.seen is None:
            return None
        return pushes.seen - step, poller.seen - step
    finally:
        poller.running = False
        load.running = False
        load.join()
        if pushes is not None:
            pushes.stop()
        recommender.stop()
        exporter.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--trials", type=int, default=5)
    p.add_argument("--poll-interval", type=float, default=15)
    p.add_argument("--bin", default=os.path.join(ROOT, "build/bin"))
    args = p.parse_args()
    if not os.path.isdir(os.path.join(ROOT, "tests/e2e/node_modules/@grpc/grpc-js")):
        sys.exit("keda_push_latency: run `npm ci` in tests/e2e first (grpc-js client)")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write("workloads:\n  - namespace: bench\n    workload: checkout\n"
                "    slo_p99: 500ms\n    max_replicas: 100\n")
    try:
        push_all, poll_all = [], []
        for i in range(args.trials):
            r = trial(args, f.name)
            if r is None:
                print("trial %d: no rise seen" % (i + 1))
                continue
            push_all.append(r[0])
            poll_all.append(r[1])
            print("trial %d: external-push %.2f s, metrics-api %g s poll %.2f s after the step"
                  % (i + 1, r[0], args.poll_interval, r[1]))
        if push_all:
            print("load step -> KEDA-visible change, median over %d trials: external-push "
                  "%.2f s | metrics-api (%g s poll) %.2f s"
                  % (len(push_all), statistics.median(push_all), args.poll_interval,
                     statistics.median(poll_all)))
    finally:
        os.unlink(f.name)


if __name__ == "__main__":
    main()
