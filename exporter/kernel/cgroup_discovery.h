#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/kernel/parsers.h"
#include "exporter/kernel/rooted_fs.h"

// Finding the cgroups to read: which hierarchies are mounted where (v1, v2 or hybrid), and which
// of their directories are Kubernetes containers (contracts.md §5.5) or other selected cgroups.
namespace exporter::kernel {

enum class CgroupMode { kNone, kV1, kV2, kHybrid };
std::string_view CgroupModeName(CgroupMode mode);  // "none", "v1", "v2", "hybrid"

// The mounted hierarchies queuelens reads, as directories under the sysfs root.
struct CgroupLayout {
  CgroupMode mode = CgroupMode::kNone;
  std::string cpu;      // v1 hierarchy with the cpu controller
  std::string cpuacct;  // v1 hierarchy with cpuacct; equal to cpu when they are co-mounted
  std::string unified;  // cgroup2: everything in v2 mode, only cpu.pressure in hybrid mode

  // The hierarchy whose directories are walked: unified in v2 mode, else cpu (or cpuacct).
  const std::string& walk_root() const;
};

// cgroup mounts from mountinfo (proc(5)). Mount points under /sys are rebased onto `sysfs`
// (--path.sysfs), others cannot be reached through it and are ignored. Mounts of a whole
// hierarchy (root "/") are preferred over bind mounts of a part of one.
CgroupLayout DetectLayout(const std::vector<Mount>& mounts, const FsRoot& sysfs);

enum class QosClass { kGuaranteed, kBurstable, kBestEffort };
std::string_view QosName(QosClass qos);  // "guaranteed", "burstable", "besteffort"

// kUnknown: a bare 64-hex directory (cgroupfs driver), which containerd and Docker both use.
enum class Runtime { kUnknown, kContainerd, kCrio, kDocker };
std::string_view RuntimeName(Runtime runtime);  // "", "containerd", "cri-o", "docker"

struct PodContainer {
  std::string pod_uid;       // with dashes, as in metadata.uid
  std::string container_id;  // 64 hex digits, as in status.containerStatuses[].containerID
  QosClass qos = QosClass::kGuaranteed;
  Runtime runtime = Runtime::kUnknown;
};

// Pure. A Kubernetes container cgroup path (relative to the hierarchy root) to its pod UID,
// container id, QoS class and runtime, for the systemd driver
//   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid_>.slice/
//       cri-containerd-<id>.scope
// and the cgroupfs driver
//   /kubepods/burstable/pod<uid>/<id>
// with containerd, CRI-O (crio-<id>) and Docker (docker-<id>) names. nullopt for anything else,
// including pod-level cgroups and CRI-O's crio-conmon-<id>.scope.
std::optional<PodContainer> ClassifyCgroupPath(std::string_view path);

// Which cgroups to track. Kubernetes containers always, unless `exclude` matches their path;
// other cgroups only when `include` matches their path and `exclude` does not. Patterns are
// ECMAScript regexes matched against the whole path ("/system.slice/docker.service", "/" for
// the root); an empty pattern matches nothing.
class CgroupFilter {
 public:
  // Throws std::regex_error on a bad pattern (start-up only).
  CgroupFilter(const std::string& include, const std::string& exclude);
  bool Selects(std::string_view path, bool kubernetes) const;

 private:
  std::optional<std::regex> include_, exclude_;
};

struct DiscoveredCgroup {
  std::string path;  // relative to the hierarchy root: "/kubepods/...", "/" for the root itself
  uint64_t inode = 0;
  std::optional<PodContainer> pod;  // empty for cgroups selected by the include pattern
};

// Walks the hierarchy mounted at `dir` and appends the cgroups `filter` selects to `out`.
// Kubernetes container cgroups are leaves: nothing below them is visited. Directories that
// vanish during the walk are skipped; only an unreadable `dir` is an error.
ReadStatus DiscoverCgroups(const std::string& dir, const CgroupFilter& filter,
                           std::vector<DiscoveredCgroup>& out);

}  // namespace exporter::kernel
