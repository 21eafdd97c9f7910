#!/usr/bin/env bash
# Builds the release preset, runs every *_bench binary with repetitions, keeps the JSON and console
# output in bench-out/, and prints each measure next to the peer measured in the same run. Rows
# named "<measure>/queuelens" are paired with every "<measure>/<peer>" row of the same binary.
#
# Environment: BUILD_DIR (default build), OUT_DIR (default bench-out), REPETITIONS (default 5),
# JOBS (parallel build jobs, default 2), BENCHES (a glob of binaries without _bench, default *:
# BENCHES=sim runs sim_bench only; BENCHES=scoreboard times the whole multi-seed scoreboard, about
# 50 minutes, bench/scoreboard_time.py).
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
out_dir=${OUT_DIR:-bench-out}
repetitions=${REPETITIONS:-5}
jobs=${JOBS:-2}

command -v python3 >/dev/null || { echo "bench.sh: python3 is needed for the summary" >&2; exit 1; }

cmake --preset release -B "$build_dir" >/dev/null
cmake --build "$build_dir" --parallel "$jobs"

mkdir -p "$out_dir"
shopt -s nullglob
benches=("$build_dir"/bin/${BENCHES:-*}_bench)
# keda_push: bench/keda_push_latency.py, a script over the real binaries (below).
if ((${#benches[@]} == 0)) && [[ keda_push != ${BENCHES:-*} && scoreboard != ${BENCHES:-*} ]]; then
  echo "bench.sh: no *_bench binaries in $build_dir/bin" >&2
  exit 1
fi

for bin in "${benches[@]}"; do
  name=$(basename "$bin")
  echo "== $name" >&2
  # Interleaved repetitions: load from elsewhere on the machine hits both sides of a pair alike.
  "$bin" --benchmark_repetitions="$repetitions" --benchmark_report_aggregates_only=true \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="$out_dir/$name.json" --benchmark_out_format=json | tee "$out_dir/$name.txt"
done

# Load step -> KEDA-visible change through the external-push stream versus a 15 s metrics-api
# poll, with the real exporter and recommender on loopback; it prints its own medians.
if [[ keda_push == ${BENCHES:-*} ]]; then
  echo "== keda_push_latency" >&2
  python3 bench/keda_push_latency.py --bin "$build_dir/bin" | tee "$out_dir/keda_push_latency.txt"
fi

# The scoreboard's goal: every app x bundled trace x policy x 5 seeds in <= 60 minutes.
if [[ scoreboard == ${BENCHES:-*} ]]; then
  echo "== scoreboard_time" >&2
  python3 bench/scoreboard_time.py --bin "$build_dir/bin" | tee "$out_dir/scoreboard_time.txt"
fi

python3 - "$out_dir" "$repetitions" <<'EOF'
import glob
import json
import os
import sys

out_dir, repetitions = sys.argv[1], sys.argv[2]
medians = {}  # by benchmark name, without the /iterations:N, /process_time, /real_time parts
for path in sorted(glob.glob(os.path.join(out_dir, "*_bench.json"))):
    with open(path) as f:
        for b in json.load(f)["benchmarks"]:
            if b.get("aggregate_name") != "median":
                continue
            parts = b["run_name"].split("/")
            b["wall_clock"] = "real_time" in parts
            name = "/".join(p for p in parts if p not in ("real_time", "process_time")
                            and not p.startswith("iterations:"))
            medians[name] = b


def value(run, field):
    b = medians.get(run)
    return None if b is None else b.get(field)


def time_ms(run, field=None):
    """CPU time (wall-clock time for rows timed on it, unless `field` says), in milliseconds."""
    b = medians.get(run)
    if b is None:
        return None
    field = field or ("real_time" if b["wall_clock"] else "cpu_time")
    return b[field] * {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b["time_unit"]]


rows = []


def row(measure, ours, unit, peer_name="", peer=None, compare="", goal="", fmt="{:.3g}"):
    """compare: "faster" or "smaller" (peer / ours), "share" (ours / peer), "" for no peer."""
    if ours is None:
        return
    text = lambda v: "-" if v is None else f"{fmt.format(v)} {unit}".strip()
    if peer is None or not ours or not peer:
        ratio = ""
    elif compare == "share":
        ratio = f"{ours / peer:.0%} of it"
    else:
        ratio = f"{peer / ours:.1f}x {compare}"
    rows.append((measure, text(ours), peer_name, text(peer) if peer_name else "", ratio, goal))


for fmt, goal in (("jaeger", ">= 1.0 M/s"), ("otlp-json", ">= 0.6 M/s"),
                  ("otlp-proto", ">= 1.0 M/s")):
    full = value(f"ingest/pipeline/{fmt}", "items_per_second")
    parse = value(f"ingest/parse/{fmt}", "items_per_second")
    row(f"ingest {fmt} (parse+assemble+aggregate)", full and full / 1e6, "M spans/s",
        "parse only, same bytes", parse and parse / 1e6, "share", goal)
for fmt in ("jaeger", "otlp-json", "otlp-proto"):
    row(f"ingest {fmt}: heap allocations per span",
        value(f"ingest/pipeline/{fmt}", "allocs_per_span"), "", goal="~0", fmt="{:.2g}")

row("memory per operation series", value("memory/series", "operation_series_bytes"), "B",
    "prometheus-cpp, same series", value("memory/series", "prometheus_cpp_operation_series_bytes"),
    "smaller", "<= 4096 B", "{:.0f}")
row("memory per service (+ 1 operation, 1 pod)", value("memory/series", "service_series_bytes"),
    "B", fmt="{:.0f}")

# Pairs by name: "<measure>/queuelens" against each "<measure>/<peer>" of the same run. Rows timed
# on the wall clock also show the process's CPU time; the goal applies to the first line.
goals = {"metrics/serialize": "<= 8 ms", "metrics/handler": "<= 50 ms", "metrics/http": "<= 50 ms"}
for name in sorted(medians):
    measure, _, side = name.rpartition("/")
    if side != "queuelens" or measure.startswith("http"):
        continue
    b = medians[name]
    label = measure + (f" ({b['series']:.0f} series)" if "series" in b else "")
    clocks = [("real_time", ", wall"), ("cpu_time", ", process CPU")] if b["wall_clock"] else [
        ("cpu_time", "")]
    for peer_name in sorted(medians):
        peer_measure, _, peer = peer_name.rpartition("/")
        if peer_measure != measure or peer == "queuelens":
            continue
        for i, (field, clock) in enumerate(clocks):
            row(label + clock, time_ms(name, field), "ms", peer, time_ms(peer_name, field),
                "faster", goals.get(measure, "") if i == 0 else "")

# HTTP listeners under closed-loop load (4 clients, 1 s windows), with 0 and 1000 idle connections
# held open; the peers are the servers queuelens replaced (http_bench.cc says which).
for proto, peer in (("http", "civetweb"), ("http-keepalive", ""), ("https", "cpp-httplib")):
    for idle in ("0", "1000"):
        run = f"{proto}/idle-{idle}"
        peer_run = f"{run}/{peer}" if peer else ""
        goal = "" if idle == "0" else ("p99 <= 2000 ms" if proto == "https" else "p99 <= 1000 ms")
        row(f"{proto}, {idle} idle connections: requests/s", value(f"{run}/queuelens",
            "requests_per_second"), "/s", peer, value(peer_run, "requests_per_second"), "",
            fmt="{:.0f}")
        row(f"{proto}, {idle} idle connections: p99 latency", value(f"{run}/queuelens", "p99_ms"),
            "ms", peer, value(peer_run, "p99_ms"), "faster", goal)
        row(f"{proto}, {idle} idle connections: failed or over 2 s",
            value(f"{run}/queuelens", "failed"), "", peer, value(peer_run, "failed"), "",
            fmt="{:.0f}")


def ns(run):
    t = time_ms(run)
    return None if t is None else t * 1e6


row("sketch insert into a 60 s window", ns("BM_Insert_WindowedSketch"), "ns",
    "prometheus-cpp Summary", ns("BM_Insert_PromSummary"), "faster", "<= 10 ns")
row("sketch 60 s window memory", value("BM_Memory60sWindow", "sketch_window_bytes"), "B",
    "prometheus-cpp Summary", value("BM_Memory60sWindow", "prom_summary_bytes"), "smaller",
    "<= 4096 B", "{:.0f}")

# Kernel collection, 1000 containers x 10 threads. ran:10 = every thread of every container ran
# since the last collection, so every thread's schedstat is read; ran:2 = two busy workers per
# container ran; ran:0 = none did.
for tree, run in (("generated tree", "BM_KernelCollect"), ("real cgroups", "BM_KernelCollectRealCgroups")):
    for ran, label in (("10", "all threads ran"), ("2", "2 of 10 threads ran"), ("0", "all idle")):
        ours = time_ms(f"{run}/reopen:0/ran:{ran}")
        row(f"kernel collection, {tree}, {label} (kept descriptors)", ours, "ms",
            "open/read/close each file", time_ms(f"{run}/reopen:1/ran:{ran}"), "faster",
            "<= 15 ms" if ran == "10" else "")
        # ms per collection of 1000 containers at 1 Hz = microcores per container.
        row(f"kernel CPU per container at 1 Hz, {tree}, {label}", ours, "ucores",
            "cAdvisor (published, performance.md K7)", 2400.0, "smaller", ">= 100x smaller")
# Real single-process containers: one taskstats query per process (--kernel.taskstats) against a
# schedstat read per thread over the same processes.
for ran, label in (("10", "all threads ran"), ("2", "2 of 10 threads ran"), ("0", "all idle")):
    ours = time_ms(f"BM_KernelCollectRealProcesses/taskstats:1/ran:{ran}")
    row(f"kernel collection, real processes, {label} (taskstats)", ours, "ms",
        "schedstat per thread, same processes",
        time_ms(f"BM_KernelCollectRealProcesses/taskstats:0/ran:{ran}"), "faster",
        "<= 15 ms" if ran == "10" else "")
    row(f"kernel CPU per container at 1 Hz, real processes, {label} (taskstats)", ours, "ucores",
        "cAdvisor (published, performance.md K7)", 2400.0, "smaller", ">= 100x smaller")
# The floor under the goal's case: one pread of each file that collection reads, nothing else;
# under it, as many empty system calls.
for tree, run, floor in (("generated tree", "BM_KernelCollect", "BM_KernelBarePreads"),
                         ("real cgroups", "BM_KernelCollectRealCgroups",
                          "BM_KernelBarePreadsRealCgroups")):
    row(f"kernel collection, {tree}, all threads ran", time_ms(f"{run}/reopen:0/ran:10"), "ms",
        f"bare pread of its {value(floor, 'files') or 0:.0f} files", time_ms(floor), "share")
row("kernel: as many empty system calls (getppid)", time_ms("BM_KernelSyscallFloor"), "ms")
row("kernel: one Captain tick (cpu.stat and limit of 1000 containers)",
    time_ms("BM_KernelCaptainTick"), "ms")
row("kernel collection + state + snapshot, generated tree, all threads ran",
    time_ms("BM_KernelCollectApplySnapshot"), "ms")

row("recommendation pass, 500 workloads (policies + safety)", time_ms("BM_RecommendationPass"),
    "ms", goal="<= 5 ms")
row("recommender: 500 workloads fed from one scrape round", time_ms("BM_FeedAndSignals"), "ms")
row("recommender: parse and track one exporter scrape", time_ms("BM_ScrapeRound"), "ms")

# The closed loop (simulation + exporter + scrape + recommender) beside the simulation alone, both
# from the same run; "share" is how much of the closed loop's speed the simulation alone leaves.
closed, open_ = "sim/closed_loop", "sim/open_loop"
wall = time_ms(closed)
open_wall = time_ms(open_)
row("sim closed loop: 1 h hotel-reservation x10 bursty", wall and wall / 1e3, "s wall",
    "open loop (simulation alone)", open_wall and open_wall / 1e3, "share", "<= 13.5 s")
for field, label, goal in (("simulated_per_wall_second", "simulated seconds per wall second",
                            ">= 280x"),
                           ("simulated_per_cpu_second", "simulated seconds per CPU second", ""),
                           ("events_per_second", "events per wall second", ""),
                           ("events_per_cpu_second", "events per CPU second", "")):
    ours, peer = value(closed, field), value(open_, field)
    if "events" in field:  # in millions
        ours, peer = ours and ours / 1e6, peer and peer / 1e6
    row(f"sim closed loop: {label}", ours, "x" if "simulated" in field else "M/s",
        "open loop (simulation alone)", peer, "share", goal, "{:.4g}")
spans = value(closed, "spans_per_second")
row("sim closed loop: spans through the exporter per wall second", spans and spans / 1e6, "M/s",
    fmt="{:.4g}")

print(f"\nSummary: medians of {repetitions} repetitions, CPU time unless marked wall"
      f" (full output in {out_dir}/)")
header = ("measure", "queuelens", "peer (same run)", "peer", "ratio", "goal")
widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
for r in [header] + rows:
    print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
EOF
