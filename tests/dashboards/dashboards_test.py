#!/usr/bin/env python3
"""Checks the Grafana dashboards in dashboards/: the classic JSON model Grafana provisions, the
template variables operators filter by, and every panel query — parsed by promtool (as recording
rules from panel_queries.py) and checked to use only metrics queuelens serves or records.

usage: dashboards_test.py REPO_ROOT
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "dashboards"))

import metric_catalog  # noqa: E402
import panel_queries  # noqa: E402

DASHBOARDS = os.path.join(ROOT, "dashboards")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
PANEL_TYPES = {"row", "timeseries", "stat", "table", "gauge", "bargauge", "heatmap",
               "state-timeline", "text"}
# Each dashboard filters by namespace and by the unit its panels are about.
UNIT_VARIABLES = {"service", "workload", "pod"}


class DashboardsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dashboards = panel_queries.load_dashboards(DASHBOARDS)

    def test_there_are_dashboards_for_services_nodes_and_the_recommender(self):
        uids = {d["uid"] for _, d in self.dashboards}
        self.assertEqual(uids, {"queuelens-services", "queuelens-nodes-containers",
                                "queuelens-recommender"})

    def test_classic_model(self):
        for path, d in self.dashboards:
            with self.subTest(dashboard=os.path.basename(path)):
                for key in ("uid", "title", "schemaVersion", "panels", "templating", "time"):
                    self.assertIn(key, d)
                self.assertNotIn("id", d, "a provisioned dashboard must not carry a database id")
                self.assertLessEqual(len(d["uid"]), 40, "Grafana limits uids to 40 characters")
                ids = [p["id"] for p in panel_queries.panels(d)]
                self.assertEqual(len(ids), len(set(ids)), "panel ids must be unique")
                for p in panel_queries.panels(d):
                    self.assertIn(p["type"], PANEL_TYPES)
                    self.assertTrue(p.get("title"), "every panel has a title")

    def test_panels_tile_the_24_column_grid_without_overlap(self):
        for path, d in self.dashboards:
            taken = set()
            for p in panel_queries.panels(d):
                g = p["gridPos"]
                with self.subTest(dashboard=os.path.basename(path), panel=p["title"]):
                    self.assertGreaterEqual(g["x"], 0)
                    self.assertLessEqual(g["x"] + g["w"], 24)
                    cells = {(x, y) for x in range(g["x"], g["x"] + g["w"])
                             for y in range(g["y"], g["y"] + g["h"])}
                    self.assertFalse(cells & taken, "overlaps another panel")
                    taken |= cells

    def test_template_variables(self):
        for path, d in self.dashboards:
            with self.subTest(dashboard=os.path.basename(path)):
                variables = {v["name"]: v for v in d["templating"]["list"]}
                ds = variables.get("datasource")
                self.assertIsNotNone(ds, "a datasource variable lets the sidecar's default or "
                                     "any other Prometheus be chosen")
                self.assertEqual((ds["type"], ds["query"]), ("datasource", "prometheus"))
                self.assertIn("namespace", variables)
                self.assertTrue(UNIT_VARIABLES & variables.keys(),
                                "needs one of " + ", ".join(sorted(UNIT_VARIABLES)))
                for v in variables.values():
                    if v["type"] == "query":
                        self.assertEqual(v["datasource"], DATASOURCE)
                        self.assertRegex(panel_queries.variable_query(v), r"^label_values\(")

    def test_every_panel_queries_through_the_datasource_variable(self):
        for path, d in self.dashboards:
            for p in panel_queries.panels(d):
                if p["type"] == "row":
                    continue
                with self.subTest(dashboard=os.path.basename(path), panel=p["title"]):
                    self.assertEqual(p.get("datasource"), DATASOURCE)
                    self.assertTrue(p.get("targets"), "a panel without a query shows nothing")
                    for t in p["targets"]:
                        self.assertEqual(t.get("datasource", DATASOURCE), DATASOURCE)
                        self.assertTrue(t.get("expr", "").strip())
                    ref_ids = [t["refId"] for t in p["targets"]]
                    self.assertEqual(len(ref_ids), len(set(ref_ids)))

    def test_queries_use_only_known_metrics(self):
        known = metric_catalog.known_names(ROOT)
        for q in panel_queries.queries(DASHBOARDS):
            with self.subTest(dashboard=q["dashboard"], query=q.get("panel", q.get("variable"))):
                self.assertEqual(metric_catalog.unknown_metrics(q["expr"], known), [])

    def test_every_variable_is_replaced(self):
        for q in panel_queries.queries(DASHBOARDS):
            with self.subTest(dashboard=q["dashboard"], query=q.get("panel", q.get("variable"))):
                leftover = panel_queries._VARIABLE.findall(q["expr"])
                self.assertEqual(leftover, [], "unknown Grafana variable in " + q["expr"])

    def test_promtool_parses_every_panel_query(self):
        promtool = shutil.which("promtool")
        self.assertIsNotNone(promtool, "promtool (Debian package prometheus) is not on PATH")
        entries = panel_queries.queries(DASHBOARDS)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "panel_queries.rules.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(panel_queries.rules_document(entries), f)
            r = subprocess.run([promtool, "check", "rules", path], capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            panel_count = sum(1 for e in entries if "panel" in e)
            self.assertIn("SUCCESS: %d rules found" % panel_count, r.stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
