// Kernel collection cost (performance.md G5, issue goal: <= 15 ms of CPU per collection of 1000
// containers with 10 000 threads). One full collection over a generated cgroup v2 node, with
// statistics files kept open and re-read with pread (what the exporter does) next to
// open/read/close of every file (what cAdvisor-style collectors do); then the same plus the
// cgroup walk, plus applying the sample to the state, and one collection over this machine's
// real /proc and cgroup mounts. cpu_time is the collecting thread's CPU time per collection.
#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "bench/kernel_tree.h"
#include "exporter/kernel/collector.h"
#include "exporter/kernel/rooted_fs.h"
#include "exporter/state/kernel_state.h"

namespace {

using exporter::kernel::Collector;
using exporter::kernel::CollectorOptions;
using exporter::kernel::FsRoot;

constexpr size_t kContainers = 1000;
constexpr size_t kThreadsPerContainer = 10;

// The generated node, written once per process and removed at exit.
class Tree {
 public:
  static const Tree& Get() {
    static const Tree tree;
    return tree;
  }
  ~Tree() { std::filesystem::remove_all(root_); }
  std::string proc() const { return root_ + "/proc"; }
  std::string sys() const { return root_ + "/sys"; }

 private:
  Tree() {
    std::string tmpl =
        (std::filesystem::temp_directory_path() / "queuelens-kernel-bench-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    bench::WriteKernelTree(root_, kContainers, kThreadsPerContainer);
  }
  std::string root_;
};

std::unique_ptr<Collector> MakeCollector(const std::string& proc, const std::string& sys,
                                         bool keep_files_open, bool discover_every_time,
                                         std::string include = {}) {
  spdlog::set_level(spdlog::level::warn);  // the collector logs the cgroup layout it finds
  CollectorOptions o;
  o.keep_files_open = keep_files_open;
  o.max_open_files = exporter::kernel::RaiseOpenFileLimit() / 4 * 3;
  o.discovery_interval = discover_every_time ? std::chrono::seconds{0} : std::chrono::hours{24};
  o.cgroup_include = std::move(include);
  return std::make_unique<Collector>(FsRoot(proc), FsRoot(sys), o, nullptr);
}

void Report(benchmark::State& state, const exporter::state::KernelSample& sample) {
  size_t threads = 0;
  for (const auto& c : sample.containers) threads += c.threads;
  state.counters["containers"] = static_cast<double>(sample.containers.size());
  state.counters["threads"] = static_cast<double>(threads);
  state.counters["kept_files"] = static_cast<double>(sample.kept_files);
}

// Arg 0: files kept open (pread); 1: open/read/close each time.
void BM_KernelCollect(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  auto collector = MakeCollector(tree.proc(), tree.sys(), state.range(0) == 0, false);
  exporter::state::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);  // discovery and first opens happen once, outside the loop
  for (auto _ : state) {
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
    benchmark::DoNotOptimize(sample.containers.data());
  }
  Report(state, sample);
  if (sample.containers.size() != kContainers) state.SkipWithError("containers missing");
}
BENCHMARK(BM_KernelCollect)->ArgName("reopen")->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

// Every collection also walks the cgroup hierarchy (the exporter walks every
// --kernel.discovery-interval, 10 s by default).
void BM_KernelCollectWithDiscovery(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  auto collector = MakeCollector(tree.proc(), tree.sys(), true, true);
  exporter::state::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);
  for (auto _ : state) {
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
  }
  Report(state, sample);
}
BENCHMARK(BM_KernelCollectWithDiscovery)->Unit(benchmark::kMillisecond);

// What the kernel thread does each interval: collect, update the counters and windows, and
// publish a snapshot.
void BM_KernelCollectApplySnapshot(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  auto collector = MakeCollector(tree.proc(), tree.sys(), true, false);
  exporter::state::KernelState kernel_state({});
  exporter::state::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);
  kernel_state.Apply(sample, now);
  for (auto _ : state) {
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
    kernel_state.Apply(sample, now);
    benchmark::DoNotOptimize(kernel_state.Snapshot(now));
  }
  Report(state, sample);
}
BENCHMARK(BM_KernelCollectApplySnapshot)->Unit(benchmark::kMillisecond);

// This machine's /proc and cgroup mounts, every cgroup selected (procfs and cgroupfs generate
// their text on each read, unlike the plain files of the generated tree).
void BM_KernelCollectRealProc(benchmark::State& state) {
  auto collector = MakeCollector("/proc", "/sys", state.range(0) == 0, false, ".*");
  exporter::state::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);
  if (sample.containers.empty()) {
    state.SkipWithError("no cgroup readable under /sys");
    return;
  }
  for (auto _ : state) {
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
  }
  Report(state, sample);
}
BENCHMARK(BM_KernelCollectRealProc)
    ->ArgName("reopen")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
