#!/usr/bin/env python3
"""End-to-end test of queuelens-recommender: the real exporter and recommender binaries on
loopback (ports picked at run time), the recommender scraping the exporter directly, load posted
with the real OpenTelemetry JS exporter, and the outputs checked: KEDA metrics-api JSON, /metrics
(linted by promtool), the status page, the checkpoint across a restart, and the failure modes
(bad config, unreachable exporter, an exporter sending bad values or too many series).

usage: recommender_e2e_test.py RECOMMENDER_BINARY EXPORTER_BINARY REPO_ROOT
"""
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

import e2e_support
from e2e_support import LoggedProcess, serve_page

RECOMMENDER = sys.argv[1] if len(sys.argv) > 1 else "build/bin/queuelens-recommender"
EXPORTER = sys.argv[2] if len(sys.argv) > 2 else "build/bin/queuelens-exporter"
ROOT = sys.argv[3] if len(sys.argv) > 3 else "."
SENDER = os.path.join(ROOT, "tests/e2e/otlp_send.mjs")
DEADLINE_S = 30
wait_for = functools.partial(e2e_support.wait_for, deadline_s=DEADLINE_S, interval_s=0.1)
KEDA_KEYS = {"namespace", "workload", "replicas", "cpuCores", "policy", "reason", "computedAt",
             "stale", "lastChange"}


def http(method, url, body=None, headers=None, timeout=5):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def Process(argv, wanted):
    return LoggedProcess(argv, wanted, DEADLINE_S)


def start_exporter():
    p = Process([EXPORTER, "--web.listen-address=127.0.0.1:0", "--otlp.listen-address=127.0.0.1:0",
                 "--trace.wait=200ms"],
                {"web": r"serving /metrics .*\(port (\d+)\)",
                 "otlp": r"receiving OTLP/HTTP .*\(port (\d+)\)"})
    p.metrics_url = "http://127.0.0.1:%d/metrics" % p.ports["web"]
    p.otlp_url = "http://127.0.0.1:%d/v1/traces" % p.ports["otlp"]
    return p


def start_recommender(*flags):
    p = Process([RECOMMENDER, "--web.listen-address=127.0.0.1:0", *flags],
                {"web": r"serving /metrics.*\(port (\d+)\)"})
    p.url = "http://127.0.0.1:%d" % p.ports["web"]
    return p


def get_json(url):
    status, _, body = http("GET", url)
    return status, json.loads(body)


def send_load(otlp_url, traces):
    r = subprocess.run(["node", SENDER, "--url", otlp_url, "--protocol", "json", "--traces",
                        str(traces)], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("load sender failed: " + r.stdout + r.stderr)


class RecommenderEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="recommender_e2e_")
        cls.checkpoint = os.path.join(cls.dir, "state.json")
        cls.config = os.path.join(cls.dir, "workloads.yaml")
        with open(cls.config, "w") as f:
            f.write("workloads:\n"
                    "  - namespace: hotel\n"
                    "    workload: frontend\n"
                    "    slo_p99: 200ms\n"
                    "    max_replicas: 20\n")
        cls.exporter = start_exporter()
        cls.recommender = start_recommender(
            "--exporter.url=" + cls.exporter.metrics_url, "--config=" + cls.config, "--discover",
            "--checkpoint.file=" + cls.checkpoint, "--checkpoint.interval=0s")

    @classmethod
    def tearDownClass(cls):
        errors = []
        for p in (cls.recommender, cls.exporter):
            rc = p.stop()
            if rc != 0:
                errors.append("%s exited with %s:\n%s" % (p.proc.args[0], rc, p.log()))
        shutil.rmtree(cls.dir, ignore_errors=True)
        if errors:
            raise AssertionError("\n".join(errors))

    def test_1_load_produces_a_recommendation_in_the_keda_shape(self):
        send_load(self.exporter.otlp_url, 40)
        url = self.recommender.url + "/api/v1/recommendations/hotel/frontend"
        status, body = wait_for(lambda: get_json(url),
                                lambda r: r[0] == 200 and r[1]["replicas"] is not None,
                                "a recommendation for hotel/frontend")
        self.assertEqual(set(body), KEDA_KEYS)
        self.assertEqual((body["namespace"], body["workload"]), ("hotel", "frontend"))
        self.assertIsInstance(body["replicas"], int)
        self.assertGreaterEqual(body["replicas"], 1)
        self.assertLessEqual(body["replicas"], 20)
        self.assertEqual(body["policy"], "queue_sizing")
        self.assertIsInstance(body["stale"], bool)
        self.assertRegex(body["computedAt"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        self.assertIn("queue_sizing", body["reason"])
        # search was not configured: --discover made it a workload of its own.
        status, body = wait_for(
            lambda: get_json(self.recommender.url + "/api/v1/recommendations/hotel/search"),
            lambda r: r[0] in (200, 503), "discovered hotel/search")
        self.assertEqual(set(body), KEDA_KEYS)

    def test_2_listing_unknown_workloads_and_targets(self):
        status, body = get_json(self.recommender.url + "/api/v1/recommendations")
        self.assertEqual(status, 200)
        names = {(r["namespace"], r["workload"]) for r in body["recommendations"]}
        self.assertIn(("hotel", "frontend"), names)
        status, body = get_json(self.recommender.url + "/api/v1/recommendations/hotel/nope")
        self.assertEqual(status, 404)
        self.assertIn("unknown workload hotel/nope", body["error"])
        status, body = get_json(self.recommender.url + "/api/v1/targets")
        self.assertEqual(status, 200)
        self.assertIn("high_cpu", body["groups"])
        self.assertTrue(any(t["workload"] == "frontend" for t in body["targets"]))

    def test_3_metrics_pass_promtool_and_carry_the_recommendation(self):
        status, headers, body = http("GET", self.recommender.url + "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain"))
        text = body.decode()
        self.assertRegex(text, r'queuelens_recommended_replicas\{namespace="hotel",'
                               r'workload="frontend"\} \d+')
        self.assertIn('queuelens_policy_proposal_replicas{namespace="hotel",workload="frontend",'
                      'policy="queue_sizing"}', text)
        self.assertIn('queuelens_recommender_loop_step_seconds_count{step="feed"}', text)
        promtool = shutil.which("promtool")
        if promtool:
            r = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                               text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_4_status_page_and_health(self):
        status, headers, body = http("GET", self.recommender.url + "/")
        self.assertEqual(status, 200)
        self.assertIn("text/html", headers["Content-Type"])
        self.assertIn("hotel/frontend", body.decode())
        self.assertEqual(http("GET", self.recommender.url + "/healthz")[2], b"ok\n")

    def test_5_a_restart_restores_the_checkpoint(self):
        cls = type(self)
        self.assertEqual(cls.recommender.stop(), 0)
        with open(cls.checkpoint) as f:
            state = json.load(f)
        self.assertEqual(state["format"], "queuelens-recommender-checkpoint")
        self.assertIn("frontend", {w["workload"] for w in state["workloads"]})
        cls.recommender = start_recommender(
            "--exporter.url=" + cls.exporter.metrics_url, "--config=" + cls.config, "--discover",
            "--checkpoint.file=" + cls.checkpoint)
        self.assertRegex(cls.recommender.log(), r"restored \d+ workload\(s\) from")


class RecommenderFailures(unittest.TestCase):
    def test_bad_config_lists_every_problem(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("workloads:\n  - namespace: shop\n    workload: cart\n    min_replicas: 0\n"
                    "    replica_policy: magic\n    colour: blue\n")
        try:
            r = subprocess.run([RECOMMENDER, "--config=" + f.name, "--web.threads=0"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2)
            for needle in ["no input", "--web.threads", "min_replicas", "replica_policy", "colour"]:
                self.assertIn(needle, r.stderr)
            r = subprocess.run([RECOMMENDER, "--config=" + f.name, "--check-config"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 2)
        finally:
            os.unlink(f.name)

    def test_check_config_accepts_a_good_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump({"workloads": [{"namespace": "shop", "workload": "cart"}]}, f)
        try:
            r = subprocess.run([RECOMMENDER, "--config=" + f.name, "--check-config"],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("config ok: 1 workload(s)", r.stdout)
            self.assertIn("shop/cart", r.stdout)
        finally:
            os.unlink(f.name)

    def test_unreachable_exporter_is_reported_and_the_recommender_keeps_serving(self):
        # Port 9 on loopback: nothing listens, so every scrape is refused at once.
        p = start_recommender("--exporter.url=http://127.0.0.1:9/metrics", "--discover",
                              "--interval=100ms")
        try:
            text = wait_for(lambda: http("GET", p.url + "/metrics")[2].decode(),
                            lambda t: 'reason="fetch"' in t, "a counted fetch error")
            self.assertIn('queuelens_recommender_input_errors_total{input="http://127.0.0.1:9/'
                          'metrics",reason="fetch"}', text)
            self.assertIn("failed (fetch)", p.log())
            status, body = get_json(p.url + "/api/v1/recommendations")
            self.assertEqual((status, body["recommendations"]), (200, []))
        finally:
            self.assertEqual(p.stop(), 0)


    def test_a_refused_deepscaler_model_leaves_the_policy_unavailable(self):
        with tempfile.NamedTemporaryFile("wb", suffix=".model", delete=False) as f:
            f.write(b"not a model at all")
        try:
            p = start_recommender("--exporter.url=http://127.0.0.1:9/metrics", "--discover",
                                  "--deepscaler.model=" + f.name)
            try:
                # Refused either as a file or because the build has no libtorch; said both ways.
                reasons = ("not a queuelens DeepScaler model file", "built without libtorch")
                self.assertIn("deepscaler: unavailable", p.log())
                status, body = get_json(p.url + "/api/v1/graph")
                self.assertEqual(status, 404)
                self.assertTrue(any(r in body["error"] for r in reasons), body)
                metrics = http("GET", p.url + "/metrics")[2].decode()
                self.assertIn("queuelens_recommender_deepscaler_model_loaded 0", metrics)
                page = http("GET", p.url + "/")[2].decode()
                self.assertIn("learned service graph</h2>", page)
                self.assertIn("No model: ", page)
            finally:
                self.assertEqual(p.stop(), 0)
        finally:
            os.unlink(f.name)


class ScriptedExporter:
    """An exporter page on loopback for shop/cart: 300 requests/s on 3 pods, 30 in flight, counters
    following wall time; `fault` rewrites what the next scrapes send."""

    def __init__(self):
        self.start = time.monotonic()
        self.fault = None
        self.server, self.url = serve_page(self.page)

    def page(self):
        t = time.monotonic() - self.start + 1000
        fault = self.fault

        def counter(rate):
            v = rate * t
            return {"x1e300": repr(v * 1e300), "nan": "NaN", "inf": "+Inf",
                    "negative": repr(-v)}.get(fault, repr(v))

        svc = 'namespace="shop",service="cart"'
        op = svc + ',operation="GET /cart"'
        lines = ["queuelens_requests_total{%s} %s" % (op, counter(300)),
                 "queuelens_request_duration_seconds_sum{%s} %s" % (op, counter(30)),
                 "queuelens_exclusive_duration_seconds_sum{%s} %s" % (op, counter(15)),
                 "queuelens_queue_length{%s} %s" % (svc, "NaN" if fault == "nan_gauges" else "2"),
                 "queuelens_uncongested_service_time_seconds{%s} 0.02" % svc]
        for le, rate in (("0.05", 100), ("0.25", 290), ("+Inf", 300)):
            lines.append('queuelens_request_duration_seconds_bucket{%s,le="%s"} %s'
                         % (op, le, counter(rate)))
        for pod in ("cart-5d9f8-aaaaa", "cart-5d9f8-bbbbb", "cart-5d9f8-ccccc"):
            lines.append('queuelens_instance_requests_total{%s,instance="%s"} %s'
                         % (svc, pod, counter(100)))
            c = 'namespace="shop",pod="%s",container="cart"' % pod
            lines += ["queuelens_container_cpu_usage_seconds_total{%s} %s" % (c, counter(0.5)),
                      "queuelens_container_cpu_periods_total{%s} %s" % (c, counter(10)),
                      "queuelens_container_cpu_throttled_periods_total{%s} %s" % (c, counter(0.1)),
                      "queuelens_container_cpu_limit_cores{%s} 1" % c]
        lines += ['kube_deployment_status_replicas{namespace="shop",deployment="cart"} 3',
                  'kube_deployment_status_replicas_ready{namespace="shop",deployment="cart"} 3']
        if fault == "too_many_series":
            lines += ['padding{i="%d"} 1' % i for i in range(300)]
        return "\n".join(lines) + "\n"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class RecommenderInputValidity(unittest.TestCase):
    """Bad values from an exporter hold the recommendation, marked stale; good data recovers it."""

    @classmethod
    def setUpClass(cls):
        cls.exporter = ScriptedExporter()
        cls.config = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
        json.dump({"workloads": [{"namespace": "shop", "workload": "cart", "max_replicas": 50}]},
                  cls.config)
        cls.config.close()
        # No stabilisation and no step limit, so a wrong proposal would show at once.
        cls.p = start_recommender("--exporter.url=" + cls.exporter.url,
                                  "--config=" + cls.config.name, "--interval=200ms",
                                  "--model.window=2s", "--safety.stabilization-window=0s",
                                  "--safety.max-replica-step=1000", "--exporter.max-series=200")
        cls.url = cls.p.url + "/api/v1/recommendations/shop/cart"
        # The steady recommendation of the true load: every value seen over 3 s of good data.
        wait_for(lambda: get_json(cls.url)[1],
                 lambda r: r.get("replicas") is not None and not r["stale"], "a first value")
        time.sleep(2)
        cls.steady = set()
        for _ in range(15):
            cls.steady.add(get_json(cls.url)[1]["replicas"])
            time.sleep(0.2)

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.exporter.stop()
        os.unlink(cls.config.name)

    def metric(self, name, labels):
        for line in http("GET", self.p.url + "/metrics")[2].decode().splitlines():
            if line.startswith(name + "{" + labels + "}"):
                return float(line.split()[-1])
        return None

    def hold_then_recover(self, fault, reason):
        self.assertGreater(min(self.steady), 1)  # a drop to the minimum would show
        self.exporter.fault = fault
        held = wait_for(lambda: get_json(self.url)[1], lambda r: r["stale"], "a held value")
        for _ in range(10):  # two seconds of bad data: held, never lower
            r = get_json(self.url)[1]
            self.assertTrue(r["stale"], r)
            self.assertIn("inputs invalid (%s)" % reason, r["reason"])
            self.assertGreaterEqual(r["replicas"], min(self.steady), r)
            self.assertLessEqual(r["replicas"], max(self.steady), r)
            time.sleep(0.2)
        self.assertEqual(held["replicas"], r["replicas"])
        self.assertGreater(self.metric("queuelens_recommender_input_invalid_values_total",
                                       'reason="%s"' % reason), 0)
        self.assertIn("stale: invalid input (%s)" % reason,
                      http("GET", self.p.url + "/")[2].decode())
        self.exporter.fault = None
        wait_for(lambda: get_json(self.url)[1], lambda r: not r["stale"], "fresh inputs again")
        for _ in range(15):  # three seconds of good data: the true load's value, no spike or dip
            r = get_json(self.url)[1]
            self.assertFalse(r["stale"], r)
            self.assertIn(r["replicas"], self.steady, r)
            time.sleep(0.2)

    def test_counters_times_1e300_then_normal(self):
        self.hold_then_recover("x1e300", "counter_too_large")

    def test_nan_and_inf_counters(self):
        self.hold_then_recover("nan", "counter_non_finite")
        self.hold_then_recover("inf", "counter_non_finite")

    def test_negative_counters_then_normal(self):
        self.hold_then_recover("negative", "counter_negative")

    def test_nan_gauges(self):
        self.hold_then_recover("nan_gauges", "gauge_non_finite")

    def test_too_many_series_is_refused_and_counted(self):
        self.exporter.fault = "too_many_series"
        try:
            wait_for(lambda: self.metric("queuelens_recommender_input_errors_total",
                                         'input="%s",reason="too_many_series"' % self.exporter.url),
                     lambda v: v is not None and v > 0, "a counted too_many_series error")
            self.assertIn("more than the limit of 200", http("GET", self.p.url + "/")[2].decode())
            # What the refused target fed is held, not read as missing load.
            r = wait_for(lambda: get_json(self.url)[1], lambda r: r["stale"], "a held value")
            self.assertIn("inputs invalid (target_failed)", r["reason"])
            self.assertGreaterEqual(r["replicas"], min(self.steady), r)
        finally:
            self.exporter.fault = None
        wait_for(lambda: get_json(self.url)[1], lambda r: not r["stale"], "fresh inputs again")


if __name__ == "__main__":
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed, %d skipped" % (result.testsRun - failed - len(result.skipped),
                                               failed, len(result.skipped)))
    sys.exit(1 if failed else 0)
