#pragma once

#include <cstddef>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/combine/combiner.h"
#include "recommender/model/signals.h"

namespace recommender::output {

// What the status page explains per workload: the last minutes of load, queue length, replicas
// and CPU, and the last change of each channel's recommendation with the policy that made it.
// Display only: nothing decides on it and it is not checkpointed.

struct TrendPoint {
  common::TimePoint at{};
  double request_rate = model::kMissing;
  double queue_length = model::kMissing;
  double replicas = model::kMissing;  // current (kube-state-metrics)
  double recommended_replicas = model::kMissing;
  double cpu_limit_cores = model::kMissing;  // current, per pod
  double recommended_cpu_cores = model::kMissing;
};

// The latest change of one channel's published recommendation; `at` is TimePoint{} while it has
// not changed since the workload was first seen.
struct ChannelChange {
  common::TimePoint at{};
  double from = model::kMissing;
  double to = model::kMissing;
  std::string policy;  // the channel's policy when it changed
  std::string reason;  // the recommendation's reason then
};

struct WorkloadTrend {
  std::shared_ptr<const std::vector<TrendPoint>> points;  // oldest first; never null
  ChannelChange replicas, cpu;
};

struct TrendOptions {
  common::Duration step = std::chrono::seconds{10};  // between points
  size_t points = 60;                                // kept: 10 minutes at the default step
};

class TrendRecorder {
 public:
  explicit TrendRecorder(TrendOptions options = {}) : options_(options) {}

  // Notes one pass' signals and published recommendation of a workload and returns its trend.
  // The points are shared with earlier passes until the next point is due, so a pass copies
  // them only once per step.
  WorkloadTrend Observe(const model::WorkloadSignals& signals,
                        const combine::Recommendation& recommendation, common::TimePoint now);

  // Drops the workloads `keep` refuses (those the model no longer has).
  void Retain(const std::function<bool(const model::WorkloadKey&)>& keep);

  size_t workloads() const { return states_.size(); }

 private:
  struct State {
    WorkloadTrend trend;
    common::TimePoint next_point{};
    double replicas = std::numeric_limits<double>::quiet_NaN();  // last published
    double cpu = std::numeric_limits<double>::quiet_NaN();
  };
  TrendOptions options_;
  std::map<model::WorkloadKey, State> states_;
};

}  // namespace recommender::output
