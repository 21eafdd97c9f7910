#!/usr/bin/env python3
"""Memory of queuelens-recommender around one very large scrape.

Serves an exporter page on loopback to the real binary (--exporter.url, --discover, 1 s passes):
a small page (40 services), then for exactly one scrape a page of --series sample lines, then the
small page again. Reports VmRSS from /proc before the large scrape, the peak (VmHWM) and VmRSS
once the large scrape is --settle seconds behind, for the default limits (the large page is
refused) and, with --accept, for limits raised until it is read.

usage: bench/scrape_memory.py [--series N] [--settle SECONDS] [--bin build/bin] [--accept]
"""
import argparse
import http.server
import os
import subprocess
import sys
import threading
import time


def page(services, operations):
    """Exporter text: per operation a request counter, a duration _sum and three buckets."""
    out = []
    for s in range(services):
        svc = f'namespace="bench",service="service-{s}"'
        for o in range(operations):
            l = f'{svc},operation="GET /api/v1/items/{o}"'
            out.append(f"queuelens_requests_total{{{l}}} {100 + s}\n")
            out.append(f"queuelens_request_duration_seconds_sum{{{l}}} {5 + s}\n")
            for le in ("0.05", "0.25", "+Inf"):
                out.append(f'queuelens_request_duration_seconds_bucket{{{l},le="{le}"}} {100 + s}\n')
        out.append(f"queuelens_queue_length{{{svc}}} 1\n")
    return "".join(out).encode()


class Pages:
    def __init__(self, small, large):
        self.small, self.large = small, large
        self.serve_large = threading.Event()
        self.served_large = threading.Event()
        self.scrapes = 0


def handler(pages):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.small
            if pages.serve_large.is_set() and not pages.served_large.is_set():
                body = pages.large
                pages.served_large.set()
            pages.scrapes += 1
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    return Handler


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = int(value.split()[0]) / 1024  # MiB
    return fields


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("gave up waiting")
        time.sleep(0.05)


def trial(binary, pages, extra_flags, settle):
    pages.serve_large.clear()
    pages.served_large.clear()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler(pages))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    proc = subprocess.Popen(
        [binary, f"--exporter.url={url}", "--discover", "--web.listen-address=127.0.0.1:0",
         # The small page's services: the large page's are not sized, so what stays is the
         # scrape's memory, not that of thousands of discovered workloads.
         "--discover.max-workloads=40", "--log.level=warn", *extra_flags],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log = []
    threading.Thread(target=lambda: log.extend(proc.stderr), daemon=True).start()
    try:
        start = pages.scrapes
        wait_for(lambda: pages.scrapes >= start + 10, 60)  # warm: windows and tables filled
        before = status(proc.pid)
        pages.serve_large.set()
        wait_for(pages.served_large.is_set, 60)
        after_large = pages.scrapes
        wait_for(lambda: pages.scrapes >= after_large + settle, 60 + settle)
        after = status(proc.pid)
        return before["VmRSS"], after["VmHWM"], after["VmRSS"], "".join(log)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        server.shutdown()
        server.server_close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--series", type=int, default=500_000)
    ap.add_argument("--settle", type=int, default=10, help="scrapes after the large one")
    ap.add_argument("--bin", default="build/bin")
    ap.add_argument("--accept", action="store_true",
                    help="also run with limits raised so the large page is read")
    args = ap.parse_args()
    binary = os.path.join(args.bin, "queuelens-recommender")
    per_operation = 5
    operations = 10
    services = max(1, args.series // (operations * per_operation + 1))
    pages = Pages(page(40, operations), page(services, operations))
    lines = pages.large.count(b"\n")
    print(f"large page: {lines} sample lines, {len(pages.large) / 2**20:.1f} MiB")
    runs = [("default limits", [])]
    if args.accept:
        runs.append(("raised limits", ["--exporter.max-series=2000000",
                                       "--exporter.max-bytes=1GiB"]))
    for name, flags in runs:
        before, peak, after, log = trial(binary, pages, flags, args.settle)
        refused = "too_many_series" in log or "larger than" in log
        print(f"{name}: VmRSS before {before:.1f} MiB, peak (VmHWM) {peak:.1f} MiB, "
              f"{args.settle} scrapes after {after:.1f} MiB; large page "
              f"{'refused' if refused else 'read'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
