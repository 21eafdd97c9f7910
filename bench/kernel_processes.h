#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// kContainers real cgroups in this machine's cgroup v1 cpu and cpuacct hierarchies, each holding
// one real child process of kThreadsPerProcess (sleeping) threads, so procfs, cgroupfs and
// taskstats show every container as a node does. A per-process collection (one taskstats TGID
// query per container) needs each container to be one process; RealCgroups in kernel_bench.cc
// spreads threads of the bench process itself over its cgroups, so all its containers share one
// TGID. Needs root and cgroup v1. The children are killed and the cgroups removed at exit, and
// the children die with the thread that made the fixture (PR_SET_PDEATHSIG), so make it from
// the main thread.
class RealProcesses {
 public:
  static constexpr size_t kContainers = 1000, kThreadsPerProcess = 10, kBusyWorkers = 2;

  static RealProcesses& Get();
  RealProcesses(const RealProcesses&) = delete;
  RealProcesses& operator=(const RealProcesses&) = delete;
  ~RealProcesses();

  // Empty when the fixture is usable, else why it is not.
  const std::string& error() const { return error_; }
  // The containers' cgroup paths relative to the hierarchy root, as a regex.
  std::string include() const { return "/" + name_ + "/p[0-9]+"; }
  // The child processes, in container order.
  const std::vector<int>& tgids() const { return tgids_; }
  // The first `ran` threads of every process (kThreadsPerProcess, kBusyWorkers or 0) run
  // briefly, and the call returns once they are done. Thread 0 of a process is its main thread,
  // thread 1 the first one it started, and so on. Sets error() if they take over 10 s.
  void Run(size_t ran);
  // As RealCgroups::Files: per cgroup its cpu.stat, cpu.cfs_quota_us and cpuacct.usage (those
  // that exist), then /proc/<tgid>/task/<tid>/schedstat of every thread, processes in container
  // order and threads in Run's order.
  std::vector<std::string> Files() const;

  // The words the parent and its children share (in kernel_processes.cc).
  struct Shared;

 private:
  RealProcesses();
  // Makes the cgroups and the children; returns why it could not, or empty.
  std::string Make();
  void Wake(size_t ran);
  bool WaitFor(const std::atomic<uint32_t>& word, uint32_t target) const;
  void TearDown();

  std::string name_, error_;
  std::vector<std::string> parents_, dirs_, procs_;  // procs_: cgroup.procs of dirs_
  std::vector<int> tgids_;
  Shared* shared_ = nullptr;
};

}  // namespace bench
