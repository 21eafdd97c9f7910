// Kernel collection on this machine's real /proc and cgroup mounts: the test process's own
// cgroup must show up, and its run-queue counter must grow while more busy threads than CPUs
// compete. Skipped only when the real tree cannot be read.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "exporter/kernel/collector.h"
#include "exporter/kernel/parsers.h"
#include "tests/exporter/kernel/fixture_tree.h"

namespace exporter::kernel {
namespace {

using fixtures::ReadText;

// The test's cgroup in the hierarchy the collector walks, from /proc/self/cgroup: the "0::"
// line on cgroup v2, else the line of the v1 hierarchy with the cpu (or cpuacct) controller.
std::string OwnCgroup(CgroupMode mode) {
  const std::string text = ReadText("/proc/self/cgroup");
  std::string v1;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    const size_t c1 = line.find(':'), c2 = line.find(':', c1 + 1);
    if (c1 == std::string::npos || c2 == std::string::npos) continue;
    const std::string controllers = "," + line.substr(c1 + 1, c2 - c1 - 1) + ",";
    const std::string path = line.substr(c2 + 1);
    if (mode == CgroupMode::kV2 && line.rfind("0::", 0) == 0) return path;
    if (controllers.find(",cpu,") != std::string::npos) return path;
    if (controllers.find(",cpuacct,") != std::string::npos) v1 = path;
  }
  return v1;
}

std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (std::string_view(R"(\^$.|?*+()[]{})").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

TEST(RealProcTest, OwnCgroupShowsAGrowingRunQueueWhileBusyThreadsCompete) {
  const std::string mountinfo = ReadText("/proc/1/mountinfo");
  if (mountinfo.empty() || ReadText("/proc/self/cgroup").empty()) {
    GTEST_SKIP() << "/proc/1/mountinfo or /proc/self/cgroup is unreadable here";
  }
  const CgroupLayout layout = DetectLayout(ParseMountinfo(mountinfo), FsRoot("/sys"));
  if (layout.mode == CgroupMode::kNone) GTEST_SKIP() << "no cgroup hierarchy is mounted under /sys";
  const std::string own = OwnCgroup(layout.mode);
  ASSERT_FALSE(own.empty()) << "no cpu cgroup in /proc/self/cgroup:\n"
                            << ReadText("/proc/self/cgroup");

  CollectorOptions options;
  options.cgroup_include = RegexEscape(own);
  Collector collector(FsRoot("/proc"), FsRoot("/sys"), options, nullptr);
  state::KernelSample sample;
  auto own_container = [&]() -> const state::KernelSample::Container* {
    for (const auto& c : sample.containers) {
      if (c.cgroup == own) return &c;
    }
    return nullptr;
  };
  const auto t0 = std::chrono::system_clock::now();
  collector.Collect(t0, sample);
  ASSERT_NE(own_container(), nullptr)
      << "cgroup " << own << " not found in mode " << sample.cgroup_mode;
  ASSERT_TRUE(own_container()->has_tasks);
  const uint64_t wait_before = own_container()->wait_ns;
  const uint64_t slices_before = own_container()->timeslices;

  // More spinning threads than CPUs: each has to wait for a CPU now and then.
  std::atomic<bool> stop{false};
  std::vector<std::thread> busy;
  const unsigned spinners = 2 * std::max(1u, std::thread::hardware_concurrency()) + 1;
  for (unsigned i = 0; i < spinners; ++i) {
    busy.emplace_back([&stop] {
      volatile uint64_t x = 0;
      while (!stop.load(std::memory_order_relaxed)) x = x + 1;
    });
  }
  // Bounded: at most 100 collections 50 ms apart.
  uint64_t wait_after = wait_before;
  size_t threads = 0;
  for (int i = 1; i <= 100 && wait_after < wait_before + 1'000'000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    collector.Collect(t0 + std::chrono::milliseconds{50 * i}, sample);
    ASSERT_NE(own_container(), nullptr);
    wait_after = own_container()->wait_ns;
    threads = own_container()->threads;
  }
  stop = true;
  for (std::thread& t : busy) t.join();

  EXPECT_GE(threads, spinners + 1);  // the spinners and this thread
  EXPECT_GE(wait_after, wait_before + 1'000'000) << "run-queue wait did not grow by 1 ms";
  EXPECT_GT(own_container()->timeslices, slices_before);
  EXPECT_TRUE(own_container()->usage_ns.has_value());
  // A missing /proc/schedstat (no CONFIG_SCHEDSTATS) or PSI degrades to absent series.
  for (const auto& s : sample.sources) {
    if (s.name == "node" || s.name == "discovery") {
      EXPECT_TRUE(s.success) << s.name;
    }
  }
  EXPECT_GT(sample.node.cpus, 0);
}

}  // namespace
}  // namespace exporter::kernel
