#include "recommender/policies/hpa_cpu.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "tests/recommender/policies/term.h"
#include "tests/support/fake_clock.h"

namespace recommender::policies {
namespace {

using std::chrono::seconds;

class HpaCpuTest : public ::testing::Test {
 protected:
  HpaCpuTest() { config_.max_replicas = 100; }

  // Current replicas with a 0.5-core request each and the usage giving `ratio` = util / 0.8.
  Proposal Eval(double replicas, double ratio) {
    model::WorkloadSignals s;
    s.current_replicas = replicas;
    s.cpu_request_cores = 0.5;
    s.cpu_usage_cores = ratio * 0.8 * replicas * 0.5;
    return EvaluateHpaCpu(s, config_, memory_, clock_.Now(), options_);
  }

  WorkloadConfig config_;
  HpaCpuMemory memory_;
  HpaCpuOptions options_;
  common::FakeClock clock_;
};

TEST_F(HpaCpuTest, KeepsReplicasWithinTolerance) {
  const Proposal p = Eval(4, 1.05);
  EXPECT_EQ(p.replicas, 4);
  EXPECT_NEAR(TermOf(p, "usage_ratio"), 1.05, 1e-12);
  EXPECT_NEAR(TermOf(p, "utilization"), 0.84, 1e-12);
  EXPECT_DOUBLE_EQ(TermOf(p, "raw_replicas"), 4);
  clock_.Advance(seconds{15});
  EXPECT_EQ(Eval(4, 0.91).replicas, 4);
}

TEST_F(HpaCpuTest, OutsideToleranceScalesByTheRatio) {
  EXPECT_EQ(Eval(4, 1.2).replicas, 5);  // ceil(4 · 1.2)
}

TEST_F(HpaCpuTest, UsesReadyPodsForTheRatio) {
  model::WorkloadSignals s;
  s.current_replicas = 4;
  s.ready_replicas = 2;
  s.cpu_request_cores = 0.5;
  s.cpu_usage_cores = 2 * 0.8 * 4 * 0.5;                                               // ratio 2
  EXPECT_EQ(EvaluateHpaCpu(s, config_, memory_, clock_.Now(), options_).replicas, 4);  // ceil(2·2)
}

TEST_F(HpaCpuTest, RepeatsBetweenSyncs) {
  EXPECT_EQ(Eval(4, 2).replicas, 8);
  clock_.Advance(seconds{5});
  const Proposal between = Eval(8, 0.25);
  EXPECT_EQ(between.replicas, 8);
  EXPECT_DOUBLE_EQ(TermOf(between, "raw_replicas"), 8);
  clock_.Advance(seconds{10});
  EXPECT_LT(*Eval(8, 1.5).replicas, 16);  // a new sync: rate limited from 8
}

TEST_F(HpaCpuTest, ScaleDownWaitsForTheStabilisationWindow) {
  EXPECT_EQ(Eval(4, 2).replicas, 8);
  // Load halves: raw = 4 every sync, but 8 stays the window max until it is 300 s old.
  for (int i = 1; i < 20; ++i) {
    clock_.Advance(seconds{15});
    const Proposal p = Eval(8, 0.5);
    EXPECT_DOUBLE_EQ(TermOf(p, "raw_replicas"), 4);
    EXPECT_EQ(p.replicas, 8) << "sync " << i;
  }
  clock_.Advance(seconds{15});
  EXPECT_EQ(Eval(8, 0.5).replicas, 4);
}

TEST_F(HpaCpuTest, ScaleUpIsRateLimitedPerPeriod) {
  // From 2 pods: max(2 · 200 %, 2 + 4) = 6.
  const Proposal p = Eval(2, 10);
  EXPECT_EQ(p.replicas, 6);
  EXPECT_DOUBLE_EQ(TermOf(p, "scale_up_limit"), 6);
  EXPECT_DOUBLE_EQ(TermOf(p, "raw_replicas"), 20);
  // 5 s later, still inside the 15 s period that started at 2 pods: no further growth.
  options_.sync_period = seconds{5};
  clock_.Advance(seconds{5});
  EXPECT_EQ(Eval(6, 10).replicas, 6);
  // A new period starts from 6: max(12, 10) = 12.
  clock_.Advance(seconds{10});
  EXPECT_EQ(Eval(6, 10).replicas, 12);
}

TEST_F(HpaCpuTest, LargeFleetsGrowByOneHundredPercent) {
  EXPECT_EQ(Eval(10, 10).replicas, 20);  // max(20, 14)
}

TEST_F(HpaCpuTest, ClampsToMinAndMaxReplicas) {
  config_.max_replicas = 5;
  EXPECT_EQ(Eval(4, 3).replicas, 5);
  HpaCpuMemory fresh;
  memory_ = fresh;
  config_.min_replicas = 3;
  EXPECT_EQ(Eval(4, 0.1).replicas, 3);
}

TEST_F(HpaCpuTest, NoProposalWithoutRequest) {
  model::WorkloadSignals s;
  s.current_replicas = 2;
  s.cpu_usage_cores = 1;
  EXPECT_FALSE(EvaluateHpaCpu(s, config_, memory_, clock_.Now(), options_).replicas);
}

}  // namespace
}  // namespace recommender::policies
