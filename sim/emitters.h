#pragma once

#include <cstdint>
#include <string>

#include "exporter/spans/sampling.h"
#include "exporter/spans/span.h"
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

// Head sampling of the simulated traces as an OpenTelemetry SDK's consistent probability sampler
// does it (OTEP 235): a trace is kept when its 56-bit randomness R is at least the rejection
// threshold T = round((1 - p)·2^56), and every span of a kept trace carries tracestate
// ot=th:<T in hex, trailing zeros trimmed>. SDKs take R from the trace id's low 56 bits, which
// are random there; the simulation numbers its traces, so R is a hash of the trace id instead.
class SpanSampler {
 public:
  explicit SpanSampler(double probability = 1);  // (0, 1]

  // Drops the spans of traces not sampled and marks the others as the exporter reads ot=th.
  // Does nothing at probability 1, as the runs without sampling always have.
  void Apply(exporter::spans::SpanBatch& batch) const;
  bool Keeps(const exporter::spans::TraceId& trace) const;

  double probability() const { return probability_; }
  // "ot=th:e666666666666" for 10 %; empty at probability 1.
  const std::string& trace_state() const { return trace_state_; }

 private:
  double probability_;
  uint64_t threshold_ = 0;
  std::string trace_state_;
  exporter::spans::Sampling sampling_;
};

// Appends `s` with the characters the text format escapes in label values (\ " newline).
void AppendLabelValue(std::string& out, std::string_view s);

}  // namespace sim
