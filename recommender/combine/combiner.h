#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/combine/post_processors.h"
#include "recommender/model/signals.h"
#include "recommender/model/workload_key.h"
#include "recommender/policies/all_policies.h"
#include "recommender/workload_config.h"

namespace recommender::combine {

// The published decision for one workload.
struct Recommendation {
  model::WorkloadKey key;
  // Empty only while there has never been a usable value and the current value is unknown:
  // publishing any number then could scale the workload down, so outputs report "not ready".
  std::optional<int> replicas;
  std::optional<double> cpu_cores;  // per-pod CPU limit
  std::string policy;               // the replica policy (WorkloadConfig::replica_policy)
  std::string cpu_policy;           // WorkloadConfig::cpu_policy
  std::string reason;               // the winning proposals' reasons, then each step applied
  common::TimePoint computed_at{};
  bool stale = false;
  std::vector<std::string> steps;  // post-processors that changed a value, e.g. "clamp: 12 -> 10"
};

// Picks the configured policies' proposals for replicas and CPU and runs the safety
// post-processors on each, in this fixed order:
//   1. staleness      inputs missing (no proposal, or signals.observed_at unset), older than
//                     stale_after or invalid (signals.invalid_input): hold the last good value,
//                     never below the current one
//   2. stabilisation  scale-down only to the max of the values of the last window
//   3. step           at most max_replica_step replicas / a factor max_cpu_step_factor per call
//                     (not applied to a held value: a hold is not a step)
//   4. clamp          [min_replicas, max_replicas] and [min_cpu_cores, max_cpu_cores]
// Pure apart from `memory`.
Recommendation Combine(const WorkloadConfig& config, const policies::WorkloadProposals& proposals,
                       const model::WorkloadSignals& signals, SafetyMemory& memory,
                       common::TimePoint now, const SafetyOptions& options = {});

}  // namespace recommender::combine
