#include "recommender/policies/all_policies.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <unordered_map>

namespace recommender::policies {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The application-wide view the Tower learns from: total request rate, worst P99/SLO, allocation.
TowerPass MakeTowerPass(std::span<const WorkloadConfig> configs,
                        std::span<const model::WorkloadSignals> signals) {
  TowerPass pass{.rps = kNaN, .p99_ratio = kNaN, .alloc_cores = kNaN};
  for (size_t i = 0; i < signals.size(); ++i) {
    const model::WorkloadSignals& s = signals[i];
    if (std::isfinite(s.request_rate)) {
      pass.rps = (std::isfinite(pass.rps) ? pass.rps : 0) + s.request_rate;
    }
    if (std::isfinite(s.p99_latency_seconds) && configs[i].slo_p99_seconds > 0) {
      const double ratio = s.p99_latency_seconds / configs[i].slo_p99_seconds;
      pass.p99_ratio = std::isfinite(pass.p99_ratio) ? std::max(pass.p99_ratio, ratio) : ratio;
    }
    if (std::isfinite(s.current_replicas) && std::isfinite(s.cpu_limit_cores)) {
      pass.alloc_cores = (std::isfinite(pass.alloc_cores) ? pass.alloc_cores : 0) +
                         s.current_replicas * s.cpu_limit_cores;
    }
  }
  return pass;
}

}  // namespace

bool ProposesReplicas(std::string_view policy) {
  return policy == kQueueBalancing || policy == kShowar || policy == kHpaCpu;
}

bool ProposesCpu(std::string_view policy) {
  return policy == kThrottleTarget || policy == kShowar || policy == kK8sCpu ||
         policy == kK8sCpuFast;
}

const Proposal* WorkloadProposals::Find(std::string_view policy) const {
  for (const Proposal& p : proposals) {
    if (p.policy == policy) return &p;
  }
  return nullptr;
}

std::vector<WorkloadProposals> EvaluatePolicies(const PolicyOptions& options,
                                                std::span<const WorkloadConfig> configs,
                                                std::span<const model::WorkloadSignals> signals,
                                                std::span<const BudgetGroup> groups,
                                                std::span<PolicyMemory> memory, Tower& tower,
                                                common::TimePoint now) {
  assert(configs.size() == signals.size() && configs.size() == memory.size());
  tower.Tick(MakeTowerPass(configs, signals), now);

  // Queue balancing needs every member of a budget group at once.
  std::vector<Proposal> queue(configs.size());
  std::vector<bool> in_group(configs.size(), false);
  if (!groups.empty()) {
    std::unordered_map<std::string_view, size_t> group_index;
    for (size_t g = 0; g < groups.size(); ++g) group_index.emplace(groups[g].name, g);
    std::vector<std::vector<size_t>> members(groups.size());
    for (size_t i = 0; i < configs.size(); ++i) {
      if (!configs[i].budget_group) continue;
      const auto it = group_index.find(*configs[i].budget_group);
      if (it == group_index.end()) continue;
      members[it->second].push_back(i);
      in_group[i] = true;
    }
    for (size_t g = 0; g < groups.size(); ++g) {
      if (members[g].empty()) continue;
      std::vector<Proposal> group = EvaluateQueueBalancingGroup(
          configs, signals, members[g], groups[g].extra_pods, options.queue_balancing);
      for (size_t m = 0; m < members[g].size(); ++m) queue[members[g][m]] = std::move(group[m]);
    }
  }

  std::vector<WorkloadProposals> out(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    const WorkloadConfig& c = configs[i];
    const model::WorkloadSignals& s = signals[i];
    PolicyMemory& m = memory[i];
    WorkloadProposals& w = out[i];
    w.key = c.key;
    w.proposals.reserve(kPolicyNames.size());
    w.proposals.push_back(in_group[i] ? std::move(queue[i])
                                      : EvaluateLittlesLaw(s, c, options.queue_balancing));
    w.proposals.push_back(
        EvaluateThrottleTarget(s, c, tower.TargetFor(c), m.throttle_target, now, options.captain));
    w.proposals.push_back(EvaluateSloFeedback(tower, c));
    w.proposals.push_back(EvaluateShowar(s, c, m.showar, now, options.showar));
    w.proposals.push_back(EvaluateHpaCpu(s, c, m.hpa_cpu, now, options.hpa_cpu));
    w.proposals.push_back(EvaluateK8sCpu(kK8sCpu, s, m.k8s_cpu, now, options.k8s_cpu));
    w.proposals.push_back(
        EvaluateK8sCpu(kK8sCpuFast, s, m.k8s_cpu_fast, now, options.k8s_cpu_fast));
  }
  return out;
}

}  // namespace recommender::policies
