#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/kernel/parsers.h"
#include "exporter/kernel/pod_mapping.h"

namespace exporter::kernel {

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
    // The CFS quota file as read (v2 cpu.max; v1 cpu.cfs_quota_us with cpu.cfs_period_us),
    // unlimited included; empty when unreadable this time.
    std::optional<CpuQuota> quota;
    std::string quota_file;  // where the quota is written: cpu.max or cpu.cfs_quota_us
    bool quota_v2 = false;   // quota_file is cpu.max ("<quota> <period>")
    CpuControl cpu_control;  // the pod's annotations in the kubelet pod list
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

}  // namespace exporter::kernel
