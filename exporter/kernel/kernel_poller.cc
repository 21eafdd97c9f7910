#include "exporter/kernel/kernel_poller.h"

namespace exporter::kernel {

KernelPoller::KernelPoller(std::unique_ptr<Collector> collector,
                           state::KernelStateOptions state_options)
    : collector_(std::move(collector)),
      state_(state_options),
      snapshot_(std::make_shared<state::KernelSnapshot>()) {}

KernelPoller::~KernelPoller() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void KernelPoller::CollectOnce(common::TimePoint now) {
  collector_->Collect(now, sample_);
  state_.Apply(sample_, now);
  std::shared_ptr<const state::KernelSnapshot> snapshot = state_.Snapshot(now);
  std::lock_guard lock(mu_);
  snapshot_.swap(snapshot);
}

void KernelPoller::Start(const common::Clock& clock, common::Duration interval) {
  thread_ = std::thread([this, &clock, interval] {
    // Fixed rate: a slow collection shortens the next wait instead of shifting every later one.
    auto next = std::chrono::steady_clock::now();
    for (;;) {
      CollectOnce(clock.Now());
      next += interval;
      const auto now = std::chrono::steady_clock::now();
      if (next < now) next = now + interval;  // fell a whole interval behind: skip, don't burst
      std::unique_lock lock(mu_);
      if (wake_.wait_until(lock, next, [this] { return stop_; })) return;
    }
  });
}

std::shared_ptr<const state::KernelSnapshot> KernelPoller::Snapshot() const {
  std::lock_guard lock(mu_);
  return snapshot_;
}

}  // namespace exporter::kernel
