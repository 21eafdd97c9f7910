#pragma once

#include <deque>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// k8s_cpu and k8s_cpu_fast: Autothrottle's vertical Kubernetes-style baselines.
//
// Every period P:
//   usage = mean per-pod usage over the last P (signals.cpu_usage_history, else
//           cpu_usage_cores / current_replicas)
//   push usage / target_utilization into the last W/P recommendations
//   limit = max(recommendations)          (a scale-down stabilisation window of W)
// Between periods the previous limit is repeated; before the first period the proposal is empty.
// K8s-CPU: P = 15 s, W = 300 s; K8s-CPU-Fast: P = 1 s, W = 20 s. The utilisation target is 0.5,
// the value Autothrottle's evaluation found best most often (algorithms.md §2.3).
// Terms: usage_cores, recommendation_cores, window_count, limit_cores.
struct K8sCpuOptions {
  common::Duration period = std::chrono::seconds{15};
  common::Duration window = std::chrono::seconds{300};
  double target_utilization = 0.5;

  static K8sCpuOptions Standard() { return {}; }
  static K8sCpuOptions Fast() {
    return {.period = std::chrono::seconds{1}, .window = std::chrono::seconds{20}};
  }
};

struct K8sCpuMemory {
  std::deque<double> recommendations;  // newest last, at most W/P
  common::TimePoint last_period{};
  bool started = false;
  double last_usage_cores = 0;
};

Proposal EvaluateK8sCpu(std::string_view policy_name, const model::WorkloadSignals& signals,
                        K8sCpuMemory& memory, common::TimePoint now, const K8sCpuOptions& options);

}  // namespace recommender::policies
