#!/usr/bin/env python3
"""queuelens-sim evaluate and trace as a user runs them: --out is created when missing, an --out
that cannot be created fails at once, before any simulation; --seeds gives a row per policy and
seed; trace writes the same file for the same seed; --scenario takes a shipped name or a file,
and a bad one fails before any simulation; --cpu-actuation names rows and files, and refuses
captain for a policy the Captains cannot run.

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


def trace(*args):
    return subprocess.run([SIM, "trace", *args], capture_output=True, text=True, timeout=60)


class EvaluateCli(unittest.TestCase):
    def test_a_missing_out_directory_is_created(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "report", "nested")
            r = evaluate(out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("hpa_cpu", r.stdout)
            for name in ("constant.csv", "constant-summary.csv", "constant.html"):
                self.assertTrue(os.path.exists(
                    os.path.join(out, "hotel-reservation-" + name)), os.listdir(out))

    def test_an_out_that_cannot_be_made_fails_before_simulating(self):
        with tempfile.TemporaryDirectory() as tmp:
            blocker = os.path.join(tmp, "file")
            open(blocker, "w").close()
            r = evaluate(os.path.join(blocker, "report"))
            self.assertEqual(r.returncode, 1)
            self.assertIn("cannot create --out", r.stderr)
            self.assertNotIn("hpa_cpu", r.stdout)

    def test_seeds_give_a_row_per_policy_and_seed(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = evaluate(tmp, "--seeds", "2", "--seed-base", "4")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("seeds 4..5", r.stdout)
            with open(os.path.join(tmp, "hotel-reservation-constant.csv")) as f:
                rows = f.read().splitlines()[1:]
            self.assertEqual(sorted((row.split(",")[4], row.split(",")[3]) for row in rows),
                             [("hpa_cpu", "4"), ("hpa_cpu", "5"), ("static", "4"), ("static", "5")])
            with open(os.path.join(tmp, "hotel-reservation-constant-summary.csv")) as f:
                self.assertEqual(len(f.read().splitlines()), 3)

    def test_a_cpu_actuation_names_its_rows_and_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = evaluate(tmp, "--policies", "k8s_cpu_fast,hpa_cpu", "--cpu-actuation", "resize")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("CPU via resize", r.stdout)
            with open(os.path.join(tmp, "hotel-reservation-constant-cpu-resize.csv")) as f:
                rows = f.read().splitlines()[1:]
            # hpa_cpu has no CPU channel: its row is the same under every mode.
            self.assertEqual(sorted((row.split(",")[4], row.split(",")[5]) for row in rows),
                             [("hpa_cpu", ""), ("k8s_cpu_fast", "cpu resize")])

    def test_captain_for_another_cpu_policy_fails_before_simulating(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = evaluate(tmp, "--policies", "throttle_target,k8s_cpu", "--cpu-actuation", "captain")
            self.assertEqual(r.returncode, 2)
            self.assertIn("policy k8s_cpu sizes CPU with k8s_cpu", r.stderr)
            self.assertEqual(os.listdir(tmp), [])
            r = evaluate(tmp, "--cpu-actuation", "kubelet")
            self.assertEqual(r.returncode, 2)
            self.assertIn("--cpu-actuation must be", r.stderr)


class TraceCli(unittest.TestCase):
    def test_the_same_seed_writes_the_same_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for name, seed in (("a", "3"), ("b", "3"), ("c", "4")):
                path = os.path.join(tmp, name + ".txt")
                r = trace("--kind", "bursty", "--seed", seed, "--minutes", "5", "--out", path)
                self.assertEqual(r.returncode, 0, r.stderr)
                with open(path) as f:
                    files.append(f.read())
            self.assertEqual(files[0], files[1])
            self.assertNotEqual(files[0], files[2])
            self.assertEqual(len(files[0].splitlines()), 300)

    def test_an_unknown_kind_is_refused(self):
        with tempfile.TemporaryDirectory() as tmp:
            r = trace("--kind", "noisy", "--out", os.path.join(tmp, "x.txt"))
            self.assertEqual(r.returncode, 2)
            self.assertIn("--kind diurnal|bursty|spiky|ramp", r.stderr)


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
