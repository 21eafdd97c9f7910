#include "exporter/state/kernel_state.h"

#include <gtest/gtest.h>

namespace exporter::state {
namespace {

using kernel::KernelSample;

using std::chrono::seconds;

const common::TimePoint kT0{seconds{1'787'392'800}};
constexpr uint64_t kMs = 1'000'000;

KernelSample::Container Cgroup(std::string cgroup, uint64_t inode, uint64_t wait_ms,
                               uint64_t run_ms) {
  KernelSample::Container c;
  c.k8s_namespace = "shop";
  c.pod = "cart-0";
  c.container = "cart";
  c.cgroup = std::move(cgroup);
  c.cgroup_inode = inode;
  c.has_tasks = true;
  c.wait_ns = wait_ms * kMs;
  c.run_ns = run_ms * kMs;
  c.timeslices = wait_ms + run_ms;
  c.usage_ns = run_ms * kMs;
  return c;
}

KernelSample Sample(std::vector<KernelSample::Container> containers) {
  KernelSample s;
  s.containers = std::move(containers);
  return s;
}

const KernelSnapshot::Container& Only(const KernelSnapshot& snap) {
  EXPECT_EQ(snap.containers.size(), 1u);
  return snap.containers.at(0);
}

class KernelStateTest : public ::testing::Test {
 protected:
  KernelState state_{{.window = seconds{60}, .window_buckets = 4, .series_idle = seconds{300}}};
};

TEST_F(KernelStateTest, FirstSightCountsTheWholeValueButNotInTheWindow) {
  state_.Apply(Sample({Cgroup("/a", 1, 200, 800)}), kT0);
  const auto snap = state_.Snapshot(kT0);
  const auto& c = Only(*snap);
  EXPECT_DOUBLE_EQ(*c.runqueue_wait_seconds, 0.2);
  EXPECT_DOUBLE_EQ(*c.cpu_usage_seconds, 0.8);
  EXPECT_EQ(*c.timeslices, 1000u);
  // One read is no interval yet.
  EXPECT_FALSE(c.wait_per_timeslice_seconds);
  EXPECT_FALSE(c.interference_ratio);
}

TEST_F(KernelStateTest, InterferenceIsTheWaitShareOfRunnableTimeOverTheWindow) {
  state_.Apply(Sample({Cgroup("/a", 1, 200, 800)}), kT0);
  state_.Apply(Sample({Cgroup("/a", 1, 500, 1500)}), kT0 + seconds{1});  // +300 wait, +700 run
  auto snap = state_.Snapshot(kT0 + seconds{1});
  EXPECT_DOUBLE_EQ(*Only(*snap).interference_ratio, 0.3);
  EXPECT_DOUBLE_EQ(*Only(*snap).wait_per_timeslice_seconds, 0.3 / 1000);
  EXPECT_DOUBLE_EQ(*Only(*snap).cpu_usage_cores, 0.7);

  // Once the busy second has left the 60 s window, nothing ran: no ratio to speak of.
  state_.Apply(Sample({Cgroup("/a", 1, 500, 1500)}), kT0 + seconds{90});
  snap = state_.Snapshot(kT0 + seconds{90});
  EXPECT_FALSE(Only(*snap).interference_ratio);
  EXPECT_DOUBLE_EQ(*Only(*snap).runqueue_wait_seconds, 0.5);
}

TEST_F(KernelStateTest, ARestartedContainerKeepsItsCountersGoingUp) {
  state_.Apply(Sample({Cgroup("/pod/old", 1, 900, 5000)}), kT0);
  // The container restarted: same labels, a new cgroup whose counters start near zero.
  state_.Apply(Sample({Cgroup("/pod/new", 2, 10, 40)}), kT0 + seconds{1});
  auto snap = state_.Snapshot(kT0 + seconds{1});
  EXPECT_DOUBLE_EQ(*Only(*snap).runqueue_wait_seconds, 0.91);
  EXPECT_DOUBLE_EQ(*Only(*snap).cpu_usage_seconds, 5.04);
  state_.Apply(Sample({Cgroup("/pod/new", 2, 30, 60)}), kT0 + seconds{2});
  snap = state_.Snapshot(kT0 + seconds{2});
  EXPECT_DOUBLE_EQ(*Only(*snap).runqueue_wait_seconds, 0.93);
  EXPECT_EQ(Only(*snap).cgroup, "/pod/new");
}

TEST_F(KernelStateTest, ACounterThatGoesDownIsAResetNotANegativeDelta) {
  state_.Apply(Sample({Cgroup("/a", 1, 900, 5000)}), kT0);
  // Recreated at the same path with the same inode number: only the values tell.
  state_.Apply(Sample({Cgroup("/a", 1, 100, 100)}), kT0 + seconds{1});
  const auto snap = state_.Snapshot(kT0 + seconds{1});
  EXPECT_DOUBLE_EQ(*Only(*snap).runqueue_wait_seconds, 1.0);
  EXPECT_DOUBLE_EQ(*Only(*snap).cpu_usage_seconds, 5.1);
  EXPECT_DOUBLE_EQ(*Only(*snap).interference_ratio, 0.5);  // 100 / (100 + 100)
}

TEST_F(KernelStateTest, TwoCgroupsUnderOneNameBothCount) {
  auto old_one = Cgroup("/pod/old", 1, 100, 100);
  old_one.limit_cores = 0.5;
  auto new_one = Cgroup("/pod/new", 2, 10, 10);
  new_one.limit_cores = 1.0;
  state_.Apply(Sample({old_one, new_one}), kT0);
  old_one.wait_ns += 5 * kMs;
  new_one.wait_ns += 7 * kMs;
  state_.Apply(Sample({old_one, new_one}), kT0 + seconds{1});
  const auto snap = state_.Snapshot(kT0 + seconds{1});
  EXPECT_DOUBLE_EQ(*Only(*snap).runqueue_wait_seconds, 0.122);
  EXPECT_DOUBLE_EQ(*Only(*snap).limit_cores, 1.0);
}

TEST_F(KernelStateTest, AGoneContainerIsHiddenAndContinuesWhenItComesBack) {
  state_.Apply(Sample({Cgroup("/pod/a", 1, 400, 400)}), kT0);
  state_.Apply(Sample({}), kT0 + seconds{10});
  EXPECT_TRUE(state_.Snapshot(kT0 + seconds{10})->containers.empty());
  state_.Apply(Sample({Cgroup("/pod/b", 2, 100, 100)}), kT0 + seconds{20});
  EXPECT_DOUBLE_EQ(*Only(*state_.Snapshot(kT0 + seconds{20})).runqueue_wait_seconds, 0.5);

  // Gone for longer than series_idle: dropped, and a later comeback starts afresh.
  state_.Apply(Sample({}), kT0 + seconds{30});
  state_.Apply(Sample({}), kT0 + seconds{400});
  state_.Apply(Sample({Cgroup("/pod/c", 3, 100, 100)}), kT0 + seconds{401});
  EXPECT_DOUBLE_EQ(*Only(*state_.Snapshot(kT0 + seconds{401})).runqueue_wait_seconds, 0.1);
}

TEST_F(KernelStateTest, OptionalValuesStayAbsentUntilTheKernelProvidesThem) {
  auto c = Cgroup("/a", 1, 1, 1);
  c.has_tasks = false;
  c.usage_ns.reset();
  c.periods = 10;
  c.throttled_periods = 1;
  state_.Apply(Sample({c}), kT0);
  c.periods = 20;
  c.throttled_periods = 6;
  c.pressure_some_ns = 3 * kMs;
  state_.Apply(Sample({c}), kT0 + seconds{1});
  const auto snap = state_.Snapshot(kT0 + seconds{1});
  const auto& s = Only(*snap);
  EXPECT_FALSE(s.runqueue_wait_seconds);
  EXPECT_FALSE(s.interference_ratio);
  EXPECT_FALSE(s.cpu_usage_seconds);
  EXPECT_FALSE(s.pressure_stalled_seconds);
  EXPECT_EQ(*s.cpu_periods, 20u);
  EXPECT_DOUBLE_EQ(*s.throttled_ratio, 0.5);
  EXPECT_DOUBLE_EQ(*s.pressure_waiting_seconds, 0.003);  // first seen: its whole value
}

TEST_F(KernelStateTest, SnapshotCarriesNodeSourcesAndErrors) {
  KernelSample s = Sample({Cgroup("/a", 1, 1, 1)});
  s.node.pressure_some_ns = 1'500'000'000;
  s.node.cpus = 4;
  s.sources = {{"tasks", true, 0.002}, {"cgroups", false, 0.001}};
  s.errors = {{"tasks", "malformed", 2}, {"cgroups", "vanished", 1}};
  s.cgroup_mode = "hybrid";
  s.kept_files = 7;
  state_.Apply(s, kT0);
  const auto snap = state_.Snapshot(kT0);
  EXPECT_DOUBLE_EQ(*snap->node.pressure_waiting_seconds, 1.5);
  EXPECT_FALSE(snap->node.runqueue_wait_seconds);
  EXPECT_EQ(snap->node.cpus, 4);
  ASSERT_EQ(snap->errors.size(), 2u);
  EXPECT_EQ(snap->errors[0].source, "cgroups");  // sorted
  EXPECT_EQ(snap->sources[1].name, "cgroups");
  EXPECT_FALSE(snap->sources[1].success);
  EXPECT_EQ(snap->cgroup_mode, "hybrid");
  EXPECT_EQ(snap->kept_files, 7u);
  EXPECT_EQ(snap->threads, 0u);
  EXPECT_EQ(snap->collections, 1u);
}

}  // namespace
}  // namespace exporter::state
