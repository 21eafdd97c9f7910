#include "sim/cfs.h"

#include <gtest/gtest.h>

#include <vector>

namespace sim {
namespace {

// Runs the model to `until`, ending every CFS period on the way; returns the finished tokens.
std::vector<CpuModel::Token> RunTo(CpuModel& cpu, double from, double until) {
  std::vector<CpuModel::Token> finished;
  for (int k = static_cast<int>(from / kCfsPeriod + 0.5) + 1;; ++k) {
    const double boundary = k * kCfsPeriod;
    const double stop = std::min(boundary, until);
    while (cpu.NextTime() <= stop) cpu.Step(finished);
    if (boundary > until + 1e-12) break;
    cpu.PeriodBoundary(boundary);
  }
  return finished;
}

TEST(CfsTest, DemandAboveQuotaIsThrottledEveryPeriodAndUsesExactlyTheQuota) {
  CpuModel cpu;
  const int node = cpu.AddNode(8);
  const uint32_t c = cpu.AddContainer(node, 0.5, 0);
  cpu.StartJob(c, 100, 1, 0);  // one thread that always wants CPU
  RunTo(cpu, 0, 10);
  const ContainerCounters k = cpu.Counters(c, 10);
  EXPECT_EQ(k.periods, 100u);
  EXPECT_EQ(k.throttled_periods, 100u);   // throttled ratio 1
  EXPECT_NEAR(k.usage_seconds, 5, 1e-9);  // 0.5 core for 10 s
  // Each period: 50 ms of CPU, then throttled for the remaining 50 ms on one run queue.
  EXPECT_NEAR(k.throttled_seconds, 5, 1e-9);
  EXPECT_NEAR(k.run_delay_seconds, 0, 1e-9);
}

TEST(CfsTest, DemandBelowQuotaIsNeverThrottled) {
  CpuModel cpu;
  const int node = cpu.AddNode(8);
  const uint32_t c = cpu.AddContainer(node, 2, 0);
  cpu.StartJob(c, 100, 1, 0);  // 1 core of demand under a 2-core limit
  RunTo(cpu, 0, 10);
  const ContainerCounters k = cpu.Counters(c, 10);
  EXPECT_EQ(k.periods, 100u);
  EXPECT_EQ(k.throttled_periods, 0u);
  EXPECT_NEAR(k.usage_seconds, 10, 1e-9);
  EXPECT_EQ(k.throttled_seconds, 0);
}

TEST(CfsTest, ParallelThreadsBurnTheQuotaEarlyAndThrottleOnEachRunQueue) {
  CpuModel cpu;
  const int node = cpu.AddNode(8);
  const uint32_t c = cpu.AddContainer(node, 1, 0);
  for (CpuModel::Token t = 0; t < 4; ++t) cpu.StartJob(c, 100, t, 0);
  RunTo(cpu, 0, 1);
  const ContainerCounters k = cpu.Counters(c, 1);
  // 4 threads at full speed use the 100 ms quota in 25 ms, then 4 run queues wait 75 ms.
  EXPECT_EQ(k.throttled_periods, 10u);
  EXPECT_NEAR(k.usage_seconds, 1, 1e-9);
  EXPECT_NEAR(k.throttled_seconds, 10 * 4 * 0.075, 1e-9);
}

TEST(CfsTest, JobFinishesLaterWhenThrottled) {
  CpuModel cpu;
  const int node = cpu.AddNode(4);
  const uint32_t c = cpu.AddContainer(node, 0.2, 0);
  cpu.StartJob(c, 0.05, 9, 0);  // 50 ms of work at 20 ms per 100 ms period
  std::vector<CpuModel::Token> finished;
  double t = 0;
  for (int k = 1; finished.empty(); ++k) {
    while (cpu.NextTime() <= k * kCfsPeriod && finished.empty()) t = cpu.Step(finished);
    if (finished.empty()) cpu.PeriodBoundary(k * kCfsPeriod);
  }
  EXPECT_NEAR(t, 0.21, 1e-9);  // 20 ms in each of the first two periods, 10 ms into the third
  EXPECT_EQ(cpu.Counters(c, t).throttled_periods, 2u);
}

TEST(CfsTest, RaisingTheLimitMidPeriodUnthrottles) {
  CpuModel cpu;
  const int node = cpu.AddNode(4);
  const uint32_t c = cpu.AddContainer(node, 0.1, 0);
  cpu.StartJob(c, 100, 1, 0);
  std::vector<CpuModel::Token> finished;
  while (cpu.NextTime() <= 0.05) cpu.Step(finished);  // throttled at 10 ms
  EXPECT_TRUE(cpu.Throttled(c));
  cpu.SetLimit(c, 1, 0.05);
  EXPECT_FALSE(cpu.Throttled(c));
  RunTo(cpu, 0.05, 0.1);
  EXPECT_NEAR(cpu.Counters(c, 0.1).usage_seconds, 0.01 + 0.05, 1e-9);
  EXPECT_EQ(cpu.Counters(c, 0.1).throttled_periods, 0u);
}

TEST(CfsTest, IdleContainerCountsNoPeriods) {
  CpuModel cpu;
  const int node = cpu.AddNode(4);
  const uint32_t c = cpu.AddContainer(node, 1, 0);
  RunTo(cpu, 0, 1);
  EXPECT_EQ(cpu.Counters(c, 1).periods, 0u);
}

TEST(CfsTest, RunQueueWaitOnlyWhenRunnableThreadsExceedCores) {
  CpuModel cpu;
  const int node = cpu.AddNode(2);
  const uint32_t a = cpu.AddContainer(node, 0, 0);
  const uint32_t b = cpu.AddContainer(node, 0, 0);
  cpu.StartJob(a, 100, 1, 0);
  cpu.StartJob(b, 100, 2, 0);
  RunTo(cpu, 0, 1);
  // Two threads on two cores: each runs all the time, nobody waits.
  EXPECT_EQ(cpu.Counters(a, 1).run_delay_seconds, 0);
  EXPECT_EQ(cpu.Counters(b, 1).run_delay_seconds, 0);
  EXPECT_NEAR(cpu.Counters(a, 1).usage_seconds, 1, 1e-9);

  cpu.StartJob(b, 100, 3, 1);  // a third runnable thread on two cores
  RunTo(cpu, 1, 4);
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
  RunTo(cpu, 0, 2);
  EXPECT_NEAR(cpu.Counters(c, 2).usage_seconds, 1, 1e-9);
  EXPECT_NEAR(cpu.Counters(c, 2).run_delay_seconds, 1, 1e-9);
  EXPECT_GT(cpu.Counters(c, 2).pressure_some_seconds, 1.99);
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

}  // namespace
}  // namespace sim
