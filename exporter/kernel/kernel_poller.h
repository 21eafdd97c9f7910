#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "exporter/kernel/collector.h"
#include "exporter/state/kernel_snapshot.h"
#include "exporter/state/kernel_state.h"

namespace exporter::kernel {

// Runs a kernel collection every interval on its own thread, applies it to the kernel state and
// publishes a snapshot. Scrapes and the status page take the latest published snapshot: they
// never wait for a collection, and a collection never waits for them (the lock guards only the
// pointer swap).
class KernelPoller {
 public:
  KernelPoller(std::unique_ptr<Collector> collector, state::KernelStateOptions state_options);
  ~KernelPoller();
  KernelPoller(const KernelPoller&) = delete;
  KernelPoller& operator=(const KernelPoller&) = delete;

  // One collection at `now`; the thread calls it, tests call it directly.
  void CollectOnce(common::TimePoint now);
  // Collects every interval until destroyed.
  void Start(const common::Clock& clock, common::Duration interval);

  // The snapshot of the last collection (an empty one before the first).
  std::shared_ptr<const state::KernelSnapshot> Snapshot() const;

 private:
  std::unique_ptr<Collector> collector_;
  state::KernelState state_;
  state::KernelSample sample_;

  mutable std::mutex mu_;
  std::shared_ptr<const state::KernelSnapshot> snapshot_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace exporter::kernel
