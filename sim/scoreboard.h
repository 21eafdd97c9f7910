#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/run.h"

namespace sim {

// The 0.975 quantile of Student's t distribution with `degrees_of_freedom` ≥ 1: the factor of a
// two-sided 95 % confidence interval. Computed from the closed-form CDF for integer degrees of
// freedom (Abramowitz & Stegun 26.7.3–4), inverted by bisection.
double StudentT975(int degrees_of_freedom);

// Mean of a sample and the half-width of its 95 % confidence interval for the mean,
// t(0.975, n − 1) · s / √n with s the sample standard deviation; NaN half-width when n < 2.
struct Estimate {
  size_t n = 0;
  double mean = 0;
  double half_width = 0;
  double min = 0, max = 0;
};
Estimate Estimate95(const std::vector<double>& values);

// One policy's runs, one per seed (in Scoreboard::seeds order), all with the same setting.
struct PolicyRuns {
  std::vector<RunResult> seeds;

  const std::string& name() const { return seeds.front().summary.policy; }
  const std::string& setting() const { return seeds.front().summary.setting; }
  int passes() const;
  // The scoreboard's verdict: the SLO met in every seed.
  bool pass() const { return passes() == static_cast<int>(seeds.size()); }
};

// The Kubernetes baselines the reference is chosen from (those that were evaluated).
inline constexpr std::array<std::string_view, 4> kReferenceCandidates = {"hpa_cpu", "k8s_cpu",
                                                                         "k8s_cpu_fast", "vpa"};

// Every policy's runs on one app and one trace; within a seed, every policy sees the same
// arrivals.
struct Scoreboard {
  std::string app;
  std::string trace;
  std::string scenario = "none";     // the interference scenario every run had
  std::string actuation = "policy";  // --cpu-actuation of every run (CpuActuationName)
  double sampling = 1;               // head-sampling probability of every run's traces
  std::vector<uint64_t> seeds;
  double slo = 0;      // seconds
  bool tuned = false;  // baselines ran at their --tune'd targets
  std::vector<PolicyRuns> policies;
  std::vector<std::string> notes;  // e.g. a tuned baseline that met the SLO with no target
  // Runs simulated, those of failed tuning targets not shown included; not part of the board,
  // since it depends on --jobs.
  size_t runs_simulated = 0;

  const PolicyRuns* Find(std::string_view name) const;
  // The cheapest (mean core-hours) of kReferenceCandidates that passes in every seed, or nullptr.
  const PolicyRuns* Reference() const;
};

// The table as `queuelens-sim evaluate` prints it: one row per policy with the seeds passed and,
// as mean ± 95 % CI half-width over the seeds, core-hours and their ratio to the reference and to
// hpa_cpu (per seed, then averaged), CPU used, whole-run P99, SLO-violation minutes,
// throttled-period ratio and scaling actions. Only simulated quantities: the same seeds print
// the same table.
std::string FormatScoreboard(const Scoreboard& board);

// "-sampled-10pct" for a board at 10 % sampling, empty at 100 %: keeps its files apart.
std::string SamplingSuffix(double sampling);

// One row per policy and seed: every RunSummary field and the core-hours ratios of that seed.
std::string ScoreboardCsv(const Scoreboard& board);

// One row per policy: seeds, passes, verdict, and for every metric `<metric>_mean`,
// `<metric>_ci95` (half-width; empty with one seed), `<metric>_min` and `<metric>_max`.
std::string ScoreboardSummaryCsv(const Scoreboard& board);

// A self-contained HTML page (inline CSS and SVG, no scripts): the table, then plots over time of
// throughput, replicas, allocated cores, Pending pods and per-minute P99, one line per policy
// (the mean over the seeds) with a band from the seeds' minimum to their maximum.
std::string ScoreboardHtml(const Scoreboard& board);

}  // namespace sim
