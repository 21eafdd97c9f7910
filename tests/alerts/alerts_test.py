#!/usr/bin/env python3
"""Checks alerts/: `promtool check rules` on every rules file, `promtool test rules` on every unit
test file, and the conventions operators rely on — each alert tested both firing and not firing,
severity and runbook on each alert, level:metric:operations names, only known metrics.

usage: alerts_test.py REPO_ROOT
"""
import glob
import os
import re
import shutil
import subprocess
import sys
import unittest

import yaml

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
sys.path.insert(0, os.path.join(ROOT, "tests"))

import metric_catalog  # noqa: E402

ALERTS = os.path.join(ROOT, "alerts")
RULE_FILES = sorted(glob.glob(os.path.join(ALERTS, "*.rules.yml")))
TEST_FILES = sorted(glob.glob(os.path.join(ALERTS, "tests", "*.test.yml")))
RECORD_NAME = re.compile(r"^(?P<level>[a-z]+(?:_[a-z]+)*):(?P<metric>[a-z][a-z0-9_]*)"
                         r":(?P<ops>[a-z][a-z0-9_]*)$")


def load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def rules():
    for path in RULE_FILES:
        for group in load(path)["groups"]:
            for rule in group["rules"]:
                yield os.path.basename(path), rule


def promtool(*args):
    exe = shutil.which("promtool")
    if exe is None:
        raise AssertionError("promtool (Debian package prometheus) is not on PATH")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, cwd=ROOT)


class AlertsTest(unittest.TestCase):
    def test_files_exist(self):
        self.assertTrue(RULE_FILES)
        self.assertTrue(TEST_FILES)

    def test_promtool_check_rules(self):
        r = promtool("check", "rules", *RULE_FILES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_promtool_test_rules(self):
        r = promtool("test", "rules", *TEST_FILES)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_every_rules_file_is_unit_tested(self):
        loaded = set()
        for path in TEST_FILES:
            for f in load(path)["rule_files"]:
                loaded.add(os.path.normpath(os.path.join(os.path.dirname(path), f)))
        self.assertEqual(loaded, set(RULE_FILES))

    def test_every_alert_is_tested_firing_and_not_firing(self):
        firing, quiet = set(), set()
        for path in TEST_FILES:
            for case in load(path)["tests"]:
                for t in case.get("alert_rule_test", []):
                    (firing if t.get("exp_alerts") else quiet).add(t["alertname"])
        for _, rule in rules():
            if "alert" in rule:
                with self.subTest(alert=rule["alert"]):
                    self.assertIn(rule["alert"], firing, "no test expects it to fire")
                    self.assertIn(rule["alert"], quiet, "no test expects it to stay quiet")

    def test_every_alert_has_severity_summary_and_runbook(self):
        for _, rule in rules():
            if "alert" not in rule:
                continue
            with self.subTest(alert=rule["alert"]):
                self.assertRegex(rule["alert"], r"^Queuelens[A-Z][A-Za-z]+$")
                self.assertIn(rule["labels"].get("severity"), {"warning", "critical"})
                annotations = rule["annotations"]
                for key in ("summary", "description", "runbook"):
                    self.assertTrue(annotations.get(key, "").strip(), key + " is missing")
                self.assertNotIn("\n", annotations["runbook"].strip(), "a runbook is one line")
                self.assertIn("for", rule, "an alert without `for` fires on a single blip")

    def test_recording_rule_names(self):
        for _, rule in rules():
            if "record" not in rule:
                continue
            with self.subTest(record=rule["record"]):
                m = RECORD_NAME.match(rule["record"])
                self.assertIsNotNone(m, "want level:metric:operations")
                self.assertRegex(m.group("metric"), r"^(queuelens|kube)_")
                if "rate" in m.group("ops"):
                    self.assertFalse(m.group("metric").endswith("_total"),
                                     "_total is dropped from a rated counter's name")
                labels = set(m.group("level").split("_"))
                by = re.search(r"^\s*(?:sum|max|min|avg) by \(([^)]*)\)", rule["expr"])
                if by:
                    aggregated = {l.strip() for l in by.group(1).split(",")}
                    self.assertEqual(labels, aggregated, "the level names the labels kept")

    def test_rules_use_only_known_metrics(self):
        known = metric_catalog.known_names(ROOT)
        for name, rule in rules():
            with self.subTest(rule=rule.get("record") or rule.get("alert"), file=name):
                self.assertEqual(metric_catalog.unknown_metrics(rule["expr"], known), [])


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
