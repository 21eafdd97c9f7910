// The collector with CollectorOptions::process_stats (--kernel.taskstats): per-process answers
// instead of per-thread schedstat reads. The answers come from a fake built to the taskstats
// contract (a process's counters are the sums over its threads) over the fixture trees.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "exporter/kernel/collector.h"
#include "exporter/kernel/parsers.h"
#include "tests/exporter/kernel/fixture_tree.h"

namespace exporter::kernel {
namespace {

using fixtures::FixtureTree;
using fixtures::kT0;
using fixtures::MakeCollector;
using fixtures::ReadText;
using std::chrono::seconds;
using Container = KernelSample::Container;

// A1 of v2_systemd: threads 101-103, which become one process 101 here.
const std::string kA1Dir =
    "sys/fs/cgroup/kubepods.slice/kubepods-pod0b6e5ec8_1f3a_4c1b_9f0e_2d7a4c8b9e10.slice/"
    "cri-containerd-16a36e86f6fed5d465ff332511a0ce1a863b55d364b25a7cdaa25db19abf9648.scope/";
constexpr char kA1[] = "16a36e86f6fe";
constexpr char kB1[] = "5b950e77941d";

const Container* Find(const KernelSample& s, std::string_view short_id) {
  for (const Container& c : s.containers) {
    if (c.container_id.substr(0, 12) == short_id) return &c;
  }
  return nullptr;
}

// Every cgroup of a copied tree gets a cgroup.procs naming one process, the lowest TID of its
// thread list (the leader); the process's answer sums the schedstat of every thread of that list,
// as the kernel sums a process's threads. Set `status` or `values` to answer otherwise.
class FakeTaskstats {
 public:
  explicit FakeTaskstats(FixtureTree& tree) : tree_(tree) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(tree.root() / "sys")) {
      const std::string name = e.path().filename().string();
      if (name != "cgroup.threads" && name != "tasks") continue;
      std::vector<int32_t> tids;
      ParseIdList(ReadText(e.path()), tids);
      if (tids.empty()) continue;
      const int32_t tgid = *std::min_element(tids.begin(), tids.end());
      lists_[tgid] = e.path();
      tree.Write(
          std::filesystem::relative(e.path().parent_path() / "cgroup.procs", tree.root()).string(),
          std::to_string(tgid) + "\n");
    }
  }

  ProcessStatsFn Fn() {
    return [this](std::span<ProcessQuery> queries) {
      batches.emplace_back();
      for (ProcessQuery& q : queries) {
        batches.back().push_back(q.tgid);
        Answer(q);
      }
    };
  }

  std::vector<std::vector<int32_t>> batches;
  std::map<int32_t, ReadStatus> status;
  std::map<int32_t, TaskSchedstat> values;

 private:
  void Answer(ProcessQuery& q) {
    if (const auto it = status.find(q.tgid); it != status.end()) {
      q.status = it->second;
      return;
    }
    if (const auto it = values.find(q.tgid); it != values.end()) {
      q.status = ReadStatus::kOk;
      q.stats = it->second;
      return;
    }
    const auto list = lists_.find(q.tgid);
    if (list == lists_.end()) {
      q.status = ReadStatus::kVanished;
      return;
    }
    std::vector<int32_t> tids;
    ParseIdList(ReadText(list->second), tids);
    q.stats = {};
    for (const int32_t tid : tids) {
      const std::string t = std::to_string(tid);
      const auto s =
          ParseTaskSchedstat(ReadText(tree_.root() / "proc" / t / "task" / t / "schedstat"));
      if (!s) continue;
      q.stats.run_ns += s->run_ns;
      q.stats.wait_ns += s->wait_ns;
      q.stats.timeslices += s->timeslices;
    }
    q.status = ReadStatus::kOk;
  }

  FixtureTree& tree_;
  std::map<int32_t, std::filesystem::path> lists_;
};

void WriteA1Usage(FixtureTree& tree, int usage_ms) {
  tree.Write(kA1Dir + "cpu.stat",
             "usage_usec " + std::to_string(usage_ms * 1000) +
                 "\nnr_periods 890\nnr_throttled 30\nthrottled_usec 1500000\n");
}

class ProcessStatsTreeTest : public ::testing::TestWithParam<const char*> {};

INSTANTIATE_TEST_SUITE_P(Trees, ProcessStatsTreeTest,
                         ::testing::Values("v2_systemd", "v2_cgroupfs", "v1_cgroupfs",
                                           "hybrid_systemd"));

TEST_P(ProcessStatsTreeTest, ProcessAnswersGiveTheSumsOfThePerThreadReadsInOneBatch) {
  FixtureTree tree(GetParam());
  FakeTaskstats taskstats(tree);
  KernelSample threads, processes;
  MakeCollector(tree.proc(), tree.sys())->Collect(kT0, threads);
  MakeCollector(tree.proc(), tree.sys(), {.process_stats = taskstats.Fn()})
      ->Collect(kT0, processes);

  ASSERT_EQ(taskstats.batches.size(), 1u);
  EXPECT_EQ(threads.task_counters, "schedstat");
  EXPECT_EQ(processes.task_counters, "taskstats");
  ASSERT_EQ(processes.containers.size(), threads.containers.size());
  size_t with_tasks = 0;
  for (size_t i = 0; i < threads.containers.size(); ++i) {
    const Container& t = threads.containers[i];
    const Container& p = processes.containers[i];
    SCOPED_TRACE(t.cgroup);
    EXPECT_EQ(p.cgroup, t.cgroup);
    EXPECT_EQ(p.has_tasks, t.has_tasks);
    EXPECT_EQ(p.run_ns, t.run_ns);
    EXPECT_EQ(p.wait_ns, t.wait_ns);
    EXPECT_EQ(p.timeslices, t.timeslices);
    if (t.threads > 0) {
      EXPECT_EQ(p.threads, 1u);  // one process
      ++with_tasks;
    }
  }
  EXPECT_EQ(taskstats.batches[0].size(), with_tasks);
  EXPECT_EQ(processes.threads_read, with_tasks);
}

TEST(ProcessStatsTest, OnlyContainersWithGrowthAreAskedAndANewProcessIsFound) {
  FixtureTree tree("v2_systemd");
  FakeTaskstats taskstats(tree);
  KernelSample s;
  auto collector = MakeCollector(tree.proc(), tree.sys(), {.process_stats = taskstats.Fn()});
  collector->Collect(kT0, s);
  EXPECT_EQ(Find(s, kA1)->wait_ns, 250'000'000u);

  // Nothing grew: nobody is asked.
  collector->Collect(kT0 + seconds{1}, s);
  EXPECT_EQ(taskstats.batches.size(), 1u);
  EXPECT_EQ(s.idle_containers, s.containers.size());
  EXPECT_EQ(s.threads_read, 0u);

  // A1 used 100 ms, all of it process 101's: 101 alone is asked, and the list is not read
  // again (process 105, which did not run, is not found yet).
  WriteA1Usage(tree, 2100);
  tree.Write("proc/101/task/101/schedstat", "1300000000 190000000 9100\n");
  tree.Write(kA1Dir + "cgroup.procs", "101\n105\n");
  taskstats.values[105] = {.run_ns = 1'000'000, .wait_ns = 1'000'000, .timeslices = 1};
  collector->Collect(kT0 + seconds{2}, s);
  ASSERT_EQ(taskstats.batches.size(), 2u);
  EXPECT_EQ(taskstats.batches[1], std::vector<int32_t>{101});
  EXPECT_EQ(s.idle_containers, s.containers.size() - 1);
  EXPECT_EQ(Find(s, kA1)->threads, 1u);
  EXPECT_EQ(Find(s, kA1)->wait_ns, 290'000'000u);

  // 150 ms more, of which 101 ran 50: the list is read again and the new process 104 asked
  // about in a second batch, 101 not twice.
  WriteA1Usage(tree, 2250);
  tree.Write("proc/101/task/101/schedstat", "1350000000 195000000 9200\n");
  tree.Write(kA1Dir + "cgroup.procs", "101\n104\n");
  taskstats.values[104] = {.run_ns = 100'000'000, .wait_ns = 7'000'000, .timeslices = 12};
  collector->Collect(kT0 + seconds{3}, s);
  ASSERT_EQ(taskstats.batches.size(), 4u);
  EXPECT_EQ(taskstats.batches[2], std::vector<int32_t>{101});
  EXPECT_EQ(taskstats.batches[3], std::vector<int32_t>{104});
  const Container* a1 = Find(s, kA1);
  EXPECT_EQ(a1->threads, 2u);
  EXPECT_EQ(a1->wait_ns, 195'000'000u + 80'000'000u + 20'000'000u + 7'000'000u);
  EXPECT_EQ(a1->run_ns, 1'350'000'000u + 500'000'000u + 300'000'000u + 100'000'000u);
  EXPECT_TRUE(s.errors.empty());
}

TEST(ProcessStatsTest, ExitedProcessesKeepTheirShareAndFailuresAreCounted) {
  FixtureTree tree("v2_systemd");
  FakeTaskstats taskstats(tree);
  KernelSample s;
  auto collector = MakeCollector(tree.proc(), tree.sys(), {.process_stats = taskstats.Fn()});
  collector->Collect(kT0, s);
  const uint64_t b1_wait = Find(s, kB1)->wait_ns;

  // A1's process exited (ESRCH) after using CPU; it leaves the list.
  WriteA1Usage(tree, 2100);
  taskstats.status[101] = ReadStatus::kVanished;
  tree.Write(kA1Dir + "cgroup.procs", "");
  collector->Collect(kT0 + seconds{1}, s);
  EXPECT_EQ(Find(s, kA1)->threads, 0u);
  EXPECT_EQ(Find(s, kA1)->wait_ns, 250'000'000u);
  EXPECT_TRUE(s.errors.empty());

  // Everyone is asked at a discovery: an EPERM answer is counted and the sums stand; a process
  // whose counters went down is another process under a reused PID.
  taskstats.status[201] = ReadStatus::kPermission;                       // B1's
  taskstats.values[301] = {.run_ns = 1, .wait_ns = 1, .timeslices = 1};  // C1's
  collector->Collect(kT0 + seconds{10}, s);
  EXPECT_EQ(Find(s, kB1)->wait_ns, b1_wait);
  std::map<std::string, uint64_t> errors;
  for (const auto& e : s.errors)
    errors[std::string(e.source) + "/" + std::string(e.reason)] = e.count;
  EXPECT_EQ(errors["tasks/permission"], 1u);
  EXPECT_EQ(errors["tasks/pid_reused"], 1u);
  for (const auto& src : s.sources) {
    if (src.name == "tasks") {
      EXPECT_FALSE(src.success);
    }
  }
}

}  // namespace
}  // namespace exporter::kernel
