#!/usr/bin/env python3
"""End to end through a real Prometheus (Debian's package): queuelens-sim --live drives the real
exporter and recommender binaries (scripts/stack.py), Prometheus scrapes them and the simulator's
kube-state-metrics stand-in with the rules of alerts/ loaded, and the test checks that

- every recording rule produces series,
- an alert made to fire fires (QueuelensExporterDown, on an extra target nobody listens on) and
  does not fire for the exporter that is up,
- the KEDA prometheus-trigger queries of deploy/overlays/keda return exactly one sample,
- every Grafana panel query of dashboards/ parses and returns series.

The rules are loaded with every `for:` shortened to 0s so that alerts fire within the test; the
expressions are the files' own.

usage: prometheus_e2e_test.py REPO_ROOT [BIN_DIR]
"""
import functools
import os
import re
import shutil
import sys
import tempfile
import unittest

import yaml

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
BIN_DIR = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "build", "bin"))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, os.path.join(ROOT, "tests", "dashboards"))
import panel_queries  # noqa: E402
import stack  # noqa: E402
import e2e_support  # noqa: E402

DEADLINE_S = 90
wait_for = functools.partial(e2e_support.wait_for, deadline_s=DEADLINE_S, interval_s=1)
RULE_FILES = ("exporter.rules.yml", "recommender.rules.yml")


def shortened_rules(directory):
    """alerts/*.rules.yml with `for:` removed, written to `directory`; returns the paths."""
    paths = []
    for name in RULE_FILES:
        with open(os.path.join(ROOT, "alerts", name)) as f:
            doc = yaml.safe_load(f)
        for group in doc["groups"]:
            for rule in group["rules"]:
                rule.pop("for", None)
        path = os.path.join(directory, name)
        with open(path, "w") as f:
            yaml.safe_dump(doc, f)
        paths.append(path)
    return paths


class PrometheusEndToEnd(unittest.TestCase):
    maxDiff = None
    @classmethod
    def setUpClass(cls):
        # A required dependency (make test installs it): absent means failed, not skipped.
        if not shutil.which("prometheus"):
            raise AssertionError("prometheus is not on PATH: run scripts/install-deps.sh all")
        cls.dir = tempfile.mkdtemp(prefix="prometheus_e2e_")
        cls.dead_port = stack.free_port()  # nothing listens here
        cls.stack = stack.Stack(
            cls.dir, bin_dir=BIN_DIR, speed=10, scrape_interval="1s", rule_interval="1s",
            rule_files=shortened_rules(cls.dir),
            extra_jobs={"queuelens-exporter-unreachable": cls.dead_port})
        try:
            cls.stack.start()
            # Scrapes of every live target, and enough of them for rate()s over 1m.
            wait_for(lambda: cls.stack.query('sum(up{job!="queuelens-exporter-unreachable"})'),
                     lambda r: r and float(r[0]["value"][1]) == 3, "three targets up")
            wait_for(lambda: cls.stack.query("namespace_service:queuelens_requests:rate1m"),
                     lambda r: len(r) > 0, "request rates recorded")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        codes = cls.stack.stop()
        logs = {p: cls.stack_log(p) for p in codes}
        shutil.rmtree(cls.dir, ignore_errors=True)
        bad = {k: v for k, v in codes.items() if v != 0}
        if bad:
            raise AssertionError("exit codes %r\n%s" % (bad, "\n".join(
                "--- %s\n%s" % (k, logs[k][-3000:]) for k in bad)))

    @classmethod
    def stack_log(cls, name):
        path = os.path.join(cls.dir, name + ".log")
        if not os.path.exists(path):
            return ""
        with open(path, errors="replace") as f:
            return f.read()

    def rule_names(self):
        names = []
        for name in RULE_FILES:
            with open(os.path.join(ROOT, "alerts", name)) as f:
                for group in yaml.safe_load(f)["groups"]:
                    names += [r["record"] for r in group["rules"] if "record" in r]
        return sorted(set(names))

    def test_every_recording_rule_produces_series(self):
        missing = []
        for record in self.rule_names():
            try:
                wait_for(lambda: self.stack.query(record), lambda r: len(r) > 0, record,
                         deadline_s=30)
            except AssertionError:
                missing.append(record)
        self.assertEqual(missing, [], "recording rules without series")

    def test_an_alert_made_to_fire_fires_and_only_for_the_down_target(self):
        firing = wait_for(
            lambda: self.stack.query('ALERTS{alertname="QueuelensExporterDown",'
                                     'alertstate="firing"}'),
            lambda r: len(r) > 0, "QueuelensExporterDown firing")
        self.assertEqual([a["metric"]["instance"] for a in firing],
                         ["127.0.0.1:%d" % self.dead_port])
        self.assertIn(firing[0]["metric"]["severity"], ("warning", "critical"))

    def test_keda_prometheus_trigger_query_returns_one_sample(self):
        with open(os.path.join(ROOT, "deploy", "overlays", "keda", "scaledobjects.yaml")) as f:
            objects = [o for o in yaml.safe_load_all(f) if o]
        triggers = [t for o in objects for t in o["spec"]["triggers"] if t["type"] == "prometheus"]
        self.assertTrue(triggers, "the keda overlay has a prometheus trigger")
        for t in triggers:
            # The overlay scales the cluster's hotel-reservation namespace; the simulated app
            # runs in its own, so only the namespace is swapped.
            query = re.sub(r'namespace="[^"]*"', 'namespace="%s"' % self.stack.namespace,
                           t["metadata"]["query"])
            with self.subTest(query=query):
                result = wait_for(lambda: self.stack.query(query), lambda r: len(r) > 0, query)
                self.assertEqual(len(result), 1, result)
                self.assertGreaterEqual(float(result[0]["value"][1]), 1)

    def test_every_dashboard_query_returns_series(self):
        entries = panel_queries.queries(os.path.join(ROOT, "dashboards"))
        self.assertTrue(entries)
        empty = []
        for e in entries:
            where = "%s / %s" % (e["dashboard"], e.get("panel") or e.get("variable"))
            try:
                wait_for(lambda: self.stack.query(e["expr"]), lambda r: len(r) > 0, where,
                         deadline_s=20)
            except AssertionError:
                empty.append("%s: %s" % (where, e["expr"]))
        self.assertEqual(empty, [], "dashboard queries that return no series")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
