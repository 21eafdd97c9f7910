#!/usr/bin/env bash
# Builds the libFuzzer targets (CMake preset fuzz: clang, ASan, UBSan) and fuzzes each for
# FUZZ_SECONDS (default 60), FUZZ_JOBS (default 1) at a time, starting from its corpus and
# regressions in tests/fuzz/. Prints one line per target: executions, coverage, crashes. New
# corpus units stay in build-fuzz/tests/fuzz/work/<target>, crash reproducers and logs in
# build-fuzz/tests/fuzz/{crashes,logs}/<target>. Exits non-zero when a target crashed.
# Usage: scripts/fuzz.sh [target...]   (default: every target, e.g. otlp_proto prometheus_text)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-1}
build=build-fuzz
src=tests/fuzz
out=$build/tests/fuzz

[ -f $build/build.ninja ] || cmake --preset fuzz >/dev/null
cmake --build --preset fuzz

if (($# > 0)); then
  targets=("$@")
else
  targets=()
  for bin in "$build"/bin/fuzz_*; do targets+=("${bin##*/fuzz_}"); done
fi

run() {
  local t=$1
  local bin=$build/bin/fuzz_$t
  [ -x "$bin" ] || { echo "$t: no binary $bin" >&2; return 1; }
  mkdir -p "$out/work/$t" "$out/crashes/$t" "$out/logs"
  local dirs=("$out/work/$t" "$src/corpus/$t")
  if [ -n "$(ls -A "$src/regressions/$t" 2>/dev/null)" ]; then dirs+=("$src/regressions/$t"); fi
  local opts=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$out/crashes/$t/")
  [ -f "$src/dicts/$t.dict" ] && opts+=(-dict="$src/dicts/$t.dict")
  local log=$out/logs/$t.log
  local rc=0
  "$bin" "${opts[@]}" "${dirs[@]}" >"$log" 2>&1 || rc=$?
  # libFuzzer's final statistics and its last status line ("#N DONE cov: C ft: F corp: ...").
  local execs rate cov ft
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
  local crashes=0
  if ((rc != 0)); then crashes=1; fi
  printf '%-18s execs %10s (%6s/s)  cov %5s  ft %6s  crashes %d%s\n' "$t" "${execs:-?}" \
    "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes" \
    "$( ((rc != 0)) && echo "  (exit $rc; see $log)")"
  return "$rc"
}

failed=0
running=0
for t in "${targets[@]}"; do
  if ((running >= jobs)); then
    wait -n || failed=1
    running=$((running - 1))
  fi
  run "$t" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed
