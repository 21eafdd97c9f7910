#include "sim/closed_loop.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "common/text_serializer.h"
#include "exporter/config.h"
#include "exporter/exposition/kernel_collectable.h"
#include "exporter/exposition/state_collectable.h"
#include "recommender/checkpoint/policy_state.h"
#include "recommender/config.h"
#include "recommender/input/feeder.h"
#include "recommender/input/queries.h"
#include "recommender/input/scrape_source.h"
#include "recommender/policies/all_policies.h"
#include "sim/emitters.h"
#include "sim/shifting.h"

namespace sim {
namespace {

namespace rp = recommender::policies;

constexpr char kExporterUrl[] = "sim://exporter/metrics";
constexpr char kKubeUrl[] = "sim://kube-state-metrics/metrics";
constexpr char kBudgetGroup[] = "app";
// Limits closer than this are the same limit: a CFS quota is whole microseconds per 100 ms
// period, and Autothrottle writes a new limit only when it moves by 1e-5 cores or more.
constexpr double kLimitResolution = 1e-5;

}  // namespace

std::vector<std::string> EntryServices(const App& app) {
  std::vector<std::string> out;
  for (const RequestType& r : app.requests) {
    if (std::find(out.begin(), out.end(), r.service) == out.end()) out.push_back(r.service);
  }
  return out;
}

std::vector<recommender::WorkloadConfig> WorkloadConfigs(const App& app, const PolicySpec& policy) {
  const recommender::WorkloadConfig defaults;
  std::vector<recommender::WorkloadConfig> out;
  for (const Service& svc : app.services) {
    recommender::WorkloadConfig c;
    c.key = {app.k8s_namespace, svc.name};
    c.services = {svc.name};
    c.container = svc.name;
    c.slo_p99_seconds = app.slo_p99;
    c.min_replicas = svc.min_replicas;
    c.max_replicas = svc.max_replicas;
    c.min_cpu_cores = svc.min_cpu;
    c.max_cpu_cores = svc.max_cpu;
    // A channel the policy leaves alone keeps the recommender's default; it is never applied.
    c.replica_policy =
        policy.replica_policy.empty() ? defaults.replica_policy : policy.replica_policy;
    c.cpu_policy = policy.cpu_policy.empty() ? defaults.cpu_policy : policy.cpu_policy;
    if (app.budget_extra_pods > 0) c.budget_group = kBudgetGroup;
    c.tower_high_cpu_group = svc.high_cpu_group;
    out.push_back(std::move(c));
  }
  return out;
}

ClosedLoop::ClosedLoop(Simulation& sim, ClosedLoopOptions options)
    : sim_(sim),
      options_(std::move(options)),
      ticks_per_interval_(
          std::max<int64_t>(10, 10 * std::llround(common::ToSeconds(options_.policy.interval)))),
      configs_(WorkloadConfigs(sim.app(), options_.policy)),
      spans_(exporter::ExporterConfig{}.ToStateOptions()),
      kernel_(exporter::ExporterConfig{}.ToKernelStateOptions()),
      actuation_(EffectiveActuation(options_.actuation.mode, options_.policy)),
      metrics_(registry_) {
  if (const std::string error = ActuationError(actuation_, options_.policy); !error.empty()) {
    throw std::invalid_argument(error);
  }
  if (!options_.policy.cpu_policy.empty() &&
      (actuation_ == CpuActuation::kResize || actuation_ == CpuActuation::kVpa)) {
    std::vector<recommender::model::WorkloadKey> keys;
    for (const auto& c : configs_) keys.push_back(c.key);
    ActuationOptions actuation = options_.actuation;
    actuation.mode = actuation_;
    actuator_.emplace(actuation, std::move(keys));
  }
  if (options_.policy.cpu_policy == rp::kThrottleTarget && actuation_ == CpuActuation::kCaptain) {
    captains_.emplace(exporter::state::CaptainsOptions{});
    // One Deployment and container per service, as WorkloadConfigs names them.
    for (const auto& service : sim.app().services) {
      targets_.entries.push_back(
          {sim.app().k8s_namespace, service.name, service.name, /*target=*/0});
    }
  }
  recommender::RecommenderConfig rc;
  rc.exporter_urls = {kExporterUrl, kKubeUrl};
  rc.workloads.workloads = configs_;

  recommender::LoopOptions lo;
  lo.safety = rc.ToSafetyOptions();
  const std::vector<std::string> entry = EntryServices(sim.app());
  if (sim.app().budget_extra_pods > 0) {
    lo.budget_groups.push_back({.name = kBudgetGroup,
                                .extra_pods = sim.app().budget_extra_pods,
                                .entry_workloads = entry});
  }
  lo.policies.tower.rate_bucket = sim.app().tower_rate_bucket;
  lo.policies.tower.seed = options_.seed;
  lo.policies.tower.mode = options_.tower.mode;
  lo.policies.tower.explore = options_.tower.explore;
  lo.policies.tower.latency_window = rc.EffectiveWindow();
  lo.policies.tower.entry_workloads = entry;
  lo.policies.deepscaler = options_.deepscaler;
  if (const auto& target = options_.policy.target_utilization) {
    lo.policies.hpa_cpu.target_utilization = *target;
    lo.policies.k8s_cpu.target_utilization = *target;
    lo.policies.k8s_cpu_fast.target_utilization = *target;
  }
  common::HttpGet get = [this](const std::string& url) {
    return common::HttpResult{
        .status = 200, .body = url == kExporterUrl ? exporter_text_ : kube_text_, .error = ""};
  };
  loop_ = std::make_unique<recommender::RecommenderLoop>(
      recommender::input::Feeder(std::make_unique<recommender::input::ScrapeSource>(
          rc.exporter_urls, std::move(get),
          recommender::input::ScrapeOptions{.window = rc.EffectiveWindow()})),
      recommender::model::Model(configs_, rc.ToModelOptions()), std::move(lo), metrics_,
      snapshots_);
  if (!options_.tower.model.empty()) {
    std::string error;
    if (!recommender::checkpoint::ReadTowerModel(options_.tower.model, loop_->mutable_tower(),
                                                 &error)) {
      throw std::invalid_argument("Tower model: " + error);
    }
  }
}

std::string ClosedLoop::TowerModel() const {
  return recommender::checkpoint::WriteTowerModel(loop_->tower());
}

common::TimePoint ClosedLoop::At(double t) const {
  return common::TimePoint{std::chrono::nanoseconds{sim_.ToUnixNanos(t)}};
}

void ClosedLoop::Tick(double t) {
  ++tick_;
  if (captains_) RunCaptains(t);
  if (actuator_) scaling_actions_ += LandResizes(*actuator_, sim_);
  if (tick_ % 10 == 0) Collect(t);
  if (tick_ % ticks_per_interval_ == 0) Apply();
}

void ClosedLoop::RunCaptains(double t) {
  // The exporter's Captains on this tick's cgroup counters, with the Tower's current targets.
  const rp::Tower& tower = loop_->tower();
  for (uint32_t s = 0; s < targets_.entries.size(); ++s) {
    targets_.entries[s].target = tower.TargetFor(configs_[s]);
  }
  FillKernelSample(sim_, captain_sample_);
  // A Captain starts with its container when the pod turns ready, from the pod's limit: a pod still
  // starting takes no requests, and a Captain run on its idle container would shrink the limit to
  // its floor before the first request arrives.
  std::vector<std::string_view> starting;
  for (const Replica& r : sim_.replicas()) {
    if (r.state == ReplicaState::kStarting) starting.push_back(r.pod);
  }
  if (!starting.empty()) {
    std::erase_if(captain_sample_.containers, [&](const auto& c) {
      return std::find(starting.begin(), starting.end(), c.pod) != starting.end();
    });
  }
  captains_->Step(captain_sample_, targets_, At(t));

  // Each Captain writes its own container's quota at this tick, as Autothrottle's daemon writes
  // the pod cgroup; the recommender's throttle_target cpuCores stays advice and is not applied.
  // Each pod looks its Captain up by key: a sorted Snapshot() per tick would copy every Captain.
  const App& app = sim_.app();
  for (const Replica& r : sim_.replicas()) {
    if (r.state == ReplicaState::kGone) continue;
    const std::optional<double> limit =
        captains_->Limit(app.k8s_namespace, r.pod, app.services[r.service].name);
    if (!limit) continue;
    if (std::abs(*limit - sim_.cpu().Limit(r.container)) >= kLimitResolution) {
      sim_.cpu().SetLimit(r.container, *limit, sim_.now());
      ++cgroup_writes_;
    }
  }
}

void ClosedLoop::Collect(double t) {
  const common::TimePoint now = At(t);
  SpanSampler(options_.sampling).Apply(sim_.spans());
  spans_.Add(sim_.spans(), now);
  spans_processed_ += sim_.spans().size();
  sim_.spans().Clear();
  if (tick_ % 300 == 0) spans_.GarbageCollect(now);  // every 30 s, as the exporter's loop
  FillKernelSample(sim_, kernel_sample_);
  kernel_.Apply(kernel_sample_, now);

  exporter_text_.clear();
  common::AppendText(exporter::exposition::StateFamilies(*spans_.Snapshot(now)), exporter_text_);
  std::shared_ptr<exporter::state::KernelSnapshot> kernel = kernel_.Snapshot(now);
  if (captains_) kernel->captains = captains_->Snapshot();
  common::AppendText(exporter::exposition::KernelFamilies(*kernel), exporter_text_);
  kube_text_ = KubeStateMetricsText(sim_);
  loop_->RunOnce(now);
  if (actuator_) actuator_->Pass(t, *snapshots_.Get(), ListPods(sim_));
}

void ClosedLoop::Apply() {
  const auto snap = snapshots_.Get();
  const App& app = sim_.app();
  for (uint32_t s = 0; s < app.services.size(); ++s) {
    const recommender::output::WorkloadView* view =
        snap->Find(app.k8s_namespace, app.services[s].name);
    if (view == nullptr) continue;
    const recommender::combine::Recommendation& rec = view->recommendation;
    if (options_.policy.replica_policy == rp::kLoadShifting) ApplyShifting(sim_, s, *view);
    if (!options_.policy.replica_policy.empty() && rec.replicas &&
        *rec.replicas != sim_.Replicas(s)) {
      sim_.SetReplicas(s, *rec.replicas);
      ++scaling_actions_;
    }
    if (!options_.policy.cpu_policy.empty() && actuation_ == CpuActuation::kDirect &&
        rec.cpu_cores && std::abs(*rec.cpu_cores - sim_.CpuLimit(s)) >= kLimitResolution) {
      sim_.SetCpuLimit(s, *rec.cpu_cores);
      ++scaling_actions_;
    }
  }
}

}  // namespace sim
