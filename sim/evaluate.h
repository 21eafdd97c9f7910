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
  RunOptions run;  // seed, warm-up, duration; its progress callback is not used
  // Grid-search each tunable baseline's utilisation target (TuneGrid()) and keep the cheapest
  // setting that meets the SLO, as Autothrottle's evaluation did.
  bool tune = false;
  int jobs = 1;  // runs simulated at once, one thread each
  // Called from the worker threads (serialised) with the fraction of all runs done.
  std::function<void(double fraction)> progress;
};

// Runs every policy on the same arrivals (one seed) and gathers the scoreboard.
Scoreboard Evaluate(const App& app, const RateTrace& trace, const std::string& trace_name,
                    const std::vector<PolicySpec>& policies, const EvaluateOptions& options);

}  // namespace sim
