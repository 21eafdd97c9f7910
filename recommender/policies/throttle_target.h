#pragma once

#include "common/clock.h"
#include "control/captain.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// ---------------------------------------------------------------------------------------------
// throttle_target policy (the recommender's CPU proposal, per pod).
//   cpu = signals.node_recommended_cpu_cores   (the max over pods of the exporters' Captains)
// When that is missing, one Captain decision on the model's window stands in for it:
//   L   = signals.cpu_limit_cores, else the previous estimate, else config.max_cpu_cores
//   r   = signals.throttled_ratio;  umax, σ over signals.cpu_usage_history (per pod), else
//         umax = cpu_usage_cores / current_replicas and σ = 0
//   rollback if r > 3t after a scale-down (2·L_prev − L, margin += r − t), else the decision rules
//   of captain.h with this L, at most once per decision_interval; the margin integral lives in the
//   memory.
// The measured L is preferred over the previous estimate because r was produced by the applied
// limit. Terms: target, node_recommended_cpu_cores or the decision terms.
// ---------------------------------------------------------------------------------------------

struct ThrottleTargetMemory {
  double limit = model::kMissing;  // the previous fallback estimate
  double last_limit = model::kMissing;
  double margin = model::kMissing;  // CaptainOptions::initial_margin until the first decision
  bool last_scale_down = false;
  common::TimePoint last_decision{};
};

Proposal EvaluateThrottleTarget(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                                double target, ThrottleTargetMemory& memory, common::TimePoint now,
                                const control::CaptainOptions& options = {});

}  // namespace recommender::policies
