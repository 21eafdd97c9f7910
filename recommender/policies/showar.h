#pragma once

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// SHOWAR: horizontal PID with hysteresis, vertical three-sigma sizing.
//
// Horizontal, on m = run-queue wait per timeslice against a target learned from the workload:
//   while the pods are uncongested (per-pod usage ≤ low_utilization of the limit, else of the
//   request, and no throttled periods), each observation x updates an exponentially weighted
//   mean and variance with weight a = 1 − exp(−Δt/baseline_time_constant):
//     μ ← μ + a·(x − μ),  v ← (1 − a)·(v + a·(x − μ_old)²)        (the first x sets μ = x, v = 0)
//   target = μ + k·√v,  k = 3
// k = 3 is SHOWAR's own line between normal and abnormal: it sizes CPU by the three-sigma rule,
// treating what lies within μ + 3σ of the recent history as normal (algorithms.md §4.1). Wait
// beyond the edge of the uncongested distribution is contention the PID acts on. Until an
// uncongested observation has been seen, or when the kernel signal is missing, m = P95 latency
// against the workload's P99 SLO. Then:
//   e = m − target
//   y = Kp·e + Ki·Σ e·dt + Kd·Δm/dt     (dt since the previous evaluation; D = 0 at first)
//   y >  α/2·target ⇒ R' = ceil(R + max(1, β·R))
//   y < −α/2·target ⇒ R' = max(1, ceil(R − max(1, β·R))), but R' = R within
//                      scale_down_cooldown of a scale-up, and R' = R when m = 0 (no run-queue
//                      wait means no contention, which says nothing about how far to shrink)
//   otherwise R' = R                     (R = current replicas)
// The ScalerEval reproduction compares y (already relative to the setpoint) against
// target·(1 ± α/2), which leaves a hold band of only [1.095, 1.105]·target; queuelens centres the
// band on zero error instead. Scale-downs happen only through this rule: the combiner adds no
// window or step of its own.
//
// Vertical, over the last `usage_window` of per-pod usage (signals.cpu_usage_history):
//   s = max(min_cpu_cores, μ + 3σ)   (population σ)
//   the size changes only if s > 1.15·last or s < 0.55·last (kept otherwise)
//   s > 1 core ⇒ add a replica (R' ≥ R + 1) and size the pod at 1 core
//   proposed CPU limit = 2·s (SHOWAR's request is s)
// Terms: measured, target, runqueue_signal (1/0), baseline_mean_seconds,
// baseline_stdev_seconds, uncongested (1/0: this observation updated the baseline), error,
// derivative, pid_output, band, cooldown_hold (1/0), zero_signal_hold (1/0), current_replicas,
// mean_cores, stdev_cores, last_size_cores, band_kept (1/0), cpu_overflow_replica (1/0),
// size_cores.
struct ShowarOptions {
  double kp = 10;
  double ki = 0;
  double kd = 10;
  double alpha = 0.1;
  double beta = 1;
  // The run-queue target: k σ above the uncongested mean, learned at low utilisation.
  double sigma_multiple = 3;
  double low_utilization = 0.5;
  common::Duration baseline_time_constant = std::chrono::minutes{5};  // SHOWAR's usage window
  common::Duration scale_down_cooldown = std::chrono::minutes{5};
  common::Duration usage_window = std::chrono::minutes{5};
  double band_low = 0.55;
  double band_high = 1.15;
  double min_cpu_cores = 0.128;
  double max_size_cores = 1;  // per pod, before a replica is added instead
  double limit_to_request = 2;
};

struct ShowarMemory {
  bool has_previous = false;
  double previous_measured = 0;
  bool previous_runqueue = false;  // D is reset when the measured signal switches
  double integral = 0;
  common::TimePoint last_evaluation{};
  common::TimePoint last_scale_up{};
  double last_size_cores = model::kMissing;
  // The uncongested run-queue wait per timeslice (EWMA mean and variance, seconds).
  bool baseline_learned = false;
  double baseline_mean = 0;
  double baseline_variance = 0;
  common::TimePoint baseline_updated{};
};

Proposal EvaluateShowar(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                        ShowarMemory& memory, common::TimePoint now,
                        const ShowarOptions& options = {});

}  // namespace recommender::policies
