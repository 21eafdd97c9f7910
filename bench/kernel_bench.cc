// Kernel collection cost (performance.md G5, issue goal: <= 15 ms of CPU per collection of 1000
// containers with 10 000 threads). One full collection over a generated cgroup v2 node, with
// statistics files kept open and re-read with pread (what the exporter does) next to
// open/read/close of every file (what cAdvisor-style collectors do); then the same plus the
// cgroup walk, plus applying the sample to the state; then 1000 real cgroups with 10 000 real
// threads on this machine, and this machine's own /proc and cgroups. "ran" is how many threads
// of every container ran between two collections: 10 (all, the goal's case: every thread is
// read), 2 (a pool's busy workers: the collector reads threads until their run time accounts for
// the cgroup's usage growth) or 0 (idle containers cost their cgroup files alone). cpu_time is the
// collecting thread's CPU time per collection.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "bench/kernel_processes.h"
#include "bench/kernel_tree.h"
#include "common/descriptors.h"
#include "exporter/kernel/cgroup_discovery.h"
#include "exporter/kernel/collector.h"
#include "exporter/kernel/parsers.h"
#include "exporter/kernel/rooted_fs.h"
#include "exporter/kernel/taskstats.h"
#include "exporter/state/kernel_state.h"

namespace {

using exporter::kernel::Collector;
using exporter::kernel::CollectorOptions;
using exporter::kernel::FsRoot;

constexpr size_t kContainers = 1000;
constexpr size_t kThreadsPerContainer = 10;
constexpr size_t kBusyWorkers = 2;  // the "ran 2" case

// A whole file, read as the collector reads it; empty when it cannot be read.
std::string ReadText(const std::string& path) {
  exporter::kernel::ReadBuffer buf;
  return exporter::kernel::ReadFile(path, buf) == exporter::kernel::ReadStatus::kOk
             ? std::string(buf.view())
             : std::string();
}

// reopen 0: files kept open (pread); 1: open/read/close each time. ran: threads of every
// container that ran between two collections (all, the busy workers, none).
void ReopenAndRanArgs(benchmark::internal::Benchmark* b) {
  b->ArgNames({"reopen", "ran"});
  for (const int64_t ran : {kThreadsPerContainer, kBusyWorkers, size_t{0}}) {
    b->Args({0, ran})->Args({1, ran});
  }
}

// Where the generated node is written: under TMPDIR when it is set, else on /dev/shm when that
// is a tmpfs. procfs and cgroupfs are memory filesystems that journal nothing: on ext4, the first
// read after each rewrite of a generated file also journals its access time (relatime), about
// 0.6 us a file here, a cost the exporter never pays on a real node.
std::filesystem::path TreeParent() {
  struct statfs fs;
  if (std::getenv("TMPDIR") == nullptr && ::statfs("/dev/shm", &fs) == 0 &&
      fs.f_type == TMPFS_MAGIC && ::access("/dev/shm", W_OK) == 0) {
    return "/dev/shm";
  }
  return std::filesystem::temp_directory_path();
}

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
  // The files a collection reads when every thread ran (the thread lists need no read then).
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const std::string& dir : dirs_) {
      for (const char* f : {"/cpu.stat", "/cpu.max", "/cpu.pressure"}) out.push_back(dir + f);
    }
    for (size_t i = 0; i < threads_.size(); ++i) {
      const std::string id = std::to_string(bench::kFirstTid + static_cast<int>(i));
      out.push_back(proc() + "/" + id + "/task/" + id + "/schedstat");
    }
    return out;
  }
  // The first `ran` threads of every container ran 1 ms each since the last call, and their
  // cgroup's usage grew by as much, as the kernel shows it.
  void Run(size_t ran) const {
    for (size_t c = 0; c < dirs_.size(); ++c) {
      for (size_t t = 0; t < ran; ++t) {
        TaskSchedstat& s = threads_[c * kThreadsPerContainer + t];
        s.run_ns += 1'000'000;
        s.wait_ns += 200'000;
        s.timeslices += 10;
        bench::WriteSchedstat(proc(),
                              bench::kFirstTid + static_cast<int>(c * kThreadsPerContainer + t),
                              s.run_ns, s.wait_ns, s.timeslices);
      }
      CpuStat& g = cgroups_[c];
      g.usage_usec += ran * 1000;
      g.periods += 10;
      g.throttled_usec += 100;
      bench::WriteCpuStat(dirs_[c], g.usage_usec, g.periods, g.throttled_usec);
    }
  }

 private:
  using TaskSchedstat = exporter::kernel::TaskSchedstat;
  struct CpuStat {
    uint64_t usage_usec, periods, throttled_usec;
  };
  Tree() {
    std::string tmpl = (TreeParent() / "queuelens-kernel-bench-XXXXXX").string();
    root_ = ::mkdtemp(tmpl.data());
    dirs_ = bench::WriteKernelTree(root_, kContainers, kThreadsPerContainer);
    // Start from the generated values, so the counters only grow.
    for (const std::string& dir : dirs_) {
      const auto s = exporter::kernel::ParseCpuStatV2(ReadText(dir + "/cpu.stat"));
      cgroups_.push_back({*s->usage_ns / 1000, *s->periods, *s->throttled_ns / 1000});
    }
    for (size_t i = 0; i < dirs_.size() * kThreadsPerContainer; ++i) {
      const std::string id = std::to_string(bench::kFirstTid + static_cast<int>(i));
      threads_.push_back(*exporter::kernel::ParseTaskSchedstat(
          ReadText(proc() + "/" + id + "/task/" + id + "/schedstat")));
    }
  }
  std::string root_;
  std::vector<std::string> dirs_;
  mutable std::vector<CpuStat> cgroups_;
  mutable std::vector<TaskSchedstat> threads_;
};

std::unique_ptr<Collector> MakeCollector(const std::string& proc, const std::string& sys,
                                         bool keep_files_open, bool discover_every_time,
                                         std::string include = {},
                                         exporter::kernel::ProcessStatsFn process_stats = {}) {
  spdlog::set_level(spdlog::level::warn);  // the collector logs the cgroup layout it finds
  CollectorOptions o;
  o.keep_files_open = keep_files_open;
  o.max_open_files = common::RaiseOpenFileLimit() / 4 * 3;
  o.discovery_interval = discover_every_time ? std::chrono::seconds{0} : std::chrono::hours{24};
  o.cgroup_include = std::move(include);
  o.process_stats = std::move(process_stats);
  return std::make_unique<Collector>(FsRoot(proc), FsRoot(sys), o, nullptr);
}

void Report(benchmark::State& state, const exporter::kernel::KernelSample& sample) {
  size_t threads = 0;
  for (const auto& c : sample.containers) threads += c.threads;
  state.counters["containers"] = static_cast<double>(sample.containers.size());
  state.counters["threads"] = static_cast<double>(threads);
  state.counters["kept_files"] = static_cast<double>(sample.kept_files);
  state.counters["idle"] = static_cast<double>(sample.idle_containers);
  state.counters["threads_read"] = static_cast<double>(sample.threads_read);
}

void Run(benchmark::State& state, const Tree& tree, size_t ran) {
  state.PauseTiming();
  tree.Run(ran);
  state.ResumeTiming();
}

// Every thread that ran is read, and no more; an idle container's threads are not read.
void CheckReads(benchmark::State& state, const exporter::kernel::KernelSample& sample, size_t ran) {
  if (sample.containers.size() != kContainers) state.SkipWithError("containers missing");
  if ((ran > 0) != (sample.idle_containers == 0)) state.SkipWithError("wrong idle containers");
  if (sample.threads_read != ran * kContainers) state.SkipWithError("wrong thread reads");
}

// ran 10: every thread's schedstat is read (the goal's case); 0: only the cgroup files are.
void BM_KernelCollect(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  const auto ran = static_cast<size_t>(state.range(1));
  auto collector = MakeCollector(tree.proc(), tree.sys(), state.range(0) == 0, false);
  exporter::kernel::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);  // discovery and first opens happen once, outside the loop
  for (int i = 0; i < 3; ++i) {     // and the read order settles on the threads that run
    tree.Run(ran);
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
  }
  for (auto _ : state) {
    Run(state, tree, ran);
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
    benchmark::DoNotOptimize(sample.containers.data());
  }
  Report(state, sample);
  CheckReads(state, sample, ran);
}
BENCHMARK(BM_KernelCollect)->Apply(ReopenAndRanArgs)->Unit(benchmark::kMillisecond);

// Every thread ran, and every collection also walks the cgroup hierarchy (the exporter walks
// every --kernel.discovery-interval, 10 s by default).
void BM_KernelCollectWithDiscovery(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  auto collector = MakeCollector(tree.proc(), tree.sys(), true, true);
  exporter::kernel::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);
  for (auto _ : state) {
    Run(state, tree, kThreadsPerContainer);
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
  }
  Report(state, sample);
}
BENCHMARK(BM_KernelCollectWithDiscovery)->Unit(benchmark::kMillisecond);

// What the kernel thread does each interval, every thread ran: collect, update the counters and
// windows, and publish a snapshot.
void BM_KernelCollectApplySnapshot(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  auto collector = MakeCollector(tree.proc(), tree.sys(), true, false);
  exporter::state::KernelState kernel_state({});
  exporter::kernel::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);
  kernel_state.Apply(sample, now);
  for (auto _ : state) {
    Run(state, tree, kThreadsPerContainer);
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
    kernel_state.Apply(sample, now);
    benchmark::DoNotOptimize(kernel_state.Snapshot(now));
  }
  Report(state, sample);
}
BENCHMARK(BM_KernelCollectApplySnapshot)->Unit(benchmark::kMillisecond);

// One of the Captains' 100 ms samples between two collections: cpu.stat and the limit of every
// container, no PSI, threads or node files.
void BM_KernelCaptainTick(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  auto collector = MakeCollector(tree.proc(), tree.sys(), true, false);
  exporter::kernel::KernelSample sample, tick;
  collector->Collect(std::chrono::system_clock::now(), sample);
  for (auto _ : state) {
    collector->CollectCgroups(tick);
    benchmark::DoNotOptimize(tick.containers.data());
  }
  state.counters["containers"] = static_cast<double>(tick.containers.size());
}
BENCHMARK(BM_KernelCaptainTick)->Unit(benchmark::kMillisecond);

// kContainers real cgroups in this machine's cgroup v1 cpu and cpuacct hierarchies with
// kThreadsPerContainer real (sleeping) threads each, so procfs and cgroupfs generate every file
// the collector reads, as on a node. Needs root and cgroup v1: the threads of one process
// cannot be spread over cgroup v2 domain cgroups. Removed at exit.
class RealCgroups {
 public:
  static RealCgroups& Get() {
    static RealCgroups node;
    return node;
  }
  ~RealCgroups() {
    stop_ = true;
    Wake(kThreadsPerContainer);
    for (const pthread_t t : threads_) pthread_join(t, nullptr);
    for (const std::string& dir : dirs_) ::rmdir(dir.c_str());
    for (const std::string& parent : parents_) ::rmdir(parent.c_str());
  }
  const std::string& error() const { return error_; }
  std::string include() const { return "/" + name_ + "/c[0-9]+"; }
  // As Tree::Files: the v1 files of the cgroups (no limit is set, so no cfs_period_us read).
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const std::string& dir : dirs_) {
      for (const char* f : {"/cpu.stat", "/cpu.cfs_quota_us", "/cpuacct.usage"}) {
        if (std::filesystem::exists(dir + f)) out.push_back(dir + f);
      }
    }
    for (const int tid : tids_) {
      const std::string id = std::to_string(tid);
      out.push_back("/proc/" + id + "/task/" + id + "/schedstat");
    }
    return out;
  }
  // The first `ran` threads of every cgroup (kBusyWorkers or all) run briefly, and the call
  // returns once they are done.
  void Run(size_t ran) {
    if (ran == 0) return;
    done_ = 0;
    Wake(ran);
    const size_t woken = ran == kThreadsPerContainer ? threads_.size() : kBusyWorkers * kContainers;
    for (uint32_t d = done_; d < woken; d = done_) done_.wait(d);
  }

 private:
  RealCgroups() : name_("queuelens-bench-" + std::to_string(::getpid())) {
    const auto layout = exporter::kernel::DetectLayout(
        exporter::kernel::ParseMountinfo(ReadText("/proc/self/mountinfo")), FsRoot("/sys"));
    if (layout.cpu.empty() || layout.cpuacct.empty()) {
      error_ = "needs the cgroup v1 cpu and cpuacct hierarchies";
      return;
    }
    std::vector<std::string> roots = {layout.cpu};
    if (layout.cpuacct != layout.cpu) roots.push_back(layout.cpuacct);
    for (const std::string& root : roots) {
      parents_.push_back(root + "/" + name_);
      if (::mkdir(parents_.back().c_str(), 0755) != 0) {
        error_ = "cannot create cgroups under " + root + " (needs root)";
        parents_.pop_back();
        return;
      }
    }
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 << 10);
    tids_.resize(kContainers * kThreadsPerContainer);
    for (size_t i = 0; i < tids_.size(); ++i) {
      pthread_t t;
      if (pthread_create(&t, &attr, &RealCgroups::Run, this) != 0) {
        error_ = "cannot start " + std::to_string(tids_.size()) + " threads";
        break;
      }
      threads_.push_back(t);
    }
    pthread_attr_destroy(&attr);
    for (uint32_t n = started_; n < threads_.size(); n = started_) started_.wait(n);
    if (!error_.empty()) return;
    for (size_t c = 0; c < kContainers && error_.empty(); ++c) {
      char name[16];
      std::snprintf(name, sizeof name, "/c%04zu", c);
      for (const std::string& parent : parents_) {
        dirs_.push_back(parent + name);
        ::mkdir(dirs_.back().c_str(), 0755);
        for (size_t t = 0; t < kThreadsPerContainer; ++t) {
          std::ofstream tasks(dirs_.back() + "/tasks");
          tasks << tids_[c * kThreadsPerContainer + t] << '\n';
          if (!tasks.flush()) error_ = "cannot move a thread into " + dirs_.back();
        }
      }
    }
  }
  static void* Run(void* self) {
    auto& node = *static_cast<RealCgroups*>(self);
    const uint32_t i = node.next_index_++;
    node.tids_[i] = static_cast<int>(::gettid());
    // Thread i goes into cgroup i / kThreadsPerContainer; the first ones there are its workers.
    std::atomic<uint32_t>& round =
        i % kThreadsPerContainer < kBusyWorkers ? node.worker_round_ : node.round_;
    ++node.started_;
    node.started_.notify_all();
    for (uint32_t seen = 0;;) {
      round.wait(seen);
      seen = round;
      if (node.stop_) return nullptr;
      uint64_t work = 0;
      for (int k = 0; k < 2000; ++k) benchmark::DoNotOptimize(work += k);
      ++node.done_;
      node.done_.notify_all();
    }
  }
  // Wakes the workers, and with ran == kThreadsPerContainer every other thread too.
  void Wake(size_t ran) {
    ++worker_round_;
    worker_round_.notify_all();
    if (ran < kThreadsPerContainer) return;
    ++round_;
    round_.notify_all();
  }

  std::string name_, error_;
  std::vector<std::string> parents_, dirs_;
  std::vector<pthread_t> threads_;
  std::vector<int> tids_;
  std::atomic<uint32_t> next_index_{0}, started_{0}, done_{0}, round_{0}, worker_round_{0};
  std::atomic<bool> stop_{false};
};

// reopen and ran as for BM_KernelCollect, over RealCgroups.
void BM_KernelCollectRealCgroups(benchmark::State& state) {
  RealCgroups& node = RealCgroups::Get();
  if (!node.error().empty()) {
    state.SkipWithError(node.error().c_str());
    return;
  }
  const auto ran = static_cast<size_t>(state.range(1));
  auto collector = MakeCollector("/proc", "/sys", state.range(0) == 0, false, node.include());
  exporter::kernel::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);
  for (int i = 0; i < 3; ++i) {
    node.Run(ran);
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
  }
  for (auto _ : state) {
    state.PauseTiming();
    node.Run(ran);
    state.ResumeTiming();
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
  }
  Report(state, sample);
  // A worker may still be on its way back to sleep while the collection reads: the thread
  // reads are reported, not checked.
  if (sample.containers.size() != kContainers) state.SkipWithError("containers missing");
}
BENCHMARK(BM_KernelCollectRealCgroups)->Apply(ReopenAndRanArgs)->Unit(benchmark::kMillisecond);

// 1000 real containers of one process with 10 threads each (bench::RealProcesses). taskstats 0:
// a schedstat read per thread, as on RealCgroups; 1: one taskstats query per process, batched
// (--kernel.taskstats). ran as for BM_KernelCollect.
void BM_KernelCollectRealProcesses(benchmark::State& state) {
  bench::RealProcesses& node = bench::RealProcesses::Get();
  if (!node.error().empty()) {
    state.SkipWithError(node.error().c_str());
    return;
  }
  exporter::kernel::ProcessStatsFn process_stats;
  if (state.range(0) == 1) {
    std::string why;
    std::shared_ptr<exporter::kernel::TaskstatsClient> client =
        exporter::kernel::TaskstatsClient::Open(std::chrono::seconds{1}, why);
    if (!client) {
      state.SkipWithError(("taskstats: " + why).c_str());
      return;
    }
    process_stats = [client](std::span<exporter::kernel::ProcessQuery> q) { client->Query(q); };
  }
  const auto ran = static_cast<size_t>(state.range(1));
  auto collector = MakeCollector("/proc", "/sys", true, false, node.include(), process_stats);
  exporter::kernel::KernelSample sample;
  auto now = std::chrono::system_clock::now();
  collector->Collect(now, sample);
  for (int i = 0; i < 3; ++i) {
    node.Run(ran);
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
  }
  for (auto _ : state) {
    state.PauseTiming();
    node.Run(ran);
    state.ResumeTiming();
    now += std::chrono::seconds{1};
    collector->Collect(now, sample);
  }
  Report(state, sample);
  if (sample.containers.size() != kContainers) state.SkipWithError("containers missing");
  if (!node.error().empty()) state.SkipWithError(node.error().c_str());
}
BENCHMARK(BM_KernelCollectRealProcesses)
    ->Apply([](benchmark::internal::Benchmark* b) {
      b->ArgNames({"taskstats", "ran"});
      for (const int64_t ran : {kThreadsPerContainer, kBusyWorkers, size_t{0}}) {
        b->Args({0, ran})->Args({1, ran});
      }
    })
    ->Unit(benchmark::kMillisecond);

// The floor under a collection in which every thread ran: one pread of each file it reads, into
// one buffer, with no parsing and no bookkeeping. The collection's time above it is queuelens's
// own work; the floor itself is the kernel's (entry, exit and generating each file's text).
void BarePreads(benchmark::State& state, const std::vector<std::string>& files,
                const std::function<void()>& run) {
  std::vector<int> fds;
  for (const std::string& f : files) {
    const int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      state.SkipWithError(("cannot open " + f).c_str());
      break;
    }
    fds.push_back(fd);
  }
  char buf[4096];
  for (auto _ : state) {
    if (fds.size() != files.size()) break;
    state.PauseTiming();
    run();
    state.ResumeTiming();
    for (const int fd : fds) benchmark::DoNotOptimize(::pread(fd, buf, sizeof buf, 0));
  }
  for (const int fd : fds) ::close(fd);
  state.counters["files"] = static_cast<double>(files.size());
}

void BM_KernelBarePreads(benchmark::State& state) {
  const Tree& tree = Tree::Get();
  BarePreads(state, tree.Files(), [&] { tree.Run(kThreadsPerContainer); });
}
BENCHMARK(BM_KernelBarePreads)->Unit(benchmark::kMillisecond);

void BM_KernelBarePreadsRealCgroups(benchmark::State& state) {
  RealCgroups& node = RealCgroups::Get();
  if (!node.error().empty()) {
    state.SkipWithError(node.error().c_str());
    return;
  }
  BarePreads(state, node.Files(), [&] { node.Run(kThreadsPerContainer); });
}
BENCHMARK(BM_KernelBarePreadsRealCgroups)->Unit(benchmark::kMillisecond);

// Under the floor: as many system calls that do nothing (getppid), the cost of entering and
// leaving the kernel alone on this machine (page-table isolation makes it large in some VMs).
void BM_KernelSyscallFloor(benchmark::State& state) {
  const size_t calls = Tree::Get().Files().size();
  for (auto _ : state) {
    for (size_t i = 0; i < calls; ++i) benchmark::DoNotOptimize(::syscall(SYS_getppid));
  }
  state.counters["calls"] = static_cast<double>(calls);
}
BENCHMARK(BM_KernelSyscallFloor)->Unit(benchmark::kMillisecond);

// This machine's /proc and cgroup mounts, every cgroup selected (procfs and cgroupfs generate
// their text on each read, unlike the plain files of the generated tree).
void BM_KernelCollectRealProc(benchmark::State& state) {
  auto collector = MakeCollector("/proc", "/sys", state.range(0) == 0, false, ".*");
  exporter::kernel::KernelSample sample;
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

namespace {

// True when --benchmark_filter (Google Benchmark's regex, '-' negating) selects a
// BM_KernelCollectRealProcesses row. A bad regex selects none; the library reports it.
bool SelectsRealProcesses(int argc, char** argv) {
  std::string filter = ".";
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--benchmark_filter=")) filter = arg.substr(sizeof "--benchmark_filter");
  }
  const bool negated = filter.starts_with('-');
  try {
    const std::regex re(negated ? filter.substr(1) : filter);
    for (const char* taskstats : {"0", "1"}) {
      for (const char* ran : {"10", "2", "0"}) {
        const std::string name =
            std::string("BM_KernelCollectRealProcesses/taskstats:") + taskstats + "/ran:" + ran;
        if (std::regex_search(name, re) != negated) return true;
      }
    }
  } catch (const std::regex_error&) {
  }
  return false;
}

}  // namespace

// RealProcesses forks its 1000 children before RealCgroups starts its 10 000 threads when both
// are selected: a child forked after them keeps its own copy of every stack page they dirty
// (copy on write), about 90 MB each, and 1000 of them exhaust memory.
int main(int argc, char** argv) {
  const bool real_processes = SelectsRealProcesses(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("generated_tree_parent", TreeParent().string());
  if (real_processes) bench::RealProcesses::Get();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
