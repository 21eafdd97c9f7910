#!/usr/bin/env python3
"""End-to-end test of the recommender's KEDA external scaler (--grpc.listen-address): the real
recommender binary scraping a scripted exporter page on loopback, called by @grpc/grpc-js with
the service loaded from recommender/output/externalscaler.proto (keda_grpc_client.mjs). Every
RPC, a held StreamIsActive while the recommendation changes (the push within 1 s of the pass),
scale to zero after the idle time, unknown workloads, the stream limit, stale inputs, TLS with and
without client certificates (made with the openssl CLI), and shutdown with open streams.

usage: keda_grpc_e2e_test.py RECOMMENDER_BINARY REPO_ROOT
"""
import functools
import json
import os
import queue
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
from datetime import datetime

import e2e_support
from e2e_support import LoggedProcess, serve_page

RECOMMENDER = sys.argv[1] if len(sys.argv) > 1 else "build/bin/queuelens-recommender"
ROOT = sys.argv[2] if len(sys.argv) > 2 else "."
CLIENT = os.path.join(ROOT, "tests/e2e/keda_grpc_client.mjs")
PROTO = os.path.join(ROOT, "recommender/output/externalscaler.proto")
DEADLINE_S = 30
wait_for = functools.partial(e2e_support.wait_for, deadline_s=DEADLINE_S, interval_s=0.02)
# grpc status codes
OK, INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, UNIMPLEMENTED, UNAVAILABLE = 0, 3, 5, 8, 12, 14
IDLE_TIME_S = 2


class LoadPage:
    """An exporter page for shop/cart and shop/gateway at `rps` requests/s each (100 ms latency,
    50 ms exclusive, on 3 pods); counters integrate the rate over wall time, so a change of `rps`
    is a load step. `broken` answers 500 (inputs go missing)."""

    def __init__(self, rps):
        self.rps = rps
        self.broken = False
        self.lock = threading.Lock()
        self.last = time.monotonic()
        self.requests = 1000.0  # per service
        self.server, self.url = serve_page(self.page, lambda: self.broken)

    def set_rps(self, rps):
        with self.lock:
            self.advance()
            self.rps = rps

    def advance(self):
        now = time.monotonic()
        self.requests += self.rps * (now - self.last)
        self.last = now

    def page(self):
        with self.lock:
            self.advance()
            n, rps = self.requests, self.rps
        lines = []
        for svc_name in ("cart", "gateway"):
            svc = 'namespace="shop",service="%s"' % svc_name
            op = svc + ',operation="GET /"'
            lines += ["queuelens_requests_total{%s} %r" % (op, n),
                      "queuelens_request_duration_seconds_sum{%s} %r" % (op, n * 0.1),
                      "queuelens_exclusive_duration_seconds_sum{%s} %r" % (op, n * 0.05),
                      "queuelens_queue_length{%s} %r" % (svc, rps / 100),
                      "queuelens_uncongested_service_time_seconds{%s} 0.04" % svc]
            for le, share in (("0.05", 0.2), ("0.25", 0.99), ("+Inf", 1)):
                lines.append('queuelens_request_duration_seconds_bucket{%s,le="%s"} %r'
                             % (op, le, n * share))
            for pod in ("a", "b", "c"):
                lines.append('queuelens_instance_requests_total{%s,instance="%s-%s"} %r'
                             % (svc, svc_name, pod, n / 3))
            lines += ['kube_deployment_status_replicas{namespace="shop",deployment="%s"} 3'
                      % svc_name,
                      'kube_deployment_status_replicas_ready{namespace="shop",deployment="%s"} 3'
                      % svc_name]
        return "\n".join(lines) + "\n"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Recommender:
    """queuelens-recommender on loopback; ready once its web and gRPC ports are logged."""

    def __init__(self, *flags):
        env = dict(os.environ)
        if "TSAN_OPTIONS" in env:  # the tsan preset: Debian's gRPC is not instrumented
            # ignore_noninstrumented_modules: an interceptor (operator delete, memcpy) called from
            # uninstrumented code is not checked. gRPC's executor threads free objects through
            # out-of-line libstdc++ code (a shared_ptr's last release) whose frames end the stack
            # before any gRPC frame, so the suppressions below cannot match them.
            env["TSAN_OPTIONS"] += ":ignore_noninstrumented_modules=1:suppressions=" + \
                os.path.join(ROOT, "tests/e2e/keda_grpc_tsan.supp")
        self.process = LoggedProcess(
            [RECOMMENDER, "--web.listen-address=127.0.0.1:0", "--grpc.listen-address=127.0.0.1:0",
             *flags],
            {"web": r"serving /metrics.*\(port (\d+)\)",
             "grpc": r"serving the KEDA external scaler.*\(port (\d+)\)"},
            DEADLINE_S, env=env, stop_timeout_s=15)
        self.proc = self.process.proc
        self.address = "127.0.0.1:%d" % self.process.ports["grpc"]
        self.url = "http://127.0.0.1:%d" % self.process.ports["web"]

    def log(self):
        return self.process.log()

    def recommendation(self, workload):
        try:
            with urllib.request.urlopen(
                    self.url + "/api/v1/recommendations/shop/" + workload, timeout=5) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            return json.loads(e.read())

    def stop(self):
        return self.process.stop()


class Client:
    """keda_grpc_client.mjs: calls and streams by id, answers collected per id."""

    def __init__(self, address, *tls):
        self.proc = subprocess.Popen(["node", CLIENT, "--proto", PROTO, "--address", address,
                                      *tls], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.next_id = 0
        self.answers = {}
        self.cond = threading.Condition()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.proc.stdout:
            msg = json.loads(line)
            with self.cond:
                self.answers.setdefault(msg["id"], []).append(msg)
                self.cond.notify_all()

    def send(self, cmd):
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def wait(self, id_, predicate, timeout=DEADLINE_S):
        with self.cond:
            if not self.cond.wait_for(lambda: predicate(self.answers.get(id_, [])), timeout):
                raise AssertionError("no answer for %d in %ss: %r; client stderr: %s"
                                     % (id_, timeout, self.answers.get(id_), self.stderr()))
            return list(self.answers[id_])

    def stderr(self):
        return "" if self.proc.poll() is None else self.proc.stderr.read()

    def call(self, rpc, request):
        self.next_id += 1
        self.send({"id": self.next_id, "call": rpc, "request": request})
        return self.wait(self.next_id, lambda a: len(a) > 0)[0]

    def stream(self, request, rpc="StreamIsActive"):
        self.next_id += 1
        self.send({"id": self.next_id, "stream": rpc, "request": request})
        return self.next_id

    def messages(self, id_):
        with self.cond:
            return list(self.answers.get(id_, []))

    def cancel(self, id_):
        self.send({"id": id_, "cancel": True})

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def ref(workload, **metadata):
    return {"name": workload + "-scaler", "namespace": "keda",
            "scalerMetadata": {"scalerAddress": "recommender:9098", "workload": workload,
                               "namespace": "shop", **metadata}}


def write_config(directory):
    path = os.path.join(directory, "workloads.yaml")
    with open(path, "w") as f:
        f.write("workloads:\n"
                "  - {namespace: shop, workload: cart, max_replicas: 50, allow_zero: true}\n"
                "  - {namespace: shop, workload: gateway, max_replicas: 50}\n")
    return path


def fast_flags(page, config):
    # Short passes, no stabilisation and no step limit, so a load step shows within a second.
    return ["--exporter.url=" + page.url, "--config=" + config, "--interval=200ms",
            "--model.window=2s", "--staleness=2s", "--safety.stabilization-window=0s",
            "--safety.max-replica-step=1000", "--grpc.idle-time=%ds" % IDLE_TIME_S]


def epoch_ms(rfc3339):
    return datetime.fromisoformat(rfc3339.replace("Z", "+00:00")).timestamp() * 1000


class KedaGrpcEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="keda_grpc_e2e_")
        cls.page = LoadPage(rps=200)
        cls.recommender = Recommender(*fast_flags(cls.page, write_config(cls.dir)),
                                      "--grpc.max-streams=3")
        cls.client = Client(cls.recommender.address)
        # A value GetMetrics serves, not only one the status shows: the first passes, before a
        # rate has two scrapes, hold the current replicas, and GetMetrics refuses a held value.
        request = {"scaledObjectRef": ref("cart"), "metricName": "queuelens-replicas-shop-cart"}
        try:
            wait_for(lambda: cls.client.call("GetMetrics", request), lambda a: a["ok"],
                     "a first value served")
        except BaseException:
            cls.release()  # tearDownClass does not run after a failed setUpClass
            raise

    @classmethod
    def release(cls):
        cls.client.close()
        rc = cls.recommender.stop()
        cls.page.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)
        return rc

    @classmethod
    def tearDownClass(cls):
        rc = cls.release()
        if rc != 0:
            raise AssertionError("recommender exited with %s:\n%s" % (rc, cls.recommender.log()))

    def test_1_unary_calls(self):
        spec = self.client.call("GetMetricSpec", ref("cart"))
        self.assertTrue(spec["ok"], spec)
        self.assertEqual(spec["response"]["metricSpecs"],
                         [{"metricName": "queuelens-replicas-shop-cart", "targetSize": 1,
                           "targetSizeFloat": 1}])
        # KEDA asks with the HPA's name, "s<trigger index>-" + the spec's name.
        got = self.client.call("GetMetrics", {"scaledObjectRef": ref("cart"),
                                              "metricName": "s0-queuelens-replicas-shop-cart"})
        self.assertTrue(got["ok"], got)
        [value] = got["response"]["metricValues"]
        self.assertEqual(value["metricName"], "s0-queuelens-replicas-shop-cart")
        replicas = self.recommender.recommendation("cart")["replicas"]
        self.assertGreaterEqual(replicas, 1)
        self.assertAlmostEqual(value["metricValueFloat"], replicas, delta=3)  # passes go on
        self.assertEqual(value["metricValue"], round(value["metricValueFloat"]))
        active = self.client.call("IsActive", ref("cart"))
        self.assertEqual(active, {**active, "ok": True, "response": {"result": True}})

        queue = self.client.call("GetMetrics", {
            "scaledObjectRef": ref("cart", metric="queue_length", target="0.5"),
            "metricName": "queuelens-queue-length-shop-cart"})
        self.assertTrue(queue["ok"], queue)
        self.assertAlmostEqual(queue["response"]["metricValues"][0]["metricValueFloat"], 2,
                               delta=0.5)  # 200 rps / 100
        spec = self.client.call("GetMetricSpec", ref("cart", metric="inflight", target="2.5"))
        self.assertEqual(spec["response"]["metricSpecs"][0]["targetSizeFloat"], 2.5)

        # The ScaledObject's own name and namespace when the metadata names no workload.
        by_name = self.client.call("IsActive", {"name": "gateway", "namespace": "shop"})
        self.assertTrue(by_name["ok"], by_name)

        # Optional in KEDA, which falls back to GetMetricSpec on UNIMPLEMENTED.
        stream = self.client.stream(ref("cart"), rpc="StreamMetricSpec")
        [end] = self.client.wait(stream, lambda a: any(m.get("end") for m in a))
        self.assertEqual(end["code"], UNIMPLEMENTED, end)

    def test_2_errors(self):
        for rpc, request in (("IsActive", ref("nope")), ("GetMetricSpec", ref("nope")),
                             ("GetMetrics", {"scaledObjectRef": ref("nope"),
                                             "metricName": "queuelens-replicas-shop-nope"})):
            answer = self.client.call(rpc, request)
            self.assertEqual(answer["code"], NOT_FOUND, answer)
            self.assertIn("shop/nope", answer["details"])
        stream = self.client.stream(ref("nope"))
        [end] = self.client.wait(stream, lambda a: any(m.get("end") for m in a))
        self.assertEqual(end["code"], NOT_FOUND, end)
        bad = self.client.call("GetMetrics", {"scaledObjectRef": ref("cart"),
                                              "metricName": "s0-queuelens-replicas-shop-gateway"})
        self.assertEqual(bad["code"], INVALID_ARGUMENT, bad)
        bad = self.client.call("GetMetricSpec", ref("cart", metric="cpu"))
        self.assertEqual(bad["code"], INVALID_ARGUMENT, bad)
        bad = self.client.call("GetMetricSpec", ref("cart", metric="inflight"))  # no target
        self.assertEqual(bad["code"], INVALID_ARGUMENT, bad)

    def test_3_push_on_change_and_scale_to_zero(self):
        stream = self.client.stream(ref("cart"))
        first = self.client.wait(stream, lambda a: len(a) >= 1)[0]
        self.assertEqual(first.get("data"), {"result": True}, first)
        before = self.recommender.recommendation("cart")["replicas"]

        self.page.set_rps(2000)
        changed = wait_for(lambda: self.recommender.recommendation("cart"),
                           lambda r: r.get("replicas") is not None and r["replicas"] > before,
                           "more replicas after the load step")
        computed = epoch_ms(changed["computedAt"])
        # The pass that raised the value pushed (a push of the same activity, so KEDA reads
        # GetMetrics again) well before KEDA's next poll; how soon is bench/keda_push_latency.py's
        # measure, not this test's, since a busy machine under TSan stretches it.
        pushes = self.client.wait(
            stream, lambda a: any("data" in m and m["t"] >= computed - 50 for m in a),
            timeout=5)
        push = next(m for m in pushes if "data" in m and m["t"] >= computed - 50)
        self.assertEqual(push["data"], {"result": True})
        self.assertLess(push["t"] - computed, 5000, (push, changed))

        # No requests: inactive after the idle time, pushed; gateway (no allow_zero) stays.
        self.page.set_rps(0)
        idle = self.client.wait(stream, lambda a: any(m.get("data") == {"result": False}
                                                      for m in a), timeout=IDLE_TIME_S + 15)
        self.assertFalse([m for m in idle if m.get("end")], idle)
        self.assertEqual(self.client.call("IsActive", ref("cart"))["response"], {"result": False})
        self.assertEqual(self.client.call("IsActive", ref("gateway"))["response"],
                         {"result": True})

        # Requests again: active at once, pushed.
        seen = len(self.client.messages(stream))
        self.page.set_rps(50)
        back = self.client.wait(stream, lambda a: any(m.get("data") == {"result": True}
                                                      for m in a[seen:]), timeout=10)
        self.assertFalse([m for m in back if m.get("end")], back)
        self.client.cancel(stream)

    def held_stream(self):
        """A stream that got its first message; a slot an earlier test's cancelled stream still
        holds is freed within the streams' 1 s tick."""
        def attempt():
            s = self.client.stream(ref("gateway"))
            first = self.client.wait(s, lambda a: len(a) >= 1)[0]
            if "data" not in first:
                self.assertEqual(first["code"], RESOURCE_EXHAUSTED, first)
            return s, first
        return wait_for(attempt, lambda r: "data" in r[1], "a free stream slot",
                        deadline_s=10)[0]

    def test_4_stream_limit(self):
        held = [self.held_stream() for _ in range(3)]
        over = self.client.stream(ref("gateway"))
        [end] = self.client.wait(over, lambda a: any(m.get("end") for m in a))
        self.assertEqual(end["code"], RESOURCE_EXHAUSTED, end)
        self.assertIn("--grpc.max-streams", end["details"])
        for s in held:
            self.client.cancel(s)
        self.client.cancel(self.held_stream())  # cancelled slots are given back

    def test_5_stale_inputs_are_unavailable(self):
        self.page.broken = True
        try:
            request = {"scaledObjectRef": ref("cart"), "metricName": "queuelens-replicas-shop-cart"}
            answer = wait_for(lambda: self.client.call("GetMetrics", request),
                              lambda a: not a["ok"], "an error for stale inputs")
            self.assertEqual(answer["code"], UNAVAILABLE, answer)
            answer = wait_for(lambda: self.client.call("IsActive", ref("cart")),
                              lambda a: not a["ok"], "IsActive refusing stale inputs")
            self.assertEqual(answer["code"], UNAVAILABLE, answer)
        finally:
            self.page.broken = False
        wait_for(lambda: self.client.call("IsActive", ref("cart")), lambda a: a["ok"],
                 "recovery once inputs are back")


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_certs(d):
    """A CA, a server certificate for 127.0.0.1 and a client certificate signed by it, and a
    self-signed client certificate it did not sign."""
    def p(name):
        return os.path.join(d, name)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out",
            p("ca.crt"), "-days", "1", "-subj", "/CN=queuelens-test-ca")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("stranger.key"), "-out",
            p("stranger.crt"), "-days", "1", "-subj", "/CN=stranger",
            "-addext", "extendedKeyUsage=clientAuth")
    for name, ext in (("server", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p(name + ".key"), "-out",
                p(name + ".csr"), "-subj", "/CN=" + name)
        with open(p(name + ".ext"), "w") as f:
            f.write(ext + "\n")
        openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p("ca.crt"), "-CAkey",
                p("ca.key"), "-CAcreateserial", "-out", p(name + ".crt"), "-days", "1",
                "-extfile", p(name + ".ext"))


class KedaGrpcTls(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="keda_grpc_tls_")
        make_certs(cls.dir)
        cls.page = LoadPage(rps=100)
        cls.config = write_config(cls.dir)

    @classmethod
    def tearDownClass(cls):
        cls.page.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def p(self, name):
        return os.path.join(self.dir, name)

    def is_active(self, recommender, *tls):
        client = Client(recommender.address, *tls)
        try:
            return client.call("IsActive", ref("gateway"))
        finally:
            client.close()

    def serve(self, *flags):
        r = Recommender(*fast_flags(self.page, self.config), "--grpc.tls-cert-file=" +
                        self.p("server.crt"), "--grpc.tls-key-file=" + self.p("server.key"),
                        *flags)
        self.addCleanup(r.stop)
        wait_for(lambda: r.recommendation("gateway"), lambda x: x.get("replicas") is not None,
                 "a first value")
        return r

    def test_required_client_certificate(self):
        r = self.serve("--grpc.tls-client-ca-file=" + self.p("ca.crt"),
                       "--grpc.tls-require-client-cert")
        with_cert = self.is_active(r, "--ca", self.p("ca.crt"), "--cert", self.p("client.crt"),
                                   "--key", self.p("client.key"))
        self.assertTrue(with_cert["ok"], with_cert)
        without = self.is_active(r, "--ca", self.p("ca.crt"))
        self.assertEqual(without["code"], UNAVAILABLE, without)
        plaintext = self.is_active(r)
        self.assertEqual(plaintext["code"], UNAVAILABLE, plaintext)

    def test_optional_client_certificate(self):
        r = self.serve("--grpc.tls-client-ca-file=" + self.p("ca.crt"))
        for tls in (("--ca", self.p("ca.crt")),
                    ("--ca", self.p("ca.crt"), "--cert", self.p("client.crt"), "--key",
                     self.p("client.key"))):
            answer = self.is_active(r, *tls)
            self.assertTrue(answer["ok"], answer)
        # A certificate the CA did not sign is refused even where none is required.
        wrong = self.is_active(r, "--ca", self.p("ca.crt"), "--cert", self.p("stranger.crt"),
                               "--key", self.p("stranger.key"))
        self.assertEqual(wrong["code"], UNAVAILABLE, wrong)


class KedaGrpcShutdown(unittest.TestCase):
    def test_open_streams_end_cleanly_on_sigterm(self):
        d = tempfile.mkdtemp(prefix="keda_grpc_stop_")
        page = LoadPage(rps=100)
        r = Recommender(*fast_flags(page, write_config(d)))
        client = Client(r.address)
        try:
            wait_for(lambda: r.recommendation("cart"), lambda x: x.get("replicas") is not None,
                     "a first value")
            streams = [client.stream(ref(w)) for w in ("cart", "gateway", "cart")]
            for s in streams:
                client.wait(s, lambda a: len(a) >= 1)
            started = time.monotonic()
            r.proc.send_signal(signal.SIGTERM)
            for s in streams:
                ends = [m for m in client.wait(s, lambda a: any(m.get("end") for m in a), 10)
                        if m.get("end")]
                self.assertEqual(ends[0]["code"], OK, ends)
            self.assertEqual(r.proc.wait(15), 0, r.log())
            self.assertLess(time.monotonic() - started, 5)
        finally:
            client.close()
            r.stop()
            page.stop()
            shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
