#include "recommender/policies/all_policies.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "recommender/policies/json_state.h"

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

void WriteThrottleTarget(const ThrottleTargetMemory& m, json::Writer& w) {
  w.StartObject();
  json::Double(w, "limit", m.limit);
  json::Double(w, "last_limit", m.last_limit);
  json::Double(w, "margin", m.margin);
  w.Key("last_scale_down");
  w.Bool(m.last_scale_down);
  json::Time(w, "last_decision", m.last_decision);
  w.EndObject();
}

void ReadThrottleTarget(json::ObjectReader& parent, ThrottleTargetMemory& m) {
  const rapidjson::Value* v = parent.Object("throttle_target");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("throttle_target"));
  r.Double("limit", m.limit);
  r.Double("last_limit", m.last_limit);
  r.Double("margin", m.margin);
  r.Bool("last_scale_down", m.last_scale_down);
  r.Time("last_decision", m.last_decision);
  parent.Adopt(r);
}

void WriteShowar(const ShowarMemory& m, json::Writer& w) {
  w.StartObject();
  w.Key("has_previous");
  w.Bool(m.has_previous);
  json::Double(w, "previous_measured", m.previous_measured);
  w.Key("previous_runqueue");
  w.Bool(m.previous_runqueue);
  json::Double(w, "integral", m.integral);
  json::Time(w, "last_evaluation", m.last_evaluation);
  json::Time(w, "last_scale_up", m.last_scale_up);
  json::Double(w, "last_size_cores", m.last_size_cores);
  w.EndObject();
}

void ReadShowar(json::ObjectReader& parent, ShowarMemory& m) {
  const rapidjson::Value* v = parent.Object("showar");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("showar"));
  r.Bool("has_previous", m.has_previous);
  r.Double("previous_measured", m.previous_measured);
  r.Bool("previous_runqueue", m.previous_runqueue);
  r.Double("integral", m.integral);
  r.Time("last_evaluation", m.last_evaluation);
  r.Time("last_scale_up", m.last_scale_up);
  r.Double("last_size_cores", m.last_size_cores);
  parent.Adopt(r);
}

void WriteHpa(const HpaCpuMemory& m, json::Writer& w) {
  w.StartObject();
  json::TimedValues(w, "recommendations", m.recommendations);
  json::TimedValues(w, "scale_events", m.scale_events);
  json::Time(w, "last_sync", m.last_sync);
  w.Key("synced");
  w.Bool(m.synced);
  w.Key("last_replicas");
  w.Int(m.last_replicas);
  json::WriteTerms(w, "last_terms", m.last_terms);
  w.EndObject();
}

void ReadHpa(json::ObjectReader& parent, HpaCpuMemory& m) {
  const rapidjson::Value* v = parent.Object("hpa_cpu");
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path("hpa_cpu"));
  r.TimedValues("recommendations", m.recommendations);
  r.TimedValues("scale_events", m.scale_events);
  r.Time("last_sync", m.last_sync);
  r.Bool("synced", m.synced);
  r.Int("last_replicas", m.last_replicas);
  r.ReadTerms("last_terms", m.last_terms);
  parent.Adopt(r);
}

void WriteK8sCpu(const K8sCpuMemory& m, json::Writer& w) {
  w.StartObject();
  json::Doubles(w, "recommendations", m.recommendations);
  json::Time(w, "last_period", m.last_period);
  w.Key("started");
  w.Bool(m.started);
  json::Double(w, "last_usage_cores", m.last_usage_cores);
  w.EndObject();
}

void ReadK8sCpu(json::ObjectReader& parent, const char* key, K8sCpuMemory& m) {
  const rapidjson::Value* v = parent.Object(key);
  if (v == nullptr) return;
  json::ObjectReader r(*v, parent.Path(key));
  r.Doubles("recommendations", m.recommendations);
  r.Time("last_period", m.last_period);
  r.Bool("started", m.started);
  r.Double("last_usage_cores", m.last_usage_cores);
  // Evaluation reads the newest recommendation once started.
  if (r.ok() && m.started && m.recommendations.empty()) r.Fail("recommendations", "empty");
  parent.Adopt(r);
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

void WritePolicyState(const PolicyMemory& memory, rapidjson::Writer<rapidjson::StringBuffer>& w) {
  w.StartObject();
  w.Key("throttle_target");
  WriteThrottleTarget(memory.throttle_target, w);
  w.Key("showar");
  WriteShowar(memory.showar, w);
  w.Key("hpa_cpu");
  WriteHpa(memory.hpa_cpu, w);
  w.Key("k8s_cpu");
  WriteK8sCpu(memory.k8s_cpu, w);
  w.Key("k8s_cpu_fast");
  WriteK8sCpu(memory.k8s_cpu_fast, w);
  w.EndObject();
}

bool ReadPolicyState(const rapidjson::Value& value, PolicyMemory& memory, std::string* error) {
  json::ObjectReader r(value, "policy_state");
  PolicyMemory m;
  ReadThrottleTarget(r, m.throttle_target);
  ReadShowar(r, m.showar);
  ReadHpa(r, m.hpa_cpu);
  ReadK8sCpu(r, "k8s_cpu", m.k8s_cpu);
  ReadK8sCpu(r, "k8s_cpu_fast", m.k8s_cpu_fast);
  if (!r.ok()) {
    if (error != nullptr) *error = r.error();
    return false;
  }
  memory = std::move(m);
  return true;
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
