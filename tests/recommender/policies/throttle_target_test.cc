#include "recommender/policies/throttle_target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "common/clock.h"
#include "tests/recommender/policies/term.h"

namespace recommender::policies {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::DoubleNear;
using ::testing::Pointwise;

// Drives a Captain with 100 ms ticks from a FakeClock: each tick adds `cores`·0.1 s of usage and
// one throttled period when `throttled` is true.
class CaptainDriver {
 public:
  explicit CaptainDriver(double target, CaptainOptions options = {})
      : target_(target), options_(options), state_(MakeCaptainState(options)) {
    CaptainStep(state_, Sample(), target_, options_);
  }

  CaptainDecision Tick(double cores, bool throttled) {
    clock_.Advance(milliseconds{100});
    usage_ += cores * 0.1;
    if (throttled) throttled_ += 1;
    return CaptainStep(state_, Sample(), target_, options_);
  }

  // Ten ticks (one decision); the first `throttled_ticks` are throttled.
  CaptainDecision Second(double cores, int throttled_ticks = 0) {
    CaptainDecision d;
    for (int i = 0; i < 10; ++i) d = Tick(cores, i < throttled_ticks);
    return d;
  }

  CaptainState& state() { return state_; }

 private:
  CaptainSample Sample() const { return {clock_.Now(), usage_, throttled_}; }

  double target_;
  CaptainOptions options_;
  CaptainState state_;
  common::FakeClock clock_;
  double usage_ = 0;
  double throttled_ = 0;
};

TEST(CaptainTest, ScaleUpMultipliesByOnePlusExcessOverThreeTargets) {
  CaptainDriver captain(0.02);
  const CaptainDecision d = captain.Second(1.0, /*throttled_ticks=*/5);
  ASSERT_TRUE(d.decided);
  EXPECT_EQ(d.action, CaptainAction::kScaleUp);
  EXPECT_DOUBLE_EQ(d.throttled_ratio, 0.5);
  EXPECT_DOUBLE_EQ(d.limit, 32 * (1 + (0.5 - 3 * 0.02)));
  EXPECT_DOUBLE_EQ(d.margin, 3 + (0.5 - 0.02));
}

TEST(CaptainTest, DecidesOnlyOncePerSecond) {
  CaptainDriver captain(0.02);
  for (int i = 0; i < 9; ++i) {
    const CaptainDecision d = captain.Tick(1.0, true);
    EXPECT_FALSE(d.decided) << i;
    EXPECT_DOUBLE_EQ(d.limit, 32);
  }
  EXPECT_TRUE(captain.Tick(1.0, true).decided);
}

TEST(CaptainTest, ZeroTargetScalesUpOnAnyThrottling) {
  CaptainDriver captain(0.0);
  const CaptainDecision d = captain.Second(1.0, 1);
  EXPECT_EQ(d.action, CaptainAction::kScaleUp);
  EXPECT_DOUBLE_EQ(d.limit, 32 * 1.1);
}

TEST(CaptainTest, ScaleDownAtMostHalvesPerSecond) {
  CaptainDriver captain(0.02);
  std::vector<double> limits;
  for (int s = 0; s < 6; ++s) limits.push_back(captain.Second(1.0).limit);
  // Usage is a steady 1 core (σ = 0): 32 → 16 → 8 → 4 → 2 → 1, then 1 > 0.9·1 holds.
  EXPECT_THAT(limits, Pointwise(DoubleNear(1e-9), std::vector<double>{16, 8, 4, 2, 1, 1}));
}

TEST(CaptainTest, ScaleDownStopsAtPeakPlusMarginSigma) {
  CaptainDriver captain(0.02, {.initial_limit_cores = 4});
  CaptainDecision d;
  for (int i = 0; i < 10; ++i) d = captain.Tick(i % 2 == 0 ? 1.0 : 2.0, false);
  ASSERT_TRUE(d.decided);
  const double stdev = std::sqrt(10 * 0.25 / 9);  // sample stdev of five 1s and five 2s
  const double margin = 3 - 0.02;
  EXPECT_NEAR(d.usage_max, 2, 1e-9);
  EXPECT_NEAR(d.usage_stdev, stdev, 1e-9);
  EXPECT_NEAR(d.usage_limit, 2 + stdev * margin, 1e-9);
  EXPECT_EQ(d.action, CaptainAction::kScaleDown);
  EXPECT_NEAR(d.limit, 2 + stdev * margin, 1e-9);  // above ½·4, so the usage bound wins
}

TEST(CaptainTest, HoldsWhenUsageBoundAboveNinetyPercentOfLimit) {
  CaptainDriver captain(0.02, {.initial_limit_cores = 1.05});
  const CaptainDecision d = captain.Second(1.0);
  EXPECT_EQ(d.action, CaptainAction::kHold);
  EXPECT_DOUBLE_EQ(d.limit, 1.05);
}

TEST(CaptainTest, FastRollbackUndoesScaleDownOnTheTickAndGrowsMargin) {
  CaptainDriver captain(0.02);
  ASSERT_DOUBLE_EQ(captain.Second(1.0).limit, 16);    // scale-down from 32
  const CaptainDecision d = captain.Tick(1.0, true);  // r = 0.1 > 0.06
  EXPECT_FALSE(d.decided);
  EXPECT_EQ(d.action, CaptainAction::kRollback);
  EXPECT_DOUBLE_EQ(d.limit, 2 * 32 - 16);
  EXPECT_DOUBLE_EQ(d.margin, (3 - 0.02) + (0.1 - 0.02));
  // The throttle ring was zeroed and the rollback is not repeated.
  const CaptainDecision next = captain.Tick(1.0, false);
  EXPECT_EQ(next.action, CaptainAction::kHold);
  EXPECT_DOUBLE_EQ(next.throttled_ratio, 0);
  EXPECT_DOUBLE_EQ(next.limit, 48);
}

TEST(CaptainTest, NoRollbackAfterScaleUp) {
  CaptainDriver captain(0.02);
  captain.Second(1.0, 5);  // scale-up
  const CaptainDecision d = captain.Tick(1.0, true);
  EXPECT_EQ(d.action, CaptainAction::kHold);
}

TEST(CaptainTest, MarginIntegratesThrottleErrorAndNeverGoesNegative) {
  CaptainDriver captain(0.1, {.initial_limit_cores = 100});
  // r = 0.2 is above the target but not above 3·target: no scale-up, margin grows by 0.1.
  EXPECT_NEAR(captain.Second(1.0, 2).margin, 3.1, 1e-12);
  EXPECT_NEAR(captain.Second(1.0, 0).margin, 3.0, 1e-12);
  double margin = 0;
  for (int s = 0; s < 40; ++s) margin = captain.Second(1.0, 0).margin;
  EXPECT_DOUBLE_EQ(margin, 0);
}

TEST(CaptainTest, LimitFloorIsOneHundredthOfACore) {
  CaptainDriver captain(0.02);
  CaptainDecision d;
  for (int s = 0; s < 20; ++s) d = captain.Second(0.0);
  EXPECT_DOUBLE_EQ(d.limit, 0.01);
}

TEST(CaptainTest, CounterResetCountsAsNoThrottling) {
  CaptainState state = MakeCaptainState();
  const common::TimePoint t0{seconds{100}};
  CaptainStep(state, {t0, 50, 500}, 0.0);
  CaptainStep(state, {t0 + milliseconds{100}, 0.05, 3}, 0.0);  // restarted container
  EXPECT_DOUBLE_EQ(state.throttled[0], 0);
  EXPECT_EQ(state.usage_count, 0);
}

model::WorkloadSignals FallbackSignals() {
  model::WorkloadSignals s;
  s.current_replicas = 2;
  s.cpu_limit_cores = 2;
  s.throttled_ratio = 0;
  s.cpu_usage_history = {1, 1, 1, 1, 1};
  s.cpu_usage_sample_interval = seconds{1};
  return s;
}

TEST(ThrottleTargetPolicyTest, UsesTheExportersCaptainWhenPresent) {
  model::WorkloadSignals s = FallbackSignals();
  s.node_recommended_cpu_cores = 0.75;
  ThrottleTargetMemory memory;
  const Proposal p = EvaluateThrottleTarget(s, WorkloadConfig{}, 0.04, memory, {}, {});
  ASSERT_TRUE(p.cpu_cores);
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 0.75);
  EXPECT_DOUBLE_EQ(TermOf(p, "target"), 0.04);
  EXPECT_DOUBLE_EQ(TermOf(p, "node_recommended_cpu_cores"), 0.75);
}

TEST(ThrottleTargetPolicyTest, FallbackScalesUpFromTheMeasuredLimit) {
  model::WorkloadSignals s = FallbackSignals();
  s.throttled_ratio = 0.5;
  ThrottleTargetMemory memory;
  const Proposal p =
      EvaluateThrottleTarget(s, WorkloadConfig{}, 0.02, memory, common::TimePoint{seconds{10}});
  ASSERT_TRUE(p.cpu_cores);
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 2 * (1 + (0.5 - 0.06)));
  EXPECT_DOUBLE_EQ(TermOf(p, "action"), static_cast<double>(CaptainAction::kScaleUp));
  EXPECT_DOUBLE_EQ(memory.margin, 3 + 0.48);
}

TEST(ThrottleTargetPolicyTest, FallbackScalesDownThenRollsBack) {
  model::WorkloadSignals s = FallbackSignals();
  ThrottleTargetMemory memory;
  const common::TimePoint t0{seconds{10}};
  const Proposal down = EvaluateThrottleTarget(s, WorkloadConfig{}, 0.02, memory, t0);
  ASSERT_TRUE(down.cpu_cores);
  EXPECT_DOUBLE_EQ(*down.cpu_cores, 1);  // max(½·2, 1 + 0·margin)
  EXPECT_TRUE(memory.last_scale_down);

  s.cpu_limit_cores = 1;  // the recommendation was applied, now throttled
  s.throttled_ratio = 0.5;
  const Proposal back = EvaluateThrottleTarget(s, WorkloadConfig{}, 0.02, memory, t0 + seconds{1});
  ASSERT_TRUE(back.cpu_cores);
  EXPECT_DOUBLE_EQ(*back.cpu_cores, 2 * 2 - 1);
  EXPECT_DOUBLE_EQ(TermOf(back, "action"), static_cast<double>(CaptainAction::kRollback));
  EXPECT_DOUBLE_EQ(memory.margin, (3 - 0.02) + (0.5 - 0.02));
}

TEST(ThrottleTargetPolicyTest, FallbackStartsFromMaxCpuWhenUnlimited) {
  model::WorkloadSignals s = FallbackSignals();
  s.cpu_limit_cores = model::kMissing;
  WorkloadConfig config;
  config.max_cpu_cores = 8;
  ThrottleTargetMemory memory;
  const Proposal p = EvaluateThrottleTarget(s, config, 0.02, memory, common::TimePoint{seconds{1}});
  EXPECT_DOUBLE_EQ(TermOf(p, "limit_in_cores"), 8);
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 4);
}

TEST(ThrottleTargetPolicyTest, FallbackRepeatsBetweenDecisions) {
  model::WorkloadSignals s = FallbackSignals();
  s.cpu_limit_cores = model::kMissing;
  ThrottleTargetMemory memory;
  const common::TimePoint t0{seconds{1}};
  const double first = *EvaluateThrottleTarget(s, WorkloadConfig{}, 0.02, memory, t0).cpu_cores;
  const Proposal again =
      EvaluateThrottleTarget(s, WorkloadConfig{}, 0.02, memory, t0 + milliseconds{500});
  EXPECT_DOUBLE_EQ(*again.cpu_cores, first);
}

TEST(ThrottleTargetPolicyTest, NoProposalWithoutThrottleRatio) {
  model::WorkloadSignals s = FallbackSignals();
  s.throttled_ratio = model::kMissing;
  ThrottleTargetMemory memory;
  const Proposal p = EvaluateThrottleTarget(s, WorkloadConfig{}, 0.02, memory, {});
  EXPECT_FALSE(p.cpu_cores);
  EXPECT_FALSE(p.reason.empty());
}

}  // namespace
}  // namespace recommender::policies
