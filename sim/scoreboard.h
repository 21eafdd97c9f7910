#pragma once

#include <string>
#include <vector>

#include "sim/run.h"

namespace sim {

// Every policy's run on one app and one trace, with the same arrivals.
struct Scoreboard {
  std::string app;
  std::string trace;
  uint64_t seed = 0;
  double slo = 0;                  // seconds
  std::vector<RunResult> runs;     // in policy order
  std::vector<std::string> notes;  // e.g. a tuned baseline that met the SLO with no target

  // The run of kBaselinePolicy, or nullptr when it was not run.
  const RunResult* Baseline() const;
};

// The table as `queuelens-sim evaluate` prints it: one row per policy with core-hours, usage,
// P99 and pass/fail, SLO-violation minutes, throttled-period ratio, scaling actions, and each
// one's ratio to the baseline (hpa_cpu). Only simulated quantities: two runs with one seed print
// the same table.
std::string FormatScoreboard(const Scoreboard& board);

// One row per policy with every RunSummary field and the ratios, comma-separated with a header.
std::string ScoreboardCsv(const Scoreboard& board);

// A self-contained HTML page (inline CSS and SVG, no scripts): the table, then plots of
// throughput, replicas, allocated cores and per-minute P99 over time, one line per policy.
std::string ScoreboardHtml(const Scoreboard& board);

}  // namespace sim
