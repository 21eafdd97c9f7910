#!/usr/bin/env python3
"""make demo: runs queuelens-exporter on loopback and feeds it a hotel-reservation-like trace
corpus over OTLP/HTTP (protobuf) at a load that rises and falls, printing a live table of what the
exporter derives. Ctrl-C stops everything it started.

Environment: DEMO_SECONDS=N stops after N seconds (default: run until Ctrl-C).
"""
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "build", "bin")
BATCHES = 40           # distinct corpus files, cycled
TRACES_PER_BATCH = 50  # ≈ 250 spans per POST


def free_port(preferred):
    for port in (preferred, 0):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return s.getsockname()[1]
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port")


def post(url, body):
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/x-protobuf"})
    with urllib.request.urlopen(req, timeout=5) as r:
        return r.status


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def fmt_ms(v):
    return "%8.2f" % (v * 1e3) if v is not None else "       –"


def main():
    web_port = free_port(8470)
    otlp_port = free_port(4318)
    tmp = tempfile.mkdtemp(prefix="queuelens-demo-")
    print("generating %d corpus batches of %d traces in %s ..." % (BATCHES, TRACES_PER_BATCH, tmp))
    files = []
    for i in range(BATCHES):
        path = os.path.join(tmp, "batch-%02d.pb" % i)
        subprocess.run([os.path.join(BIN, "queuelens-gen-corpus"), "--format", "otlp-proto",
                        "--traces", str(TRACES_PER_BATCH), "--seed", str(1000 + i), "--out", path],
                       check=True)
        with open(path, "rb") as f:
            files.append(f.read())

    exporter = subprocess.Popen(
        [os.path.join(BIN, "queuelens-exporter"),
         "--web.listen-address=127.0.0.1:%d" % web_port,
         "--otlp.listen-address=127.0.0.1:%d" % otlp_port,
         "--trace.wait=1s", "--window.length=20s", "--log.level=warn"])
    web = "http://127.0.0.1:%d" % web_port
    otlp = "http://127.0.0.1:%d/v1/traces" % otlp_port
    stop = {"now": False}
    signal.signal(signal.SIGINT, lambda *_: stop.update(now=True))
    signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(web + "/healthz", timeout=1)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.1)
        print()
        print("queuelens-exporter is running:")
        print("  status page   %s/" % web)
        print("  metrics       %s/metrics" % web)
        print("  JSON          %s/api/v1/services" % web)
        print("  OTLP/HTTP in  %s" % otlp)
        print("Sending hotel-reservation traces; load follows a 60 s wave. Ctrl-C stops.\n")
        limit = float(os.environ.get("DEMO_SECONDS", "0"))
        start = time.monotonic()
        sent = 0
        next_table = start + 3
        while not stop["now"] and (limit <= 0 or time.monotonic() - start < limit):
            t = time.monotonic() - start
            # 1 to 7 batches per 250 ms tick: ~200 to ~1400 traces/s.
            n = 1 + int(3 * (1 + math.sin(2 * math.pi * t / 60)))
            for _ in range(n):
                post(otlp, files[sent % len(files)])
                sent += 1
            if time.monotonic() >= next_table:
                next_table += 3
                services = get_json(web + "/api/v1/services")["services"]
                print("t=%4.0fs  load %4d traces/s" % (t, n * TRACES_PER_BATCH * 4))
                print("  %-16s %9s %9s %9s %9s %9s" % ("service", "req/s", "inflight", "queue",
                                                      "p99 ms", "excl p99"))
                for s in services:
                    print("  %-16s %9.1f %9.3f %9.3f %s %s" % (
                        s["service"], s["arrivalRate"] or 0, s["inflight"] or 0,
                        s["queueLength"] or 0, " " + fmt_ms(s["durationSeconds"]["p99"]),
                        " " + fmt_ms(s["exclusiveSeconds"]["p99"])))
                print(flush=True)
            time.sleep(0.25)
    finally:
        exporter.send_signal(signal.SIGTERM)
        exporter.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
        print("stopped queuelens-exporter (exit %d)" % exporter.returncode)


if __name__ == "__main__":
    sys.exit(main())
