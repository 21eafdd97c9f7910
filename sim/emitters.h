#pragma once

#include <cstdint>
#include <string>

#include "exporter/state/kernel_state.h"
#include "sim/simulation.h"

// What a cluster running the simulated app would show the outside world: the cgroup identities
// and counters the exporter's kernel collector reads, and the kube-state-metrics series the
// recommender reads. The spans come from Simulation::spans().
namespace sim {

// How a replica's container appears on its node (contracts.md §5.5): a Burstable or Guaranteed
// pod under the systemd cgroup driver with containerd, cgroup v2.
struct ContainerIdentity {
  std::string pod_uid;       // 8-4-4-4-12 hex, from the replica id
  std::string container_id;  // 64 hex digits
  std::string qos;           // "guaranteed" when request = limit at creation, else "burstable"
  std::string cgroup;        // path under the cgroup2 mount, starting with /kubepods.slice
  uint64_t inode = 0;        // stands in for the cgroup directory's inode: unique per replica
};
ContainerIdentity IdentityOf(const Simulation& sim, uint32_t replica);

// The kernel sample the exporter's collector would produce now: one container per replica that
// is not gone, cumulative counters in the kernel's integer units. Node-level values are left out
// (one simulated exporter sees every node). `out` is empty or an earlier sample of the same
// simulation: its entries are reused, and one that already names a replica keeps its identity.
void FillKernelSample(Simulation& sim, exporter::kernel::KernelSample& out);

// kube-state-metrics series for the app's Deployments (replicas, ready replicas) and for each pod
// (CPU request and limit), in the Prometheus text format.
std::string KubeStateMetricsText(const Simulation& sim);

// The kubelet's GET /pods answer (a v1 PodList) for the pods that are not gone: name, namespace,
// uid and the container's id, which is how the exporter's kernel collector names cgroups when
// given --kubelet.url.
std::string KubeletPodList(const Simulation& sim);

// Appends `s` with the characters the text format escapes in label values (\ " newline).
void AppendLabelValue(std::string& out, std::string_view s);

}  // namespace sim
