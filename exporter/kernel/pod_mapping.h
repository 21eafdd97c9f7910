#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/http_client.h"
#include "exporter/kernel/cgroup_discovery.h"
#include "exporter/kernel/rooted_fs.h"

// Naming Kubernetes containers found in cgroups: pod UID and container id to namespace, pod and
// container name.
namespace exporter::kernel {

struct KubeletPod {
  std::string k8s_namespace, name;
  std::vector<std::pair<std::string, std::string>> containers;  // (container id, name)
};
// By pod UID.
using KubeletPods = std::unordered_map<std::string, KubeletPod>;

// Pure. The kubelet's GET /pods answer (a v1 PodList): metadata and the ids of app, init and
// ephemeral containers ("containerd://<id>", "cri-o://<id>", "docker://<id>"). nullopt and
// `error` when it is not a PodList.
std::optional<KubeletPods> ParseKubeletPods(std::string_view json, std::string* error);

struct PodLabels {
  std::string k8s_namespace, pod, container;
};

// Names containers, in order of preference:
//   1. the kubelet's pod list (--kubelet.url): namespace, pod and container name;
//   2. the container's environment, where readable: pod name from HOSTNAME in
//      /proc/<pid>/environ, namespace from the service-account mount seen through
//      /proc/<pid>/root; the container name is the short (12-digit) container id;
//   3. the pod UID as the pod name, with an empty namespace.
// What a container's environment tells is remembered per pod, so sandbox (pause) containers
// take the name their siblings found. Single-threaded.
class PodMapper {
 public:
  // kubelet_url empty: no kubelet, and `get` is not used.
  PodMapper(FsRoot procfs, std::string kubelet_url, common::HttpGet get);

  // Reads the environment of `pid` (a task of the container) unless the kubelet or an earlier
  // call already named the container's pod. Learn every container before resolving any.
  // Returns how reading the environment went (kOk when nothing needed reading).
  ReadStatus Learn(const PodContainer& container, int32_t pid);

  struct Result {
    PodLabels labels;
    bool final = false;  // false: a later Resolve may find better names
  };
  Result Resolve(const PodContainer& container) const;

  bool has_kubelet() const { return !kubelet_url_.empty(); }
  struct RefreshResult {
    bool ok = false;
    std::string_view reason;  // on failure: "fetch" or "malformed"
    std::string error;
  };
  // Fetches the kubelet's pod list; on failure the previous list is kept.
  RefreshResult RefreshFromKubelet();
  // Forgets what the environment told about pods not in `uids`.
  void Retain(const std::unordered_set<std::string>& uids);

 private:
  struct Learned {
    std::string k8s_namespace, name;
  };
  FsRoot procfs_;
  std::string kubelet_url_;
  common::HttpGet get_;
  KubeletPods kubelet_pods_;
  std::unordered_map<std::string, Learned> learned_;
  ReadBuffer buf_;
};

}  // namespace exporter::kernel
