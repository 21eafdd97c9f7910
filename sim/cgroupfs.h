#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sim/simulation.h"

namespace sim {

// Keeps a directory tree that looks, to queuelens-exporter's kernel collector, like one node of
// a Kubernetes cluster with cgroup v2 and the systemd driver (contracts.md §5, and the layout of
// tests/fixtures/kernel/v2_systemd): run the exporter with --path.procfs=<root>/proc
// --path.sysfs=<root>/sys.
//
//   proc/1/mountinfo                    cgroup2 mounted at /sys/fs/cgroup
//   proc/pressure/cpu                   node PSI "some": each write adds the largest container
//                                       stall or node contention since the last write (a lower
//                                       bound of the union)
//   proc/schedstat                      version 15, one line per CPU: the run time, run-queue
//                                       wait and timeslices of the containers (gone ones
//                                       included) and of the nodes' other threads (background,
//                                       antagonists), spread evenly over the CPUs
//   sys/fs/cgroup/cgroup.controllers
//   sys/fs/cgroup/kubepods.slice/…/cri-containerd-<id>.scope/{cpu.stat,cpu.max,cpu.pressure,
//                                                             cgroup.threads,cgroup.procs}
//   proc/<tid>/task/<tid>/schedstat     one task per container carrying its threads' sums
//   proc/<tid>/environ                  HOSTNAME=<pod>, and the service-account namespace file
//
// From the environment the exporter learns pod names and namespaces; container names come from
// the kubelet's pod list (KubeletPodList, served by `queuelens-sim run --live`).
//
// Files are rewritten in place (same inode), as the exporter keeps them open and re-reads them.
// Containers of pods that are gone are removed. Throws std::runtime_error when the tree cannot
// be created (start-up); later write failures are counted.
class CgroupTree {
 public:
  explicit CgroupTree(std::string root, int cpus);

  void Write(Simulation& sim);

  uint64_t write_errors() const { return write_errors_; }
  static int32_t TaskId(uint32_t replica) { return 10'000 + static_cast<int32_t>(replica); }

 private:
  void Put(const std::string& relative, const std::string& content);
  void Remove(uint32_t replica, const Simulation& sim);
  void WriteNode();

  std::string root_;
  int cpus_ = 1;
  std::map<uint32_t, ContainerCounters> written_;  // replicas with a directory → last counters
  ContainerCounters retired_;                      // sums of the removed containers' last counters
  double node_some_seconds_ = 0;
  NodeCounters others_;                 // Σ over the nodes at the last write
  std::vector<double> node_contended_;  // per node, at the last write
  uint64_t write_errors_ = 0;
};

}  // namespace sim
