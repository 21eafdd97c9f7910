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
#include "exporter/state/kernel_snapshot.h"

namespace exporter::state {

// One kernel collection as the collector hands it over: the kernel's cumulative counters in
// integer units (nanoseconds, counts), exactly as read.
struct KernelSample {
  struct Container {
    std::string k8s_namespace, pod, container;  // the series labels
    // The cgroup this came from. A new (path, inode) under the same labels is a new cgroup: a
    // restarted container or a recreated cgroup, whose counters start again from zero.
    std::string cgroup;
    uint64_t cgroup_inode = 0;
    std::string pod_uid, container_id, qos, runtime;

    std::optional<uint64_t> usage_ns, periods, throttled_periods, throttled_ns;
    std::optional<uint64_t> pressure_some_ns, pressure_full_ns;
    std::optional<double> limit_cores;  // empty: unlimited, or unreadable this time
    // Per-thread schedstat sums (exited threads included); valid when has_tasks.
    bool has_tasks = false;
    uint64_t run_ns = 0, wait_ns = 0, timeslices = 0;
    size_t threads = 0;
  };
  struct Node {
    std::optional<uint64_t> pressure_some_ns;
    std::optional<uint64_t> runqueue_wait_ns;
    int cpus = 0;
  };
  struct Source {
    std::string_view name;
    bool success = false;
    double duration_seconds = 0;
  };
  struct Error {
    std::string_view source, reason;
    uint64_t count = 0;  // cumulative
  };

  std::vector<Container> containers;
  Node node;
  std::vector<Source> sources;
  std::vector<Error> errors;
  std::string_view cgroup_mode = "none";
  // Where the run-queue counters come from: "schedstat" (per thread) or "taskstats" (per
  // process); the tasks of Container::threads and threads_read are threads or processes.
  std::string_view task_counters = "schedstat";
  size_t kept_files = 0;
  size_t idle_containers = 0;  // containers whose tasks were not re-read: no CPU used since
  size_t threads_read = 0;     // tasks read by the collection (schedstat files or processes)
};

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

  void Apply(const KernelSample& sample, common::TimePoint now);
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
  static Values FieldsOf(const KernelSample::Container& c);
  void ApplyContainer(const KernelSample::Container& c, common::TimePoint now);

  KernelStateOptions options_;
  std::unordered_map<std::string, Series> series_;
  std::string key_;  // scratch
  uint64_t round_ = 0;
  KernelSample::Node node_;
  std::vector<KernelSnapshot::Source> sources_;
  std::vector<KernelSnapshot::Error> errors_;
  std::string cgroup_mode_ = "none", task_counters_ = "schedstat";
  size_t threads_ = 0, kept_files_ = 0, idle_containers_ = 0, threads_read_ = 0;
};

}  // namespace exporter::state
