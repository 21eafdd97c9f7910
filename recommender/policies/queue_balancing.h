#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <vector>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// queue_balancing: QueueFlower's allocation of a budget group's C extra pods (prop_schedule_sla2).
// QueueFlower works on one trace table per request flow; queuelens has one flow per group (all
// requests entering at the group's entry workloads). For each member s with a mean exclusive time:
//   v_s = request_rate_s / Σ_entry request_rate     visits per end-to-end request (1 without an
//                                                   entry rate)
//   q_s = v_s·mean_exclusive_s                      mean per-trace exclusive time: QueueFlower's
//                                                   queue estimate (latency as queue), seconds
//   t_s = v_s·tail_exclusive_s                      per-trace tail: the p90 of exclusive time
//                                                   stands in for the mean above the 0.9-quantile
//   Q_s = q_s
//   A_s = max(0, Σ_s' q_s' − mean_slo_fraction·slo_p99_s)   every member gets the flow's whole
//   T_s = max(0, Σ_s' t_s' − slo_p99_s)                     estimate minus its SLA
//   B_s = w_q·Q_s/ΣQ + w_a·A_s/ΣA + w_t·T_s/ΣT                a share is 0 when its Σ is 0
//   x_s = floor(C'·B_s/ΣB); the C' − Σx leftover pods go one at a time to a member drawn with
//         probability B_s/ΣB (with replacement); every x_s = 0 when ΣB = 0
//   replicas_s = x_s + 1
// QueueFlower's SLA tables are not published: the mean SLA is a fraction of the P99 SLO and the
// tail SLA the P99 SLO. Sums take finite values only. The draw is splitmix64 seeded by `seed`
// (the recommender passes the pass time), so a pass is reproducible. A member without a mean
// exclusive time gets no proposal and keeps its current extra pods (current_replicas − 1) out of
// the budget: C' = C − kept. The group is allocated every `interval` (QueueFlower's 90 s loop) and
// each member's proposal is held in between (QueueBalancingMemory).
struct QueueBalancingOptions {
  double queue_weight = 0.5;
  double mean_violation_weight = 0.3;
  double tail_violation_weight = 0.2;
  double mean_slo_fraction = 0.5;
  common::Duration interval = std::chrono::seconds{90};
};

// A member's last allocation, held until the group's next one.
struct QueueBalancingMemory {
  bool allocated = false;
  common::TimePoint allocated_at{};
  int replicas = 0;  // 0: the allocation proposed none for this member
  Terms terms;
};

// One proposal per member of `members` (indices into configs/signals), for one budget group.
// `entry` are the indices of the group's entry workloads (may be empty).
std::vector<Proposal> EvaluateQueueBalancingGroup(std::span<const WorkloadConfig> configs,
                                                  std::span<const model::WorkloadSignals> signals,
                                                  std::span<const size_t> members,
                                                  std::span<const size_t> entry, int extra_pods,
                                                  uint64_t seed,
                                                  const QueueBalancingOptions& options = {});

// The allocation step alone: x_s = floor(C·B_s/ΣB), then the leftover drawn ∝ B_s.
std::vector<int> QueueFlowerAllocation(std::span<const double> shares, int pods, uint64_t seed);

// queue_sizing: replicas for workloads without a pod budget, each replica a processor-sharing
// server (M/M/1-PS) with service time S0, against its share of the end-to-end SLO.
//   SLO split along the call graph (the workloads of one namespace are one application):
//     o_s = request_rate_s·S0_s   the time hop s adds to end-to-end requests per second of
//                                 traffic, uncongested (= λ_entry·v_s·S0_s)
//     slo_s = slo_p99_s·o_s/Σ_s' o_s'    Σ over a chain visited once per request = the SLO
//   S0 = uncongested_seconds (the service time without queueing)
//   W* = slo_s / ln(100)        the mean sojourn whose exponential tail puts P99 at slo_s
//   W  = S0/(1 − ρ) = W*  ⇒  ρ* = 1 − S0/W*, and a server holds ρ/(1 − ρ) requests, so
//   c* = W*/S0 − 1              target concurrency per replica, floored at min_target_concurrency;
//                               ρ* = c*/(1 + c*)
//   B  = exclusive_inflight = request_rate·mean_exclusive_seconds, the requests inside the
//        service itself (Little's law on exclusive time: waiting on callees is not its load)
//   n  = current_replicas,  utilization ρ̂ = B/(n + B)   the ρ at which n servers hold B
//   offered_load = n·ρ̂        busy servers; with n unknown (no kube-state-metrics, no pod label
//                             on spans) or under the Captains (below) request_rate·S0 instead
//   utilization_replicas = offered_load/ρ*   the same load at the target utilisation
//   queue_replicas       = B/c*              enough replicas to hold the B requests at the target
//   replicas = max(1, ceil(max(utilization_replicas, queue_replicas)))
// The split uses uncongested times so that a congested hop does not claim a larger target (and
// fewer replicas) for itself. Both terms equal n at ρ̂ = ρ*. Below it the utilisation term is the
// larger and lands on the offered load in one step; above it the queue term is the larger and
// grows without bound as the backlog builds. A request rate of 0 means B = 0; no proposal without
// S0. `slo_share` is o_s/Σo (1 when the workload is alone or the split is unknown).
// Throttled time is not load: exclusive time also counts the time a request's container is held
// by its CFS quota. When the workload's CPU policy is throttle_target and the exporters' Captains
// report a limit for it (node_recommended_cpu_cores), each container's quota follows its own
// pod's load, so that wait is the CPU half's to remove and more replicas do not shorten it: each
// new pod's quota shrinks with its share, and B, ρ̂ and the queue term would turn the Captains'
// throttling into replicas, which the Captains answer by throttling the smaller pods harder.
// There (captain_cpu = 1) the load is measured as work at the unthrottled service time, and the
// CPU half scales first (vertical before horizontal, as SHOWAR and GKE advise): a Captain grows a
// pod's limit within a second, a new replica takes its start-up time and adds a pod's worth of
// headroom and floor. A replica is added only when the pods would have to exceed the largest CPU
// a pod may get, C = max_cpu_cores (the operator's per-pod ceiling, where more CPU stops helping:
// its worker threads, the node's cores):
//   offered_load = request_rate·S0 (cores of work),   replicas = max(1, ceil(offered_load/(ρ*·C)))
// and queue_replicas is reported but not applied. Each pod is then a C-core server; sizing it at
// the single-core ρ* is conservative, as c servers meet the same sojourn at a higher utilisation.
// With any other CPU policy the quota does not follow the pod's load and the queue term stands.
// Sampled traces: request_rate and B are estimates from m = sampled_requests spans in the window
// (each span stands for 1/p requests). Their relative standard error is about 1/√m (a Poisson
// count of m, scaled by 1/p), so with few samples the policy sizes for the upper confidence
// bound and does not scale down:
//   m < min_sample_size:  u = 1 + z/√max(m, 1),  request_rate → u·request_rate,  B → u·B,
//                         replicas = max(replicas, ceil(current_replicas))
//   otherwise (or m unknown: exporters that do not report it) u = 1 and nothing is held.
// With m = 100 and z = 2 the estimate is within ±20 % at about 95 %; below that a wrong scale-down
// costs the SLO while a held or widened one costs a replica for one window.
struct QueueSizingOptions {
  double min_target_concurrency = 0.1;
  double min_sample_size = 100;  // sampled requests per window below which u > 1 and no scale-down
  double confidence_z = 2;
};

Proposal EvaluateQueueSizing(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                             double slo_share, const QueueSizingOptions& options = {});

// The SLO shares o_s/Σo of the workloads grouped by their configs' namespace, aligned with
// `signals`; a workload without request rate or S0 gets NaN (and the others of its namespace
// share among themselves).
std::vector<double> SloShares(std::span<const WorkloadConfig> configs,
                              std::span<const model::WorkloadSignals> signals);

}  // namespace recommender::policies
