#include "exporter/kernel/collector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <string>

#include "tests/exporter/kernel/fixture_tree.h"

namespace exporter::kernel {
namespace {

using fixtures::FakeKubelet;
using fixtures::FixturePath;
using fixtures::FixtureTree;
using fixtures::kT0;
using fixtures::MakeCollector;
using std::chrono::seconds;
using ::testing::UnorderedElementsAre;
using Container = KernelSample::Container;

// Short (12-digit) ids of the fixture containers; the full ids are sha256 of their names.
constexpr char kA1[] = "16a36e86f6fe";

// A file of A1's cgroup in the v2_systemd tree.
std::string A1File(std::string_view name) {
  return "sys/fs/cgroup/kubepods.slice/kubepods-pod0b6e5ec8_1f3a_4c1b_9f0e_2d7a4c8b9e10.slice/"
         "cri-containerd-16a36e86f6fed5d465ff332511a0ce1a863b55d364b25a7cdaa25db19abf9648.scope/" +
         std::string(name);
}
constexpr char kASandbox[] = "e348f13e3237";
constexpr char kB1[] = "5b950e77941d";
constexpr char kB2[] = "abdbc2b5cc2c";
constexpr char kBSandbox[] = "c6587cae8f15";
constexpr char kC1[] = "ab861dc170dc";
constexpr char kUidB[] = "5f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e5";
constexpr char kUidC[] = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d";

const Container* Find(const KernelSample& s, std::string_view short_id_or_cgroup) {
  for (const Container& c : s.containers) {
    if (c.container_id.substr(0, 12) == short_id_or_cgroup || c.cgroup == short_id_or_cgroup) {
      return &c;
    }
  }
  return nullptr;
}

std::map<std::string, uint64_t> Errors(const KernelSample& s) {
  std::map<std::string, uint64_t> out;
  for (const auto& e : s.errors) out[std::string(e.source) + "/" + std::string(e.reason)] = e.count;
  return out;
}

std::map<std::string, bool> Success(const KernelSample& s) {
  std::map<std::string, bool> out;
  for (const auto& src : s.sources) out[std::string(src.name)] = src.success;
  return out;
}

std::vector<std::string> ShortIds(const KernelSample& s) {
  std::vector<std::string> out;
  for (const Container& c : s.containers) out.push_back(c.container_id.substr(0, 12));
  return out;
}

class CollectorTest : public ::testing::TestWithParam<bool> {
 protected:
  CollectorOptions Options() const {
    CollectorOptions o;
    o.keep_files_open = GetParam();
    return o;
  }
  KernelSample sample_;
};

INSTANTIATE_TEST_SUITE_P(KeptAndReopened, CollectorTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "kept" : "reopened"; });

TEST_P(CollectorTest, CgroupV2SystemdReadsEveryKubernetesContainer) {
  auto collector =
      MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"), Options());
  collector->Collect(kT0, sample_);

  EXPECT_EQ(sample_.cgroup_mode, "v2");
  // Not the pod or QoS slices, not CRI-O's conmon scope, not system.slice (not included).
  EXPECT_THAT(ShortIds(sample_), UnorderedElementsAre(kA1, kASandbox, kB1, kB2, kBSandbox, kC1));
  EXPECT_TRUE(Errors(sample_).empty());

  const Container* a1 = Find(sample_, kA1);
  ASSERT_NE(a1, nullptr);
  EXPECT_EQ(a1->k8s_namespace, "shop");            // from the service-account mount
  EXPECT_EQ(a1->pod, "frontend-7d9f8b6c5-x2k4p");  // HOSTNAME of the container's first task
  EXPECT_EQ(a1->container, kA1);
  EXPECT_EQ(a1->qos, "guaranteed");
  EXPECT_EQ(a1->runtime, "containerd");
  EXPECT_EQ(*a1->usage_ns, 2'000'000'000u);
  EXPECT_EQ(*a1->periods, 880u);
  EXPECT_EQ(*a1->throttled_periods, 30u);
  EXPECT_EQ(*a1->throttled_ns, 1'500'000'000u);
  EXPECT_DOUBLE_EQ(*a1->limit_cores, 2.0);
  EXPECT_EQ(*a1->pressure_some_ns, 19'000'000u);
  EXPECT_EQ(*a1->pressure_full_ns, 5'000'000u);
  ASSERT_TRUE(a1->has_tasks);
  EXPECT_EQ(a1->threads, 3u);
  EXPECT_EQ(a1->run_ns, 2'000'000'000u);  // 1.2 + 0.5 + 0.3 s
  EXPECT_EQ(a1->wait_ns, 250'000'000u);   // 150 + 80 + 20 ms
  EXPECT_EQ(a1->timeslices, 14'000u);

  const Container* b2 = Find(sample_, kB2);
  ASSERT_NE(b2, nullptr);
  EXPECT_EQ(b2->qos, "burstable");
  EXPECT_DOUBLE_EQ(*b2->limit_cores, 0.5);
  // The sandbox has no HOSTNAME of its own; it takes the name its sibling B1 found.
  EXPECT_EQ(Find(sample_, kBSandbox)->pod, "cart-0");
  EXPECT_EQ(Find(sample_, kB1)->k8s_namespace, "");     // no service-account mount
  EXPECT_FALSE(Find(sample_, kASandbox)->limit_cores);  // "max 100000"

  const Container* c1 = Find(sample_, kC1);
  EXPECT_EQ(c1->qos, "besteffort");
  EXPECT_EQ(c1->runtime, "cri-o");
  EXPECT_EQ(c1->pod, kUidC);  // no readable environment: the UID
  EXPECT_EQ(c1->pod_uid, kUidC);

  EXPECT_EQ(*sample_.node.pressure_some_ns, 7'500'000'000u);
  EXPECT_EQ(*sample_.node.runqueue_wait_ns, 500'000'000u);
  EXPECT_EQ(sample_.node.cpus, 2);
  for (const auto& [source, ok] : Success(sample_)) EXPECT_TRUE(ok) << source;
  EXPECT_EQ(sample_.kept_files > 0, GetParam());
}

TEST_P(CollectorTest, NamesFromTheKubeletPodList) {
  FakeKubelet kubelet;
  auto collector = MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"),
                                 Options(), kubelet.Get());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(kubelet.requests, 1);
  const Container* b2 = Find(sample_, kB2);
  EXPECT_EQ(b2->k8s_namespace, "shop");
  EXPECT_EQ(b2->pod, "cart-0");
  EXPECT_EQ(b2->container, "redis");
  const Container* c1 = Find(sample_, kC1);
  EXPECT_EQ(c1->k8s_namespace, "jobs");
  EXPECT_EQ(c1->pod, "nightly-report-28731");
  EXPECT_EQ(c1->container, "report");
  // Sandboxes are not in the pod's container statuses: their short id.
  EXPECT_EQ(Find(sample_, kASandbox)->container, kASandbox);
  EXPECT_EQ(Find(sample_, kASandbox)->pod, "frontend-7d9f8b6c5-x2k4p");

  // Between discoveries the list is not fetched again; at the next one it is, because the
  // sandboxes are still not named.
  collector->Collect(kT0 + seconds{1}, sample_);
  EXPECT_EQ(kubelet.requests, 1);
  collector->Collect(kT0 + seconds{10}, sample_);
  EXPECT_EQ(kubelet.requests, 2);
}

TEST_P(CollectorTest, AFailingKubeletIsCountedAndTheEnvironmentNamesInstead) {
  FakeKubelet kubelet;
  kubelet.status = 500;
  auto collector = MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"),
                                 Options(), kubelet.Get());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(Errors(sample_)["kubelet/fetch"], 1u);
  EXPECT_FALSE(Success(sample_)["kubelet"]);
  EXPECT_EQ(Find(sample_, kA1)->pod, "frontend-7d9f8b6c5-x2k4p");
  EXPECT_EQ(Find(sample_, kB2)->container, kB2);
}

TEST_P(CollectorTest, IncludeSelectsOtherCgroupsAndExcludeDropsAny) {
  CollectorOptions o = Options();
  o.cgroup_include = R"(/system\.slice/.*\.service)";
  o.cgroup_exclude = ".*besteffort.*";
  auto collector = MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"), o);
  collector->Collect(kT0, sample_);
  EXPECT_EQ(Find(sample_, kC1), nullptr);
  const Container* svc = Find(sample_, "/system.slice/containerd.service");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->container, "/system.slice/containerd.service");
  EXPECT_EQ(svc->pod, "");
  EXPECT_EQ(svc->pod_uid, "");
  EXPECT_EQ(svc->threads, 2u);
  EXPECT_EQ(svc->wait_ns, 45'000'000u);
  EXPECT_EQ(sample_.containers.size(), 6u);
}

TEST_P(CollectorTest, CgroupV1CgroupfsDockerWithoutSchedstat) {
  auto collector =
      MakeCollector(FixturePath("v1_cgroupfs/proc"), FixturePath("v1_cgroupfs/sys"), Options());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(sample_.cgroup_mode, "v1");
  EXPECT_THAT(ShortIds(sample_),
              UnorderedElementsAre("4245940adb9e", "33a123e5d474", "22249aa61fd2", "deae2d4d7585"));
  const Container* d1 = Find(sample_, "33a123e5d474");
  EXPECT_EQ(d1->pod, "api-5c8d7f9b-qwert");
  EXPECT_EQ(d1->qos, "guaranteed");
  EXPECT_EQ(d1->runtime, "");  // a bare id: the cgroupfs driver does not name the runtime
  EXPECT_EQ(*d1->usage_ns, 3'900'000'000u);  // cpuacct.usage
  EXPECT_EQ(*d1->periods, 1000u);
  EXPECT_EQ(*d1->throttled_ns, 2'000'000'000u);  // throttled_time, already ns
  EXPECT_DOUBLE_EQ(*d1->limit_cores, 1.5);
  EXPECT_FALSE(d1->pressure_some_ns);  // no PSI per cgroup on v1
  EXPECT_EQ(d1->wait_ns, 500'000'000u);
  EXPECT_EQ(Find(sample_, "22249aa61fd2")->qos, "burstable");
  EXPECT_FALSE(Find(sample_, "22249aa61fd2")->limit_cores);  // cfs_quota_us -1
  EXPECT_EQ(Find(sample_, "deae2d4d7585")->qos, "besteffort");
  // No /proc/schedstat and no "full" PSI line: absent, not errors.
  EXPECT_FALSE(sample_.node.runqueue_wait_ns);
  EXPECT_EQ(*sample_.node.pressure_some_ns, 2'500'000'000u);
  EXPECT_EQ(sample_.node.cpus, 4);
  EXPECT_TRUE(Errors(sample_).empty());
}

TEST_P(CollectorTest, HybridReadsCpuAndCpuacctHierarchiesAndUnifiedPressure) {
  auto collector = MakeCollector(FixturePath("hybrid_systemd/proc"),
                                 FixturePath("hybrid_systemd/sys"), Options());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(sample_.cgroup_mode, "hybrid");
  ASSERT_EQ(sample_.containers.size(), 3u);
  const Container* g1 = Find(sample_, "7b778e4c1d1f");
  EXPECT_EQ(g1->runtime, "docker");
  EXPECT_EQ(g1->qos, "burstable");
  EXPECT_EQ(*g1->usage_ns, 700'000'000u);
  EXPECT_DOUBLE_EQ(*g1->limit_cores, 0.2);
  EXPECT_EQ(*g1->pressure_some_ns, 4'000'000u);
  EXPECT_EQ(g1->wait_ns, 100'000'000u);
  // No mirror in the unified hierarchy: no PSI, and no error either.
  EXPECT_FALSE(Find(sample_, "8bf797aa02bd")->pressure_some_ns);
  const Container* e1 = Find(sample_, "715a17de5709");
  EXPECT_EQ(e1->qos, "besteffort");
  EXPECT_FALSE(e1->limit_cores);                  // cfs_quota_us -1
  EXPECT_EQ(*e1->pressure_some_ns, 30'000'000u);  // PSI totals are in µs
  EXPECT_EQ(e1->wait_ns, 15'000'000u);
  EXPECT_TRUE(Errors(sample_).empty());
}

TEST_P(CollectorTest, ThreadsThatComeAndGoAndReusedTidsNeverLowerTheSums) {
  FixtureTree tree("v2_systemd");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 250'000'000u);
  EXPECT_EQ(Find(sample_, kB1)->wait_ns, 90'000'000u);

  // One second later: thread 103 exited and 104 started in A1; TID 202 of B1 now belongs to
  // another task whose counters are lower.
  tree.Overlay("v2_systemd_t1");
  collector->Collect(kT0 + seconds{1}, sample_);
  const Container* a1 = Find(sample_, kA1);
  EXPECT_EQ(a1->threads, 3u);
  EXPECT_EQ(a1->wait_ns, 350'000'000u + 130'000'000u + 20'000'000u + 50'000'000u);
  EXPECT_EQ(a1->run_ns, 2'000'000'000u + 900'000'000u + 300'000'000u + 100'000'000u);
  EXPECT_EQ(a1->timeslices, 9800u + 4400u + 1000u + 300u);
  const Container* b1 = Find(sample_, kB1);
  EXPECT_EQ(b1->threads, 1u);                         // 202 dropped for now
  EXPECT_EQ(b1->wait_ns, 70'000'000u + 30'000'000u);  // 202's old task keeps its share
  EXPECT_EQ(Errors(sample_)["tasks/pid_reused"], 1u);
  EXPECT_FALSE(Success(sample_)["tasks"]);

  // Still listed next time: the new task under 202 is taken up from zero.
  collector->Collect(kT0 + seconds{2}, sample_);
  b1 = Find(sample_, kB1);
  EXPECT_EQ(b1->threads, 2u);
  EXPECT_EQ(b1->wait_ns, 100'000'000u + 500'000u);
  EXPECT_EQ(Errors(sample_)["tasks/pid_reused"], 1u);
  EXPECT_TRUE(Success(sample_)["tasks"]);
}

TEST_P(CollectorTest, AnIdleContainersThreadsAreReadAgainOnlyOnceItUsesCpu) {
  FixtureTree tree("v2_systemd");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(sample_.idle_containers, 0u);  // nothing was read before
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 250'000'000u);

  // Thread 101's file changes while A1's usage stands still: the collection does not read it
  // (the kernel moves a thread's schedstat only while the thread runs).
  tree.Write("proc/101/task/101/schedstat", "1300000000 190000000 9100\n");
  collector->Collect(kT0 + seconds{1}, sample_);
  EXPECT_EQ(sample_.idle_containers, sample_.containers.size());
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 250'000'000u);
  EXPECT_EQ(Find(sample_, kA1)->threads, 3u);

  // A1 used CPU: its threads are read again, the others stay idle.
  tree.Write(A1File("cpu.stat"),
             "usage_usec 2100000\nnr_periods 890\nnr_throttled 30\nthrottled_usec 1500000\n");
  collector->Collect(kT0 + seconds{2}, sample_);
  EXPECT_EQ(sample_.idle_containers, sample_.containers.size() - 1);
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 290'000'000u);
  EXPECT_EQ(Find(sample_, kA1)->run_ns, 2'100'000'000u);
}

TEST_P(CollectorTest, ThreadsAreReadUntilTheirRunTimeAccountsForTheCgroupsUsageGrowth) {
  FixtureTree tree("v2_systemd");
  auto cpu_stat = [&](int usage_ms) {
    tree.Write(A1File("cpu.stat"),
               "usage_usec " + std::to_string(usage_ms * 1000) +
                   "\nnr_periods 890\nnr_throttled 30\nthrottled_usec 1500000\n");
  };
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  size_t threads = 0;
  for (const Container& c : sample_.containers) threads += c.threads;
  EXPECT_EQ(sample_.threads_read, threads);  // the first collection reads every thread
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 150'000'000u + 80'000'000u + 20'000'000u);

  // A1 used 100 ms, all of it thread 101's, the most active one: 101 alone is read. Thread
  // 102's file is made to change too, to show that it is not read.
  cpu_stat(2100);
  tree.Write("proc/101/task/101/schedstat", "1300000000 190000000 9100\n");
  tree.Write("proc/102/task/102/schedstat", "550000000 90000000 4050\n");
  collector->Collect(kT0 + seconds{1}, sample_);
  EXPECT_EQ(sample_.threads_read, 1u);
  EXPECT_EQ(sample_.idle_containers, sample_.containers.size() - 1);
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 190'000'000u + 80'000'000u + 20'000'000u);
  EXPECT_EQ(Find(sample_, kA1)->timeslices, 9100u + 4000u + 1000u);

  // 150 ms more: 101 did not run, 102 accounts for 50 ms, 103 for none. The 100 ms left was a
  // new thread's: the list is read again and 104 found (the known threads are not read twice).
  cpu_stat(2250);
  tree.Write(A1File("cgroup.threads"), "103\n101\n102\n104\n");
  tree.Write("proc/104/task/104/schedstat", "100000000 5000000 10\n");
  collector->Collect(kT0 + seconds{2}, sample_);
  EXPECT_EQ(sample_.threads_read, 4u);
  const Container* c = Find(sample_, kA1);
  EXPECT_EQ(c->threads, 4u);
  EXPECT_EQ(c->wait_ns, 190'000'000u + 90'000'000u + 20'000'000u + 5'000'000u);
  EXPECT_EQ(c->run_ns, 1'300'000'000u + 550'000'000u + 300'000'000u + 100'000'000u);
  EXPECT_TRUE(Success(sample_)["tasks"]);

  // Growth within the microsecond rounding of usage_usec is taken for rounding: 101's 500 ns
  // are not read yet.
  tree.Write(A1File("cpu.stat"),
             "usage_usec 2250001\nnr_periods 890\nnr_throttled 30\nthrottled_usec 1500000\n");
  tree.Write("proc/101/task/101/schedstat", "1300000500 190000100 9101\n");
  collector->Collect(kT0 + seconds{3}, sample_);
  EXPECT_EQ(sample_.threads_read, 0u);
  EXPECT_EQ(sample_.idle_containers, sample_.containers.size());
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 305'000'000u);

  // Every discovery reads every thread, whatever the usage says: nothing deferred is lost.
  collector->Collect(kT0 + seconds{10}, sample_);
  EXPECT_EQ(sample_.threads_read, threads + 1);
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 305'000'100u);
}

TEST_P(CollectorTest, TheCaptainsSamplesReadCpuStatAndTheLimitButNotPressure) {
  FixtureTree tree("v2_systemd");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(*Find(sample_, kA1)->pressure_some_ns, 19'000'000u);

  tree.Write(A1File("cpu.stat"),
             "usage_usec 2100000\nnr_periods 890\nnr_throttled 31\nthrottled_usec 1500000\n");
  tree.Write(A1File("cpu.max"), "150000 100000\n");
  tree.Write(A1File("cpu.pressure"),
             "some avg10=1.50 avg60=0.80 avg300=0.20 total=29000\n"
             "full avg10=0.40 avg60=0.10 avg300=0.02 total=6000\n");
  KernelSample captains;
  collector->CollectCgroups(captains);
  const Container* c = Find(captains, kA1);
  EXPECT_EQ(*c->usage_ns, 2'100'000'000u);
  EXPECT_EQ(*c->throttled_periods, 31u);
  EXPECT_DOUBLE_EQ(*c->limit_cores, 1.5);
  EXPECT_FALSE(c->pressure_some_ns);  // the Captains do not use it: not read 10 times a second

  collector->Collect(kT0 + seconds{1}, sample_);
  EXPECT_EQ(*Find(sample_, kA1)->pressure_some_ns, 29'000'000u);
  EXPECT_EQ(*Find(sample_, kA1)->pressure_full_ns, 6'000'000u);
}

TEST_P(CollectorTest, UnreadableFilesAreCountedAsPermissionErrors) {
  FixtureTree tree("v2_systemd");
  std::filesystem::permissions(tree.root(), std::filesystem::perms(0755));
  for (const std::string& f : {A1File("cpu.stat"), std::string("proc/102/task/102/schedstat"),
                               std::string("proc/201/environ")}) {
    std::filesystem::permissions(tree.root() / f, std::filesystem::perms::none);
  }
  // Root reads any file: the collection runs in a child that dropped to nobody.
  int out[2];
  ASSERT_EQ(::pipe(out), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(out[0]);
    if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
    KernelSample sample;
    collector->Collect(kT0, sample);
    std::string report;
    for (const auto& [what, count] : Errors(sample)) {
      report += what + "=" + std::to_string(count) + "\n";
    }
    const Container* c = Find(sample, kA1);
    report += "containers=" + std::to_string(sample.containers.size()) + "\n";
    report += "a1_usage=" + std::string(c && c->usage_ns ? "read" : "none") + "\n";
    report += "a1_wait_ns=" + std::to_string(c ? c->wait_ns : 0) + "\n";
    report += "b1_wait_ns=" + std::to_string(Find(sample, kB1)->wait_ns) + "\n";
    report += "b1_pod=" + Find(sample, kB1)->pod + "\n";
    const bool written =
        ::write(out[1], report.data(), report.size()) == static_cast<ssize_t>(report.size());
    ::_exit(written ? 0 : 4);
  }
  ::close(out[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) report.append(buf, n);
  ::close(out[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(report,
            "cgroups/permission=1\n"    // A1 cpu.stat
            "discovery/permission=1\n"  // 201's environment: B1 keeps its pod UID
            "tasks/permission=1\n"      // thread 102
            "containers=6\n"
            "a1_usage=none\n"
            "a1_wait_ns=170000000\n"  // 101 and 103 only
            "b1_wait_ns=90000000\n"
            "b1_pod=" +
                std::string(kUidB) + "\n");
}

TEST_P(CollectorTest, AVanishedCgroupIsDroppedWithoutBreakingTheOthers) {
  FixtureTree tree("v2_systemd");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  ASSERT_NE(Find(sample_, kB2), nullptr);
  const std::string b2 = std::string("sys/fs/cgroup/") + Find(sample_, kB2)->cgroup;
  tree.Remove(b2);

  collector->Collect(kT0 + seconds{1}, sample_);
  if (GetParam()) {
    // Kept descriptors of plain files still read (cgroupfs answers ENODEV instead): the walk at
    // the next discovery notices.
    EXPECT_NE(Find(sample_, kB2), nullptr);
    collector->Collect(kT0 + seconds{10}, sample_);
    EXPECT_TRUE(Errors(sample_).empty());
  } else {
    EXPECT_EQ(Errors(sample_)["cgroups/vanished"], 1u);
  }
  EXPECT_EQ(Find(sample_, kB2), nullptr);
  EXPECT_EQ(sample_.containers.size(), 5u);
  EXPECT_EQ(Find(sample_, kA1)->wait_ns, 250'000'000u);
}

TEST_P(CollectorTest, ARecreatedCgroupIsANewCgroup) {
  FixtureTree tree("v2_systemd");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  const Container before = *Find(sample_, kB2);
  const std::filesystem::path dir = tree.root() / "sys/fs/cgroup" / before.cgroup.substr(1);
  const std::string saved = fixtures::ReadText(dir / "cgroup.threads");
  // Make sure the new directory cannot get the old inode back.
  const std::filesystem::path parked = tree.root() / "parked";
  std::filesystem::rename(dir, parked);
  tree.Write(dir.lexically_relative(tree.root()).string() + "/cpu.stat",
             "usage_usec 10\nnr_periods 1\nnr_throttled 0\nthrottled_usec 0\n");
  tree.Write(dir.lexically_relative(tree.root()).string() + "/cgroup.threads", saved);

  collector->Collect(kT0 + seconds{10}, sample_);
  const Container* after = Find(sample_, kB2);
  ASSERT_NE(after, nullptr);
  EXPECT_NE(after->cgroup_inode, before.cgroup_inode);
  EXPECT_EQ(*after->usage_ns, 10'000u);
  EXPECT_FALSE(after->limit_cores);  // the new cgroup has no cpu.max
}

TEST_P(CollectorTest, NewContainersAppearAtTheNextDiscovery) {
  FixtureTree tree("v2_systemd");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  const std::string id(64, 'e');
  const std::string dir =
      "sys/fs/cgroup/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod" +
      std::string(kUidB) + ".slice/cri-containerd-" + id + ".scope/";
  tree.Write(dir + "cpu.stat", "usage_usec 1\n");
  tree.Write(dir + "cgroup.threads", "");
  collector->Collect(kT0 + seconds{5}, sample_);
  EXPECT_EQ(Find(sample_, "eeeeeeeeeeee"), nullptr);
  collector->Collect(kT0 + seconds{10}, sample_);
  const Container* added = Find(sample_, "eeeeeeeeeeee");
  ASSERT_NE(added, nullptr);
  EXPECT_EQ(added->pod, "cart-0");  // its pod is already known from B1
  EXPECT_EQ(added->threads, 0u);
  EXPECT_EQ(added->wait_ns, 0u);
}

TEST_P(CollectorTest, BrokenFilesAreSkippedAndCounted) {
  auto collector = MakeCollector(FixturePath("broken/proc"), FixturePath("broken/sys"), Options());
  collector->Collect(kT0, sample_);
  // cri-containerd-1234.scope has no 64-digit id: not a container.
  EXPECT_THAT(ShortIds(sample_),
              UnorderedElementsAre("badb7283766a", "6897ab3e7bed", "54c41e0402ab"));
  EXPECT_EQ(Errors(sample_), (std::map<std::string, uint64_t>{
                                 {"cgroups/malformed", 3},  // K1: cpu.stat, cpu.max, cpu.pressure
                                 {"cgroups/missing", 1},    // K2 cpu.stat
                                 {"tasks/missing", 1},      // K3 cgroup.threads
                                 {"tasks/malformed", 2},    // K1: a bad TID line, 902 truncated
                                 {"node/malformed", 1},     // /proc/schedstat version 9
                             }));
  const auto success = Success(sample_);
  EXPECT_TRUE(success.at("discovery"));
  EXPECT_FALSE(success.at("cgroups"));
  EXPECT_FALSE(success.at("tasks"));
  EXPECT_FALSE(success.at("node"));

  const Container* k1 = Find(sample_, "badb7283766a");
  EXPECT_FALSE(k1->usage_ns);
  EXPECT_FALSE(k1->limit_cores);
  EXPECT_FALSE(k1->pressure_some_ns);
  EXPECT_EQ(k1->wait_ns, 2000u);  // 901 only; 903 exited, which is no error
  const Container* k2 = Find(sample_, "6897ab3e7bed");
  EXPECT_EQ(*k2->pressure_some_ns, 100'000u);
  EXPECT_EQ(k2->wait_ns, 800u);
  const Container* k3 = Find(sample_, "54c41e0402ab");
  EXPECT_EQ(*k3->usage_ns, 3'000'000u);
  EXPECT_FALSE(k3->has_tasks);
  EXPECT_EQ(*sample_.node.pressure_some_ns, 42'000u);
  EXPECT_FALSE(sample_.node.runqueue_wait_ns);

  // Errors are per collection; the counts keep adding up.
  collector->Collect(kT0 + seconds{1}, sample_);
  EXPECT_EQ(Errors(sample_)["cgroups/malformed"], 6u);
}

TEST_P(CollectorTest, NoCgroupMountStillReadsTheNode) {
  FixtureTree tree("v1_cgroupfs");
  tree.Write("proc/1/mountinfo",
             "22 26 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw\n");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(sample_.cgroup_mode, "none");
  EXPECT_TRUE(sample_.containers.empty());
  EXPECT_FALSE(Success(sample_)["discovery"]);
  EXPECT_TRUE(Errors(sample_).empty());
  EXPECT_EQ(*sample_.node.pressure_some_ns, 2'500'000'000u);
}

TEST_P(CollectorTest, NoMountinfoIsCounted) {
  FixtureTree tree("v1_cgroupfs");
  tree.Remove("proc/1");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  EXPECT_EQ(Errors(sample_)["discovery/missing"], 1u);
  EXPECT_EQ(sample_.node.cpus, 4);
}

TEST_P(CollectorTest, AFailedDiscoveryKeepsTheKnownContainers) {
  FixtureTree tree("v2_systemd");
  auto collector = MakeCollector(tree.proc(), tree.sys(), Options());
  collector->Collect(kT0, sample_);
  const size_t known = sample_.containers.size();
  ASSERT_GT(known, 0u);
  // mountinfo unreadable at the next discovery: the containers are still read, not forgotten
  // (forgotten ones would come back as new cgroups and add their whole counters again).
  tree.Remove("proc/1/mountinfo");
  tree.Remove("proc/self");
  collector->Collect(kT0 + seconds{20}, sample_);
  EXPECT_EQ(Errors(sample_)["discovery/missing"], 1u);
  EXPECT_EQ(sample_.containers.size(), known);
  EXPECT_EQ(sample_.cgroup_mode, "v2");
}

TEST_P(CollectorTest, ContainersBeyondTheCapAreSkippedAndCounted) {
  CollectorOptions o = Options();
  o.max_containers = 2;
  auto collector = MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"), o);
  collector->Collect(kT0, sample_);
  auto all = MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"));
  KernelSample every;
  all->Collect(kT0, every);
  ASSERT_GT(every.containers.size(), 2u);
  EXPECT_EQ(sample_.containers.size(), 2u);
  EXPECT_EQ(Errors(sample_)["discovery/over_limit"], every.containers.size() - 2);
}

TEST(CollectorBudgetTest, FilesBeyondTheBudgetAreReopenedWithTheSameResults) {
  KernelSample all_kept, some_kept;
  auto kept = MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"));
  kept->Collect(kT0, all_kept);
  CollectorOptions small;
  small.max_open_files = 5;
  auto limited =
      MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"), small);
  limited->Collect(kT0, some_kept);
  limited->Collect(kT0 + seconds{1}, some_kept);
  EXPECT_EQ(some_kept.kept_files, 5u);
  EXPECT_GT(all_kept.kept_files, 30u);
  ASSERT_EQ(all_kept.containers.size(), some_kept.containers.size());
  for (const Container& c : all_kept.containers) {
    const Container* other = Find(some_kept, c.container_id.substr(0, 12));
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(c.wait_ns, other->wait_ns);
    EXPECT_EQ(c.usage_ns, other->usage_ns);
  }
}

}  // namespace
}  // namespace exporter::kernel
