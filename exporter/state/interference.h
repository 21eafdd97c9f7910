#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "exporter/state/kernel_snapshot.h"
#include "exporter/state/snapshot.h"

// Interference signals that need more than one series: imbalance across a service's instances
// (Imbres, algorithms.md §5) and the join of span instances with the containers of this node.
namespace exporter::state {

struct InstanceImbalance {
  std::string k8s_namespace, service;
  double ratio = 1;  // max / median of the instances' windowed mean exclusive time
  size_t instances = 0;
};
// Pure. One entry per service with at least two instances that finished requests in the window
// and a positive median; sorted like the snapshot's services.
std::vector<InstanceImbalance> ComputeInstanceImbalance(const StateSnapshot& spans);

// A pod seen both as a span instance (k8s.pod.name) and as containers on this node.
struct PodView {
  std::string k8s_namespace, pod;
  std::vector<const StateSnapshot::Instance*> instances;
  std::vector<const KernelSnapshot::Container*> containers;
};
// Pure; the result points into both snapshots. An instance matches a pod of the same name when
// the namespaces are equal or either is unknown (empty). Sorted by (namespace, pod).
std::vector<PodView> JoinPods(const StateSnapshot& spans, const KernelSnapshot& kernel);

}  // namespace exporter::state
