#!/usr/bin/env python3
"""What one queuelens-exporter takes, for sizing span ingest (README "Sizing span ingest").

Runs the real binary on loopback, one fresh process per measure:
  1. CPU per span over OTLP/HTTP from the real OpenTelemetry JS SDK (bench/otlp_load.mjs:
     BatchSpanProcessor, 512-span batches, protobuf then JSON): spans received over the
     exporter's CPU seconds (utime + stime from /proc), the share of its busiest thread, which
     bounds one process whatever its cores, and the spans and RSS --trace.wait=5s holds;
  2. RSS per buffered span: a hotel-reservation corpus (queuelens-gen-corpus) held in the trace
     buffer by a --trace.wait longer than the measure, VmRSS growth over queuelens_spans_buffered;
  3. RSS per series: single-span traces of --series distinct (service, operation) pairs, analysed,
     VmRSS growth over the operation series they made.
Memory is read right after the spans are in and again after the exporter's 30 s garbage
collection (which trims the allocator).

usage: bench/span_ingest.py [--bin build/bin] [--seconds 20] [--traces 20000] [--series 5000]
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exporter_memory import get, metric, mib, payload, post, rss_bytes  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
GC_S = 35  # the exporter's 30 s garbage collection, and a margin


class Exporter:
    def __init__(self, binary, *flags):
        self.proc = subprocess.Popen(
            [binary, "--web.listen-address=127.0.0.1:0", "--otlp.listen-address=127.0.0.1:0",
             *flags], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ports = {}
        for line in self.proc.stderr:
            for name, pattern in (("web", r"serving /metrics .*\(port (\d+)\)"),
                                  ("otlp", r"receiving OTLP/HTTP .*\(port (\d+)\)")):
                m = re.search(pattern, line)
                if m:
                    ports[name] = int(m.group(1))
            if len(ports) == 2:
                break
        if len(ports) < 2:
            self.stop()
            sys.exit("queuelens-exporter did not start")
        threading.Thread(target=lambda: [None for _ in self.proc.stderr], daemon=True).start()
        self.otlp = "http://127.0.0.1:%d/v1/traces" % ports["otlp"]
        self.metrics_url = "http://127.0.0.1:%d/metrics" % ports["web"]

    def value(self, name):
        v = metric(get(self.metrics_url), name)
        return 0.0 if v == "n/a" else float(v)

    def wait(self, name, predicate, deadline_s=120):
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if predicate(self.value(name)):
                return
            time.sleep(0.2)
        raise SystemExit("%s did not reach its value in %d s" % (name, deadline_s))

    def cpu_s(self):
        """{thread id: CPU seconds} and their total."""
        threads = {}
        for tid in os.listdir("/proc/%d/task" % self.proc.pid):
            try:
                with open("/proc/%d/task/%s/stat" % (self.proc.pid, tid)) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            threads[tid] = (int(fields[11]) + int(fields[12])) / CLK_TCK
        return threads

    def rss(self):
        return rss_bytes(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def throughput(args):
    print("1. CPU per span, OTLP/HTTP from the OpenTelemetry JS SDK, %d s per protocol"
          % args.seconds)
    for protocol in ("proto", "json"):
        ex = Exporter(os.path.join(args.bin, "queuelens-exporter"), "--trace.wait=5s")
        try:
            received = 'queuelens_spans_received_total{source="otlp"}'
            before_cpu = ex.cpu_s()
            base_rss = ex.rss()
            peak = {"buffered": 0.0, "rss": 0}
            loading = threading.Event()

            def sample():
                while not loading.is_set():
                    peak["buffered"] = max(peak["buffered"], ex.value("queuelens_spans_buffered"))
                    peak["rss"] = max(peak["rss"], ex.rss())
                    loading.wait(0.5)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            started = time.monotonic()
            r = subprocess.run(["node", os.path.join(ROOT, "bench", "otlp_load.mjs"),
                                "--url", ex.otlp, "--protocol", protocol,
                                "--seconds", str(args.seconds)],
                               capture_output=True, text=True, timeout=args.seconds + 120)
            if r.returncode != 0:
                raise SystemExit("otlp_load.mjs: " + r.stderr)
            wall = time.monotonic() - started
            loading.set()
            sampler.join()
            spans = ex.value(received)
            # The traces of the last seconds analysed too: their cost belongs to the spans.
            ex.wait("queuelens_traces_buffered", lambda v: v == 0)
            after_cpu = ex.cpu_s()
            used = {t: after_cpu[t] - before_cpu.get(t, 0) for t in after_cpu}
            total = sum(used.values())
            busiest = max(used.values())
            dropped = ex.value('queuelens_spans_dropped_total{reason="queue_full",source="otlp"}')
            print("  %-5s %s; %.0f spans received (%.0f spans/s over %.1f s), exporter CPU %.2f s"
                  " (%.0f %% of a core)" % (protocol, r.stdout.strip(), spans, spans / wall, wall,
                                            total, 100 * total / wall))
            print("        %.0f spans per CPU second; busiest thread %.2f s = %.0f spans per its"
                  " CPU second; spans refused as queue_full: %.0f"
                  % (spans / total, busiest, spans / busiest, dropped))
            print("        with --trace.wait=5s: at most %.0f spans buffered (%.1f s of the "
                  "rate), peak RSS %s (+%s over idle)"
                  % (peak["buffered"], peak["buffered"] / (spans / wall), mib(peak["rss"]),
                     mib(peak["rss"] - base_rss)))
        finally:
            ex.stop()


def corpus_payloads(args, directory):
    """The generated corpus as OTLP JSON bodies of about 5000 spans, and its span count."""
    path = os.path.join(directory, "corpus.json")
    subprocess.run([os.path.join(args.bin, "queuelens-gen-corpus"), "--format", "otlp-json",
                    "--traces", str(args.traces), "--seed", "3",
                    "--start-ns", str(time.time_ns() - 10**9), "--out", path],
                   check=True, capture_output=True, timeout=300)
    with open(path) as f:
        doc = json.load(f)
    bodies, total = [], 0
    for rs in doc["resourceSpans"]:
        spans = [s for ss in rs["scopeSpans"] for s in ss["spans"]]
        total += len(spans)
        for i in range(0, len(spans), 5000):
            bodies.append(json.dumps({"resourceSpans": [{
                "resource": rs["resource"],
                "scopeSpans": [{"spans": spans[i:i + 5000]}]}]}).encode())
    return bodies, total


def buffered_span_memory(args):
    print("2. RSS per buffered span (%d hotel-reservation traces held by --trace.wait=10m)"
          % args.traces)
    with tempfile.TemporaryDirectory() as d:
        bodies, total = corpus_payloads(args, d)
        ex = Exporter(os.path.join(args.bin, "queuelens-exporter"), "--trace.wait=10m")
        try:
            time.sleep(1)
            base = ex.rss()
            for body in bodies:
                post(ex.otlp, body)
            ex.wait("queuelens_spans_buffered", lambda v: v == total)
            now = ex.rss()
            time.sleep(GC_S)
            later = ex.rss()
            print("  %d spans buffered: RSS %s -> %s (+%s, %.0f B/span); after GC %s (%.0f B/span)"
                  % (total, mib(base), mib(now), mib(now - base), (now - base) / total,
                     mib(later), (later - base) / total))
        finally:
            ex.stop()


def series_memory(args):
    services = 50
    per_service = args.series // services
    print("3. RSS per operation series (%d services x %d operations, single-span traces)"
          % (services, per_service))
    ex = Exporter(os.path.join(args.bin, "queuelens-exporter"), "--trace.wait=1s")
    try:
        next_id = [1]

        def send(operations):
            now = time.time_ns()
            for s in range(services):
                spans = []
                for o in operations:
                    spans.append((next_id[0], "op-%d" % o, now - 20_000_000, now))
                    next_id[0] += 1
                post(ex.otlp, payload("svc-%d" % s, spans))

        # Every service and the families' first series exist before the baseline.
        send(range(1))
        ex.wait("queuelens_traces_buffered", lambda v: v == 0)
        time.sleep(GC_S)
        base = ex.rss()
        send(range(1, per_service + 1))
        ex.wait("queuelens_traces_buffered", lambda v: v == 0)
        series = ex.value('queuelens_series{family="operation"}')
        now = ex.rss()
        time.sleep(GC_S)
        later = ex.rss()
        added = series - services
        text = get(ex.metrics_url)
        print("  %.0f operation series added: RSS %s -> %s (+%s, %.0f B/series); after GC %s "
              "(%.0f B/series); /metrics %d bytes (%.0f B/series)"
              % (added, mib(base), mib(now), mib(now - base), (now - base) / added, mib(later),
                 (later - base) / added, len(text), len(text) / series))
    finally:
        ex.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"))
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--traces", type=int, default=20000)
    ap.add_argument("--series", type=int, default=5000)
    ap.add_argument("--only", choices=("cpu", "buffer", "series"))
    args = ap.parse_args()
    if args.only in (None, "cpu"):
        throughput(args)
    if args.only in (None, "buffer"):
        buffered_span_memory(args)
    if args.only in (None, "series"):
        series_memory(args)


if __name__ == "__main__":
    main()
