#pragma once

#include <cstddef>
#include <string>

namespace bench {

// Writes a cgroup v2 node under `root` as queuelens reads it: <root>/proc (1/mountinfo,
// pressure/cpu, schedstat, <tid>/task/<tid>/schedstat) and <root>/sys (devices/system/cpu/online,
// fs/cgroup with a kubepods.slice of burstable pods, two containerd containers each, with
// cpu.stat, cpu.max, cpu.pressure and cgroup.threads). Deterministic. Throws
// std::runtime_error when a file cannot be written.
void WriteKernelTree(const std::string& root, size_t containers, size_t threads_per_container);

}  // namespace bench
