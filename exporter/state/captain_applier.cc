#include "exporter/state/captain_applier.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace exporter::state {
namespace {

// The kernel refuses CFS quotas below 1 ms.
constexpr int64_t kMinQuotaUs = 1000;

std::string QuotaText(const kernel::CpuQuota& q, bool v2) {
  if (!v2) return std::to_string(q.quota_us < 0 ? -1 : q.quota_us);
  return (q.quota_us < 0 ? std::string("max") : std::to_string(q.quota_us)) + " " +
         std::to_string(q.period_us);
}

}  // namespace

CaptainApplier::CaptainApplier(CaptainApplierOptions options, QuotaWriter write)
    : options_(options), write_(std::move(write)) {}

kernel::WriteStatus CaptainApplier::Write(Entry& e, const kernel::CpuQuota& quota,
                                          common::TimePoint now) {
  const kernel::WriteStatus status = write_(e.file, QuotaText(quota, e.v2));
  if (status == kernel::WriteStatus::kOk) {
    e.current = quota;
    e.failed.reset();
    return status;
  }
  ++errors_[static_cast<size_t>(status)];
  e.failed = quota.quota_us;
  e.retry_at = now + options_.retry;
  if (!e.error_logged) {
    e.error_logged = true;
    spdlog::warn("captain: cannot write {} of {}/{}/{}: {} (logged once per container)", e.file,
                 e.k8s_namespace, e.pod, e.container, kernel::WriteStatusName(status));
  }
  return status;
}

void CaptainApplier::Restore(Entry& e) {
  // Nothing of ours stands: never written, or the kubelet set a value since.
  if (e.gone || !e.written || e.current.quota_us != *e.written) return;
  if (Write(e, e.original, common::TimePoint{}) == kernel::WriteStatus::kOk) {
    ++restore_writes_;
    e.written.reset();
  }
}

void CaptainApplier::Apply(const kernel::KernelSample& sample, int node_cpus, Captains& captains,
                           common::TimePoint now) {
  for (auto& [key, e] : entries_) e.seen = false;
  for (const kernel::KernelSample::Container& c : sample.containers) {
    // Nothing to do for a container that neither opted in nor was written before.
    if (c.quota_file.empty() || (!c.cpu_control.captain && entries_.empty())) continue;
    key_.assign(c.cgroup).append(1, '\0').append(std::to_string(c.cgroup_inode));
    auto it = entries_.find(key_);
    if (!c.cpu_control.captain) {
      if (it != entries_.end()) {  // opted out
        if (c.quota) it->second.current = *c.quota;
        Restore(it->second);
        entries_.erase(it);
      }
      continue;
    }
    if (it == entries_.end()) {
      if (!c.quota) continue;  // nothing to remember yet
      it = entries_
               .emplace(key_, Entry{.k8s_namespace = c.k8s_namespace,
                                    .pod = c.pod,
                                    .container = c.container,
                                    .file = c.quota_file,
                                    .v2 = c.quota_v2,
                                    .original = *c.quota,
                                    .current = *c.quota})
               .first;
    }
    Entry& e = it->second;
    e.seen = true;
    e.k8s_namespace = c.k8s_namespace;  // names may resolve after the first sight
    e.pod = c.pod;
    e.container = c.container;
    if (!c.quota || e.gone) continue;  // unreadable this time: the collector counted it
    e.current = *c.quota;
    if (e.written && c.quota->quota_us != *e.written) {
      ++resizes_;
      spdlog::info(
          "captain: {}/{}/{}: quota {} is not the {} last written (a resize): "
          "restarting from it",
          c.k8s_namespace, c.pod, c.container, c.quota->quota_us, *e.written);
      e.original = *c.quota;
      e.written.reset();
      captains.Restart(c.k8s_namespace, c.pod, c.container);
      continue;
    }
    const std::optional<double> limit = captains.Limit(c.k8s_namespace, c.pod, c.container);
    if (!limit) continue;
    const double ceiling =
        c.cpu_control.max_cores.value_or(node_cpus > 0 ? static_cast<double>(node_cpus) : *limit);
    const double floor =
        std::min(ceiling, std::max(options_.min_cores, c.cpu_control.min_cores.value_or(0)));
    const double cores = std::clamp(*limit, floor, ceiling);
    const kernel::CpuQuota quota{
        .quota_us = std::max(kMinQuotaUs, static_cast<int64_t>(std::llround(
                                              cores * static_cast<double>(c.quota->period_us)))),
        .period_us = c.quota->period_us};
    if (quota.quota_us == c.quota->quota_us) continue;
    if (e.failed == quota.quota_us && now < e.retry_at) continue;
    const kernel::WriteStatus status = Write(e, quota, now);
    if (status == kernel::WriteStatus::kOk) {
      ++limit_writes_;
      e.written = quota.quota_us;
    } else if (status == kernel::WriteStatus::kVanished) {
      e.gone = true;  // nothing left to write or restore; dropped with the collector's container
    }
  }
  // Cgroups no longer sampled are gone; their quotas went with them.
  std::erase_if(entries_, [](const auto& kv) { return !kv.second.seen; });
}

void CaptainApplier::RestoreAll() {
  for (auto& [key, e] : entries_) Restore(e);
}

KernelSnapshot::CaptainApply CaptainApplier::Snapshot() const {
  KernelSnapshot::CaptainApply out;
  out.enabled = true;
  for (const auto& [key, e] : entries_) {
    if (e.gone) continue;
    const std::optional<double> cores = kernel::LimitCores(e.current);
    if (!cores) continue;
    out.applied.push_back({.k8s_namespace = e.k8s_namespace,
                           .pod = e.pod,
                           .container = e.container,
                           .cpu_cores = *cores});
  }
  std::sort(out.applied.begin(), out.applied.end(), [](const auto& a, const auto& b) {
    return std::tie(a.k8s_namespace, a.pod, a.container) <
           std::tie(b.k8s_namespace, b.pod, b.container);
  });
  out.limit_writes = limit_writes_;
  out.restore_writes = restore_writes_;
  out.resizes = resizes_;
  for (size_t s = 1; s < kStatuses; ++s) {
    out.write_errors.emplace_back(kernel::WriteStatusName(static_cast<kernel::WriteStatus>(s)),
                                  errors_[s]);
  }
  return out;
}

}  // namespace exporter::state
