#pragma once

#include <functional>
#include <vector>

#include "recommender/predict/series.h"
#include "sim/app.h"
#include "sim/policies.h"
#include "sim/run.h"
#include "sim/simulation.h"
#include "sim/workload.h"

// The data DeepScaler learns from, recorded from simulated runs: each service's replicas, CPU
// utilisation of its limit, mean response time and request rate per minute, and the call graph's
// edge counts.
namespace sim {

// Samples one simulation: call Sample(sim) at every tick (100 ms); each whole minute becomes a row
// per service.
class MinuteSampler {
 public:
  explicit MinuteSampler(const App& app);
  void Sample(Simulation& sim);
  // The minutes completed so far.
  const recommender::predict::Series& series() const { return series_; }

 private:
  void CloseMinute(Simulation& sim);

  recommender::predict::Series series_;
  int64_t tick_ = 0;
  // Per service: the minute's allocation integral (core·s) and the truth counters at its start.
  std::vector<double> alloc_, usage_;
  std::vector<ServiceTruth> start_;
  // Per replica id: the usage counter last read (replicas gone between reads lose ≤ 1 s).
  std::vector<double> last_usage_;
};

// Expected calls per edge of the call graph (caller → callee, as queuelens_calls_total counts
// them) for `requests` requests of the app's mix: each request type's share of the weights times
// the calls its operations make, with their probabilities and repeats.
std::vector<recommender::predict::Edge> CallGraphEdges(const App& app, double requests);

struct Dataset {
  std::vector<recommender::predict::Series> runs;  // policy-major, then seed
  std::vector<recommender::predict::Edge> edges;   // summed over the runs
};

// Runs `app` under `trace` with every policy for `seeds` seeds (options.seed, +1, …), one after
// the other, and records each run from its first minute (the warm-up included: the series stay
// contiguous). Deterministic for options.seed.
Dataset RecordDataset(const App& app, const RateTrace& trace,
                      const std::vector<PolicySpec>& policies, int seeds, const RunOptions& options,
                      const std::function<void(double)>& progress = {});

}  // namespace sim
