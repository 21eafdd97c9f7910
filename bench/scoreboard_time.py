#!/usr/bin/env python3
"""The whole scoreboard's wall time: every app x bundled trace, every policy, 5 seeds, --tune.

Runs `queuelens-sim evaluate` once per app and trace exactly as the README's scoreboard does
(`--policies all --tune --seeds 5 --warmup-runs 2 --duration 20m --jobs 2`) and prints each cell's
wall time, how many runs it simulated (as evaluate reports them, with the Tower's warm-up runs)
and the simulated hours per wall second, then the total against the goal: the full scoreboard in
at most 60 minutes on a 2-core machine. Cells run one after another; each uses --jobs workers.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

GOAL_MINUTES = 60


def parse_minutes(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(m|h|s)?", text)
    if not m:
        raise ValueError(f"--duration {text}: not a duration such as 20m, 1h or 90s")
    value = float(m.group(1))
    return value * {"s": 1 / 60, "m": 1, "h": 60, None: 1}[m.group(2)]


def count_runs(stderr, warmup_runs):
    """Runs simulated for one cell, as evaluate reports them, and the Tower's warm-up runs."""
    m = re.search(r"evaluate: (\d+) runs simulated", stderr)
    if not m:
        sys.exit("scoreboard_time: evaluate did not report its runs")
    return int(m.group(1)) + warmup_runs


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default=os.path.join(root, "build", "bin"))
    ap.add_argument("--apps", default="hotel-reservation,social-network,train-ticket")
    ap.add_argument("--traces", default="bursty,noisy,diurnal,diurnal-2")
    ap.add_argument("--scenario", default="none")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--warmup-runs", type=int, default=2)
    ap.add_argument("--duration", default="20m", help="trace time per run after the warm-up")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", help="keep each cell's printed board (<app>-<trace>.txt) and its "
                    "CSVs and HTML report here; by default they are discarded")
    args = ap.parse_args()

    sim = os.path.join(args.bin, "queuelens-sim")
    listed = subprocess.run([sim, "policies"], check=True, capture_output=True, text=True).stdout
    # `queuelens-sim policies` prints one policy a line, its name first.
    policies = [line.split()[0] for line in listed.splitlines()
                if line and not line.startswith(" ") and not line.endswith(":")]
    try:
        run_minutes = parse_minutes(args.duration) + 3  # the 3-minute warm-up ramp of every run
    except ValueError as e:
        ap.error(str(e))

    print(f"scoreboard: {len(policies)} policies ({', '.join(policies)}), {args.seeds} seeds, "
          f"--tune, {args.warmup_runs} Tower warm-up runs, {args.duration} of each trace, "
          f"scenario {args.scenario}, --jobs {args.jobs}")
    print(f"{'app':<18} {'trace':<10} {'wall s':>8} {'runs':>5} {'sim h':>7} {'sim s/wall s':>13}")
    total_wall = total_runs = 0
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or scratch
        os.makedirs(out, exist_ok=True)
        for trace in args.traces.split(","):
            for app in args.apps.split(","):
                cmd = [sim, "evaluate", "--app", os.path.join(root, "sim/apps", app + ".yaml"),
                       "--trace", os.path.join(root, "sim/traces", trace + ".txt"),
                       "--policies", "all", "--tune", "--seeds", str(args.seeds),
                       "--warmup-runs", str(args.warmup_runs), "--duration", args.duration,
                       "--scenario", args.scenario, "--jobs", str(args.jobs), "--out", out]
                start = time.monotonic()
                done = subprocess.run(cmd, capture_output=True, text=True)
                wall = time.monotonic() - start
                if done.returncode != 0:
                    sys.stderr.write(done.stderr)
                    sys.exit(f"scoreboard_time: {app} {trace}: evaluate exited {done.returncode}")
                if args.out:
                    with open(os.path.join(out, f"{app}-{trace}.txt"), "w") as f:
                        f.write(done.stdout)
                runs = count_runs(done.stderr, args.warmup_runs)
                sim_hours = runs * run_minutes / 60
                total_wall += wall
                total_runs += runs
                print(f"{app:<18} {trace:<10} {wall:8.1f} {runs:5d} {sim_hours:7.1f} "
                      f"{sim_hours * 3600 / wall:13.1f}", flush=True)
    sim_hours = total_runs * run_minutes / 60
    print(f"{'total':<29} {total_wall:8.1f} {total_runs:5d} {sim_hours:7.1f} "
          f"{sim_hours * 3600 / total_wall:13.1f}")
    # The goal is for the whole scoreboard; a smaller one only reports its time.
    full = all(getattr(args, k) == ap.get_default(k)
               for k in ("apps", "traces", "scenario", "seeds", "warmup_runs", "duration"))
    if not full:
        print(f"partial scoreboard: {total_wall / 60:.1f} min (the {GOAL_MINUTES} min goal is for "
              "the default settings)")
        return
    verdict = "met" if total_wall <= GOAL_MINUTES * 60 else "not met"
    print(f"full scoreboard: {total_wall / 60:.1f} min against the goal of <= {GOAL_MINUTES} min "
          f"({total_wall / 60 / GOAL_MINUTES:.2f}x the goal): {verdict}")


if __name__ == "__main__":
    main()
