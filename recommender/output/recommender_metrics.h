#pragma once

#include <string_view>
#include <vector>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/metric_family.h"
#include "prometheus/registry.h"
#include "recommender/output/snapshot.h"

namespace recommender::output {

// Renders a published snapshot as metric families. Pure: the snapshot holds everything, so
// workloads that disappear leave the output with nothing to unregister.
std::vector<prometheus::MetricFamily> SnapshotFamilies(const Snapshot& snapshot);

// The loop's self-metrics, kept in the process's registry (thread-safe).
class LoopMetrics {
 public:
  explicit LoopMetrics(prometheus::Registry& registry);

  void StepDuration(std::string_view step, double seconds);
  void InputError(std::string_view input, std::string_view reason);
  void MalformedLines(size_t lines);
  void InvalidValues(input::Invalid reason, size_t values);
  void CheckpointError(std::string_view operation);

 private:
  prometheus::Family<prometheus::Histogram>& steps_;
  prometheus::Family<prometheus::Counter>& input_errors_;
  prometheus::Counter& malformed_;
  prometheus::Family<prometheus::Counter>& invalid_values_;
  prometheus::Family<prometheus::Counter>& checkpoint_errors_;
};

}  // namespace recommender::output
