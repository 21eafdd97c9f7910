// Kernel collection on this machine's real /proc and cgroup mounts: the test process's own
// cgroup must show up, and its run-queue counter must grow while more busy threads than CPUs
// compete. Skipped only when the real tree cannot be read. Then, in a cgroup of its own (root
// and cgroup v1 only), the kernel's accounting that lets a collection skip threads that did
// not run is checked against the real kernel.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
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
  KernelSample sample;
  auto own_container = [&]() -> const KernelSample::Container* {
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

// Threads that sleep until told to spin for a while, then sleep again. Each waits on its own
// condition variable: a shared one would wake them all, and a woken thread runs.
class Workers {
 public:
  static constexpr size_t kCount = 3;
  Workers() {
    for (size_t i = 0; i < kCount; ++i) {
      threads_.emplace_back([this, i] {
        tids_[i] = static_cast<int>(::gettid());
        std::unique_lock lock(mu_);
        ++started_;
        done_cv_.notify_one();
        for (uint64_t seen = 0;;) {
          wake_[i].wait(lock, [&] { return stop_ || rounds_[i] != seen; });
          if (stop_) return;
          seen = rounds_[i];
          lock.unlock();
          const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds{20};
          volatile uint64_t x = 0;
          while (std::chrono::steady_clock::now() < until) x = x + 1;
          lock.lock();
          ++done_;
          done_cv_.notify_one();
        }
      });
    }
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return started_ == kCount; });
  }
  ~Workers() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    for (std::condition_variable& wake : wake_) wake.notify_one();
    for (std::thread& t : threads_) t.join();
  }
  const std::array<int, kCount>& tids() const { return tids_; }
  // Worker i spins for 20 ms; returns once it is asleep again (state S in its stat file).
  void Run(size_t i) {
    std::unique_lock lock(mu_);
    const size_t target = done_ + 1;
    ++rounds_[i];
    wake_[i].notify_one();
    done_cv_.wait(lock, [&] { return done_ == target; });
    lock.unlock();
    const std::string stat = "/proc/self/task/" + std::to_string(tids_[i]) + "/stat";
    for (int k = 0; k < 100'000; ++k) {
      const std::string text = ReadText(stat);
      const size_t paren = text.rfind(')');
      if (paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'S') return;
      std::this_thread::yield();
    }
  }

 private:
  std::mutex mu_;
  std::array<std::condition_variable, kCount> wake_;
  std::condition_variable done_cv_;
  std::array<uint64_t, kCount> rounds_{};
  std::array<int, kCount> tids_{};
  std::vector<std::thread> threads_;
  size_t started_ = 0, done_ = 0;
  bool stop_ = false;
};

TEST(RealProcTest, ThreadsThatDidNotRunAreNotReadAndNothingIsLost) {
  const CgroupLayout layout =
      DetectLayout(ParseMountinfo(ReadText("/proc/self/mountinfo")), FsRoot("/sys"));
  if (layout.cpu.empty() || layout.cpuacct.empty()) {
    GTEST_SKIP() << "needs the cgroup v1 cpu and cpuacct hierarchies (a v2 host cannot spread "
                    "one process's threads over domain cgroups)";
  }
  const std::string name = "/queuelens-test-" + std::to_string(::getpid());
  std::vector<std::string> dirs = {layout.cpu + name};
  if (layout.cpuacct != layout.cpu) dirs.push_back(layout.cpuacct + name);
  // Removes the cgroups on every way out, after the threads in them have exited.
  struct Cleanup {
    const std::vector<std::string>& dirs;
    ~Cleanup() {
      for (const std::string& dir : dirs) ::rmdir(dir.c_str());
    }
  } cleanup{dirs};
  for (const std::string& dir : dirs) {
    if (::mkdir(dir.c_str(), 0755) != 0) GTEST_SKIP() << "cannot create " << dir << " (needs root)";
  }
  {
    Workers workers;
    for (const std::string& dir : dirs) {
      for (const int tid : workers.tids()) {
        std::ofstream tasks(dir + "/tasks");
        tasks << tid << '\n';
        ASSERT_TRUE(tasks.flush()) << "cannot move thread " << tid << " into " << dir;
      }
    }
    CollectorOptions options;
    options.cgroup_include = RegexEscape(name);
    options.discovery_interval = std::chrono::hours{1};
    Collector collector(FsRoot("/proc"), FsRoot("/sys"), options, nullptr);
    KernelSample sample;
    auto now = std::chrono::system_clock::now();
    auto collect = [&] {
      now += std::chrono::seconds{1};
      collector.Collect(now, sample);
      EXPECT_EQ(sample.containers.size(), 1u);
      return sample.containers.empty() ? KernelSample::Container{} : sample.containers.front();
    };
    // What the kernel shows for the three threads now (they all sleep).
    auto direct = [&] {
      TaskSchedstat sum;
      for (const int tid : workers.tids()) {
        const auto s =
            ParseTaskSchedstat(ReadText("/proc/self/task/" + std::to_string(tid) + "/schedstat"));
        EXPECT_TRUE(s.has_value());
        if (!s) continue;
        sum.run_ns += s->run_ns;
        sum.wait_ns += s->wait_ns;
        sum.timeslices += s->timeslices;
      }
      return sum;
    };
    EXPECT_EQ(collect().threads, 3u);
    EXPECT_EQ(sample.threads_read, 3u);

    workers.Run(0);
    collect();  // the read order learns that worker 0 runs
    workers.Run(0);
    KernelSample::Container c = collect();
    EXPECT_EQ(sample.threads_read, 1u) << "only the worker that ran";
    TaskSchedstat now_direct = direct();
    EXPECT_EQ(c.run_ns, now_direct.run_ns);
    EXPECT_EQ(c.wait_ns, now_direct.wait_ns);
    EXPECT_EQ(c.timeslices, now_direct.timeslices);

    workers.Run(2);  // the one the read order least expects
    c = collect();
    EXPECT_GE(sample.threads_read, 1u);
    now_direct = direct();
    EXPECT_EQ(c.run_ns, now_direct.run_ns);
    EXPECT_EQ(c.wait_ns, now_direct.wait_ns);

    c = collect();  // nothing ran: nothing is read
    EXPECT_EQ(sample.threads_read, 0u);
    EXPECT_EQ(sample.idle_containers, 1u);
    // Hand the threads back before the cgroups go.
    for (const std::string& dir : dirs) {
      const std::string parent = dir.substr(0, dir.size() - name.size());
      for (const int tid : workers.tids()) std::ofstream(parent + "/tasks") << tid << '\n';
    }
  }
  for (const std::string& dir : dirs) EXPECT_EQ(::rmdir(dir.c_str()), 0) << dir;
}

}  // namespace
}  // namespace exporter::kernel
