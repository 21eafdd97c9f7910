#pragma once

#include <deque>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"
#include "recommender/policies/timed_value.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// hpa_cpu: the Kubernetes HorizontalPodAutoscaler on CPU utilisation with its default behavior.
//
// Every sync_period (between syncs the previous proposal is repeated):
//   util  = cpu_usage_cores / (current_replicas · cpu_request_cores)
//   ratio = util / target_utilization
//   raw   = current if |ratio − 1| ≤ tolerance, else ceil(ready · ratio)
//           (ready = ready pods, else current)
//   stabilised = current raised to the min of the raw values in the scale-up window and lowered
//                to the max of those in the scale-down window (0 s and 300 s, this one included)
//   rate limits over the last scale_period, with P = current − Σ scale-ups (or + Σ scale-downs)
//   in the period:  up ≤ max(P·(1 + up_percent/100), P + up_pods)  (selectPolicy Max)
//                   down ≥ P·(1 − down_percent/100)
//   replicas = clamp(stabilised, down limit, up limit), then [min_replicas, max_replicas]
// Target: 0.8, the autoscaling/v1 default (targetCPUUtilizationPercentage 80); autoscaling/v2
// has no default. Terms: utilization, usage_ratio, raw_replicas, stabilized_replicas,
// scale_up_limit, scale_down_limit, current_replicas.
struct HpaCpuOptions {
  double target_utilization = 0.8;
  double tolerance = 0.1;
  common::Duration sync_period = std::chrono::seconds{15};
  common::Duration scale_up_stabilization = std::chrono::seconds{0};
  common::Duration scale_down_stabilization = std::chrono::seconds{300};
  common::Duration scale_period = std::chrono::seconds{15};
  double scale_up_percent = 100;
  int scale_up_pods = 4;
  double scale_down_percent = 100;
};

struct HpaCpuMemory {
  std::deque<TimedValue> recommendations;  // raw recommendations inside the longest window
  std::deque<TimedValue> scale_events;     // replica changes (signed) inside scale_period
  common::TimePoint last_sync{};
  bool synced = false;
  int last_replicas = 0;
  Terms last_terms;  // repeated between syncs
};

Proposal EvaluateHpaCpu(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                        HpaCpuMemory& memory, common::TimePoint now,
                        const HpaCpuOptions& options = {});

}  // namespace recommender::policies
