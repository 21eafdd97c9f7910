#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "recommender/actuate/actuators.h"
#include "recommender/actuate/decisions.h"
#include "recommender/output/snapshot.h"
#include "sim/policies.h"
#include "sim/simulation.h"

namespace sim {

// How a policy's CPU recommendation reaches the simulated pods.
//   kPolicy   each policy's own way: kCaptain for throttle_target, kDirect for the others
//   kDirect   every pod of the service at once, at each policy interval (Simulation::SetCpuLimit)
//   kCaptain  the exporters' Captains write each container every 100 ms, after the Tower's
//             throttle targets; only throttle_target sets those targets
//   kResize   queuelens' --kubernetes.resize: every recommender pass, each pod through the
//             actuator's decision rule (hysteresis, patch rate, min/max) and an in-place resize
//             that lands after the API call and the kubelet
//   kVpa      queuelens' VPA status writer, then the VPA updater (InPlaceOrRecreate): every
//             updater period, pods outside [lowerBound, upperBound] resized in place to target
enum class CpuActuation { kPolicy, kDirect, kCaptain, kResize, kVpa };

std::optional<CpuActuation> ParseCpuActuation(std::string_view name);
std::string_view CpuActuationName(CpuActuation mode);
// kPolicy resolved for `policy`.
CpuActuation EffectiveActuation(CpuActuation mode, const PolicySpec& policy);
// Why `mode` cannot run `policy`; empty when it can.
std::string ActuationError(CpuActuation mode, const PolicySpec& policy);
// What the scoreboard adds to a row's setting: empty when the mode is the policy's own.
std::string ActuationLabel(CpuActuation mode, const PolicySpec& policy);

struct ActuationOptions {
  CpuActuation mode = CpuActuation::kPolicy;
  // The recommender's own defaults (--kubernetes.resize-*, --vpa.*).
  double resize_hysteresis = recommender::actuate::ActuatorOptions{}.resize_hysteresis;
  double resize_rate = recommender::actuate::ActuatorOptions{}.resize_rate;
  common::Duration infeasible_retry =
      recommender::actuate::ActuatorOptions{}.resize_infeasible_retry;
  common::Duration bounds_window = recommender::actuate::ActuatorOptions{}.vpa_bounds_window;
  double default_band = recommender::actuate::ActuatorOptions{}.vpa_default_band;
  // The PATCH of pods/resize: Kubernetes' API latency SLO allows 1 s at the 99th percentile for
  // a mutating call on one object; an unloaded control plane answers in tens of milliseconds.
  double api_seconds = 0.1;
  // The kubelet: the patched spec reaches it through its pod watch, the pod worker's next sync
  // calls the runtime's UpdateContainerResources, and the resize is confirmed at the next PLEG
  // relist (every 1 s), so a new limit is in force about a second after the API accepted it.
  double kubelet_seconds = 1;
  // VPA updater's --updater-interval (1 min).
  double vpa_updater_seconds = 60;

  double delay() const { return api_seconds + kubelet_seconds; }
};

// A pod as the actuator lists it.
struct PodCpu {
  std::string pod;       // the pod's name, its identity for the actuator
  uint32_t service = 0;  // the workload (App::services index)
  double limit = 0;      // the container's CPU limit in force
};

// A resize the API accepted, in force at `lands_at` unless the kubelet refuses it.
struct PodResize {
  std::string pod;
  uint32_t service = 0;
  double cores = 0;
  double lands_at = 0;
};

// What the kubelet makes of a resize (its admission of the new requests on the node).
enum class ResizeVerdict { kApplied, kDeferred, kInfeasible };

// Deferred when the pod's new request does not fit the node's unrequested CPU now (the kubelet
// retries), Infeasible when it exceeds the node's allocatable CPU (it never fits there).
ResizeVerdict KubeletAdmits(double old_request, double new_request, double node_allocatable,
                            double node_requested);

// The resize and VPA paths of queuelens' actuators over simulated time, without I/O: a pass takes
// the recommender's snapshot and the pods, and returns nothing; the resizes it sent come out of
// Due() once they land. Uses the actuators' own decision code (recommender/actuate/decisions.h).
class CpuActuator {
 public:
  // `workloads`: each service's published view name (namespace, workload), in App::services
  // order.
  CpuActuator(ActuationOptions options, std::vector<recommender::model::WorkloadKey> workloads);

  // One actuator pass at `t` (seconds) after a recommender pass.
  void Pass(double t, const recommender::output::Snapshot& snapshot,
            const std::vector<PodCpu>& pods);
  // Resizes in force by `t`, removed from those in flight, in the order they were sent.
  std::vector<PodResize> Due(double t);
  // The kubelet's answer to a resize from Due(): a Deferred one is retried at the next Due(),
  // an Infeasible one is remembered as the actuator remembers one the pod status reports.
  void Refused(const PodResize& resize, ResizeVerdict verdict, double t);

  // The VPA status last written for a service (kVpa), for inspection.
  std::optional<recommender::actuate::VpaCores> vpa_status(uint32_t service) const;

  uint64_t patches() const { return patches_; }
  uint64_t skipped_hysteresis() const { return skipped_hysteresis_; }
  uint64_t skipped_rate() const { return skipped_rate_; }
  uint64_t skipped_infeasible() const { return skipped_infeasible_; }
  uint64_t infeasible() const { return infeasible_; }
  uint64_t deferred() const { return deferred_; }

 private:
  void Resize(double t, const recommender::output::WorkloadView& w, uint32_t service,
              const std::vector<PodCpu>& pods);
  void Update(double t, const std::vector<PodCpu>& pods);
  void Send(const PodCpu& pod, double cores, double t);
  common::TimePoint At(double t) const;

  ActuationOptions options_;
  std::vector<recommender::model::WorkloadKey> workloads_;
  recommender::actuate::RateLimiter limiter_;
  recommender::actuate::InfeasibleMemory infeasible_memory_;
  std::vector<recommender::actuate::RecentRange> recent_;
  std::vector<std::optional<recommender::actuate::VpaCores>> status_;
  // The CPU each pod's spec holds: the last size sent, as the API server stores it at once.
  std::map<std::string, double> spec_;
  std::vector<PodResize> in_flight_;  // sent order
  double next_update_;

  uint64_t patches_ = 0;
  uint64_t skipped_hysteresis_ = 0;
  uint64_t skipped_rate_ = 0;
  uint64_t skipped_infeasible_ = 0;
  uint64_t infeasible_ = 0;
  uint64_t deferred_ = 0;
};

// The simulation's pods that are not gone, as the actuator lists them.
std::vector<PodCpu> ListPods(Simulation& sim);

// Lands the actuator's resizes due at sim.now() on the pods' containers, each admitted by the
// kubelet against its node (KubeletAdmits with the pod's new request: a Guaranteed pod's follows
// its limit). Returns how many took effect. The container's limit changes alone, as a Captain's
// write does: the simulation keeps the pod's request on its node as the pod was created or
// last resized through Simulation::SetCpuLimit.
uint64_t LandResizes(CpuActuator& actuator, Simulation& sim);

}  // namespace sim
