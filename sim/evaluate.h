#pragma once

#include <functional>
#include <string>
#include <vector>

#include "sim/app.h"
#include "sim/policies.h"
#include "sim/run.h"
#include "sim/scoreboard.h"
#include "sim/workload.h"

namespace sim {

struct EvaluateOptions {
  RunOptions run;  // first seed, warm-up, duration; its progress callback is not used
  int seeds = 1;   // every policy runs with seeds run.seed … run.seed + seeds − 1
  // Search each tunable baseline's utilisation target (TuneGrid()) for the cheapest (mean
  // core-hours) setting that meets the SLO in every seed, as Autothrottle's evaluation tuned its
  // baselines: targets are tried from the highest down, and the first passing one is kept, since
  // a lower target only adds headroom. A target stops at its first failing seed (in seed order,
  // so the board does not depend on `jobs`). With none passing, every seed of every target runs.
  bool tune = false;
  int jobs = 1;  // runs simulated at once, one thread each
  // Called from the worker threads (serialised) with the fraction of all runs done.
  std::function<void(double fraction)> progress;
};

// Runs every policy with every seed (within a seed all see the same arrivals) and gathers the
// scoreboard, with notes on the reference candidates that could not be used.
Scoreboard Evaluate(const App& app, const RateTrace& trace, const std::string& trace_name,
                    const std::vector<PolicySpec>& policies, const EvaluateOptions& options);

}  // namespace sim
