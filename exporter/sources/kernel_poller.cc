#include "exporter/sources/kernel_poller.h"

#include <algorithm>

namespace exporter::sources {

KernelPoller::KernelPoller(std::unique_ptr<kernel::Collector> collector,
                           state::KernelStateOptions state_options,
                           std::optional<CaptainsRun> captains)
    : collector_(std::move(collector)),
      state_(state_options),
      captains_run_(std::move(captains)),
      snapshot_(std::make_shared<state::KernelSnapshot>()) {
  if (captains_run_) captains_.emplace(captains_run_->options);
  if (captains_run_ && captains_run_->apply) {
    applier_.emplace(*captains_run_->apply, captains_run_->write);
  }
}

KernelPoller::~KernelPoller() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (applier_) applier_->RestoreAll();
}

void KernelPoller::CollectOnce(common::TimePoint now) {
  collector_->Collect(now, sample_);
  state_.Apply(sample_, now);
  StepCaptains(sample_, now);
  std::shared_ptr<state::KernelSnapshot> snapshot = state_.Snapshot(now);
  if (captains_) snapshot->captains = captains_->Snapshot();
  if (applier_) snapshot->captain_apply = applier_->Snapshot();
  std::shared_ptr<const state::KernelSnapshot> published = std::move(snapshot);
  std::lock_guard lock(mu_);
  snapshot_.swap(published);
}

void KernelPoller::TickCaptains(common::TimePoint now) {
  if (!captains_) return;
  collector_->CollectCgroups(cgroup_sample_);
  cgroup_sample_.node = sample_.node;  // the CPU count of the last full collection
  StepCaptains(cgroup_sample_, now);
}

void KernelPoller::StepCaptains(const kernel::KernelSample& sample, common::TimePoint now) {
  if (!captains_) return;
  static const state::ThrottleTargets kNone;
  const std::shared_ptr<const state::ThrottleTargets> targets =
      captains_run_->targets ? captains_run_->targets() : nullptr;
  captains_->Step(sample, targets ? *targets : kNone, now);
  if (applier_) applier_->Apply(sample, sample.node.cpus, *captains_, now);
}

void KernelPoller::Start(const common::Clock& clock, common::Duration interval) {
  // Ticks of the Captains (or whole intervals without them); a full collection every interval.
  const common::Duration tick = captains_ ? std::min(captains_run_->tick, interval) : interval;
  thread_ = std::thread([this, &clock, interval, tick] {
    // Fixed rate: a slow collection shortens the next wait instead of shifting every later one.
    auto next = std::chrono::steady_clock::now();
    auto next_collection = next;
    for (;;) {
      if (next >= next_collection) {
        CollectOnce(clock.Now());
        next_collection += interval;
      } else {
        TickCaptains(clock.Now());
      }
      next += tick;
      const auto now = std::chrono::steady_clock::now();
      if (next < now) {  // fell a whole tick behind: skip, don't burst
        next = now + tick;
        if (next_collection < now) next_collection = now;
      }
      std::unique_lock lock(mu_);
      if (wake_.wait_until(lock, next, [this] { return stop_; })) return;
    }
  });
}

std::shared_ptr<const state::KernelSnapshot> KernelPoller::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

}  // namespace exporter::sources
