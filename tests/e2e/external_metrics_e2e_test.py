#!/usr/bin/env python3
"""End-to-end test of the recommender's external.metrics.k8s.io/v1beta1 server: the real
exporter and recommender binaries on loopback, load posted with the OpenTelemetry JS exporter,
certificates made here with the openssl CLI (a serving CA and a certificate for 127.0.0.1, a
front-proxy CA and the aggregator's client certificate, and a stranger CA), and real
`kubectl get --raw` through a kubeconfig holding the client certificate, as the kube-aggregator
would call. Requests without a client certificate, with one from another CA or with a name that
is not allowed are refused.

usage: external_metrics_e2e_test.py RECOMMENDER_BINARY EXPORTER_BINARY REPO_ROOT
"""
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recommender_e2e_test as base  # noqa: E402  (same arguments: its helpers read them)

GROUP_VERSION = "external.metrics.k8s.io/v1beta1"
VERSION_PATH = "/apis/" + GROUP_VERSION
METRICS = ["queuelens-recommended-replicas", "queuelens-queue-length",
           "queuelens-inflight-requests", "queuelens-runqueue-wait-seconds"]
QUANTITY = r"^-?\d+(m|u|n)?$"
KUBECTL_TIMEOUT_S = 30


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def make_certificates(d):
    def key_and_cert(name, subject, ca=None, extensions=()):
        args = ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days",
                "1", "-keyout", os.path.join(d, name + ".key"), "-out",
                os.path.join(d, name + ".crt"), "-subj", "/CN=" + subject]
        if ca is None:
            args.append("-x509")
        else:
            args += ["-CA", os.path.join(d, ca + ".crt"), "-CAkey", os.path.join(d, ca + ".key"),
                     "-addext", "basicConstraints=critical,CA:FALSE"]
        for e in extensions:
            args += ["-addext", e]
        openssl(*args)

    key_and_cert("serving-ca", "queuelens-ca")
    key_and_cert("server", "127.0.0.1", "serving-ca",
                 ["subjectAltName=IP:127.0.0.1", "extendedKeyUsage=serverAuth"])
    key_and_cert("front-proxy-ca", "front-proxy-ca")
    key_and_cert("proxy-client", "front-proxy-client", "front-proxy-ca",
                 ["extendedKeyUsage=clientAuth"])
    key_and_cert("other-name", "someone-else", "front-proxy-ca", ["extendedKeyUsage=clientAuth"])
    key_and_cert("stranger-ca", "stranger-ca")
    key_and_cert("stranger", "front-proxy-client", "stranger-ca", ["extendedKeyUsage=clientAuth"])


def write_kubeconfig(path, server, d, client):
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "test",
        "clusters": [{"name": "test", "cluster": {
            "server": server, "certificate-authority": os.path.join(d, "serving-ca.crt")}}],
        "users": [{"name": "test", "user": {
            "client-certificate": os.path.join(d, client + ".crt"),
            "client-key": os.path.join(d, client + ".key")}}],
        "contexts": [{"name": "test", "context": {"cluster": "test", "user": "test"}}],
    }
    with open(path, "w") as f:
        json.dump(config, f)  # JSON is YAML


class ExternalMetricsEndToEnd(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="external_metrics_e2e_")
        cls.exporter = cls.recommender = None
        try:
            make_certificates(cls.dir)
            config = os.path.join(cls.dir, "workloads.yaml")
            with open(config, "w") as f:
                f.write("workloads:\n"
                        "  - namespace: hotel\n"
                        "    workload: frontend\n"
                        "    max_replicas: 20\n")
            cls.exporter = base.start_exporter()
            cls.recommender = base.Process(
                [base.RECOMMENDER, "--web.listen-address=127.0.0.1:0",
                 "--exporter.url=" + cls.exporter.metrics_url, "--config=" + config,
                 "--apiserver.listen-address=127.0.0.1:0",
                 "--tls.cert-file=" + cls.file("server.crt"),
                 "--tls.key-file=" + cls.file("server.key"),
                 "--requestheader.client-ca-file=" + cls.file("front-proxy-ca.crt"),
                 "--requestheader.allowed-names=front-proxy-client,aggregator"],
                {"web": r"serving /metrics.*\(port (\d+)\)",
                 "api": r"serving external\.metrics\.k8s\.io/v1beta1 over TLS .*\(port (\d+)\)"})
            cls.web = "http://127.0.0.1:%d" % cls.recommender.ports["web"]
            cls.api = "https://127.0.0.1:%d" % cls.recommender.ports["api"]
            for client in ("proxy-client", "stranger", "other-name"):
                write_kubeconfig(cls.file(client + ".kubeconfig"), cls.api, cls.dir, client)
            base.send_load(cls.exporter.otlp_url, 40)
            base.wait_for(lambda: base.get_json(cls.web + "/api/v1/recommendations/hotel/frontend"),
                          lambda r: r[0] == 200 and r[1]["replicas"] is not None,
                          "a recommendation for hotel/frontend")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        errors = []
        for p in (cls.recommender, cls.exporter):
            if p is None:
                continue
            rc = p.stop()
            if rc != 0:
                errors.append("%s exited with %s:\n%s" % (p.proc.args[0], rc, p.log()))
        shutil.rmtree(cls.dir, ignore_errors=True)
        if errors:
            raise AssertionError("\n".join(errors))

    @classmethod
    def file(cls, name):
        return os.path.join(cls.dir, name)

    def kubectl(self, path, client="proxy-client"):
        return subprocess.run(
            ["kubectl", "--kubeconfig", self.file(client + ".kubeconfig"),
             "--request-timeout=10s", "get", "--raw", path],
            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=KUBECTL_TIMEOUT_S)

    def kubectl_json(self, path):
        r = self.kubectl(path)
        self.assertEqual(r.returncode, 0, "kubectl get --raw %s: %s" % (path, r.stderr))
        return json.loads(r.stdout)

    def https(self, path, client=None, headers=None):
        """(status, body) with Python's ssl: the serving CA trusted, `client` presented."""
        context = ssl.create_default_context(cafile=self.file("serving-ca.crt"))
        if client:
            context.load_cert_chain(self.file(client + ".crt"), self.file(client + ".key"))
        req = urllib.request.Request(self.api + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, context=context, timeout=10) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def assert_status(self, body, code, reason):
        status = json.loads(body)
        self.assertEqual(set(status), {"kind", "apiVersion", "metadata", "status", "message",
                                       "reason", "code"})
        self.assertEqual((status["kind"], status["apiVersion"], status["metadata"],
                          status["status"], status["reason"], status["code"]),
                         ("Status", "v1", {}, "Failure", reason, code))
        return status["message"]

    def test_discovery_documents_through_kubectl(self):
        groups = self.kubectl_json("/apis")
        self.assertEqual(groups["kind"], "APIGroupList")
        self.assertEqual([g["name"] for g in groups["groups"]], ["external.metrics.k8s.io"])
        self.assertEqual(groups["groups"][0]["preferredVersion"]["groupVersion"], GROUP_VERSION)
        group = self.kubectl_json("/apis/external.metrics.k8s.io")
        self.assertEqual((group["kind"], group["name"]), ("APIGroup", "external.metrics.k8s.io"))
        resources = self.kubectl_json(VERSION_PATH)
        self.assertEqual((resources["kind"], resources["groupVersion"]),
                         ("APIResourceList", GROUP_VERSION))
        self.assertEqual([r["name"] for r in resources["resources"]], METRICS)
        for r in resources["resources"]:
            self.assertEqual((r["namespaced"], r["kind"], r["verbs"]),
                             (True, "ExternalMetricValueList", ["get"]))

    def test_recommended_replicas_through_kubectl(self):
        values = self.kubectl_json(VERSION_PATH + "/namespaces/hotel/queuelens-recommended-replicas"
                                   "?labelSelector=workload%3Dfrontend")
        self.assertEqual((values["kind"], values["apiVersion"], values["metadata"]),
                         ("ExternalMetricValueList", GROUP_VERSION, {}))
        self.assertEqual(len(values["items"]), 1, values)
        item = values["items"][0]
        self.assertEqual(item["metricName"], "queuelens-recommended-replicas")
        self.assertEqual(item["metricLabels"],
                         {"namespace": "hotel", "workload": "frontend", "service": "frontend"})
        self.assertRegex(item["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
        self.assertRegex(item["value"], r"^\d+$")  # whole replicas
        self.assertTrue(1 <= int(item["value"]) <= 20, item)

    def test_signals_through_kubectl(self):
        for metric in ("queuelens-queue-length", "queuelens-inflight-requests"):
            values = self.kubectl_json(VERSION_PATH + "/namespaces/hotel/" + metric +
                                       "?labelSelector=service+in+%28frontend%29")
            self.assertEqual(len(values["items"]), 1, values)
            self.assertRegex(values["items"][0]["value"], QUANTITY)
        # No kernel statistics here: the run-queue wait has no value, which is an error.
        r = self.kubectl(VERSION_PATH + "/namespaces/hotel/queuelens-runqueue-wait-seconds")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ServiceUnavailable", r.stderr)

    def test_errors_are_statuses_kubectl_understands(self):
        for path, reason in [
                (VERSION_PATH + "/namespaces/hotel/queuelens-recommended-replicas"
                 "?labelSelector=workload%3Dnope", "NotFound"),
                (VERSION_PATH + "/namespaces/shop/queuelens-recommended-replicas", "NotFound"),
                (VERSION_PATH + "/namespaces/hotel/s0-rabbitmq", "NotFound"),
                (VERSION_PATH + "/namespaces/hotel/queuelens-queue-length"
                 "?labelSelector=workload+in+frontend", "BadRequest"),
                ("/openapi/v2", "NotFound"),
                ("/openapi/v3", "NotFound")]:
            r = self.kubectl(path)
            self.assertNotEqual(r.returncode, 0, path)
            self.assertIn("Error from server (%s)" % reason, r.stderr, path)
        status, body = self.https(VERSION_PATH + "/namespaces/hotel/queuelens-queue-length"
                                  "?labelSelector=a%3D%3D%3Db", "proxy-client")
        self.assertEqual(status, 400)
        self.assertIn("invalid labelSelector", self.assert_status(body, 400, "BadRequest"))

    def test_aggregated_discovery_is_not_acceptable(self):
        status, body = self.https("/apis", "proxy-client", {
            "Accept": "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"})
        self.assertEqual(status, 406)
        self.assert_status(body, 406, "NotAcceptable")

    def test_request_without_client_certificate_is_unauthorized(self):
        status, body = self.https(VERSION_PATH)
        self.assertEqual(status, 401)
        self.assert_status(body, 401, "Unauthorized")
        r = subprocess.run(["curl", "-sS", "--cacert", self.file("serving-ca.crt"), "-o", "-",
                            "-w", "\n%{http_code}", self.api + VERSION_PATH],
                           capture_output=True, text=True, timeout=30)
        body, _, code = r.stdout.rpartition("\n")
        self.assertEqual(code, "401", r.stderr)
        self.assert_status(body, 401, "Unauthorized")

    def test_certificate_from_another_ca_is_refused_at_the_handshake(self):
        with self.assertRaises((ssl.SSLError, ConnectionError, urllib.error.URLError)):
            self.https(VERSION_PATH, "stranger")
        r = self.kubectl(VERSION_PATH, client="stranger")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("unknown certificate authority", r.stderr)

    def test_name_not_allowed_is_forbidden(self):
        status, body = self.https(VERSION_PATH, "other-name")
        self.assertEqual(status, 403)
        self.assertIn("someone-else", self.assert_status(body, 403, "Forbidden"))
        r = self.kubectl(VERSION_PATH, client="other-name")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Error from server (Forbidden)", r.stderr)

    def test_probes_need_no_client_certificate(self):
        for path in ("/livez", "/readyz", "/healthz"):
            self.assertEqual(self.https(path), (200, b"ok\n"), path)


if __name__ == "__main__":
    result = unittest.main(argv=[sys.argv[0], "-v"], exit=False).result
    failed = len(result.failures) + len(result.errors)
    print("%d passed, %d failed, %d skipped" % (result.testsRun - failed - len(result.skipped),
                                               failed, len(result.skipped)))
    sys.exit(1 if failed else 0)
