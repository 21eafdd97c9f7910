#pragma once

#include <span>
#include <vector>

#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// QueueFlower's queue-balancing allocation, and Little's-law sizing for workloads without a budget.
//
// With a budget group of C extra pods, for each member s with a queue estimate:
//   Q_s = queue_length
//   A_s = max(0, mean_latency − mean_slo_fraction·slo_p99)   mean-SLO violation, seconds
//   T_s = max(0, p99_latency − slo_p99)                       tail-SLO violation, seconds
//   B_s = w_q·Q_s/ΣQ + w_a·A_s/ΣA + w_t·T_s/ΣT                a share is 0 when its Σ is 0
//   x_s = floor(C'·B_s/ΣB), and the C' − Σx leftover pods go one each to the largest remainders
//         C'·B_s/ΣB − x_s (ties: larger B_s, then config order); every x_s = 0 when ΣB = 0
//   replicas_s = x_s + 1
// QueueFlower hands the leftover out at random; largest remainder makes it deterministic.
// A missing (NaN) violation input counts as 0. A member with no queue estimate gets no proposal
// and keeps its current extra pods (current_replicas − 1) out of the budget: C' = C − kept.
// QueueFlower's mean SLA table is not published: the mean target is a fraction of the P99 SLO.
//
// Without a budget, each replica is a processor-sharing server (M/M/1-PS) with service time S0:
//   S0 = uncongested_seconds (the service time without queueing)
//   W* = slo_p99 / ln(100)      the mean sojourn whose exponential tail puts P99 at the SLO
//   W  = S0/(1 − ρ) = W*  ⇒  ρ* = 1 − S0/W*, and a server holds ρ/(1 − ρ) requests, so
//   c* = W*/S0 − 1              target concurrency per replica, floored at min_target_concurrency;
//                               ρ* = c*/(1 + c*)
//   B  = exclusive_inflight = request_rate·mean_exclusive_seconds, the requests inside the
//        service itself (Little's law on exclusive time: waiting on callees is not its load)
//   n  = current_replicas,  utilization ρ̂ = B/(n + B)   the ρ at which n servers hold B
//   offered_load = n·ρ̂        busy servers; with n unknown (no kube-state-metrics, no pod label
//                             on spans) request_rate·S0 instead
//   utilization_replicas = offered_load/ρ*   the same load at the target utilisation
//   queue_replicas       = B/c*              enough replicas to hold the B requests at the target
//   replicas = max(1, ceil(max(utilization_replicas, queue_replicas)))
// Both terms equal n at ρ̂ = ρ*. Below it the utilisation term is the larger and lands on the
// offered load in one step (sizing by B/c* alone would fall to about 1/c* of it, the next burst
// finding too few pods); above it the queue term is the larger and grows without bound as the
// backlog builds, where the utilisation term can grow by at most 1/ρ* per decision.
// A request rate of 0 means B = 0; no proposal without S0.
struct QueueBalancingOptions {
  double queue_weight = 0.5;
  double mean_violation_weight = 0.3;
  double tail_violation_weight = 0.2;
  double mean_slo_fraction = 0.5;
  double min_target_concurrency = 0.1;
};

// One proposal per member of `members` (indices into configs/signals), for one budget group.
std::vector<Proposal> EvaluateQueueBalancingGroup(std::span<const WorkloadConfig> configs,
                                                  std::span<const model::WorkloadSignals> signals,
                                                  std::span<const size_t> members, int extra_pods,
                                                  const QueueBalancingOptions& options = {});

Proposal EvaluateLittlesLaw(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                            const QueueBalancingOptions& options = {});

// The allocation step alone: x_s for the weights `shares` (B_s), C pods, largest remainder.
std::vector<int> LargestRemainderAllocation(std::span<const double> shares, int pods);

}  // namespace recommender::policies
