#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace exporter::state {

// A copy of the kernel state after one collection, rendered by scrapes and the status page on
// other threads. Counters are cumulative and never decrease; optionals are empty where the
// kernel does not provide the value (no PSI on cgroup v1, no cpu controller, no schedstat).
struct KernelSnapshot {
  common::TimePoint at;
  double window_seconds = 0;

  struct Container {
    std::string k8s_namespace, pod, container;
    std::string cgroup;                 // path in the walked hierarchy
    std::string pod_uid, qos, runtime;  // empty for non-Kubernetes cgroups
    size_t threads = 0;

    std::optional<double> cpu_usage_seconds;
    std::optional<uint64_t> cpu_periods, cpu_throttled_periods;
    std::optional<double> cpu_throttled_seconds;
    std::optional<double> pressure_waiting_seconds, pressure_stalled_seconds;
    std::optional<double> runqueue_wait_seconds;
    std::optional<uint64_t> timeslices;
    std::optional<double> limit_cores;  // empty when unlimited

    // Over the sliding window.
    std::optional<double> interference_ratio;          // wait / (wait + run)
    std::optional<double> wait_per_timeslice_seconds;  // Δwait / Δtimeslices
    std::optional<double> cpu_usage_cores;             // Δusage / covered time
    std::optional<double> throttled_ratio;             // Δthrottled periods / Δperiods
  };
  struct Node {
    std::optional<double> pressure_waiting_seconds;  // /proc/pressure/cpu "some"
    std::optional<double> runqueue_wait_seconds;     // /proc/schedstat, summed over CPUs
    int cpus = 0;
  };
  struct Source {
    std::string name;
    bool success = false;
    double duration_seconds = 0;
  };
  struct Error {
    std::string source, reason;
    uint64_t count = 0;
  };
  // A container's Captain (exporter/state/captains.h) after its last 100 ms sample.
  struct Captain {
    std::string k8s_namespace, pod, container;
    double recommended_cpu_cores = 0;
    double throttle_target = 0;
    double throttled_ratio = 0;  // throttled periods per period since the last decision
    double margin = 0;           // in σ of the usage ring
    std::string_view action;     // of the last decision: hold, scale_up, scale_down, rollback
  };

  // What the Captains wrote to cgroups (exporter/state/captain_applier.h), with --captain.apply.
  struct CaptainApply {
    struct Applied {
      std::string k8s_namespace, pod, container;
      double cpu_cores = 0;  // the quota in effect over its period
    };
    bool enabled = false;
    std::vector<Applied> applied;  // opted-in containers with a limit, sorted by labels
    uint64_t limit_writes = 0, restore_writes = 0, resizes = 0;
    std::vector<std::pair<std::string_view, uint64_t>> write_errors;  // by reason, all reasons
  };

  std::vector<Container> containers;  // sorted by (namespace, pod, container)
  Node node;
  std::vector<Source> sources;
  std::vector<Error> errors;      // cumulative, sorted by (source, reason)
  std::vector<Captain> captains;  // empty when the Captains are off
  CaptainApply captain_apply;
  std::string cgroup_mode;     // "v1", "v2", "hybrid" or "none"
  std::string task_counters;   // "schedstat" (tasks are threads) or "taskstats" (processes)
  size_t threads = 0;          // tasks tracked over all containers
  size_t kept_files = 0;       // statistics files held open for pread
  size_t idle_containers = 0;  // containers not re-read in the last collection (no CPU used)
  size_t threads_read = 0;     // tasks the last collection read
  uint64_t collections = 0;
};

}  // namespace exporter::state
