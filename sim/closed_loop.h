#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "exporter/state/captains.h"
#include "exporter/state/kernel_state.h"
#include "exporter/state/state.h"
#include "prometheus/registry.h"
#include "recommender/loop.h"
#include "recommender/output/recommender_metrics.h"
#include "recommender/output/snapshot.h"
#include "recommender/policies/slo_feedback.h"
#include "recommender/policies/throttle_target.h"
#include "sim/actuation.h"
#include "sim/policies.h"
#include "sim/simulation.h"

namespace sim {

// How the Tower runs: Autothrottle warms it with exploring runs, then scores with exploration 0.
struct TowerRun {
  recommender::policies::TowerMode mode = recommender::policies::TowerMode::kBandit;
  double explore = 0.1;
  std::string model;  // a Tower model (checkpoint::WriteTowerModel) to start from; empty: cold
};

struct ClosedLoopOptions {
  PolicySpec policy;
  uint64_t seed = 1;
  TowerRun tower;
  ActuationOptions actuation;  // how the CPU recommendation reaches the pods
  double sampling = 1;  // head-sampling probability of the spans the exporter sees (SpanSampler)
  recommender::policies::DeepScalerOptions deepscaler;  // the model and call graph it predicts with
};

// The real exporter and recommender code in process, fed by a simulation and acting on it:
//
//   every 100 ms  the exporters' Captains (exporter::state::Captains) on the cgroup counters,
//                 with the Tower's targets; each Captain's limit goes straight to its container
//                 (CpuModel::SetLimit), as Autothrottle's daemon writes the pod cgroup; a pod's
//                 Captain starts when the pod turns ready, from the pod's limit
//   every second  the span batch → exporter::state::State; a kernel sample →
//                 exporter::state::KernelState; then one recommender pass
//                 (recommender::RecommenderLoop::RunOnce) that scrapes, through an in-process
//                 HttpGet, the exporter's /metrics text (rendered by the exporter's own
//                 exposition code, the Captains' recommendations included) and kube-state-metrics
//                 series for the simulated Deployments
//   every policy interval  the published recommendation of the policy's channels is applied:
//                 replicas (pod start-up and drain in the simulation) and, with
//                 CpuActuation::kDirect, per-pod CPU limits
// CPU otherwise (ActuationOptions::mode): kCaptain, the Captains' limits above (throttle_target's
// cpuCores is then advice); kResize and kVpa, a CpuActuator pass after every recommender pass and
// its resizes landed at every tick. A policy the mode cannot run throws std::invalid_argument.
//
// Each service is one workload (Deployment and container named after the service). The
// recommender runs with its defaults for direct scraping: a 1 s pass and a 5 s rate window.
class ClosedLoop {
 public:
  ClosedLoop(Simulation& sim, ClosedLoopOptions options);

  // Call at every multiple of 100 ms of simulated time, after Simulation::RunUntil(t).
  void Tick(double t);

  uint64_t spans_processed() const { return spans_processed_; }
  uint64_t scaling_actions() const { return scaling_actions_; }
  uint64_t cgroup_writes() const { return cgroup_writes_; }
  // The resize or VPA actuator (kResize, kVpa), for its counters.
  const std::optional<CpuActuator>& actuator() const { return actuator_; }
  // The recommender's latest published pass.
  std::shared_ptr<const recommender::output::Snapshot> recommendations() const {
    return snapshots_.Get();
  }
  // The exporter's text of the latest pass, for inspection.
  const std::string& exporter_text() const { return exporter_text_; }
  // The Tower's learned model, to carry into another run.
  std::string TowerModel() const;
  // The Captains after the latest tick (empty unless the policy sizes CPU with throttle_target).
  std::vector<exporter::state::KernelSnapshot::Captain> captains() const {
    return captains_ ? captains_->Snapshot()
                     : std::vector<exporter::state::KernelSnapshot::Captain>{};
  }

 private:
  void RunCaptains(double t);
  void Collect(double t);
  void Apply();
  common::TimePoint At(double t) const;

  Simulation& sim_;
  ClosedLoopOptions options_;
  int64_t tick_ = 0;
  int64_t ticks_per_interval_;
  std::vector<recommender::WorkloadConfig> configs_;

  exporter::state::State spans_;
  exporter::state::KernelState kernel_;
  exporter::kernel::KernelSample kernel_sample_;
  // The exporters' Captains, when the policy sizes CPU with throttle_target.
  std::optional<exporter::state::Captains> captains_;
  exporter::kernel::KernelSample captain_sample_;
  exporter::state::ThrottleTargets targets_;
  CpuActuation actuation_;
  std::optional<CpuActuator> actuator_;

  std::string exporter_text_;
  std::string kube_text_;
  prometheus::Registry registry_;
  recommender::output::LoopMetrics metrics_;
  recommender::output::SnapshotHolder snapshots_;
  std::unique_ptr<recommender::RecommenderLoop> loop_;

  uint64_t spans_processed_ = 0;
  uint64_t scaling_actions_ = 0;
  uint64_t cgroup_writes_ = 0;
};

// The services the app's request types call first (its entry workloads).
std::vector<std::string> EntryServices(const App& app);

// The recommender's workload settings for each service of `app`, in App::services order.
std::vector<recommender::WorkloadConfig> WorkloadConfigs(const App& app, const PolicySpec& policy);

}  // namespace sim
