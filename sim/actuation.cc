#include "sim/actuation.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "recommender/policies/all_policies.h"

namespace sim {
namespace {

namespace ra = recommender::actuate;

struct ModeName {
  CpuActuation mode;
  std::string_view name;
};
constexpr ModeName kModes[] = {{CpuActuation::kPolicy, "policy"},
                               {CpuActuation::kDirect, "direct"},
                               {CpuActuation::kCaptain, "captain"},
                               {CpuActuation::kResize, "resize"},
                               {CpuActuation::kVpa, "vpa"}};

}  // namespace

std::optional<CpuActuation> ParseCpuActuation(std::string_view name) {
  for (const ModeName& m : kModes) {
    if (m.name == name) return m.mode;
  }
  return std::nullopt;
}

std::string_view CpuActuationName(CpuActuation mode) {
  for (const ModeName& m : kModes) {
    if (m.mode == mode) return m.name;
  }
  return "?";
}

CpuActuation EffectiveActuation(CpuActuation mode, const PolicySpec& policy) {
  if (mode != CpuActuation::kPolicy) return mode;
  return policy.cpu_policy == recommender::policies::kThrottleTarget ? CpuActuation::kCaptain
                                                                     : CpuActuation::kDirect;
}

std::string ActuationError(CpuActuation mode, const PolicySpec& policy) {
  if (mode == CpuActuation::kCaptain && !policy.cpu_policy.empty() &&
      policy.cpu_policy != recommender::policies::kThrottleTarget) {
    return "--cpu-actuation captain runs the exporters' Captains, which follow the Tower's "
           "throttle targets; policy " +
           policy.name + " sizes CPU with " + policy.cpu_policy +
           ", which sets none (use direct, resize or vpa)";
  }
  return "";
}

std::string ActuationLabel(CpuActuation mode, const PolicySpec& policy) {
  if (policy.cpu_policy.empty()) return "";
  const CpuActuation own = EffectiveActuation(CpuActuation::kPolicy, policy);
  const CpuActuation used = EffectiveActuation(mode, policy);
  return used == own ? "" : "cpu " + std::string(CpuActuationName(used));
}

ResizeVerdict KubeletAdmits(double old_request, double new_request, double node_allocatable,
                            double node_requested) {
  if (new_request <= old_request) return ResizeVerdict::kApplied;
  if (new_request > node_allocatable) return ResizeVerdict::kInfeasible;
  if (node_requested - old_request + new_request > node_allocatable) {
    return ResizeVerdict::kDeferred;
  }
  return ResizeVerdict::kApplied;
}

CpuActuator::CpuActuator(ActuationOptions options,
                         std::vector<recommender::model::WorkloadKey> workloads)
    : options_(options),
      workloads_(std::move(workloads)),
      // As Actuators: a bucket of one second's patches.
      limiter_(options_.resize_rate, std::max(1.0, options_.resize_rate)),
      infeasible_memory_(options_.infeasible_retry),
      recent_(workloads_.size(), ra::RecentRange(options_.bounds_window)),
      status_(workloads_.size()),
      next_update_(options_.vpa_updater_seconds) {}

common::TimePoint CpuActuator::At(double t) const {
  return common::TimePoint{std::chrono::nanoseconds{std::llround(t * 1e9)}};
}

void CpuActuator::Pass(double t, const recommender::output::Snapshot& snapshot,
                       const std::vector<PodCpu>& pods) {
  // Forget deleted pods, as the actuator does with each pod list.
  std::vector<std::string> live;
  live.reserve(pods.size());
  for (const PodCpu& p : pods) live.push_back(p.pod);
  infeasible_memory_.Keep(live);
  const std::set<std::string> keep(live.begin(), live.end());
  std::erase_if(spec_, [&](const auto& kv) { return !keep.contains(kv.first); });

  for (uint32_t s = 0; s < workloads_.size(); ++s) {
    const recommender::output::WorkloadView* w =
        snapshot.Find(workloads_[s].k8s_namespace, workloads_[s].workload);
    if (w == nullptr || !w->recommendation.cpu_cores) continue;
    const double cores = *w->recommendation.cpu_cores;
    recent_[s].Add(At(t), cores);
    if (options_.mode == CpuActuation::kResize) {
      Resize(t, *w, s, pods);
    } else if (options_.mode == CpuActuation::kVpa) {
      // The status writer: no container policy in the simulation, so nothing caps it.
      status_[s] = ra::VpaBoundsCores(
          cores, ra::PolicySpread(*w, recent_[s], options_.default_band), nullptr);
    }
  }
  if (options_.mode == CpuActuation::kVpa && t >= next_update_) {
    // Runs at multiples of the period, as a ticker does, however late the pass.
    next_update_ += options_.vpa_updater_seconds *
                    std::floor((t - next_update_) / options_.vpa_updater_seconds + 1);
    Update(t, pods);
  }
}

void CpuActuator::Resize(double t, const recommender::output::WorkloadView& w, uint32_t service,
                         const std::vector<PodCpu>& pods) {
  for (const PodCpu& pod : pods) {
    if (pod.service != service) continue;
    const auto spec = spec_.find(pod.pod);
    const double current = spec != spec_.end() ? spec->second : pod.limit;
    const std::optional<double> target =
        ra::ResizeTarget(current, *w.recommendation.cpu_cores, w.config.min_cpu_cores,
                         w.config.max_cpu_cores, options_.resize_hysteresis);
    if (!target) {
      ++skipped_hysteresis_;
    } else if (infeasible_memory_.Holds(pod.pod, *target, At(t))) {
      ++skipped_infeasible_;
    } else if (!limiter_.TryTake(At(t))) {
      ++skipped_rate_;
    } else {
      Send(pod, *target, t);
    }
  }
}

void CpuActuator::Update(double t, const std::vector<PodCpu>& pods) {
  // VPA's updater: a pod whose request lies outside the recommendation's bounds is updated to
  // the target, in place; pods within them are left alone.
  for (const PodCpu& pod : pods) {
    const std::optional<ra::VpaCores>& status = status_[pod.service];
    if (!status) continue;
    const auto spec = spec_.find(pod.pod);
    const double current = spec != spec_.end() ? spec->second : pod.limit;
    if (current >= status->lower && current <= status->upper) continue;
    Send(pod, status->target, t);
  }
}

void CpuActuator::Send(const PodCpu& pod, double cores, double t) {
  spec_[pod.pod] = cores;
  // A newer size for the pod replaces one still on its way.
  std::erase_if(in_flight_, [&](const PodResize& r) { return r.pod == pod.pod; });
  in_flight_.push_back({pod.pod, pod.service, cores, t + options_.delay()});
  ++patches_;
}

std::vector<PodResize> CpuActuator::Due(double t) {
  std::vector<PodResize> out;
  std::erase_if(in_flight_, [&](const PodResize& r) {
    if (r.lands_at > t) return false;
    out.push_back(r);
    return true;
  });
  return out;
}

void CpuActuator::Refused(const PodResize& resize, ResizeVerdict verdict, double t) {
  if (verdict == ResizeVerdict::kDeferred) {
    ++deferred_;
    // Only when no newer size was sent meanwhile.
    if (std::none_of(in_flight_.begin(), in_flight_.end(),
                     [&](const PodResize& r) { return r.pod == resize.pod; })) {
      in_flight_.push_back(resize);
    }
  } else if (verdict == ResizeVerdict::kInfeasible) {
    ++infeasible_;
    infeasible_memory_.Refused(resize.pod, resize.cores, At(t));
  }
}

std::optional<ra::VpaCores> CpuActuator::vpa_status(uint32_t service) const {
  return service < status_.size() ? status_[service] : std::nullopt;
}

std::vector<PodCpu> ListPods(Simulation& sim) {
  std::vector<PodCpu> out;
  for (const Replica& r : sim.replicas()) {
    if (r.state == ReplicaState::kGone) continue;
    out.push_back({r.pod, r.service, sim.cpu().Limit(r.container)});
  }
  return out;
}

uint64_t LandResizes(CpuActuator& actuator, Simulation& sim) {
  const std::vector<PodResize> due = actuator.Due(sim.now());
  uint64_t applied = 0;
  for (const PodResize& resize : due) {
    const auto& replicas = sim.replicas();
    const auto it = std::find_if(replicas.rbegin(), replicas.rend(),
                                 [&](const Replica& r) { return r.pod == resize.pod; });
    if (it == replicas.rend() || it->state == ReplicaState::kGone) continue;
    const double request =
        it->guaranteed ? resize.cores : std::min(resize.cores, sim.CpuRequest(resize.service));
    const ResizeVerdict verdict = KubeletAdmits(
        it->cpu_request, request, sim.NodeAllocatable(it->node), sim.NodeRequested(it->node));
    if (verdict != ResizeVerdict::kApplied) {
      actuator.Refused(resize, verdict, sim.now());
      continue;
    }
    if (sim.cpu().Limit(it->container) != resize.cores) {
      sim.cpu().SetLimit(it->container, resize.cores, sim.now());
      ++applied;
    }
  }
  return applied;
}

}  // namespace sim
