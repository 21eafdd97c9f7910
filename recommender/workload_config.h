#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/model/workload_key.h"

namespace recommender {

// An operator's override of the safety post-processors for one channel of one workload; an
// unset field keeps the default of the channel's policy (combine::DefaultSafety).
struct SafetyOverride {
  std::optional<common::Duration> stabilization_window;
  std::optional<double> max_step;  // replicas per pass, or a CPU factor; 0: no limit
};
// Which values of the container's CPU an in-place resize sets (--kubernetes.resize).
enum class ResizeFields { kNone, kRequests, kLimits, kBoth };

// One entry of --config: a workload and how to scale it. Parsed and validated in config.cc.
struct WorkloadConfig {
  model::WorkloadKey key;
  std::vector<std::string> services;  // trace service names whose spans belong to this workload
  std::string container;              // the container whose CPU is sized
  double slo_p99_seconds = 0.5;
  int min_replicas = 1;
  int max_replicas = 10;
  // KEDA's external scaler may report the workload inactive after --grpc.idle-time without
  // requests, so KEDA scales it to zero (minReplicaCount: 0); min_replicas applies while active.
  bool allow_zero = false;
  double min_cpu_cores = 0.01;
  double max_cpu_cores = 4;
  std::string replica_policy = "queue_sizing";  // the policy whose proposal is applied
  std::string cpu_policy = "throttle_target";
  std::optional<std::string> budget_group;  // queue_balancing and hab share a pod budget in it
  bool tower_high_cpu_group = false;  // gets the Tower's target1 (Autothrottle's high-CPU group)
  SafetyOverride replica_safety;
  SafetyOverride cpu_safety;
  ResizeFields resize = ResizeFields::kNone;  // in-place resizes of the workload's pods
  std::string pod_selector;                   // label selector of its pods; empty: app=<workload>
};

// A pod budget shared by the workloads naming it (QueueFlower's C extra pods).
struct BudgetGroup {
  std::string name;
  int extra_pods = 0;
  // Workloads where requests enter the group's call graph (QueueFlower's frontend): their request
  // rate counts visits per end-to-end request, their latency is HAB's feedback. Empty: unknown.
  std::vector<std::string> entry_workloads;
};

}  // namespace recommender
