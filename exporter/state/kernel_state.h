#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/rolling_window.h"
#include "exporter/kernel/sample.h"
#include "exporter/state/kernel_snapshot.h"

namespace exporter::state {

struct KernelStateOptions {
  common::Duration window = std::chrono::seconds{60};
  int window_buckets = 4;
  // A series whose container is gone is kept (hidden) this long, so a container that comes
  // back under the same labels continues its counters instead of starting them over.
  common::Duration series_idle = std::chrono::minutes{5};
};

// Per-container kernel counters keyed by (namespace, pod, container). Each counter is the sum of
// the non-negative increments of the kernel counters behind it: a cgroup seen for the first time
// adds its whole value, a value below the previous one (a reset) adds the new value, so the
// exported counters never go backwards across container restarts and recreated cgroups. Also
// keeps the sliding-window deltas behind the interference ratio. Single-threaded.
class KernelState {
 public:
  explicit KernelState(KernelStateOptions options) : options_(options) {}

  void Apply(const kernel::KernelSample& sample, common::TimePoint now);
  std::shared_ptr<KernelSnapshot> Snapshot(common::TimePoint now) const;

 private:
  enum Field {
    kUsage,
    kPeriods,
    kThrottledPeriods,
    kThrottledNs,
    kPressureSome,
    kPressureFull,
    kRun,
    kWait,
    kTimeslices,
    kFieldCount
  };
  using Values = std::array<std::optional<uint64_t>, kFieldCount>;

  struct WindowDeltas {
    std::array<uint64_t, kFieldCount> delta{};
    void Reset() { delta.fill(0); }
  };
  struct Identity {
    std::string cgroup;
    uint64_t inode = 0;
    Values last;
    uint64_t round = 0;  // the last Apply that saw it
  };
  struct Series {
    std::string k8s_namespace, pod, container;
    std::string cgroup, pod_uid, qos, runtime;  // of the latest cgroup
    size_t threads = 0;
    std::vector<Identity> identities;
    Values total;  // accumulated; empty until the kernel first provided the value
    std::optional<double> limit_cores;
    common::RollingWindow<WindowDeltas> window;
    uint64_t round = 0;
    common::TimePoint last_seen;
  };
  static Values FieldsOf(const kernel::KernelSample::Container& c);
  void ApplyContainer(const kernel::KernelSample::Container& c, common::TimePoint now);

  KernelStateOptions options_;
  std::unordered_map<std::string, Series> series_;
  std::string key_;  // scratch
  uint64_t round_ = 0;
  kernel::KernelSample::Node node_;
  std::vector<KernelSnapshot::Source> sources_;
  std::vector<KernelSnapshot::Error> errors_;
  std::string cgroup_mode_ = "none", task_counters_ = "schedstat";
  size_t threads_ = 0, kept_files_ = 0, idle_containers_ = 0, threads_read_ = 0;
};

}  // namespace exporter::state
