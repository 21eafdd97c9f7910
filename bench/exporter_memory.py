#!/usr/bin/env python3
"""Resident memory of queuelens-exporter under hostile span streams (README: "Memory bounds").

Starts the real binary on loopback with a steady OTLP/HTTP load of ten services, then sends
  1. a churn of unique operation names (1,000,000 by default), each in its own trace, as fast as
     the exporter takes them;
  2. hostile labels: a 50 MB service.name (gzip makes it ~50 KB on the wire), names full of NUL
     and other control characters, and spans from 1976 until now;
and reads VmRSS from /proc/<pid>/status before, at its peak during, after the churn (traces
analysed, the --series.max cap full of churned names) and once the churned series have idled out
(--series.idle-timeout plus the 30 s garbage-collection interval). It also reports the size of
/metrics and the exporter's own gauges for the label memory it holds.

usage: bench/exporter_memory.py [--names N] [--batch N] [--idle-timeout DURATION] [--bin build/bin]
"""
import argparse
import gzip
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

SERVICES = 10
STEADY_RPS = 200  # spans/s of the steady load, over all services


def post(url, body):
    req = urllib.request.Request(url, data=gzip.compress(body, 1), method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Content-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()


def get(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return r.read().decode("utf-8")


def payload(service, spans, pod=None):
    """OTLP JSON for one resource; spans: (trace id, name, start ns, end ns)."""
    span_json = ",".join(
        '{"traceId":"%032x","spanId":"%016x","name":"%s","kind":2,'
        '"startTimeUnixNano":"%d","endTimeUnixNano":"%d"}' % (t, t, name, start, end)
        for t, name, start, end in spans)
    return ('{"resourceSpans":[{"resource":{"attributes":['
            '{"key":"service.name","value":{"stringValue":"%s"}},'
            '{"key":"k8s.namespace.name","value":{"stringValue":"bench"}},'
            '{"key":"k8s.pod.name","value":{"stringValue":"%s-0"}}]},'
            '"scopeSpans":[{"spans":[%s]}]}]}' % (service, pod or service, span_json)).encode()


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def metric(text, name):
    """The sample's value as printed; "n/a" when the exporter does not serve it."""
    m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), text, re.M)
    return m.group(1) if m else "n/a"


class Ids:
    def __init__(self):
        self.lock = threading.Lock()
        self.next = 1

    def take(self, n):
        with self.lock:
            first = self.next
            self.next += n
        return range(first, first + n)


class Steady(threading.Thread):
    """Ten services with four operations each, STEADY_RPS spans/s of 20 ms."""

    def __init__(self, url, ids):
        super().__init__(daemon=True)
        self.url, self.ids, self.running, self.failures = url, ids, True, 0

    def run(self):
        tick = 0.1
        per_service = max(1, int(STEADY_RPS * tick / SERVICES))
        while self.running:
            now = time.time_ns()
            for s in range(SERVICES):
                spans = [(t, "op-%d" % (t % 4), now - 20_000_000, now)
                         for t in self.ids.take(per_service)]
                try:
                    post(self.url, payload("svc-%d" % s, spans))
                except OSError:  # an exporter struggling with the churn; keep the load going
                    self.failures += 1
            time.sleep(tick)


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.05)


def mib(n):
    return "%.1f MiB" % (n / (1 << 20))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=5_000, help="spans per churn request")
    ap.add_argument("--idle-timeout", default="30s")
    ap.add_argument("--bin", default="build/bin")
    args = ap.parse_args()

    proc = subprocess.Popen(
        [os.path.join(args.bin, "queuelens-exporter"), "--web.listen-address=127.0.0.1:0",
         "--otlp.listen-address=127.0.0.1:0", "--trace.wait=1s",
         "--series.idle-timeout=" + args.idle_timeout],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ports = {}
    for line in proc.stderr:
        for name, pattern in (("web", r"serving /metrics .*\(port (\d+)\)"),
                              ("otlp", r"receiving OTLP/HTTP .*\(port (\d+)\)")):
            m = re.search(pattern, line)
            if m:
                ports[name] = int(m.group(1))
        if len(ports) == 2:
            break
    if len(ports) < 2:
        sys.exit("queuelens-exporter did not start")
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    otlp = "http://127.0.0.1:%d/v1/traces" % ports["otlp"]
    metrics_url = "http://127.0.0.1:%d/metrics" % ports["web"]

    try:
        ids = Ids()
        steady = Steady(otlp, ids)
        steady.start()
        time.sleep(10)
        baseline = rss_bytes(proc.pid)
        print("baseline (steady load, %d services): RSS %s" % (SERVICES, mib(baseline)))

        sampler = Sampler(proc.pid)
        sampler.start()
        started = time.monotonic()
        sent = 0
        while sent < args.names:
            n = min(args.batch, args.names - sent)
            now = time.time_ns()
            spans = [(t, "churn-%d" % t, now - 5_000_000, now) for t in ids.take(n)]
            post(otlp, payload("churn", spans))
            sent += n
        churn_s = time.monotonic() - started

        huge = "x" * (50 << 20)
        now = time.time_ns()
        for _ in range(3):
            post(otlp, payload(huge, [(t, "GET /", now - 1_000_000, now) for t in ids.take(10)],
                               pod="huge"))
        post(otlp, payload("nul\\u0000svc", [(t, "op\\u0000\\u001b[2J", now - 1_000_000, now)
                                             for t in ids.take(10)]))
        post(otlp, payload("svc-0", [(t, "op-0", 200_000_000 * 10**9, now)
                                     for t in ids.take(10)]))
        time.sleep(3)  # --trace.wait and the state thread
        sampler.running = False
        after = rss_bytes(proc.pid)
        text = get(metrics_url)
        print("churn: %d unique operation names in %.1f s (%.0f spans/s), then 3 x 50 MB "
              "service names, control characters and 1976 spans"
              % (args.names, churn_s, args.names / churn_s))
        print("  peak RSS during churn: %s (+%s)" % (mib(sampler.peak),
                                                    mib(sampler.peak - baseline)))
        print("  after churn: RSS %s (+%s); /metrics %d bytes; interned labels %s (%s bytes); "
              "operation series %s" % (mib(after), mib(after - baseline), len(text),
                                       metric(text, "queuelens_interned_label_values"),
                                       metric(text, "queuelens_interned_label_bytes"),
                                       metric(text, 'queuelens_series{family="operation"}')))
        print("  spans dropped: duration_too_long %s; labels truncated %d, control characters "
              "replaced %d" % (
                  metric(text, 'queuelens_spans_dropped_total{reason="duration_too_long",'
                               'source="otlp"}'),
                  sum(float(v) for v in re.findall(
                      r'^queuelens_span_labels_sanitized_total\{[^}]*reason="truncated"[^}]*\} '
                      r'(\S+)$', text, re.M)),
                  sum(float(v) for v in re.findall(
                      r'^queuelens_span_labels_sanitized_total\{[^}]*reason="control_character"'
                      r'[^}]*\} (\S+)$', text, re.M))))

        # The churned series idle out; the steady load keeps its own alive.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            time.sleep(5)
            text = get(metrics_url)
            if float(metric(text, 'queuelens_series{family="operation"}')) <= SERVICES * 4 + 1:
                break
        expired = rss_bytes(proc.pid)
        print("after the churned series expired: RSS %s (+%s); /metrics %d bytes; interned "
              "labels %s (%s bytes); operation series %s"
              % (mib(expired), mib(expired - baseline), len(text),
                 metric(text, "queuelens_interned_label_values"),
                 metric(text, "queuelens_interned_label_bytes"),
                 metric(text, 'queuelens_series{family="operation"}')))
        if steady.failures:
            print("steady load: %d requests failed" % steady.failures)
        steady.running = False
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
