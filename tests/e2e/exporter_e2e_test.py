#!/usr/bin/env python3
"""End-to-end test of queuelens-exporter: the real binary on loopback, fed by the real
OpenTelemetry JS exporters (OTLP JSON and protobuf) and a Jaeger v1 replay file, scraped over
HTTP, counts checked exactly, and the exposition checked by promtool.

usage: exporter_e2e_test.py EXPORTER_BINARY REPO_ROOT
"""
import gzip
import json
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
import urllib.error
import urllib.request

EXPORTER = sys.argv[1] if len(sys.argv) > 1 else "build/bin/queuelens-exporter"
ROOT = sys.argv[2] if len(sys.argv) > 2 else "."
REPLAY = os.path.join(ROOT, "tests/fixtures/replay/jaeger_v1_three_traces.json")
SENDER = os.path.join(ROOT, "tests/e2e/otlp_send.mjs")
DEADLINE_S = 20


def http(method, url, body=None, headers=None, timeout=5):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def parse_metrics(text):
    """{(name, frozenset(labels)): value} from Prometheus text format."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            raise AssertionError("unparsable exposition line: " + line)
        labels = frozenset(label_re.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(metrics, name, **labels):
    want = set(labels.items())
    matches = [v for (n, l), v in metrics.items() if n == name and want <= set(l)]
    if not matches:
        return None
    return sum(matches)


class ExporterProcess:
    def __init__(self, *flags):
        self.stderr_lines = []
        self.ports = {}
        self.proc = subprocess.Popen(
            [EXPORTER, "--web.listen-address=127.0.0.1:0", "--otlp.listen-address=127.0.0.1:0",
             "--trace.wait=200ms", *flags],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        ready = threading.Event()

        def read():
            for line in self.proc.stderr:
                self.stderr_lines.append(line)
                m = re.search(r"serving /metrics .*\(port (\d+)\)", line)
                if m:
                    self.ports["web"] = int(m.group(1))
                m = re.search(r"receiving OTLP/HTTP .*\(port (\d+)\)", line)
                if m:
                    self.ports["otlp"] = int(m.group(1))
                if len(self.ports) == 2:
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=read, daemon=True)
        self.reader.start()
        if not ready.wait(DEADLINE_S) or len(self.ports) != 2:
            self.stop()
            raise AssertionError("exporter did not start:\n" + "".join(self.stderr_lines))
        self.web = "http://127.0.0.1:%d" % self.ports["web"]
        self.otlp = "http://127.0.0.1:%d/v1/traces" % self.ports["otlp"]

    def metrics(self):
        status, _, body = http("GET", self.web + "/metrics")
        assert status == 200, status
        return body.decode()

    def wait_for(self, predicate):
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            m = parse_metrics(self.metrics())
            if predicate(m):
                return m
            time.sleep(0.1)
        raise AssertionError("condition not met in time; last /metrics:\n" + self.metrics())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        # The reader ends at the pipe's end of file; closing the pipe under it raises there.
        self.reader.join(DEADLINE_S)
        self.proc.stderr.close()
        return self.proc.returncode


class ExporterEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.exporter = ExporterProcess("--replay.file=" + REPLAY, "--otlp.max-body-bytes=1MiB")

    @classmethod
    def tearDownClass(cls):
        rc = cls.exporter.stop()
        if rc != 0:
            raise AssertionError("exporter exited with %s:\n%s" % (rc, "".join(cls.exporter.stderr_lines)))

    def send(self, protocol, traces):
        r = subprocess.run(["node", SENDER, "--url", self.exporter.otlp, "--protocol", protocol,
                            "--traces", str(traces)], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_1_replay_counts_exactly(self):
        m = self.exporter.wait_for(
            lambda m: value(m, "queuelens_requests_total", service="cart") == 3)
        self.assertEqual(value(m, "queuelens_requests_total", namespace="shop", service="gateway",
                               operation="GET /cart"), 3)
        self.assertEqual(value(m, "queuelens_request_errors_total", service="cart"), 1)
        self.assertEqual(value(m, "queuelens_calls_total", client="gateway", server="cart"), 3)
        self.assertEqual(value(m, "queuelens_instance_requests_total", service="cart",
                               instance="cart-0"), 2)
        self.assertEqual(value(m, "queuelens_instance_requests_total", service="gateway",
                               instance="gateway-7f9c"), 3)
        # gateway: 20 ms minus cart's 12 ms; cart keeps its own redis client time.
        self.assertAlmostEqual(value(m, "queuelens_exclusive_duration_seconds_sum",
                                     service="gateway"), 3 * 0.008, places=9)
        self.assertAlmostEqual(value(m, "queuelens_exclusive_duration_seconds_sum",
                                     service="cart"), 3 * 0.012, places=9)
        self.assertEqual(value(m, "queuelens_exclusive_duration_seconds_bucket", service="cart",
                               le="0.01"), 0)
        self.assertEqual(value(m, "queuelens_exclusive_duration_seconds_bucket", service="cart",
                               le="0.025"), 3)
        self.assertEqual(value(m, "queuelens_spans_received_total", source="replay"), 12)

    def test_2_otlp_json_and_protobuf_from_real_sdk(self):
        self.send("json", 5)
        self.send("proto", 7)
        m = self.exporter.wait_for(
            lambda m: value(m, "queuelens_requests_total", service="search") == 12)
        self.assertEqual(value(m, "queuelens_requests_total", namespace="hotel",
                               service="frontend", operation="GET /hotels"), 12)
        self.assertEqual(value(m, "queuelens_calls_total", client="frontend", server="search"), 12)
        self.assertEqual(value(m, "queuelens_spans_received_total", source="otlp"), 36)
        self.assertAlmostEqual(value(m, "queuelens_exclusive_duration_seconds_sum",
                                     service="frontend"), 12 * 0.060, places=9)
        self.assertAlmostEqual(value(m, "queuelens_request_duration_seconds_sum",
                                     service="search"), 12 * 0.040, places=9)

    def test_3_bad_requests_get_clear_errors_and_lose_nothing(self):
        before = parse_metrics(self.exporter.metrics())
        url = self.exporter.otlp
        status, _, body = http("POST", url, b"{not json", {"Content-Type": "application/json"})
        self.assertEqual(status, 400)
        self.assertIn("message", json.loads(body))
        status, _, _ = http("POST", url, b"\x0a\xff\xff\xff", {"Content-Type": "application/x-protobuf"})
        self.assertEqual(status, 400)
        status, _, _ = http("POST", url, b"hello", {"Content-Type": "text/plain"})
        self.assertEqual(status, 415)
        status, _, _ = http("POST", url, b"x" * (2 << 20), {"Content-Type": "application/json"})
        self.assertEqual(status, 413)
        status, _, _ = http("POST", url, b"\x1f\x8b garbage",
                            {"Content-Type": "application/json", "Content-Encoding": "gzip"})
        self.assertEqual(status, 400)
        bomb = gzip.compress(b" " * (80 << 20))  # 80 MiB of spaces in ~80 KiB
        # Inflating up to the 64 MiB limit takes seconds in the sanitizer builds.
        status, _, _ = http("POST", url, bomb,
                            {"Content-Type": "application/json", "Content-Encoding": "gzip"},
                            timeout=DEADLINE_S)
        self.assertEqual(status, 413)
        status, _, _ = http("GET", url)
        self.assertEqual(status, 405)
        # A gzip-encoded valid request is accepted; one span with no trace id is reported as a
        # partial success.
        # Spans starting more than --span.max-age before they arrive are dropped: send recent ones.
        now = time.time_ns()
        payload = {"resourceSpans": [{"resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "gz"}}]},
            "scopeSpans": [{"spans": [
                {"traceId": "0af7651916cd43dd8448eb211c80319c", "spanId": "b7ad6b7169203331",
                 "name": "op", "kind": 2, "startTimeUnixNano": str(now - 5_000_000),
                 "endTimeUnixNano": str(now)},
                {"spanId": "b7ad6b7169203332", "name": "broken", "kind": 2}]}]}]}
        status, headers, body = http("POST", url, gzip.compress(json.dumps(payload).encode()),
                                     {"Content-Type": "application/json", "Content-Encoding": "gzip"})
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("application/json"))
        self.assertEqual(json.loads(body)["partialSuccess"]["rejectedSpans"], "1")
        m = self.exporter.wait_for(lambda m: value(m, "queuelens_requests_total", service="gz") == 1)
        # Everything accepted before the bad requests is still there.
        for key in [("queuelens_requests_total", "cart"), ("queuelens_requests_total", "frontend")]:
            self.assertEqual(value(m, key[0], service=key[1]), value(before, key[0], service=key[1]))
        self.assertEqual(value(m, "queuelens_source_failures_total", source="otlp",
                               reason="malformed"), 3)
        self.assertEqual(value(m, "queuelens_spans_dropped_total", source="otlp",
                               reason="invalid_span"), 1)

    def test_4_exposition_passes_promtool(self):
        promtool = shutil.which("promtool")
        if not promtool:
            self.skipTest("promtool not installed")
        r = subprocess.run([promtool, "check", "metrics"], input=self.exporter.metrics(),
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_5_status_page_json_and_health(self):
        status, headers, body = http("GET", self.exporter.web + "/")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["Content-Type"])
        page = body.decode()
        self.assertIn("shop/cart", page)
        self.assertIn("hotel/frontend", page)
        status, _, body = http("GET", self.exporter.web + "/api/v1/services")
        self.assertEqual(status, 200)
        services = {s["service"]: s for s in json.loads(body)["services"]}
        self.assertEqual(services["cart"]["requests"], 3)
        self.assertEqual({i["instance"] for i in services["cart"]["instances"]}, {"cart-0", "cart-1"})
        status, _, body = http("GET", self.exporter.web + "/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        status, _, _ = http("GET", self.exporter.web + "/nope")
        self.assertEqual(status, 404)


class ExporterHostileSpans(unittest.TestCase):
    def test_one_span_cannot_blow_up_the_exposition_or_the_gauges(self):
        p = ExporterProcess("--span.max-label-bytes=64")
        try:
            now = time.time_ns()
            spans = [{"traceId": "%032x" % (i + 1), "spanId": "%016x" % (i + 1), "name": name,
                      "kind": 2, "startTimeUnixNano": str(start), "endTimeUnixNano": str(now)}
                     for i, (name, start) in enumerate([
                         ("ok\u0000op", now - 5_000_000),  # NUL in the name
                         ("since-1976", 200_000_000 * 10**9),
                         ("backwards", now + 1_000_000)])]
            payload = {"resourceSpans": [{"resource": {"attributes": [
                {"key": "service.name", "value": {"stringValue": "h" * (4 << 20)}}]},
                "scopeSpans": [{"spans": spans}]}]}
            body = gzip.compress(json.dumps(payload).encode())
            status, _, answer = http("POST", p.otlp, body, {"Content-Type": "application/json",
                                                            "Content-Encoding": "gzip"})
            self.assertEqual(status, 200)
            self.assertEqual(json.loads(answer)["partialSuccess"]["rejectedSpans"], "2")
            m = p.wait_for(lambda m: value(m, "queuelens_requests_total", service="h" * 64) == 1)
            text = p.metrics()
            self.assertLess(len(text), 256 << 10)
            self.assertNotIn("\0", text)
            self.assertIn('operation="ok\ufffdop"', text)
            self.assertEqual(value(m, "queuelens_spans_dropped_total", source="otlp",
                                   reason="duration_too_long"), 1)
            self.assertEqual(value(m, "queuelens_spans_dropped_total", source="otlp",
                                   reason="end_before_start"), 1)
            self.assertEqual(value(m, "queuelens_span_labels_sanitized_total", source="otlp",
                                   label="service", reason="truncated"), 1)
            self.assertLess(value(m, "queuelens_inflight_requests", service="h" * 64), 1)
        finally:
            self.assertEqual(p.stop(), 0)


class ExporterStartup(unittest.TestCase):
    def test_bad_flags_are_refused_with_every_problem(self):
        r = subprocess.run([EXPORTER, "--series.max=0", "--jaeger.api=v2", "--window.length=0s"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--series.max", r.stderr)
        self.assertIn("--jaeger.api", r.stderr)
        self.assertIn("--window.length", r.stderr)

    def test_unreachable_jaeger_does_not_stop_the_exporter(self):
        # Port 9 on loopback: nothing listens, so every poll is refused at once.
        p = ExporterProcess("--jaeger.url=http://127.0.0.1:9", "--jaeger.interval=100ms",
                            "--jaeger.timeout=1s")
        try:
            m = p.wait_for(lambda m: value(m, "queuelens_source_up", source="jaeger") == 0)
            self.assertGreaterEqual(value(m, "queuelens_source_failures_total", source="jaeger"), 1)
        finally:
            self.assertEqual(p.stop(), 0)

    def test_missing_replay_file_is_reported_and_the_exporter_keeps_serving(self):
        with tempfile.TemporaryDirectory() as d:
            p = ExporterProcess("--replay.file=" + os.path.join(d, "absent.json"))
            try:
                m = p.wait_for(lambda m: value(m, "queuelens_source_failures_total",
                                               source="replay") == 1)
                self.assertIsNotNone(value(m, "queuelens_build_info"))
            finally:
                self.assertEqual(p.stop(), 0)


if __name__ == "__main__":
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed, %d skipped" % (result.testsRun - failed - len(result.skipped),
                                               failed, len(result.skipped)))
    sys.exit(1 if failed else 0)
