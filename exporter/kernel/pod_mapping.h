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

// What a pod's annotations let the node's Captain do with its containers' CPU quota:
//   queuelens.io/cpu-control: captain   opts the pod in (any other value, or none, opts out)
//   queuelens.io/captain-min-cpu: 250m  floor of the limits written, in cores or millicores
//   queuelens.io/captain-max-cpu: "2"   ceiling of the limits written
inline constexpr std::string_view kCpuControlAnnotation = "queuelens.io/cpu-control";
inline constexpr std::string_view kCaptainMinCpuAnnotation = "queuelens.io/captain-min-cpu";
inline constexpr std::string_view kCaptainMaxCpuAnnotation = "queuelens.io/captain-max-cpu";
struct CpuControl {
  bool captain = false;
  std::optional<double> min_cores, max_cores;  // empty: absent or not a CPU quantity
};

// Pure. A Kubernetes CPU quantity in cores: "2", "1.5", "250m". nullopt for anything else,
// including negative, zero and non-finite values.
std::optional<double> ParseCpuQuantity(std::string_view text);

struct KubeletPod {
  std::string k8s_namespace, name;
  std::vector<std::pair<std::string, std::string>> containers;  // (container id, name)
  CpuControl cpu_control;
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
  // The pod's entry in the last kubelet pod list; nullptr when it is not there.
  const KubeletPod* KubeletPodOf(const std::string& uid) const;
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
