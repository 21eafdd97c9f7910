#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace bench {

// Writes a cgroup v2 node under `root` as queuelens reads it: <root>/proc (1/mountinfo,
// pressure/cpu, schedstat, <tid>/task/<tid>/schedstat) and <root>/sys (devices/system/cpu/online,
// fs/cgroup with a kubepods.slice of burstable pods, two containerd containers each, with
// cpu.stat, cpu.max, cpu.pressure and cgroup.threads). Deterministic. Returns the containers'
// cgroup directories. Throws std::runtime_error when a file cannot be written.
std::vector<std::string> WriteKernelTree(const std::string& root, size_t containers,
                                         size_t threads_per_container);

// Rewrites the cpu.stat of the cgroup directory `dir` in place (open descriptors see the new
// text), as the kernel shows a container that used CPU.
void WriteCpuStat(const std::string& dir, uint64_t usage_usec, uint64_t periods,
                  uint64_t throttled_usec);

// Rewrites <proc>/<tid>/task/<tid>/schedstat in place, as the kernel shows a thread that ran.
void WriteSchedstat(const std::string& proc, int tid, uint64_t run_ns, uint64_t wait_ns,
                    uint64_t timeslices);

// Thread ids of the tree: container c (in the order WriteKernelTree returns) holds
// kFirstTid + c * threads_per_container + t for t < threads_per_container.
inline constexpr int kFirstTid = 1000;

}  // namespace bench
