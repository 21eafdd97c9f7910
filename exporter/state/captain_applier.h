#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/clock.h"
#include "exporter/kernel/parsers.h"
#include "exporter/kernel/rooted_fs.h"
#include "exporter/kernel/sample.h"
#include "exporter/state/captains.h"
#include "exporter/state/kernel_snapshot.h"

namespace exporter::state {

struct CaptainApplierOptions {
  double min_cores = 0.1;  // --captain.min-cpu: no limit written is lower
  // A write that failed is tried again after this long (or at once for another value).
  common::Duration retry = std::chrono::seconds{10};
};

// Writes one cgroup control file; kernel::WriteFile in production, a fault injector in tests.
using QuotaWriter =
    std::function<kernel::WriteStatus(const std::string& path, std::string_view content)>;

// Applies the Captains' limits to the cgroups of containers whose pod opted in
// (queuelens.io/cpu-control: captain in the kubelet pod list), after each Captains::Step on the
// same sample:
//   limit   = clamp(Captain's limit, floor, ceiling); floor = max(--captain.min-cpu, the pod's
//             queuelens.io/captain-min-cpu), ceiling = queuelens.io/captain-max-cpu, else the
//             node's CPUs; the ceiling wins when the floor is above it
//   quota   = max(1000 µs, round(limit × period)), the period as read (never changed)
//   written when it differs from the quota read: v2 cpu.max "<quota> <period>", v1
//   cpu.cfs_quota_us "<quota>"
// Ownership: the quota read before the first write is the original. It is written back when
// the pod opts out and by RestoreAll (clean shutdown). A quota read that is not the one last
// written was set by the kubelet (an in-place resize): it becomes the original, the Captain
// restarts from it, and nothing is written back over it.
// Failures (read-only cgroupfs, EACCES, a removed cgroup, a refused value) are counted by
// reason and logged once per container; a removed cgroup's entry is dropped. Containers that did
// not opt in are never written. Single-threaded.
class CaptainApplier {
 public:
  explicit CaptainApplier(CaptainApplierOptions options, QuotaWriter write = kernel::WriteFile);

  void Apply(const kernel::KernelSample& sample, int node_cpus, Captains& captains,
             common::TimePoint now);
  // Writes every original back where the quota is still the one last written.
  void RestoreAll();
  KernelSnapshot::CaptainApply Snapshot() const;

 private:
  struct Entry {
    std::string k8s_namespace, pod, container, file;
    bool v2 = false;
    kernel::CpuQuota original, current;  // current: as last read or written
    std::optional<int64_t> written;      // the quota last written, while it stands
    std::optional<int64_t> failed;       // the quota whose write failed last, until retry_at
    common::TimePoint retry_at;
    bool error_logged = false;
    bool gone = false;  // a write found the cgroup removed
    bool seen = false;
  };

  // A failure is counted and logged once per container.
  kernel::WriteStatus Write(Entry& e, const kernel::CpuQuota& quota, common::TimePoint now);
  void Restore(Entry& e);

  CaptainApplierOptions options_;
  QuotaWriter write_;
  std::unordered_map<std::string, Entry> entries_;  // by cgroup path and inode
  uint64_t limit_writes_ = 0, restore_writes_ = 0, resizes_ = 0;
  static constexpr size_t kStatuses = static_cast<size_t>(kernel::WriteStatus::kIoError) + 1;
  std::array<uint64_t, kStatuses> errors_{};
  std::string key_;  // scratch
};

}  // namespace exporter::state
