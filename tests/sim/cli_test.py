#!/usr/bin/env python3
"""queuelens-sim evaluate as a user runs it: --out is created when missing, and an --out that
cannot be created fails at once, before any simulation; --scenario takes a shipped name or a
file, and a bad one fails before any simulation.

usage: cli_test.py QUEUELENS_SIM REPO_ROOT
"""
import os
import subprocess
import sys
import tempfile
import unittest

SIM, ROOT = sys.argv[1], sys.argv[2]
APP = os.path.join(ROOT, "sim", "apps", "hotel-reservation.yaml")


def evaluate(out, *extra):
    return subprocess.run(
        [SIM, "evaluate", "--app", APP, "--trace", "constant", "--policies", "static,hpa_cpu",
         "--warmup", "10s", "--duration", "20s", "--out", out, *extra],
        capture_output=True, text=True, timeout=120)


class EvaluateCli(unittest.TestCase):
    def test_a_missing_out_directory_is_created(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "report", "nested")
            r = evaluate(out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("hpa_cpu", r.stdout)
            for ext in ("csv", "html"):
                self.assertTrue(os.path.exists(
                    os.path.join(out, "hotel-reservation-constant.%s" % ext)), os.listdir(out))

    def test_an_out_that_cannot_be_made_fails_before_simulating(self):
        with tempfile.TemporaryDirectory() as tmp:
            blocker = os.path.join(tmp, "file")
            open(blocker, "w").close()
            r = evaluate(os.path.join(blocker, "report"))
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot create --out", r.stderr)
            self.assertNotIn("hpa_cpu", r.stdout)


class ScenarioCli(unittest.TestCase):
    def test_a_shipped_scenario_is_found_by_name(self):
        r = subprocess.run(
            [SIM, "run", "--app", APP, "--trace", "constant", "--policy", "static",
             "--warmup", "10s", "--duration", "20s", "--scenario", "rolling"],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("scenario rolling", r.stdout)

    def test_an_unknown_scenario_fails(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = evaluate(tmp, "--scenario", "no-such-scenario")
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot read scenario", r.stderr)

    def test_a_scenario_on_a_node_the_app_lacks_fails_before_simulating(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "far.yaml")
            with open(path, "w") as f:
                f.write("name: far\nantagonists:\n"
                        "  - {kind: cpu, node: 9, on: 1m, off: 1m, threads: 4}\n")
            r = evaluate(tmp, "--scenario", path)
            self.assertEqual(r.returncode, 1)
            self.assertIn("antagonists[0].node", r.stderr)
            self.assertNotIn("hpa_cpu", r.stdout)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
