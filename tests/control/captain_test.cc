#include "control/captain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <vector>

#include "common/clock.h"
#include "tests/support/fake_clock.h"

namespace control {
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

}  // namespace
}  // namespace control
