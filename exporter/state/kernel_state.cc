#include "exporter/state/kernel_state.h"

#include <algorithm>
#include <tuple>

namespace exporter::state {
namespace {

constexpr double kNanosPerSecond = 1e9;

std::optional<double> Seconds(const std::optional<uint64_t>& ns) {
  if (!ns) return std::nullopt;
  return static_cast<double>(*ns) / kNanosPerSecond;
}

std::optional<double> Ratio(uint64_t part, uint64_t whole) {
  if (whole == 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

KernelState::Values KernelState::FieldsOf(const kernel::KernelSample::Container& c) {
  Values v;
  v[kUsage] = c.usage_ns;
  v[kPeriods] = c.periods;
  v[kThrottledPeriods] = c.throttled_periods;
  v[kThrottledNs] = c.throttled_ns;
  v[kPressureSome] = c.pressure_some_ns;
  v[kPressureFull] = c.pressure_full_ns;
  if (c.has_tasks) {
    v[kRun] = c.run_ns;
    v[kWait] = c.wait_ns;
    v[kTimeslices] = c.timeslices;
  }
  return v;
}

void KernelState::Apply(const kernel::KernelSample& sample, common::TimePoint now) {
  ++round_;
  threads_ = 0;
  for (const kernel::KernelSample::Container& c : sample.containers) {
    ApplyContainer(c, now);
    threads_ += c.threads;
  }
  // Cgroups not in this sample are gone: if one of them comes back it is a new cgroup.
  for (auto& [key, s] : series_) {
    std::erase_if(s.identities, [this](const Identity& id) { return id.round != round_; });
  }
  const common::TimePoint cutoff = now - options_.series_idle;
  std::erase_if(series_, [cutoff](const auto& kv) { return kv.second.last_seen < cutoff; });

  node_ = sample.node;
  sources_.clear();
  for (const kernel::KernelSample::Source& s : sample.sources) {
    sources_.push_back({std::string(s.name), s.success, s.duration_seconds});
  }
  errors_.clear();
  for (const kernel::KernelSample::Error& e : sample.errors) {
    errors_.push_back({std::string(e.source), std::string(e.reason), e.count});
  }
  std::sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.source, a.reason) < std::tie(b.source, b.reason);
  });
  cgroup_mode_ = sample.cgroup_mode;
  task_counters_ = sample.task_counters;
  kept_files_ = sample.kept_files;
  idle_containers_ = sample.idle_containers;
  threads_read_ = sample.threads_read;
}

void KernelState::ApplyContainer(const kernel::KernelSample::Container& c, common::TimePoint now) {
  key_.clear();
  key_.append(c.k8s_namespace)
      .append(1, '\x1f')
      .append(c.pod)
      .append(1, '\x1f')
      .append(c.container);
  auto it = series_.find(key_);
  if (it == series_.end()) {
    it = series_
             .emplace(key_, Series{.k8s_namespace = c.k8s_namespace,
                                   .pod = c.pod,
                                   .container = c.container,
                                   .window = common::RollingWindow<WindowDeltas>(
                                       options_.window, options_.window_buckets)})
             .first;
  }
  Series& s = it->second;
  // Two cgroups under one name in one sample (the old and new container during a restart)
  // both add their increments; the limit is the larger one.
  const bool first_this_round = s.round != round_;
  s.round = round_;
  s.last_seen = now;
  s.cgroup = c.cgroup;
  s.pod_uid = c.pod_uid;
  s.qos = c.qos;
  s.runtime = c.runtime;
  s.threads = first_this_round ? c.threads : s.threads + c.threads;
  if (first_this_round) {
    s.limit_cores = c.limit_cores;
  } else if (c.limit_cores) {
    s.limit_cores = std::max(s.limit_cores.value_or(0), *c.limit_cores);
  }

  auto id = std::find_if(s.identities.begin(), s.identities.end(), [&c](const Identity& i) {
    return i.inode == c.cgroup_inode && i.cgroup == c.cgroup;
  });
  if (id == s.identities.end()) {
    id = s.identities.insert(
        s.identities.end(),
        Identity{.cgroup = c.cgroup, .inode = c.cgroup_inode, .last = {}, .round = 0});
  }
  id->round = round_;
  const Values values = FieldsOf(c);
  WindowDeltas& window = s.window.At(now);
  for (size_t f = 0; f < kFieldCount; ++f) {
    if (!values[f]) continue;
    const uint64_t v = *values[f];
    const std::optional<uint64_t>& last = id->last[f];
    // First sight counts the whole value (the counter started with the cgroup); a drop is a
    // reset, after which the new value is what accrued since.
    const uint64_t delta = !last || v < *last ? v : v - *last;
    s.total[f] = s.total[f].value_or(0) + delta;
    // The window only takes increments between two reads, not a cgroup's history.
    if (last) window.delta[f] += delta;
    id->last[f] = v;
  }
}

std::shared_ptr<KernelSnapshot> KernelState::Snapshot(common::TimePoint now) const {
  auto snap = std::make_shared<KernelSnapshot>();
  snap->at = now;
  snap->window_seconds = common::ToSeconds(options_.window);
  snap->containers.reserve(series_.size());
  for (const auto& [key, s] : series_) {
    if (s.round != round_) continue;  // gone; kept only to continue its counters
    KernelSnapshot::Container& c = snap->containers.emplace_back();
    c.k8s_namespace = s.k8s_namespace;
    c.pod = s.pod;
    c.container = s.container;
    c.cgroup = s.cgroup;
    c.pod_uid = s.pod_uid;
    c.qos = s.qos;
    c.runtime = s.runtime;
    c.threads = s.threads;
    c.cpu_usage_seconds = Seconds(s.total[kUsage]);
    c.cpu_periods = s.total[kPeriods];
    c.cpu_throttled_periods = s.total[kThrottledPeriods];
    c.cpu_throttled_seconds = Seconds(s.total[kThrottledNs]);
    c.pressure_waiting_seconds = Seconds(s.total[kPressureSome]);
    c.pressure_stalled_seconds = Seconds(s.total[kPressureFull]);
    c.runqueue_wait_seconds = Seconds(s.total[kWait]);
    c.timeslices = s.total[kTimeslices];
    c.limit_cores = s.limit_cores;

    WindowDeltas sum;
    s.window.ForEach(now, [&sum](const WindowDeltas& w) {
      for (size_t f = 0; f < kFieldCount; ++f) sum.delta[f] += w.delta[f];
    });
    const uint64_t wait = sum.delta[kWait], run = sum.delta[kRun];
    if (s.total[kWait]) {
      c.interference_ratio = Ratio(wait, wait + run);
      if (sum.delta[kTimeslices] > 0) {
        c.wait_per_timeslice_seconds = static_cast<double>(wait) / kNanosPerSecond /
                                       static_cast<double>(sum.delta[kTimeslices]);
      }
    }
    const double covered = common::ToSeconds(s.window.Covered(now));
    if (s.total[kUsage] && covered > 0) {
      c.cpu_usage_cores = static_cast<double>(sum.delta[kUsage]) / kNanosPerSecond / covered;
    }
    if (s.total[kPeriods]) {
      c.throttled_ratio = Ratio(sum.delta[kThrottledPeriods], sum.delta[kPeriods]);
    }
  }
  std::sort(snap->containers.begin(), snap->containers.end(), [](const auto& a, const auto& b) {
    return std::tie(a.k8s_namespace, a.pod, a.container) <
           std::tie(b.k8s_namespace, b.pod, b.container);
  });
  snap->node.pressure_waiting_seconds = Seconds(node_.pressure_some_ns);
  snap->node.runqueue_wait_seconds = Seconds(node_.runqueue_wait_ns);
  snap->node.cpus = node_.cpus;
  snap->sources = sources_;
  snap->errors = errors_;
  snap->cgroup_mode = cgroup_mode_;
  snap->task_counters = task_counters_;
  snap->threads = threads_;
  snap->kept_files = kept_files_;
  snap->idle_containers = idle_containers_;
  snap->threads_read = threads_read_;
  snap->collections = round_;
  return snap;
}

}  // namespace exporter::state
