#include "exporter/kernel/cgroup_discovery.h"

namespace exporter::kernel {
namespace {

constexpr size_t kUidLength = 36;
constexpr size_t kContainerIdLength = 64;
constexpr int kMaxDepth = 16;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// "0b6e5ec8-1f3a-4c1b-9f0e-2d7a4c8b9e10", with '-' or (systemd) '_' separators.
std::optional<std::string> ParseUid(std::string_view s) {
  if (s.size() != kUidLength) return std::nullopt;
  std::string uid(s);
  for (size_t i = 0; i < uid.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (uid[i] != '-' && uid[i] != '_') return std::nullopt;
      uid[i] = '-';
    } else if (!IsLowerHex(uid[i])) {
      return std::nullopt;
    }
  }
  return uid;
}

// "pod<uid>" (cgroupfs) or "...-pod<uid_>.slice" (systemd).
std::optional<std::string> PodUidOf(std::string_view component) {
  if (component.size() > 6 && component.substr(component.size() - 6) == ".slice") {
    component.remove_suffix(6);
    if (component.size() < kUidLength + 4) return std::nullopt;
    const std::string_view head = component.substr(0, component.size() - kUidLength);
    if (head.size() < 4 || head.substr(head.size() - 4) != "-pod") return std::nullopt;
    return ParseUid(component.substr(head.size()));
  }
  if (component.substr(0, 3) != "pod") return std::nullopt;
  return ParseUid(component.substr(3));
}

bool Contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

std::optional<PodContainer> ContainerOf(std::string_view component) {
  if (component.size() > 6 && component.substr(component.size() - 6) == ".scope") {
    component.remove_suffix(6);
  }
  Runtime runtime = Runtime::kUnknown;
  constexpr std::pair<std::string_view, Runtime> kPrefixes[] = {
      {"cri-containerd-", Runtime::kContainerd},
      {"crio-", Runtime::kCrio},
      {"docker-", Runtime::kDocker},
  };
  for (const auto& [prefix, r] : kPrefixes) {
    if (component.substr(0, prefix.size()) == prefix) {
      component.remove_prefix(prefix.size());
      runtime = r;
      break;
    }
  }
  if (component.size() != kContainerIdLength) return std::nullopt;
  for (char c : component) {
    if (!IsLowerHex(c)) return std::nullopt;
  }
  return PodContainer{.pod_uid = {}, .container_id = std::string(component), .runtime = runtime};
}

ReadStatus Walk(std::string& dir, std::string& path, int depth, const CgroupFilter& filter,
                std::vector<DiscoveredCgroup>& out) {
  if (depth > kMaxDepth) return ReadStatus::kOk;
  std::vector<DirEntry> children;
  const ReadStatus status = ListSubdirs(dir, children);
  if (status != ReadStatus::kOk) return status;
  const size_t dir_len = dir.size(), path_len = path.size();
  for (const DirEntry& child : children) {
    dir.append("/").append(child.name);
    if (path.size() > 1) path += '/';
    path += child.name;
    std::optional<PodContainer> pod = ClassifyCgroupPath(path);
    if (pod) {
      if (filter.Selects(path, true)) out.push_back({path, child.inode, std::move(pod)});
    } else {
      if (filter.Selects(path, false)) out.push_back({path, child.inode, std::nullopt});
      Walk(dir, path, depth + 1, filter, out);  // a child that vanished meanwhile is skipped
    }
    dir.resize(dir_len);
    path.resize(path_len);
  }
  return ReadStatus::kOk;
}

}  // namespace

std::string_view CgroupModeName(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::kNone:
      return "none";
    case CgroupMode::kV1:
      return "v1";
    case CgroupMode::kV2:
      return "v2";
    case CgroupMode::kHybrid:
      return "hybrid";
  }
  return "none";
}

const std::string& CgroupLayout::walk_root() const {
  if (mode == CgroupMode::kV2) return unified;
  return cpu.empty() ? cpuacct : cpu;
}

CgroupLayout DetectLayout(const std::vector<Mount>& mounts, const FsRoot& sysfs) {
  CgroupLayout layout;
  bool cpu_whole = false, cpuacct_whole = false, unified_whole = false;
  // Takes the first mount of each kind, and a whole-hierarchy mount over a partial one.
  auto take = [](std::string& slot, bool& whole, const Mount& m, std::string dir) {
    const bool is_whole = m.root == "/";
    if (slot.empty() || (is_whole && !whole)) {
      slot = std::move(dir);
      whole = is_whole;
    }
  };
  for (const Mount& m : mounts) {
    const std::string_view point = m.mount_point;
    if (point.substr(0, 5) != "/sys/") continue;
    std::string dir = sysfs.Path(point.substr(5));
    if (m.fs_type == "cgroup2") {
      take(layout.unified, unified_whole, m, std::move(dir));
    } else if (m.fs_type == "cgroup") {
      bool cpu = false, cpuacct = false;
      std::string_view opts = m.super_options;
      while (!opts.empty()) {
        const size_t comma = opts.find(',');
        const std::string_view opt = opts.substr(0, comma);
        opts.remove_prefix(comma == std::string_view::npos ? opts.size() : comma + 1);
        cpu |= opt == "cpu";
        cpuacct |= opt == "cpuacct";
      }
      if (cpu) take(layout.cpu, cpu_whole, m, dir);
      if (cpuacct) take(layout.cpuacct, cpuacct_whole, m, dir);
    }
  }
  if (!layout.cpu.empty() || !layout.cpuacct.empty()) {
    layout.mode = layout.unified.empty() ? CgroupMode::kV1 : CgroupMode::kHybrid;
  } else if (!layout.unified.empty()) {
    layout.mode = CgroupMode::kV2;
  }
  return layout;
}

std::string_view QosName(QosClass qos) {
  switch (qos) {
    case QosClass::kGuaranteed:
      return "guaranteed";
    case QosClass::kBurstable:
      return "burstable";
    case QosClass::kBestEffort:
      return "besteffort";
  }
  return "guaranteed";
}

std::string_view RuntimeName(Runtime runtime) {
  switch (runtime) {
    case Runtime::kUnknown:
      return "";
    case Runtime::kContainerd:
      return "containerd";
    case Runtime::kCrio:
      return "cri-o";
    case Runtime::kDocker:
      return "docker";
  }
  return "";
}

std::optional<PodContainer> ClassifyCgroupPath(std::string_view path) {
  // The container is the last component and the pod its parent.
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  const size_t last_slash = path.rfind('/');
  if (last_slash == std::string_view::npos || last_slash == 0) return std::nullopt;
  std::optional<PodContainer> container = ContainerOf(path.substr(last_slash + 1));
  if (!container) return std::nullopt;
  const std::string_view parent = path.substr(0, last_slash);
  const size_t pod_slash = parent.rfind('/');
  const std::string_view pod_component = parent.substr(pod_slash + 1);
  std::optional<std::string> uid = PodUidOf(pod_component);
  if (!uid) return std::nullopt;
  // Pods live under kubepods (possibly nested, e.g. kubelet.slice/kubelet-kubepods.slice); the
  // QoS class is named on the way down, else the pod is Guaranteed.
  const std::string_view above =
      parent.substr(0, pod_slash == std::string_view::npos ? 0 : pod_slash);
  if (!Contains(above, "kubepods") && !Contains(pod_component, "kubepods")) return std::nullopt;
  const size_t kubepods = above.find("kubepods");
  const std::string_view qos_part =
      kubepods == std::string_view::npos ? pod_component : parent.substr(kubepods);
  container->qos = Contains(qos_part, "besteffort")  ? QosClass::kBestEffort
                   : Contains(qos_part, "burstable") ? QosClass::kBurstable
                                                     : QosClass::kGuaranteed;
  container->pod_uid = std::move(*uid);
  return container;
}

CgroupFilter::CgroupFilter(const std::string& include, const std::string& exclude) {
  if (!include.empty()) include_.emplace(include, std::regex::ECMAScript | std::regex::optimize);
  if (!exclude.empty()) exclude_.emplace(exclude, std::regex::ECMAScript | std::regex::optimize);
}

bool CgroupFilter::Selects(std::string_view path, bool kubernetes) const {
  if (exclude_ && std::regex_match(path.begin(), path.end(), *exclude_)) return false;
  return kubernetes || (include_ && std::regex_match(path.begin(), path.end(), *include_));
}

ReadStatus DiscoverCgroups(const std::string& dir, const CgroupFilter& filter,
                           std::vector<DiscoveredCgroup>& out) {
  const size_t first = out.size();
  std::string walk_dir = dir, path = "/";
  const ReadStatus status = Walk(walk_dir, path, 0, filter, out);
  if (status != ReadStatus::kOk) return status;
  if (filter.Selects("/", false)) {
    out.insert(out.begin() + static_cast<ptrdiff_t>(first), {"/", InodeOf(dir), std::nullopt});
  }
  return ReadStatus::kOk;
}

}  // namespace exporter::kernel
