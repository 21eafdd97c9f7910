#include "exporter/exposition/kernel_collectable.h"

#include <string>

#include "exporter/exposition/families.h"
#include "exporter/exposition/metric_names.h"

namespace exporter::exposition {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<MetricFamily> KernelFamilies(const state::KernelSnapshot& snap) {
  const size_t n = snap.containers.size();
  MetricFamily wait = Family(kContainerRunqueueWait, MetricType::Counter, n);
  MetricFamily slices = Family(kContainerTimeslices, MetricType::Counter, n);
  MetricFamily usage = Family(kContainerCpuUsage, MetricType::Counter, n);
  MetricFamily periods = Family(kContainerCpuPeriods, MetricType::Counter, n);
  MetricFamily throttled = Family(kContainerCpuThrottledPeriods, MetricType::Counter, n);
  MetricFamily throttled_s = Family(kContainerCpuThrottledSeconds, MetricType::Counter, n);
  MetricFamily limit = Family(kContainerCpuLimit, MetricType::Gauge, n);
  MetricFamily psi_some = Family(kContainerPressureWaiting, MetricType::Counter, n);
  MetricFamily psi_full = Family(kContainerPressureStalled, MetricType::Counter, n);
  MetricFamily interference = Family(kContainerInterference, MetricType::Gauge, n);
  for (const auto& c : snap.containers) {
    const std::vector<ClientMetric::Label> labels = {
        {"namespace", c.k8s_namespace}, {"pod", c.pod}, {"container", c.container}};
    AddIf(wait, labels, c.runqueue_wait_seconds);
    AddIf(slices, labels, c.timeslices);
    AddIf(usage, labels, c.cpu_usage_seconds);
    AddIf(periods, labels, c.cpu_periods);
    AddIf(throttled, labels, c.cpu_throttled_periods);
    AddIf(throttled_s, labels, c.cpu_throttled_seconds);
    AddIf(limit, labels, c.limit_cores);
    AddIf(psi_some, labels, c.pressure_waiting_seconds);
    AddIf(psi_full, labels, c.pressure_stalled_seconds);
    AddIf(interference, labels, c.interference_ratio);
  }

  MetricFamily node_psi = Family(kNodeCpuPressureWaiting, MetricType::Counter, 1);
  AddIf(node_psi, {}, snap.node.pressure_waiting_seconds);
  MetricFamily node_wait = Family(kNodeRunqueueWait, MetricType::Counter, 1);
  AddIf(node_wait, {}, snap.node.runqueue_wait_seconds);
  MetricFamily node_cpus = Family(kNodeCpus, MetricType::Gauge, 1);
  if (snap.node.cpus > 0) Add(node_cpus, {}).gauge.value = snap.node.cpus;

  MetricFamily success = Family(kKernelSourceSuccess, MetricType::Gauge, snap.sources.size());
  MetricFamily duration = Family(kKernelSourceDuration, MetricType::Gauge, snap.sources.size());
  for (const auto& s : snap.sources) {
    Add(success, {{"source", s.name}}).gauge.value = s.success ? 1 : 0;
    Add(duration, {{"source", s.name}}).gauge.value = s.duration_seconds;
  }
  MetricFamily errors = Family(kKernelErrors, MetricType::Counter, snap.errors.size());
  for (const auto& e : snap.errors) {
    Add(errors, {{"source", e.source}, {"reason", e.reason}}).counter.value =
        static_cast<double>(e.count);
  }
  MetricFamily containers = Family(kKernelContainers, MetricType::Gauge, 1);
  Add(containers, {}).gauge.value = static_cast<double>(n);
  MetricFamily threads = Family(kKernelThreads, MetricType::Gauge, 1);
  Add(threads, {}).gauge.value = static_cast<double>(snap.threads);
  MetricFamily idle = Family(kKernelIdleContainers, MetricType::Gauge, 1);
  Add(idle, {}).gauge.value = static_cast<double>(snap.idle_containers);
  MetricFamily threads_read = Family(kKernelThreadsRead, MetricType::Gauge, 1);
  Add(threads_read, {}).gauge.value = static_cast<double>(snap.threads_read);
  MetricFamily open_files = Family(kKernelOpenFiles, MetricType::Gauge, 1);
  Add(open_files, {}).gauge.value = static_cast<double>(snap.kept_files);
  MetricFamily collections = Family(kKernelCollections, MetricType::Counter, 1);
  Add(collections, {}).counter.value = static_cast<double>(snap.collections);
  MetricFamily info = Family(kKernelInfo, MetricType::Gauge, 1);
  Add(info, {{"cgroup_mode", snap.cgroup_mode}, {"task_counters", snap.task_counters}})
      .gauge.value = 1;

  const size_t k = snap.captains.size();
  MetricFamily recommended = Family(kContainerRecommendedCpu, MetricType::Gauge, k);
  MetricFamily target = Family(kContainerCaptainTarget, MetricType::Gauge, k);
  MetricFamily ratio = Family(kContainerCaptainThrottledRatio, MetricType::Gauge, k);
  MetricFamily margin = Family(kContainerCaptainMargin, MetricType::Gauge, k);
  MetricFamily action = Family(kContainerCaptainAction, MetricType::Gauge, k);
  for (const auto& c : snap.captains) {
    const std::vector<ClientMetric::Label> labels = {
        {"namespace", c.k8s_namespace}, {"pod", c.pod}, {"container", c.container}};
    Add(recommended, labels).gauge.value = c.recommended_cpu_cores;
    Add(target, labels).gauge.value = c.throttle_target;
    Add(ratio, labels).gauge.value = c.throttled_ratio;
    Add(margin, labels).gauge.value = c.margin;
    std::vector<ClientMetric::Label> with_action = labels;
    with_action.push_back({"action", std::string(c.action)});
    Add(action, std::move(with_action)).gauge.value = 1;
  }

  std::vector<MetricFamily> out;
  out.reserve(33);
  for (MetricFamily* f :
       {&wait,        &slices,   &usage,        &periods,  &throttled, &throttled_s,  &limit,
        &psi_some,    &psi_full, &interference, &node_psi, &node_wait, &node_cpus,    &success,
        &duration,    &errors,   &containers,   &threads,  &idle,      &threads_read, &open_files,
        &collections, &info,     &recommended,  &target,   &ratio,     &margin,       &action}) {
    out.push_back(std::move(*f));
  }
  if (const auto& a = snap.captain_apply; a.enabled) {
    MetricFamily applied = Family(kCaptainAppliedCpu, MetricType::Gauge, a.applied.size());
    for (const auto& c : a.applied) {
      Add(applied, {{"namespace", c.k8s_namespace}, {"pod", c.pod}, {"container", c.container}})
          .gauge.value = c.cpu_cores;
    }
    MetricFamily writes = Family(kCaptainWrites, MetricType::Counter, 2);
    Add(writes, {{"kind", "limit"}}).counter.value = static_cast<double>(a.limit_writes);
    Add(writes, {{"kind", "restore"}}).counter.value = static_cast<double>(a.restore_writes);
    MetricFamily write_errors =
        Family(kCaptainWriteErrors, MetricType::Counter, a.write_errors.size());
    for (const auto& [reason, count] : a.write_errors) {
      Add(write_errors, {{"reason", std::string(reason)}}).counter.value =
          static_cast<double>(count);
    }
    MetricFamily resizes = Family(kCaptainResizes, MetricType::Counter, 1);
    Add(resizes, {}).counter.value = static_cast<double>(a.resizes);
    for (MetricFamily* f : {&applied, &writes, &write_errors, &resizes}) {
      out.push_back(std::move(*f));
    }
  }
  return out;
}

}  // namespace exporter::exposition
