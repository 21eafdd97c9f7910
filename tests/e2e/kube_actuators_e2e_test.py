#!/usr/bin/env python3
"""End-to-end test of queuelens-recommender's actuators (--kubernetes.resize, --vpa.write-status,
--leader-elect) against tests/e2e/fake_kube_api.mjs, a fake API server on loopback that validates
every body against the Pod and Lease schemas (kubernetes-models) and the VPA CRD's schema. Two
replicas with their own tokens share a Lease; the leader resizes shop/cart's pods and writes its
VPA's status through a 409, a 429 with Retry-After, a 500 and an expired watch (410); the
follower only reads the Lease; the VPA's bounds come from --vpa.default-band (k8s_cpu has no
spread of its own); token rotation, an Infeasible resize that is not sent again, and a
failover when the leader stops are checked, with the metrics and status page.

usage: kube_actuators_e2e_test.py RECOMMENDER_BINARY REPO_ROOT
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import recommender_e2e_test as rec  # noqa: E402  (its ScriptedExporter and process helpers)

rec.RECOMMENDER = sys.argv[1] if len(sys.argv) > 1 else "build/bin/queuelens-recommender"
ROOT = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else ".")
FAKE = os.path.join(ROOT, "tests/e2e/fake_kube_api.mjs")
RESIZE = re.compile(r"^/api/v1/namespaces/shop/pods/([^/]+)/resize$")
VPA_STATUS = re.compile(r"^/apis/autoscaling.k8s.io/v1/namespaces/shop/verticalpodautoscalers/([^/]+)/status$")


class FakeApi:
    def __init__(self):
        self.proc = subprocess.Popen(["node", FAKE, ROOT], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     cwd=os.path.dirname(FAKE))
        line = self.proc.stdout.readline()
        m = re.search(r"listening on port (\d+)", line)
        if not m:
            raise AssertionError("fake API server did not start: %r %s" % (line, self.proc.stderr.read()))
        self.url = "http://127.0.0.1:%s" % m.group(1)

    def state(self):
        return rec.get_json(self.url + "/_test/log")[1]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def metric(url, name_and_labels):
    _, _, body = rec.http("GET", url + "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name_and_labels + " "):
            return float(line.split()[-1])
    return None


class KubeActuators(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.exporter = rec.ScriptedExporter()
        cls.api = FakeApi()
        cls.dir = tempfile.TemporaryDirectory()
        cls.tokens = {}
        for r in ("a", "b"):
            cls.tokens[r] = os.path.join(cls.dir.name, "token-" + r)
            with open(cls.tokens[r], "w") as f:
                f.write("token-%s\n" % r)
        config = os.path.join(cls.dir.name, "config.json")
        with open(config, "w") as f:
            json.dump({"workloads": [{"namespace": "shop", "workload": "cart", "max_replicas": 50,
                                      "min_cpu": "1500m", "max_cpu": 2, "resize": "both",
                                      "cpu_policy": "k8s_cpu"}]}, f)

        def start(r):
            return rec.start_recommender(
                "--exporter.url=" + cls.exporter.url, "--config=" + config, "--interval=200ms",
                "--model.window=2s", "--kubernetes.api-url=" + cls.api.url,
                "--kubernetes.token-file=" + cls.tokens[r], "--kubernetes.resize",
                "--kubernetes.resize-hysteresis=0.1", "--vpa.write-status", "--vpa.default-band=0.2",
                "--leader-elect",
                "--leader-elect.identity=replica-" + r, "--leader-elect.lease-namespace=queuelens",
                "--leader-elect.lease-duration=3s")
        cls.a = start("a")
        rec.wait_for(cls.api.state, lambda s: any(l["spec"]["holderIdentity"] == "replica-a"
                                                  for l in s["leases"]), "replica-a leading")
        cls.b = start("b")

    @classmethod
    def tearDownClass(cls):
        for p in (cls.a, cls.b):
            if p.proc.poll() is None:
                p.stop()
        cls.api.stop()
        cls.exporter.stop()
        cls.dir.cleanup()

    def writes(self, state, pattern):
        return [e for e in state["log"] if e["method"] in ("PATCH", "PUT", "POST") and pattern.match(e["path"])]

    def test_1_leader_resizes_and_writes_vpa_status(self):
        s = rec.wait_for(self.api.state, lambda s: {RESIZE.match(e["path"]).group(1)
                                                    for e in self.writes(s, RESIZE)} >= {"cart-a", "cart-b"}
                         and any(v["metadata"]["name"] == "cart" and v.get("status") for v in s["vpas"]),
                         "every cart pod resized and the VPA written")
        time.sleep(3)  # 15 more passes: nothing may be sent again
        s = self.api.state()
        self.assertEqual(s["errors"], [])
        resizes = self.writes(s, RESIZE)
        by_pod = {}
        for e in resizes:
            by_pod.setdefault(RESIZE.match(e["path"]).group(1), []).append(e)
            self.assertEqual(e["auth"].split()[0], "Bearer")
            self.assertIn(e["auth"], ("Bearer token-a", "Bearer token-a2"), "only the leader patches")
        self.assertNotIn("other-x", by_pod)
        # 409: the pod is read again, then patched again.
        self.assertEqual(len(by_pod["cart-a"]), 2)
        order = [i for i, e in enumerate(s["log"]) if e["path"].startswith("/api/v1/namespaces/shop/pods/cart-a")]
        self.assertEqual([s["log"][i]["method"] for i in order], ["PATCH", "GET", "PATCH"])
        # 429 with Retry-After: 1 — the retry waits at least that long.
        self.assertEqual(len(by_pod["cart-b"]), 2)
        self.assertGreaterEqual(by_pod["cart-b"][1]["t"] - by_pod["cart-b"][0]["t"], 0.95)
        # cart-c's node refused 1 core: the recommendation (at least min_cpu, 1.5) is not sent.
        self.assertNotIn("cart-c", by_pod)
        self.assertGreater(metric(self.a.url, 'queuelens_recommender_resize_skipped_total{reason="infeasible"}'), 10)
        body = json.loads(by_pod["cart-a"][1]["body"])
        cpu = body["spec"]["containers"][0]["resources"]["limits"]["cpu"]
        self.assertEqual(body["spec"]["containers"][0]["resources"]["requests"]["cpu"], cpu)
        pods = {p["metadata"]["name"]: p for p in s["pods"]}
        self.assertEqual(pods["cart-c"]["status"]["conditions"][0]["reason"], "Infeasible")
        self.assertEqual(metric(self.a.url, 'queuelens_recommender_resize_pods{namespace="shop",state="infeasible",workload="cart"}'), 1)

        vpa = {v["metadata"]["name"]: v for v in s["vpas"]}
        self.assertNotIn("status", vpa["default-one"], "a VPA of the default recommender is not ours")
        rec_ = vpa["cart"]["status"]["recommendation"]["containerRecommendations"]
        self.assertEqual([r["containerName"] for r in rec_], ["cart"])
        self.assertEqual(set(rec_[0]), {"containerName", "target", "lowerBound", "upperBound", "uncappedTarget"})
        # k8s_cpu reports no spread of its own: the bounds are the recommendation (min_cpu, 1.5)
        # ± --vpa.default-band, within the container policy's [100m, 2].
        self.assertEqual({k: rec_[0][k]["cpu"] for k in ("target", "lowerBound", "upperBound", "uncappedTarget")},
                         {"target": "1500m", "lowerBound": "1200m", "upperBound": "1800m",
                          "uncappedTarget": "1500m"})
        self.assertEqual([c["type"] for c in vpa["cart"]["status"]["conditions"]], ["RecommendationProvided"])
        self.assertEqual(vpa["cart"]["status"]["conditions"][0]["status"], "True")
        cart_writes = [json.loads(e["body"])["status"] for e in self.writes(s, VPA_STATUS)
                       if VPA_STATUS.match(e["path"]).group(1) == "cart"]
        # The 500 is retried with the same body; after that a write only carries a change, while
        # dozens of passes ran.
        self.assertGreaterEqual(len(cart_writes), 2)
        self.assertEqual(cart_writes[0], cart_writes[1])
        for before, after in zip(cart_writes[1:], cart_writes[2:]):
            self.assertNotEqual(before["recommendation"], after["recommendation"])
        self.assertLess(len(cart_writes), 15)

        a = self.a.url
        self.assertEqual(metric(a, 'queuelens_recommender_kube_request_failures_total{operation="pod_resize",reason="409"}'), 1)
        self.assertEqual(metric(a, 'queuelens_recommender_kube_request_retries_total{operation="pod_resize"}'), 1)
        self.assertEqual(metric(a, 'queuelens_recommender_kube_request_retries_total{operation="vpa_status"}'), 1)
        self.assertEqual(metric(a, 'queuelens_recommender_vpa_relists_total{reason="gone"}'), 1)
        self.assertEqual(metric(a, 'queuelens_recommender_vpa_objects'), 1)
        self.assertEqual(metric(a, "queuelens_recommender_leader"), 1)
        self.assertEqual(metric(self.b.url, "queuelens_recommender_leader"), 0)
        _, _, text = rec.http("GET", a + "/metrics")
        for name in ("kube_request_failures_total", "kube_request_retries_total", "resize_patches_total",
                     "resize_skipped_total", "resize_pods", "vpa_objects", "vpa_status_writes_total",
                     "vpa_relists_total", "leader"):
            self.assertIn("# HELP queuelens_recommender_%s " % name, text.decode())
        _, _, page = rec.http("GET", a + "/")
        page = page.decode()
        self.assertIn("Kubernetes API failures", page)
        self.assertIn("pod_resize", page)
        self.assertIn("this replica (replica-a)", page)
        _, _, page_b = rec.http("GET", self.b.url + "/")
        self.assertIn("follower; holder replica-a", page_b.decode())
        # Both serve recommendations.
        for p in (self.a, self.b):
            status, answer = rec.get_json(p.url + "/api/v1/recommendations/shop/cart")
            self.assertEqual(status, 200)
            self.assertIsNotNone(answer["cpuCores"])
        # The follower reads the Lease and writes nothing.
        self.assertEqual([e["method"] + " " + e["path"] for e in s["log"]
                          if e["auth"] == "Bearer token-b" and e["method"] != "GET"], [])

    def test_2_watch_delivers_new_vpas_and_tokens_rotate(self):
        with open(self.tokens["a"], "w") as f:
            f.write("token-a2")
        rec.http("POST", self.api.url + "/_test/vpa", json.dumps({"name": "nothing"}).encode())
        s = rec.wait_for(self.api.state, lambda s: any(v["metadata"]["name"] == "nothing" and v.get("status")
                                                       for v in s["vpas"]), "the watched VPA written")
        v = [v for v in s["vpas"] if v["metadata"]["name"] == "nothing"][0]
        # No workload named "nothing": the condition says so and there is no recommendation.
        self.assertEqual(v["status"]["conditions"][0]["status"], "False")
        self.assertEqual(v["status"]["recommendation"]["containerRecommendations"], [])
        self.assertIn("Bearer token-a2", {e["auth"] for e in s["log"]})
        self.assertEqual(s["errors"], [])

    def test_3_failover(self):
        self.a.stop()
        rec.wait_for(lambda: metric(self.b.url, "queuelens_recommender_leader"), lambda v: v == 1,
                     "replica-b leading")
        s = self.api.state()
        lease = s["leases"][0]
        self.assertEqual(lease["spec"]["holderIdentity"], "replica-b")
        self.assertEqual(lease["spec"]["leaseTransitions"], 1)
        # replica-a handed the Lease back when it stopped.
        released = [json.loads(e["body"]) for e in s["log"] if e["method"] == "PUT"
                    and e["auth"] == "Bearer token-a2" and json.loads(e["body"])["spec"]["holderIdentity"] == ""]
        self.assertEqual(len(released), 1)
        self.assertEqual(s["errors"], [])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
