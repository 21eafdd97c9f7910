#!/usr/bin/env python3
"""End-to-end test of --kubernetes.pod-deletion-cost: queuelens-recommender with the load_shifting
policy reads an exporter page on which one of shop/cart's three pods is interfered, and PATCHes
every pod's controller.kubernetes.io/pod-deletion-cost annotation on tests/e2e/fake_kube_api.mjs
(which validates the body and the Pod after it): the interfered pod gets the lowest cost, a cost
that did not change is not sent again, and an API that refuses the PATCH (403, as without RBAC
for pods) is counted as failed while the recommender keeps running and sends the cost again once
the API accepts it.

usage: deletion_cost_e2e_test.py RECOMMENDER_BINARY REPO_ROOT
"""
import json
import os
import re
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import kube_actuators_e2e_test as kube  # noqa: E402  (its FakeApi and metric reader)
import recommender_e2e_test as rec  # noqa: E402
from e2e_support import serve_page  # noqa: E402

COST = "controller.kubernetes.io/pod-deletion-cost"
POD_PATCH = re.compile(r"^/api/v1/namespaces/shop/pods/([^/]+)$")
PODS = ("cart-a", "cart-b", "cart-c")


class InterferedExporter:
    """shop/cart on three pods at 100 requests/s each; the pod named in `interfered` waits for a
    CPU half of its runnable time and spends 3x the others' exclusive time per request. cart-c is
    a little slower than cart-b, so the order of the two calm pods is set by latency."""

    def __init__(self):
        self.start = time.monotonic()
        self.interfered = "cart-a"
        self.server, self.url = serve_page(self.page)

    def page(self):
        t = time.monotonic() - self.start + 1000
        svc = 'namespace="shop",service="cart"'
        op = svc + ',operation="GET /cart"'
        lines = ["queuelens_requests_total{%s} %r" % (op, 300 * t),
                 "queuelens_request_duration_seconds_sum{%s} %r" % (op, 3 * t),
                 "queuelens_exclusive_duration_seconds_sum{%s} %r" % (op, 2 * t),
                 "queuelens_queue_length{%s} 1" % svc,
                 "queuelens_uncongested_service_time_seconds{%s} 0.004" % svc]
        for le, share in (("0.01", 0.7), ("0.05", 0.99), ("+Inf", 1)):
            lines.append('queuelens_request_duration_seconds_bucket{%s,le="%s"} %r'
                         % (op, le, 300 * share * t))
        for pod in PODS:
            hot = pod == self.interfered
            exclusive = 0.015 if hot else (0.0055 if pod == "cart-c" else 0.005)
            i = svc + ',instance="%s"' % pod
            lines += ["queuelens_instance_requests_total{%s} %r" % (i, 100 * t),
                      "queuelens_instance_duration_seconds_total{%s} %r" % (i, 100 * exclusive * t),
                      "queuelens_instance_exclusive_seconds_total{%s} %r" % (i, 100 * exclusive * t)]
            c = 'namespace="shop",pod="%s",container="cart"' % pod
            lines += ["queuelens_container_cpu_usage_seconds_total{%s} %r" % (c, 0.5 * t),
                      "queuelens_container_interference_ratio{%s} %s" % (c, "0.5" if hot else "0.02"),
                      "queuelens_container_cpu_limit_cores{%s} 1" % c]
        lines += ['kube_deployment_status_replicas{namespace="shop",deployment="cart"} 3',
                  'kube_deployment_status_replicas_ready{namespace="shop",deployment="cart"} 3']
        return "\n".join(lines) + "\n"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def patches(state):
    return [e for e in state["log"] if e["method"] == "PATCH" and POD_PATCH.match(e["path"])]


def costs(state):
    return {p["metadata"]["name"]: p["metadata"].get("annotations", {}).get(COST)
            for p in state["pods"] if p["metadata"]["name"] in PODS}


class DeletionCost(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.exporter = InterferedExporter()
        cls.api = kube.FakeApi()
        cls.dir = tempfile.TemporaryDirectory()
        token = os.path.join(cls.dir.name, "token")
        with open(token, "w") as f:
            f.write("token-x\n")
        config = os.path.join(cls.dir.name, "config.json")
        with open(config, "w") as f:
            json.dump({"workloads": [{"namespace": "shop", "workload": "cart", "max_replicas": 10,
                                      "replica_policy": "load_shifting"}]}, f)
        cls.p = rec.start_recommender(
            "--exporter.url=" + cls.exporter.url, "--config=" + config, "--interval=200ms",
            "--model.window=2s", "--kubernetes.api-url=" + cls.api.url,
            "--kubernetes.token-file=" + token, "--kubernetes.pod-deletion-cost")

    @classmethod
    def tearDownClass(cls):
        cls.p.stop()
        cls.api.stop()
        cls.exporter.stop()
        cls.dir.cleanup()

    def failed(self):
        return kube.metric(self.p.url, 'queuelens_recommender_deletion_cost_patches_total'
                           '{namespace="shop",result="failed",workload="cart"}')

    def test_1_interfered_pod_gets_the_lowest_cost_once(self):
        s = rec.wait_for(self.api.state, lambda s: None not in costs(s).values(),
                         "every cart pod annotated")
        self.assertEqual(costs(s), {"cart-a": "0", "cart-c": "1", "cart-b": "2"})
        time.sleep(3)  # 15 more passes with the same costs: nothing may be sent again
        s = self.api.state()
        self.assertEqual(s["errors"], [])
        sent = patches(s)
        self.assertEqual(sorted(POD_PATCH.match(e["path"]).group(1) for e in sent), list(PODS))
        for e in sent:
            self.assertEqual(e["contentType"], "application/merge-patch+json")
            self.assertEqual(e["auth"], "Bearer token-x")
            pod = POD_PATCH.match(e["path"]).group(1)
            self.assertEqual(json.loads(e["body"]),
                             {"metadata": {"annotations": {COST: costs(s)[pod]}}})
        self.assertNotIn("other-x", [POD_PATCH.match(e["path"]).group(1) for e in sent])
        self.assertEqual(kube.metric(self.p.url, 'queuelens_recommender_deletion_cost_patches_total'
                                     '{namespace="shop",result="applied",workload="cart"}'), 3)
        self.assertIsNone(self.failed())
        # The same costs on the weights API.
        status, w = rec.get_json(self.p.url + "/api/v1/weights/shop/cart")
        self.assertEqual(status, 200)
        self.assertIn("cart-a", json.dumps(w))
        _, _, text = rec.http("GET", self.p.url + "/metrics")
        self.assertIn("# HELP queuelens_recommender_deletion_cost_patches_total ", text.decode())

    def test_2_refused_patches_are_counted_and_sent_again(self):
        rec.http("POST", self.api.url + "/_test/fault", json.dumps({"podPatch": 403}).encode())
        self.exporter.interfered = "cart-b"  # cart-b must now go first, cart-a last
        rec.wait_for(self.failed, lambda v: v is not None and v >= 4, "refused PATCHes counted")
        self.assertIsNone(self.p.proc.poll(), "the recommender keeps running")
        self.assertEqual(rec.get_json(self.p.url + "/api/v1/recommendations/shop/cart")[0], 200)
        self.assertEqual(kube.metric(self.p.url, 'queuelens_recommender_kube_request_failures_total'
                                     '{operation="pod_deletion_cost",reason="4xx"}'), self.failed())
        self.assertEqual(costs(self.api.state())["cart-a"], "0", "nothing applied while refused")
        refused = len(patches(self.api.state()))
        rec.http("POST", self.api.url + "/_test/fault", json.dumps({"podPatch": None}).encode())
        rec.wait_for(self.api.state, lambda s: costs(s) == {"cart-b": "0", "cart-c": "1",
                                                             "cart-a": "2"},
                     "the new costs applied once the API accepts them")
        settled = len(patches(self.api.state()))
        time.sleep(3)
        s = self.api.state()
        self.assertEqual(s["errors"], [])
        self.assertEqual(len(patches(s)), settled, "settled costs are not sent again")
        # Every PATCH after the fault was accepted and counted so; the last one per pod carries
        # its cost. (While the rate window still mixes the old latencies, the two calm pods may
        # swap places for a pass.)
        self.assertEqual(kube.metric(self.p.url, 'queuelens_recommender_deletion_cost_patches_total'
                                     '{namespace="shop",result="applied",workload="cart"}'),
                         3 + settled - refused)
        last = {}
        for e in patches(s)[refused:]:
            last[POD_PATCH.match(e["path"]).group(1)] = json.loads(e["body"])
        self.assertEqual({k: v["metadata"]["annotations"][COST] for k, v in last.items()
                          if k != "cart-c"}, {"cart-a": "2", "cart-b": "0"})

if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
