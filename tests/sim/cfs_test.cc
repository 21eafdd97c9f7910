#include "sim/cfs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace sim {
namespace {

// Runs the model to `until`; the model ends each container's CFS periods itself. Returns the
// finished tokens.
std::vector<CpuModel::Token> RunTo(CpuModel& cpu, double until) {
  std::vector<CpuModel::Token> finished;
  while (cpu.NextTime() <= until) cpu.Step(finished);
  return finished;
}

// The throttling cases start their jobs at the container's period phase p, so that its periods
// are [p + k·100 ms, p + (k+1)·100 ms) from the start; p is not a multiple of 100 ms.
double PhaseOf(const CpuModel& cpu, uint32_t c) {
  const double p = cpu.PeriodPhase(c);
  EXPECT_GT(p, 0);
  EXPECT_LT(p, kCfsPeriod);
  return p;
}

TEST(CfsTest, DemandAboveQuotaIsThrottledEveryPeriodAndUsesExactlyTheQuota) {
  CpuModel cpu(1);
  const int node = cpu.AddNode(8);
  const uint32_t c = cpu.AddContainer(node, 0.5, 0);
  const double p = PhaseOf(cpu, c);
  cpu.StartJob(c, 100, 1, p);  // one thread that always wants CPU
  RunTo(cpu, p + 10);
  const ContainerCounters k = cpu.Counters(c, p + 10);
  EXPECT_EQ(k.periods, 100u);
  EXPECT_EQ(k.throttled_periods, 100u);   // throttled ratio 1
  EXPECT_NEAR(k.usage_seconds, 5, 1e-9);  // 0.5 core for 10 s
  // Each period: 50 ms of CPU, then throttled for the remaining 50 ms on one run queue.
  EXPECT_NEAR(k.throttled_seconds, 5, 1e-9);
  EXPECT_NEAR(k.run_delay_seconds, 0, 1e-9);
}

TEST(CfsTest, DemandBelowQuotaIsNeverThrottled) {
  CpuModel cpu(2);
  const int node = cpu.AddNode(8);
  const uint32_t c = cpu.AddContainer(node, 2, 0);
  const double p = PhaseOf(cpu, c);
  cpu.StartJob(c, 100, 1, p);  // 1 core of demand under a 2-core limit
  RunTo(cpu, p + 10);
  const ContainerCounters k = cpu.Counters(c, p + 10);
  EXPECT_EQ(k.periods, 100u);
  EXPECT_EQ(k.throttled_periods, 0u);
  EXPECT_NEAR(k.usage_seconds, 10, 1e-9);
  EXPECT_EQ(k.throttled_seconds, 0);
}

TEST(CfsTest, ParallelThreadsBurnTheQuotaEarlyAndThrottleOnEachRunQueue) {
  CpuModel cpu(3);
  const int node = cpu.AddNode(8);
  const uint32_t c = cpu.AddContainer(node, 1, 0);
  const double p = PhaseOf(cpu, c);
  for (CpuModel::Token t = 0; t < 4; ++t) cpu.StartJob(c, 100, t, p);
  RunTo(cpu, p + 1);
  const ContainerCounters k = cpu.Counters(c, p + 1);
  // 4 threads at full speed use the 100 ms quota in 25 ms, then 4 run queues wait 75 ms.
  EXPECT_EQ(k.throttled_periods, 10u);
  EXPECT_NEAR(k.usage_seconds, 1, 1e-9);
  EXPECT_NEAR(k.throttled_seconds, 10 * 4 * 0.075, 1e-9);
}

TEST(CfsTest, JobStartedMidPeriodIsThrottledAtItsOwnBoundaries) {
  CpuModel cpu(4);
  const int node = cpu.AddNode(4);
  const uint32_t c = cpu.AddContainer(node, 0.5, 0);
  const double p = PhaseOf(cpu, c);
  // 120 ms of work at 50 ms per period, starting 10 ms into the period [p, p + 100 ms):
  // runs to p+60, throttled to p+100 (40 ms); runs to p+150, throttled to p+200 (50 ms);
  // runs 20 ms and finishes at p+220. The period ending at p+300 is counted, later ones not.
  cpu.StartJob(c, 0.12, 7, p + 0.01);
  std::vector<CpuModel::Token> finished;
  double t = 0;
  while (finished.empty()) t = cpu.Step(finished);
  EXPECT_NEAR(t, p + 0.22, 1e-12);
  RunTo(cpu, p + 1);
  const ContainerCounters k = cpu.Counters(c, p + 1);
  EXPECT_EQ(k.periods, 3u);
  EXPECT_EQ(k.throttled_periods, 2u);
  EXPECT_NEAR(k.throttled_seconds, 0.09, 1e-12);
  EXPECT_NEAR(k.usage_seconds, 0.12, 1e-12);
  EXPECT_EQ(cpu.NextTime(), kInfinity);  // idle: its period timer stopped
}

TEST(CfsTest, JobFinishesLaterWhenThrottled) {
  CpuModel cpu(5);
  const int node = cpu.AddNode(4);
  const uint32_t c = cpu.AddContainer(node, 0.2, 0);
  const double p = PhaseOf(cpu, c);
  cpu.StartJob(c, 0.05, 9, p);  // 50 ms of work at 20 ms per 100 ms period
  std::vector<CpuModel::Token> finished;
  double t = 0;
  while (finished.empty()) t = cpu.Step(finished);
  EXPECT_NEAR(t, p + 0.21, 1e-9);  // 20 ms in each of the first two periods, 10 ms into the third
  EXPECT_EQ(cpu.Counters(c, t).throttled_periods, 2u);
}

TEST(CfsTest, RaisingTheLimitMidPeriodUnthrottles) {
  CpuModel cpu(6);
  const int node = cpu.AddNode(4);
  const uint32_t c = cpu.AddContainer(node, 0.1, 0);
  const double p = PhaseOf(cpu, c);
  cpu.StartJob(c, 100, 1, p);
  std::vector<CpuModel::Token> finished;
  while (cpu.NextTime() <= p + 0.05) cpu.Step(finished);  // throttled at 10 ms
  EXPECT_TRUE(cpu.Throttled(c));
  cpu.SetLimit(c, 1, p + 0.05);
  EXPECT_FALSE(cpu.Throttled(c));
  RunTo(cpu, p + 0.1);
  EXPECT_NEAR(cpu.Counters(c, p + 0.1).usage_seconds, 0.01 + 0.05, 1e-9);
  EXPECT_EQ(cpu.Counters(c, p + 0.1).throttled_periods, 0u);
  EXPECT_EQ(cpu.Counters(c, p + 0.1).periods, 1u);
}

TEST(CfsTest, IdleContainerCountsNoPeriods) {
  CpuModel cpu;
  const int node = cpu.AddNode(4);
  const uint32_t c = cpu.AddContainer(node, 1, 0);
  RunTo(cpu, 1);
  EXPECT_EQ(cpu.Counters(c, 1).periods, 0u);
}

TEST(CfsTest, PeriodPhasesAreSpreadAndEachContainerKeepsItsOwnBoundaries) {
  CpuModel cpu(7);
  constexpr int kContainers = 1000;
  const int node = cpu.AddNode(kContainers);  // no contention: every thread runs at full speed
  std::vector<double> phases;
  for (int i = 0; i < kContainers; ++i) {
    // A 2-core quota for one thread: never throttled, so every event below is a period end.
    const uint32_t c = cpu.AddContainer(node, 2, 0);
    cpu.StartJob(c, 100, static_cast<CpuModel::Token>(i), 0);
    phases.push_back(cpu.PeriodPhase(c));
  }
  constexpr double kUntil = 1.0;
  std::vector<double> ends;
  std::vector<CpuModel::Token> finished;
  while (cpu.NextTime() <= kUntil) ends.push_back(cpu.Step(finished));
  ASSERT_TRUE(finished.empty());

  // Every end is one container's phase + k·period, and no two containers share one.
  std::vector<double> expected;
  for (const double p : phases) {
    for (int k = 0; p + k * kCfsPeriod <= kUntil; ++k) expected.push_back(p + k * kCfsPeriod);
  }
  std::sort(expected.begin(), expected.end());
  ASSERT_EQ(ends.size(), expected.size());
  for (size_t i = 0; i < ends.size(); ++i) ASSERT_NEAR(ends[i], expected[i], 1e-12) << i;
  EXPECT_EQ(std::adjacent_find(ends.begin(), ends.end()), ends.end());
  for (uint32_t c = 0; c < kContainers; ++c) {
    // Periods that began at or before p count: [0, p) is the first one.
    const auto boundaries =
        static_cast<uint64_t>(std::floor((kUntil - phases[c]) / kCfsPeriod)) + 1;
    EXPECT_EQ(cpu.Counters(c, kUntil).periods, boundaries) << c;
  }

  // Uniform in [0, period): with 1000 draws, no gap wider than 2 ms and no empty tenth.
  std::sort(phases.begin(), phases.end());
  EXPECT_GE(phases.front(), 0);
  EXPECT_LT(phases.back(), kCfsPeriod);
  EXPECT_LT(phases.front(), 0.002);
  EXPECT_GT(phases.back(), kCfsPeriod - 0.002);
  for (size_t i = 1; i < phases.size(); ++i) EXPECT_LT(phases[i] - phases[i - 1], 0.002);
}

TEST(CfsTest, PhasesFollowTheSeed) {
  auto phases = [](uint64_t seed) {
    CpuModel cpu(seed);
    const int node = cpu.AddNode(1);
    std::vector<double> out;
    for (int i = 0; i < 5; ++i) out.push_back(cpu.PeriodPhase(cpu.AddContainer(node, 1, 0)));
    return out;
  };
  EXPECT_EQ(phases(11), phases(11));
  EXPECT_NE(phases(11), phases(12));
}

TEST(CfsTest, RemovedContainersPeriodEndDoesNotReachItsSuccessor) {
  CpuModel cpu(8);
  const int node = cpu.AddNode(4);
  const uint32_t a = cpu.AddContainer(node, 0.5, 0);
  cpu.StartJob(a, 0.01, 1, 0);
  RunTo(cpu, 0.02);  // finished; its period end may still be pending
  cpu.RemoveContainer(a, 0.02);
  const uint32_t b = cpu.AddContainer(node, 0.5, 0.02);  // reuses the id
  ASSERT_EQ(a, b);
  const double p = cpu.PeriodPhase(b);
  cpu.StartJob(b, 100, 2, 0.02);
  RunTo(cpu, 1.02);
  // b's own boundaries only: those in (0.02, 1.02].
  uint64_t boundaries = 0;
  for (int k = 0; p + k * kCfsPeriod <= 1.02; ++k) boundaries += p + k * kCfsPeriod > 0.02;
  EXPECT_EQ(cpu.Counters(b, 1.02).periods, boundaries);
}

TEST(CfsTest, RunQueueWaitOnlyWhenRunnableThreadsExceedCores) {
  CpuModel cpu;
  const int node = cpu.AddNode(2);
  const uint32_t a = cpu.AddContainer(node, 0, 0);
  const uint32_t b = cpu.AddContainer(node, 0, 0);
  cpu.StartJob(a, 100, 1, 0);
  cpu.StartJob(b, 100, 2, 0);
  RunTo(cpu, 1);
  // Two threads on two cores: each runs all the time, nobody waits.
  EXPECT_EQ(cpu.Counters(a, 1).run_delay_seconds, 0);
  EXPECT_EQ(cpu.Counters(b, 1).run_delay_seconds, 0);
  EXPECT_NEAR(cpu.Counters(a, 1).usage_seconds, 1, 1e-9);

  cpu.StartJob(b, 100, 3, 1);  // a third runnable thread on two cores
  RunTo(cpu, 4);
  // Each of the three threads now runs 2/3 of the time and waits 1/3.
  EXPECT_NEAR(cpu.Counters(a, 4).run_delay_seconds, 3.0 / 3, 1e-9);
  EXPECT_NEAR(cpu.Counters(b, 4).run_delay_seconds, 2 * 3.0 / 3, 1e-9);
  EXPECT_NEAR(cpu.Counters(a, 4).usage_seconds, 1 + 2, 1e-9);
  EXPECT_NEAR(cpu.Counters(b, 4).usage_seconds, 1 + 4, 1e-9);
}

TEST(CfsTest, BackgroundThreadsCauseRunQueueWait) {
  CpuModel cpu;
  const int node = cpu.AddNode(1);
  const uint32_t c = cpu.AddContainer(node, 0, 0);
  cpu.StartJob(c, 100, 1, 0);
  cpu.SetBackground(node, 1, 0);  // another tenant's thread shares the core
  RunTo(cpu, 2);
  EXPECT_NEAR(cpu.Counters(c, 2).usage_seconds, 1, 1e-9);
  EXPECT_NEAR(cpu.Counters(c, 2).run_delay_seconds, 1, 1e-9);
  // One thread: "some" and "full" are both its run-queue wait.
  EXPECT_NEAR(cpu.Counters(c, 2).pressure_some_seconds, 1, 1e-9);
  EXPECT_NEAR(cpu.Counters(c, 2).pressure_full_seconds, 1, 1e-9);
}

TEST(CfsTest, PressureOfSeveralThreadsFollowsWhichOfThemRun) {
  CpuModel cpu;
  const int node = cpu.AddNode(1);
  const uint32_t c = cpu.AddContainer(node, 0, 0);
  cpu.StartJob(c, 100, 1, 0);
  cpu.StartJob(c, 100, 2, 0);
  RunTo(cpu, 2);
  // Two threads on one core, nothing else: one always waits, one always runs.
  EXPECT_NEAR(cpu.Counters(c, 2).pressure_some_seconds, 2, 1e-9);
  EXPECT_EQ(cpu.Counters(c, 2).pressure_full_seconds, 0);
  EXPECT_NEAR(cpu.Counters(c, 2).run_delay_seconds, 2, 1e-9);

  cpu.SetBackground(node, 2, 2);  // four runnable threads: a given pair is off-CPU half the time
  RunTo(cpu, 4);
  EXPECT_NEAR(cpu.Counters(c, 4).pressure_some_seconds, 2 + 2, 1e-9);
  // Both off the core: (1 − 1/4)(1 − 1/3) = 1/2 of the time.
  EXPECT_NEAR(cpu.Counters(c, 4).pressure_full_seconds, 2 * 0.5, 1e-9);
}

TEST(CfsTest, SlowdownStretchesWorkAndCountsTheStalledCycles) {
  CpuModel cpu;
  const int node = cpu.AddNode(2);
  const uint32_t c = cpu.AddContainer(node, 0, 0);
  cpu.StartJob(c, 0.1, 1, 0);
  cpu.SetInterference(node, 0, 1.3, 0.05);  // half the work done, the rest 1.3 times slower
  std::vector<CpuModel::Token> finished;
  const double t = cpu.Step(finished);
  ASSERT_EQ(finished, (std::vector<CpuModel::Token>{1}));
  EXPECT_NEAR(t, 0.05 + 0.05 * 1.3, 1e-12);
  EXPECT_NEAR(cpu.Counters(c, t).usage_seconds, 0.115, 1e-12);

  cpu.SetInterference(node, 0, 1, t);  // back to full speed
  cpu.StartJob(c, 0.1, 2, t);
  EXPECT_NEAR(cpu.Step(finished), t + 0.1, 1e-12);
}

TEST(CfsTest, SlowdownBringsTheQuotaForward) {
  CpuModel cpu(9);
  const int node = cpu.AddNode(2);
  const uint32_t c = cpu.AddContainer(node, 0.5, 0);
  const double p = PhaseOf(cpu, c);
  cpu.SetInterference(node, 0, 2, 0);
  // 45 ms of work needs 90 ms of CPU at slowdown 2: 25 ms of work in the first period, 20 ms
  // (40 ms of CPU) in the second.
  cpu.StartJob(c, 0.045, 3, p);
  std::vector<CpuModel::Token> finished;
  double t = 0;
  while (finished.empty()) t = cpu.Step(finished);
  EXPECT_NEAR(t, p + 0.14, 1e-12);
  EXPECT_EQ(cpu.Counters(c, t).throttled_periods, 1u);
}

TEST(CfsTest, AntagonistThreadsCompeteLikeBackground) {
  CpuModel cpu;
  const int node = cpu.AddNode(1);
  const uint32_t c = cpu.AddContainer(node, 0, 0);
  cpu.StartJob(c, 100, 1, 0);
  cpu.SetBackground(node, 1, 0);
  cpu.SetInterference(node, 2, 1, 0);  // 4 runnable threads on one core
  RunTo(cpu, 4);
  EXPECT_NEAR(cpu.Counters(c, 4).usage_seconds, 1, 1e-9);
  EXPECT_NEAR(cpu.Counters(c, 4).run_delay_seconds, 3, 1e-9);
  // Run-queue wait per timeslice: a slice runs, three others' slices wait.
  EXPECT_NEAR(cpu.Counters(c, 4).run_delay_seconds / (cpu.Counters(c, 4).timeslices - 1),
              3 * kBaseSlice, 1e-9);
  // The three other threads, as the node's schedstat counts them.
  const NodeCounters others = cpu.NodeStats(node, 4);
  EXPECT_NEAR(others.other_usage_seconds, 3, 1e-9);
  EXPECT_NEAR(others.other_run_delay_seconds, 9, 1e-9);
  EXPECT_NEAR(others.contended_seconds, 4, 1e-9);
}

TEST(CfsTest, FinishesJobsInOrderOfRemainingWork) {
  CpuModel cpu;
  const int node = cpu.AddNode(1);
  const uint32_t c = cpu.AddContainer(node, 0, 0);
  cpu.StartJob(c, 0.3, 30, 0);
  cpu.StartJob(c, 0.1, 10, 0);
  std::vector<CpuModel::Token> finished;
  std::vector<double> times;
  while (cpu.NextTime() < kInfinity) times.push_back(cpu.Step(finished));
  ASSERT_EQ(finished, (std::vector<CpuModel::Token>{10, 30}));
  // Shared core: the short job needs 0.2 s of wall time, the long one runs alone afterwards.
  EXPECT_NEAR(times[0], 0.2, 1e-12);
  EXPECT_NEAR(times[1], 0.4, 1e-12);
}

TEST(CfsTest, NodesStepInTimeOrderAndTiesGoToTheLowerNode) {
  CpuModel cpu;
  const int a = cpu.AddNode(1), b = cpu.AddNode(2), c = cpu.AddNode(1);
  cpu.StartJob(cpu.AddContainer(c, 0, 0), 0.002, 3, 0);
  cpu.StartJob(cpu.AddContainer(b, 0, 0), 0.001, 21, 0);
  cpu.StartJob(cpu.AddContainer(b, 0, 0), 0.002, 22, 0);
  cpu.StartJob(cpu.AddContainer(a, 0, 0), 0.002, 1, 0);
  // b goes first, then a, b and c tie at 2 ms.
  std::vector<CpuModel::Token> finished;
  for (const CpuModel::Token token : {21u, 1u, 22u, 3u}) {
    finished.clear();
    EXPECT_EQ(cpu.Step(finished), token == 21 ? 0.001 : 0.002);
    EXPECT_EQ(finished, std::vector<CpuModel::Token>{token});
  }
  EXPECT_EQ(cpu.NextTime(), kInfinity);
}

TEST(CfsTest, TiesOnANodeGoToTheEarlierContainerAfterARemoval) {
  CpuModel cpu;
  const int node = cpu.AddNode(4);
  const uint32_t x = cpu.AddContainer(node, 0, 0);
  const uint32_t y = cpu.AddContainer(node, 0, 0);
  const uint32_t z = cpu.AddContainer(node, 0, 0);
  cpu.RemoveContainer(x, 0);
  cpu.StartJob(z, 0.001, 30, 0);
  cpu.StartJob(y, 0.001, 20, 0);
  std::vector<CpuModel::Token> finished;
  cpu.Step(finished);
  EXPECT_EQ(finished, std::vector<CpuModel::Token>{20});
  cpu.Step(finished);
  EXPECT_EQ(finished, (std::vector<CpuModel::Token>{20, 30}));
  EXPECT_EQ(cpu.NextTime(), kInfinity);
}

}  // namespace
}  // namespace sim
