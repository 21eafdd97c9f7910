#!/usr/bin/env python3
"""queuelens-sim evaluate as a user runs it: --out is created when missing, and an --out that
cannot be created fails at once, before any simulation.

usage: cli_test.py QUEUELENS_SIM REPO_ROOT
"""
import os
import subprocess
import sys
import tempfile
import unittest

SIM, ROOT = sys.argv[1], sys.argv[2]
APP = os.path.join(ROOT, "sim", "apps", "hotel-reservation.yaml")


def evaluate(out):
    return subprocess.run(
        [SIM, "evaluate", "--app", APP, "--trace", "constant", "--policies", "static,hpa_cpu",
         "--warmup", "10s", "--duration", "20s", "--out", out],
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


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1], verbosity=2)
