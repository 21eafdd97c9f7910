#include "exporter/state/captains.h"

#include <algorithm>
#include <tuple>

namespace exporter::state {

double ThrottleTargets::For(std::string_view k8s_namespace, std::string_view pod,
                            std::string_view container, double fallback) const {
  const Entry* best = nullptr;
  for (const Entry& e : entries) {
    if (e.k8s_namespace != k8s_namespace || e.workload.size() >= pod.size() ||
        pod[e.workload.size()] != '-' || !pod.starts_with(e.workload)) {
      continue;
    }
    const auto rank = [&](const Entry& x) {
      return std::make_tuple(x.workload.size(), x.container == container);
    };
    if (best == nullptr || rank(e) > rank(*best)) best = &e;
  }
  return best != nullptr ? best->target : fallback;
}

void Captains::Step(const kernel::KernelSample& sample, const ThrottleTargets& targets,
                    common::TimePoint now) {
  const control::CaptainOptions& co = options_.captain;
  const double node_limit = sample.node.cpus > 0 ? sample.node.cpus : co.initial_limit_cores;
  for (const kernel::KernelSample::Container& c : sample.containers) {
    if (!c.usage_ns || !c.throttled_periods) continue;
    auto [it, fresh] = entries_.try_emplace(Key(c.k8s_namespace, c.pod, c.container));
    Entry& e = it->second;
    if (fresh || e.cgroup != c.cgroup || e.inode != c.cgroup_inode) {
      e = Entry{.k8s_namespace = c.k8s_namespace,
                .pod = c.pod,
                .container = c.container,
                .cgroup = c.cgroup,
                .inode = c.cgroup_inode,
                .state = control::MakeCaptainState(co),
                .last_seen = now};
      e.state.limit = e.state.last_limit = c.limit_cores.value_or(node_limit);
    }
    // A new Captain (not started) takes its target and limit here too.
    const bool deciding = !e.state.started || now - e.state.last_decision >= co.decision_interval;
    if (deciding) {
      e.target = targets.For(c.k8s_namespace, c.pod, c.container, options_.default_target);
      if (c.limit_cores) e.state.limit = *c.limit_cores;
    }
    const control::CaptainSample s{
        .t = now,
        .cpu_usage_seconds_total = static_cast<double>(*c.usage_ns) / 1e9,
        .nr_throttled_total = static_cast<double>(*c.throttled_periods)};
    const control::CaptainDecision d = control::CaptainStep(e.state, s, e.target, co);
    // Ticks between decisions hold; the action shown is the last decision's (or a rollback).
    if (d.decided || d.action == control::CaptainAction::kRollback) e.action = d.action;
    e.throttled_ratio = d.throttled_ratio;
    e.last_seen = now;
  }
  std::erase_if(entries_,
                [&](const auto& kv) { return now - kv.second.last_seen > options_.idle; });
}

const std::string& Captains::Key(std::string_view k8s_namespace, std::string_view pod,
                                 std::string_view container) {
  key_.assign(k8s_namespace).append(1, '\0').append(pod).append(1, '\0').append(container);
  return key_;
}

std::optional<double> Captains::Limit(std::string_view k8s_namespace, std::string_view pod,
                                      std::string_view container) {
  const auto it = entries_.find(Key(k8s_namespace, pod, container));
  if (it == entries_.end()) return std::nullopt;
  return it->second.state.limit;
}

void Captains::Restart(std::string_view k8s_namespace, std::string_view pod,
                       std::string_view container) {
  entries_.erase(Key(k8s_namespace, pod, container));
}

std::vector<KernelSnapshot::Captain> Captains::Snapshot() const {
  std::vector<KernelSnapshot::Captain> out;
  out.reserve(entries_.size());
  for (const auto& [key, e] : entries_) {
    out.push_back({.k8s_namespace = e.k8s_namespace,
                   .pod = e.pod,
                   .container = e.container,
                   .recommended_cpu_cores = e.state.limit,
                   .throttle_target = e.target,
                   .throttled_ratio = e.throttled_ratio,
                   .margin = e.state.margin,
                   .action = control::CaptainActionName(e.action)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.k8s_namespace, a.pod, a.container) <
           std::tie(b.k8s_namespace, b.pod, b.container);
  });
  return out;
}

}  // namespace exporter::state
