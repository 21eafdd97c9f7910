#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "common/clock.h"
#include "exporter/kernel/collector.h"
#include "exporter/state/captain_applier.h"
#include "exporter/state/captains.h"
#include "exporter/state/kernel_snapshot.h"
#include "exporter/state/kernel_state.h"

namespace exporter::sources {

// The per-container Captains, run on the poller's thread between collections.
struct CaptainsRun {
  state::CaptainsOptions options;
  common::Duration tick = std::chrono::milliseconds{100};  // one CFS period, as Autothrottle
  // The latest throttle targets (from --recommender.url); null: none yet.
  std::function<std::shared_ptr<const state::ThrottleTargets>()> targets;
  // Set (--captain.apply): the limits are written to the cgroups of opted-in pods, and the
  // originals written back when the poller is destroyed.
  std::optional<state::CaptainApplierOptions> apply;
  state::QuotaWriter write = kernel::WriteFile;
};

// Runs a kernel collection every interval on its own thread, applies it to the kernel state and
// publishes a snapshot. With Captains, every tick in between reads the cgroup files only and
// steps the Captains, whose latest recommendations go into the next snapshot. Scrapes and the
// status page take the latest published snapshot: they never wait for a collection, and a
// collection never waits for them (the lock guards only the pointer swap).
class KernelPoller {
 public:
  KernelPoller(std::unique_ptr<kernel::Collector> collector,
               state::KernelStateOptions state_options,
               std::optional<CaptainsRun> captains = std::nullopt);
  ~KernelPoller();
  // Stops the thread, then writes back the quotas the Captains replaced.
  KernelPoller(const KernelPoller&) = delete;
  KernelPoller& operator=(const KernelPoller&) = delete;

  // One collection at `now` (and a Captain step on it); the thread calls it, tests call it
  // directly.
  void CollectOnce(common::TimePoint now);
  // One Captain tick on the cgroup files alone; a no-op without Captains.
  void TickCaptains(common::TimePoint now);
  // Collects every interval (ticking the Captains in between) until destroyed.
  void Start(const common::Clock& clock, common::Duration interval);

  // The snapshot of the last collection (an empty one before the first).
  std::shared_ptr<const state::KernelSnapshot> Snapshot() const;

 private:
  std::unique_ptr<kernel::Collector> collector_;
  state::KernelState state_;
  kernel::KernelSample sample_;
  void StepCaptains(const kernel::KernelSample& sample, common::TimePoint now);

  std::optional<CaptainsRun> captains_run_;
  std::optional<state::Captains> captains_;
  std::optional<state::CaptainApplier> applier_;
  kernel::KernelSample cgroup_sample_;

  mutable std::mutex mu_;
  std::shared_ptr<const state::KernelSnapshot> snapshot_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace exporter::sources
