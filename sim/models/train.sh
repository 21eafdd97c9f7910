#!/usr/bin/env bash
# Reproduces the DeepScaler models shipped in sim/models/: for each bundled app, simulates the
# training traces (bursty, diurnal) under hpa_cpu and queue_balancing for two seeds each, joins the
# series of both traces into one file (runs renumbered) and trains with queuelens-train.
# noisy and diurnal-2 are never trained on: they are the evaluation's test traces.
#
#   sim/models/train.sh [BUILD_DIR] [WORK_DIR] [APP ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
work=${2:-$(mktemp -d)}
shift $(( $# > 2 ? 2 : $# ))
apps=("$@")
[ ${#apps[@]} -gt 0 ] || apps=(hotel-reservation social-network train-ticket)
traces=(bursty diurnal)
mkdir -p "$work"
for app in "${apps[@]}"; do
  for trace in "${traces[@]}"; do
    "$build/bin/queuelens-sim" dataset --app "sim/apps/$app.yaml" --trace "sim/traces/$trace.txt" \
      --policies hpa_cpu,queue_balancing --seeds 2 --seed 1 --out "$work" >/dev/null
  done
  # One series file: each trace's runs numbered after the previous trace's.
  first=1
  : > "$work/$app-train-series.csv"
  base=0
  for trace in "${traces[@]}"; do
    awk -F, -v OFS=, -v base="$base" -v header="$first" \
      'NR == 1 { if (header) print; next } { $1 += base; print }' \
      "$work/$app-$trace-series.csv" >> "$work/$app-train-series.csv"
    base=$(( base + $(tail -n +2 "$work/$app-$trace-series.csv" | cut -d, -f1 | sort -un | wc -l) ))
    first=0
  done
  # The call graph is the app's: both traces' edge files have the same edges, in proportion.
  cp "$work/$app-bursty-edges.csv" "$work/$app-train-edges.csv"
  /usr/bin/time -f "$app: trained in %e s" "$build/bin/queuelens-train" \
    --series "$work/$app-train-series.csv" --edges "$work/$app-train-edges.csv" \
    --steps 15 --out "sim/models/$app.model"
done
