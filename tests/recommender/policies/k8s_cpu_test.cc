#include "recommender/policies/k8s_cpu.h"

#include <gtest/gtest.h>

#include <vector>

#include "common/clock.h"
#include "tests/recommender/policies/term.h"
#include "tests/support/fake_clock.h"

namespace recommender::policies {
namespace {

using std::chrono::seconds;

model::WorkloadSignals Usage(std::vector<double> per_pod_history) {
  model::WorkloadSignals s;
  s.cpu_usage_history = std::move(per_pod_history);
  s.cpu_usage_sample_interval = seconds{1};
  return s;
}

TEST(K8sCpuTest, LimitIsUsageOverTargetAveragedOverThePeriod) {
  K8sCpuMemory memory;
  std::vector<double> history(30, 9.0);  // older than the 15 s period: ignored
  history.insert(history.end(), 15, 0.4);
  const Proposal p =
      EvaluateK8sCpu("k8s_cpu", Usage(history), memory, {}, K8sCpuOptions::Standard());
  ASSERT_TRUE(p.cpu_cores);
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 0.8);  // 0.4 / 0.5
  EXPECT_DOUBLE_EQ(TermOf(p, "usage_cores"), 0.4);
  EXPECT_DOUBLE_EQ(TermOf(p, "window_count"), 1);
}

TEST(K8sCpuTest, KeepsTheMaxOfTheLastWindowOverPeriodRecommendations) {
  K8sCpuMemory memory;
  common::FakeClock clock;
  const K8sCpuOptions options = K8sCpuOptions::Standard();
  EXPECT_DOUBLE_EQ(*EvaluateK8sCpu("k8s_cpu", Usage({1.0}), memory, clock.Now(), options).cpu_cores,
                   2.0);
  // Usage drops; the 2.0 stays for 20 periods (300 s / 15 s) including its own.
  for (int i = 1; i < 20; ++i) {
    clock.Advance(seconds{15});
    const Proposal p = EvaluateK8sCpu("k8s_cpu", Usage({0.25}), memory, clock.Now(), options);
    EXPECT_DOUBLE_EQ(*p.cpu_cores, 2.0) << i;
    EXPECT_DOUBLE_EQ(TermOf(p, "recommendation_cores"), 0.5);
  }
  clock.Advance(seconds{15});
  const Proposal p = EvaluateK8sCpu("k8s_cpu", Usage({0.25}), memory, clock.Now(), options);
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 0.5);
  EXPECT_DOUBLE_EQ(TermOf(p, "window_count"), 20);
}

TEST(K8sCpuTest, RepeatsBetweenPeriods) {
  K8sCpuMemory memory;
  common::FakeClock clock;
  EvaluateK8sCpu("k8s_cpu", Usage({1.0}), memory, clock.Now(), K8sCpuOptions::Standard());
  clock.Advance(seconds{14});
  const Proposal p =
      EvaluateK8sCpu("k8s_cpu", Usage({3.0}), memory, clock.Now(), K8sCpuOptions::Standard());
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 2.0);
  EXPECT_EQ(memory.recommendations.size(), 1u);
}

TEST(K8sCpuTest, FastVariantHasOneSecondPeriodAndTwentySecondWindow) {
  K8sCpuMemory memory;
  common::FakeClock clock;
  const K8sCpuOptions fast = K8sCpuOptions::Fast();
  EvaluateK8sCpu("k8s_cpu_fast", Usage({1.0}), memory, clock.Now(), fast);
  Proposal p;
  for (int i = 0; i < 20; ++i) {
    clock.Advance(seconds{1});
    p = EvaluateK8sCpu("k8s_cpu_fast", Usage({1.0, 0.1}), memory, clock.Now(), fast);
  }
  EXPECT_EQ(p.policy, "k8s_cpu_fast");
  EXPECT_DOUBLE_EQ(TermOf(p, "usage_cores"), 0.1);  // only the last 1 s sample
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 0.2);
}

TEST(K8sCpuTest, FallsBackToTotalUsagePerReplica) {
  K8sCpuMemory memory;
  model::WorkloadSignals s;
  s.cpu_usage_cores = 3;
  s.current_replicas = 2;
  EXPECT_DOUBLE_EQ(*EvaluateK8sCpu("k8s_cpu", s, memory, {}, K8sCpuOptions::Standard()).cpu_cores,
                   3.0);
}

TEST(K8sCpuTest, NoProposalBeforeAnyUsage) {
  K8sCpuMemory memory;
  EXPECT_FALSE(
      EvaluateK8sCpu("k8s_cpu", model::WorkloadSignals{}, memory, {}, K8sCpuOptions::Standard())
          .cpu_cores);
}

}  // namespace
}  // namespace recommender::policies
