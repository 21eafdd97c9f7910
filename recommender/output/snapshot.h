#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "recommender/combine/combiner.h"
#include "recommender/input/observations.h"
#include "recommender/model/signals.h"
#include "recommender/output/trend.h"
#include "recommender/policies/load_shifting.h"
#include "recommender/policies/proposal.h"
#include "recommender/workload_config.h"

namespace recommender::output {

// One workload as every output shows it: its settings, the inputs of the pass, each policy's
// proposal and the published recommendation.
struct WorkloadView {
  WorkloadConfig config;
  bool discovered = false;
  model::WorkloadSignals signals;
  std::vector<policies::Proposal> proposals;  // every policy, in kPolicyNames order
  combine::Recommendation recommendation;
  WorkloadTrend trend;  // the last minutes and the last change per channel, for the status page
  std::vector<policies::InstanceWeight> weights;  // load_shifting's, sorted by instance
  std::string most_interfered;                    // load_shifting's; "" when unknown
};

struct TowerView {
  bool has_choice = false;
  int action = 0;
  double high_cpu_target = 0;  // target1: workloads with tower_high_cpu_group
  double other_target = 0;     // target2: all other workloads
  double bucket_rps = 0;
  bool explored = false;
  common::TimePoint chosen_at{};
};

struct StepTiming {
  std::string step;
  double seconds = 0;
};

// What one pass published. Immutable once published; handlers on other threads read it.
struct Snapshot {
  common::TimePoint computed_at{};  // TimePoint{} before the first pass
  uint64_t pass = 0;
  std::vector<WorkloadView> workloads;  // sorted by key
  TowerView tower;
  std::vector<StepTiming> steps;  // the pass' step durations
  std::vector<input::InputError> input_errors;

  // Binary search over the sorted workloads; nullptr when unknown.
  const WorkloadView* Find(std::string_view k8s_namespace, std::string_view workload) const;
};

// The latest snapshot, swapped by the loop and read by the HTTP handlers. The lock guards only the
// pointer copy, so neither side ever holds it across I/O or computation. (Not
// std::atomic<std::shared_ptr>: libstdc++ 12's load() releases its internal lock with a relaxed
// store, so a load's read of the pointer races with the next store's write.)
class SnapshotHolder {
 public:
  SnapshotHolder() : current_(std::make_shared<const Snapshot>()) {}
  void Publish(std::shared_ptr<const Snapshot> snapshot) {
    std::function<void()> on_publish;
    {
      std::lock_guard lock(mu_);
      current_.swap(snapshot);  // the previous one is freed with `snapshot`, after the unlock
      on_publish = on_publish_;
    }
    if (on_publish) on_publish();
  }
  // Called after every Publish, on the publishing thread, outside the lock; it must return at
  // once (the KEDA gRPC streams use it to wake up). Set before the loop starts, cleared after it
  // stopped.
  void SetOnPublish(std::function<void()> on_publish) {
    std::lock_guard lock(mu_);
    on_publish_ = std::move(on_publish);
  }
  std::shared_ptr<const Snapshot> Get() const {
    std::lock_guard lock(mu_);
    return current_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
  std::function<void()> on_publish_;
};

}  // namespace recommender::output
