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
  bool stale = false;              // either value held
  bool replicas_stale = false;     // the replica count held (KEDA's external scaler refuses it)
  std::vector<std::string> steps;  // post-processors that changed a value, e.g. "clamp: 12 -> 10"
};

// The stabilisation window and step limit Combine() adds after `policy`'s proposal on one
// channel (`replicas` or CPU) when the workload does not override them. Each policy keeps its
// source's own rule, so none is applied twice:
//   hpa_cpu          none here: the policy applies the HPA's 300 s scale-down window and its
//                    default rate policies (up max(+100 %, +4 pods), down −100 %, per 15 s)
//   k8s_cpu          none here: the policy's limit is the max over its 300 s window (20 × 15 s)
//   k8s_cpu_fast     none here: the same over 20 s (20 × 1 s)
//   throttle_target  none: the Captain's limit is applied as it decides (at most halving per
//                    second, with its rollback)
//   showar           none: its PID hysteresis band and scale-down cooldown (replicas) and its
//                    [0.55, 1.15] change band (CPU)
//   vpa              none: its updater applies only outside [lower bound, upper bound]
//   hab              none: its own 10 s probes and 90 s re-bisection
//   other replica    options.replicas (queue_sizing, queue_balancing: no published rule; the
//   policies         Kubernetes defaults stand in for the HPA that applies them)
ChannelSafety DefaultSafety(std::string_view policy, bool replicas, const SafetyOptions& options);

// DefaultSafety with the workload's override applied.
ChannelSafety EffectiveSafety(std::string_view policy, bool replicas, const SafetyOverride& custom,
                              const SafetyOptions& options);

// Picks the configured policies' proposals for replicas and CPU and runs the safety
// post-processors on each, in this fixed order:
//   1. staleness      inputs missing (no proposal, or signals.observed_at unset), older than
//                     stale_after or invalid (signals.invalid_input): hold the last good value,
//                     never below the current one (for every policy)
//   2. stabilisation  scale-down only to the max of the values of the channel's window
//   3. step           at most the channel's max_step replicas / factor per call (not applied to
//                     a held value: a hold is not a step)
//   4. clamp          [min_replicas, max_replicas] and [min_cpu_cores, max_cpu_cores]
// Windows and steps are EffectiveSafety's for the channel's policy. Pure apart from `memory`.
Recommendation Combine(const WorkloadConfig& config, const policies::WorkloadProposals& proposals,
                       const model::WorkloadSignals& signals, SafetyMemory& memory,
                       common::TimePoint now, const SafetyOptions& options = {});

}  // namespace recommender::combine
