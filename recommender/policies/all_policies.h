#pragma once

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/model/workload_key.h"
#include "recommender/policies/deepscaler.h"
#include "recommender/policies/hab.h"
#include "recommender/policies/hpa_cpu.h"
#include "recommender/policies/k8s_cpu.h"
#include "recommender/policies/load_shifting.h"
#include "recommender/policies/proposal.h"
#include "recommender/policies/queue_balancing.h"
#include "recommender/policies/showar.h"
#include "recommender/policies/slo_feedback.h"
#include "recommender/policies/throttle_target.h"
#include "recommender/policies/vpa.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// The explicit list of policies, in the order their proposals appear in WorkloadProposals.
inline constexpr std::string_view kQueueBalancing = "queue_balancing";
inline constexpr std::string_view kQueueSizing = "queue_sizing";
inline constexpr std::string_view kHab = "hab";
inline constexpr std::string_view kThrottleTarget = "throttle_target";
inline constexpr std::string_view kSloFeedback = "slo_feedback";
inline constexpr std::string_view kShowar = "showar";
inline constexpr std::string_view kHpaCpu = "hpa_cpu";
inline constexpr std::string_view kK8sCpu = "k8s_cpu";
inline constexpr std::string_view kK8sCpuFast = "k8s_cpu_fast";
inline constexpr std::string_view kVpa = "vpa";
inline constexpr std::string_view kDeepScaler = "deepscaler";
inline constexpr std::string_view kLoadShifting = "load_shifting";
inline constexpr std::array<std::string_view, 12> kPolicyNames = {
    kQueueBalancing, kQueueSizing, kHab, kThrottleTarget, kSloFeedback, kShowar, kHpaCpu,
    kK8sCpu,         kK8sCpuFast,  kVpa, kDeepScaler,     kLoadShifting};

// Which policies may be named as WorkloadConfig::replica_policy / cpu_policy. slo_feedback is
// neither: it sets the throttle target that throttle_target applies.
// queue_balancing, queue_sizing, hab, showar, hpa_cpu, deepscaler, load_shifting
bool ProposesReplicas(std::string_view policy);
bool ProposesCpu(std::string_view policy);  // throttle_target, showar, k8s_cpu, k8s_cpu_fast, vpa

// Tunables of every policy, defaults as in the policy headers.
struct PolicyOptions {
  QueueBalancingOptions queue_balancing;
  QueueSizingOptions queue_sizing;
  HabOptions hab;
  control::CaptainOptions captain;
  TowerOptions tower;
  ShowarOptions showar;
  HpaCpuOptions hpa_cpu;
  K8sCpuOptions k8s_cpu = K8sCpuOptions::Standard();
  K8sCpuOptions k8s_cpu_fast = K8sCpuOptions::Fast();
  VpaOptions vpa;
  LoadShiftingOptions load_shifting;
  DeepScalerOptions deepscaler;
};

// What the policies remember about one workload between passes. Copyable; checkpointed by
// recommender/checkpoint/policy_state.h. A default-constructed memory is a fresh start.
struct PolicyMemory {
  QueueBalancingMemory queue_balancing;
  HabMemory hab;
  ThrottleTargetMemory throttle_target;
  ShowarMemory showar;
  HpaCpuMemory hpa_cpu;
  K8sCpuMemory k8s_cpu;
  K8sCpuMemory k8s_cpu_fast;
  VpaMemory vpa;
  LoadShiftingMemory load_shifting;  // not checkpointed: a restart starts from even weights
  DeepScalerMemory deepscaler;       // not checkpointed: a restart records its history again
};

// Every policy's proposal for one workload, in kPolicyNames order (proposals[i].policy ==
// kPolicyNames[i]).
struct WorkloadProposals {
  model::WorkloadKey key;
  std::vector<Proposal> proposals;
  // load_shifting's per-instance routing weights (empty with fewer than two instances) and the
  // instance a new pod should be placed away from.
  std::vector<InstanceWeight> weights;
  std::string most_interfered;

  // The proposal of `policy`, or nullptr if the name is not in kPolicyNames.
  const Proposal* Find(std::string_view policy) const;
};

// One pass over all workloads. configs[i], signals[i] and memory[i] describe the same workload
// (the spans must have equal sizes). `tower` is the application-wide slo_feedback state: it is
// ticked once per pass (choosing new targets once a minute) before the per-workload policies run.
// Budget groups are looked up by WorkloadConfig::budget_group: queue_balancing and hab propose
// replicas only for members of a known group; queue_sizing proposes for every workload. The
// Tower's latency is that of TowerOptions::entry_workloads, else of the groups' entry workloads,
// else the worst P99/SLO of all. Pure apart from `memory` and `tower`.
std::vector<WorkloadProposals> EvaluatePolicies(const PolicyOptions& options,
                                                std::span<const WorkloadConfig> configs,
                                                std::span<const model::WorkloadSignals> signals,
                                                std::span<const BudgetGroup> groups,
                                                std::span<PolicyMemory> memory, Tower& tower,
                                                common::TimePoint now);

}  // namespace recommender::policies
