#include "recommender/policies/all_policies.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "control/stats.h"

namespace recommender::policies {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The workloads named by `names` (by workload name).
std::vector<size_t> Named(std::span<const WorkloadConfig> configs,
                          std::span<const std::string> names) {
  std::vector<size_t> out;
  for (size_t i = 0; i < configs.size(); ++i) {
    if (std::find(names.begin(), names.end(), configs[i].key.workload) != names.end()) {
      out.push_back(i);
    }
  }
  return out;
}

// The application-wide view the Tower learns from: the end-to-end request rate and worst P99/SLO
// of the entry workloads (Autothrottle's Locust RPS and P99; without an entry, the sum of all
// rates and the worst P99/SLO of all), and the allocation.
TowerPass MakeTowerPass(std::span<const WorkloadConfig> configs,
                        std::span<const model::WorkloadSignals> signals,
                        std::span<const size_t> entry) {
  TowerPass pass{.rps = kNaN, .p99_ratio = kNaN, .alloc_cores = kNaN};
  const auto add_ratio = [&](size_t i) {
    const model::WorkloadSignals& s = signals[i];
    if (std::isfinite(s.p99_latency_seconds) && configs[i].slo_p99_seconds > 0) {
      const double ratio = s.p99_latency_seconds / configs[i].slo_p99_seconds;
      pass.p99_ratio = std::isfinite(pass.p99_ratio) ? std::max(pass.p99_ratio, ratio) : ratio;
    }
  };
  const auto add_rate = [&](size_t i) {
    if (std::isfinite(signals[i].request_rate)) {
      pass.rps = (std::isfinite(pass.rps) ? pass.rps : 0) + signals[i].request_rate;
    }
  };
  for (size_t i = 0; i < signals.size(); ++i) {
    const model::WorkloadSignals& s = signals[i];
    if (entry.empty()) {
      add_rate(i);
      add_ratio(i);
    }
    if (std::isfinite(s.current_replicas) && std::isfinite(s.cpu_limit_cores)) {
      pass.alloc_cores = (std::isfinite(pass.alloc_cores) ? pass.alloc_cores : 0) +
                         s.current_replicas * s.cpu_limit_cores;
    }
  }
  for (size_t i : entry) {
    add_rate(i);
    add_ratio(i);
  }
  return pass;
}

// QueueFlower allocates a group every `interval`; in between each member's proposal is held.
void AllocateQueueBalancing(std::span<const WorkloadConfig> configs,
                            std::span<const model::WorkloadSignals> signals,
                            std::span<const size_t> members, std::span<const size_t> entry,
                            int extra_pods, uint64_t seed, std::span<PolicyMemory> memory,
                            common::TimePoint now, const QueueBalancingOptions& options,
                            std::vector<Proposal>& out) {
  bool due = false;
  for (size_t i : members) {
    const QueueBalancingMemory& m = memory[i].queue_balancing;
    due = due || !m.allocated || now - m.allocated_at >= options.interval;
  }
  if (due) {
    std::vector<Proposal> group =
        EvaluateQueueBalancingGroup(configs, signals, members, entry, extra_pods, seed, options);
    for (size_t k = 0; k < members.size(); ++k) {
      QueueBalancingMemory& m = memory[members[k]].queue_balancing;
      m = {.allocated = true,
           .allocated_at = now,
           .replicas = group[k].replicas.value_or(0),
           .terms = group[k].terms};
      out[members[k]] = std::move(group[k]);
    }
    return;
  }
  for (size_t i : members) {
    const QueueBalancingMemory& m = memory[i].queue_balancing;
    Proposal& p = out[i];
    p.policy = std::string(kQueueBalancing);
    p.terms = m.terms;
    if (m.replicas > 0) p.replicas = m.replicas;
    p.reason = "held from the allocation " +
               control::FormatNumber(common::ToSeconds(now - m.allocated_at)) + " s ago" +
               (m.replicas > 0 ? "" : ", which proposed none");
  }
}

Proposal NoGroup(std::string_view policy) {
  return Proposal{.policy = std::string(policy), .reason = "not in a budget group"};
}

}  // namespace

bool ProposesReplicas(std::string_view policy) {
  return policy == kQueueBalancing || policy == kQueueSizing || policy == kHab ||
         policy == kShowar || policy == kHpaCpu || policy == kDeepScaler || policy == kLoadShifting;
}

bool ProposesCpu(std::string_view policy) {
  return policy == kThrottleTarget || policy == kShowar || policy == kK8sCpu ||
         policy == kK8sCpuFast || policy == kVpa;
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
  std::vector<std::string> entry_names = options.tower.entry_workloads;
  if (entry_names.empty()) {
    for (const BudgetGroup& g : groups) {
      entry_names.insert(entry_names.end(), g.entry_workloads.begin(), g.entry_workloads.end());
    }
  }
  tower.Tick(MakeTowerPass(configs, signals, Named(configs, entry_names)), now);

  // Queue balancing and HAB need every member of a budget group at once.
  std::vector<Proposal> queue(configs.size()), hab(configs.size());
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
    // The allocation's random leftover is drawn from the pass time: reproducible per pass.
    const auto seed = static_cast<uint64_t>(now.time_since_epoch().count());
    for (size_t g = 0; g < groups.size(); ++g) {
      if (members[g].empty()) continue;
      std::vector<size_t> entry;
      for (size_t i : Named(configs, groups[g].entry_workloads)) {
        if (in_group[i] && configs[i].budget_group == groups[g].name) entry.push_back(i);
      }
      AllocateQueueBalancing(configs, signals, members[g], entry, groups[g].extra_pods, seed + g,
                             memory, now, options.queue_balancing, queue);
      std::vector<HabMemory*> hab_memory;
      for (size_t i : members[g]) hab_memory.push_back(&memory[i].hab);
      std::vector<Proposal> hab_group = EvaluateHabGroup(
          signals, members[g], entry, groups[g].extra_pods, hab_memory, now, options.hab);
      for (size_t m = 0; m < members[g].size(); ++m) hab[members[g][m]] = std::move(hab_group[m]);
    }
  }
  const std::vector<double> slo_shares = SloShares(configs, signals);
  // DeepScaler predicts every service at once.
  std::vector<DeepScalerMemory*> deepscaler_memory;
  for (PolicyMemory& m : memory) deepscaler_memory.push_back(&m.deepscaler);
  std::vector<Proposal> deepscaler =
      EvaluateDeepScaler(configs, signals, deepscaler_memory, now, options.deepscaler);

  std::vector<WorkloadProposals> out(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    const WorkloadConfig& c = configs[i];
    const model::WorkloadSignals& s = signals[i];
    PolicyMemory& m = memory[i];
    WorkloadProposals& w = out[i];
    w.key = c.key;
    w.proposals.reserve(kPolicyNames.size());
    w.proposals.push_back(in_group[i] ? std::move(queue[i]) : NoGroup(kQueueBalancing));
    w.proposals.push_back(EvaluateQueueSizing(s, c, slo_shares[i], options.queue_sizing));
    // load_shifting composes queue_sizing's proposal (index 1) with the instances' weights.
    LoadShiftingResult shifting =
        EvaluateLoadShifting(s, w.proposals.back(), m.load_shifting, now, options.load_shifting);
    w.proposals.push_back(in_group[i] ? std::move(hab[i]) : NoGroup(kHab));
    w.proposals.push_back(
        EvaluateThrottleTarget(s, c, tower.TargetFor(c), m.throttle_target, now, options.captain));
    w.proposals.push_back(EvaluateSloFeedback(tower, c));
    w.proposals.push_back(EvaluateShowar(s, c, m.showar, now, options.showar));
    w.proposals.push_back(EvaluateHpaCpu(s, c, m.hpa_cpu, now, options.hpa_cpu));
    w.proposals.push_back(EvaluateK8sCpu(kK8sCpu, s, m.k8s_cpu, now, options.k8s_cpu));
    w.proposals.push_back(
        EvaluateK8sCpu(kK8sCpuFast, s, m.k8s_cpu_fast, now, options.k8s_cpu_fast));
    w.proposals.push_back(EvaluateVpa(s, m.vpa, now, options.vpa));
    w.proposals.push_back(std::move(deepscaler[i]));
    w.proposals.push_back(std::move(shifting.proposal));
    w.weights = std::move(shifting.instances);
    w.most_interfered = std::move(shifting.most_interfered);
  }
  return out;
}

}  // namespace recommender::policies
