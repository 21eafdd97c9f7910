// Writes the synthetic cgroup v2 node the kernel benchmark reads, for runs of the exporter
// itself: queuelens-exporter --kernel.enabled --path.procfs=DIR/proc --path.sysfs=DIR/sys
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "bench/kernel_tree.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    std::fprintf(stderr, "usage: %s DIR [CONTAINERS=1000] [THREADS_PER_CONTAINER=10]\n", argv[0]);
    return 2;
  }
  try {
    bench::WriteKernelTree(argv[1], argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 1000,
                           argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 10);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
