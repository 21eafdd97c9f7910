#include "recommender/policies/showar.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/clock.h"
#include "tests/recommender/policies/term.h"
#include "tests/support/fake_clock.h"

namespace recommender::policies {
namespace {

using std::chrono::seconds;

// The run-queue target the PID tests start from: a learned uncongested wait of 1 ms, σ = 0.
constexpr double kTarget = 0.001;

model::WorkloadSignals RunqSignals(double runq, double replicas) {
  model::WorkloadSignals s;
  s.runqueue_wait_per_timeslice_seconds = runq;
  s.current_replicas = replicas;
  return s;
}

ShowarMemory Learned(double mean) {
  ShowarMemory m;
  m.baseline_learned = true;
  m.baseline_mean = mean;
  return m;
}

// Signals of pods at `utilization` of a 1-core limit.
model::WorkloadSignals Loaded(double runq, double replicas, double utilization) {
  model::WorkloadSignals s = RunqSignals(runq, replicas);
  s.cpu_limit_cores = 1;
  s.cpu_usage_cores = utilization * replicas;
  s.throttled_ratio = 0;
  return s;
}

class ShowarTest : public ::testing::Test {
 protected:
  Proposal Eval(const model::WorkloadSignals& s) {
    return EvaluateShowar(s, config_, memory_, clock_.Now(), options_);
  }

  ShowarMemory memory_ = Learned(kTarget);

  WorkloadConfig config_;
  ShowarOptions options_;
  common::FakeClock clock_;
};

TEST_F(ShowarTest, ScalesUpByBetaTimesReplicasAboveTheBand) {
  const Proposal p = Eval(RunqSignals(2 * kTarget, 2));
  EXPECT_EQ(p.replicas, 4);  // ceil(2 + max(1, 1·2))
  EXPECT_DOUBLE_EQ(TermOf(p, "pid_output"), 10 * kTarget);
  EXPECT_DOUBLE_EQ(TermOf(p, "runqueue_signal"), 1);
  EXPECT_DOUBLE_EQ(TermOf(p, "derivative"), 0);
}

TEST_F(ShowarTest, HoldsInsideTheHysteresisBand) {
  // |y| = 10·0.4 % of the target = 4e-5 < α/2·target = 5e-5.
  EXPECT_EQ(Eval(RunqSignals(1.004 * kTarget, 3)).replicas, 3);
  clock_.Advance(seconds{3});
  EXPECT_EQ(Eval(RunqSignals(1.004 * kTarget, 3)).replicas, 3);
  memory_ = Learned(kTarget);
  EXPECT_EQ(Eval(RunqSignals(0.996 * kTarget, 3)).replicas, 3);
}

TEST_F(ShowarTest, ScalesDownBelowTheBand) {
  EXPECT_EQ(Eval(RunqSignals(0.99 * kTarget, 4)).replicas, 1);  // β = 1: max(1, ceil(4 − 4))
  options_.beta = 0.5;
  memory_ = Learned(kTarget);
  EXPECT_EQ(Eval(RunqSignals(0.99 * kTarget, 4)).replicas, 2);  // ceil(4 − 2)
}

TEST_F(ShowarTest, DerivativeActsOnTheChangeOfTheMeasurement) {
  EXPECT_EQ(Eval(RunqSignals(0.9 * kTarget, 3)).replicas, 1);
  clock_.Advance(seconds{1});
  // At the target (e = 0), but rising by 0.1 ms/s: y = 10·1e-4 > band.
  const Proposal p = Eval(RunqSignals(kTarget, 3));
  EXPECT_NEAR(TermOf(p, "derivative"), 1e-4, 1e-12);
  EXPECT_EQ(p.replicas, 6);
}

TEST_F(ShowarTest, NoScaleDownWithinCooldownOfAScaleUp) {
  EXPECT_EQ(Eval(RunqSignals(2 * kTarget, 2)).replicas, 4);
  clock_.Advance(seconds{60});
  memory_.has_previous = false;  // isolate the proportional term
  const Proposal held = Eval(RunqSignals(0.5 * kTarget, 4));
  EXPECT_EQ(held.replicas, 4);
  EXPECT_DOUBLE_EQ(TermOf(held, "cooldown_hold"), 1);
  clock_.Advance(seconds{241});
  memory_.has_previous = false;
  EXPECT_EQ(Eval(RunqSignals(0.5 * kTarget, 4)).replicas, 1);
}

TEST_F(ShowarTest, LearnsTheTargetFromUncongestedWait) {
  memory_ = ShowarMemory{};
  Proposal p = Eval(Loaded(2e-4, 2, 0.1));
  EXPECT_DOUBLE_EQ(TermOf(p, "uncongested"), 1);
  EXPECT_DOUBLE_EQ(TermOf(p, "target"), 2e-4);  // the first observation, σ = 0
  clock_.Advance(seconds{60});
  p = Eval(Loaded(4e-4, 2, 0.3));
  const double a = 1 - std::exp(-60.0 / 300);
  const double mean = 2e-4 + a * 2e-4;
  const double stdev = std::sqrt((1 - a) * a * 2e-4 * 2e-4);
  EXPECT_NEAR(TermOf(p, "baseline_mean_seconds"), mean, 1e-15);
  EXPECT_NEAR(TermOf(p, "baseline_stdev_seconds"), stdev, 1e-15);
  EXPECT_NEAR(TermOf(p, "target"), mean + 3 * stdev, 1e-15);
  // Busy or throttled pods do not move the baseline.
  clock_.Advance(seconds{60});
  p = Eval(Loaded(5e-3, 2, 0.9));
  EXPECT_DOUBLE_EQ(TermOf(p, "uncongested"), 0);
  EXPECT_NEAR(TermOf(p, "baseline_mean_seconds"), mean, 1e-15);
  model::WorkloadSignals throttled = Loaded(5e-3, 2, 0.1);
  throttled.throttled_ratio = 0.2;
  EXPECT_DOUBLE_EQ(TermOf(Eval(throttled), "uncongested"), 0);
}

TEST_F(ShowarTest, WithoutABaselineTheRunQueueIsNotUsed) {
  memory_ = ShowarMemory{};
  config_.slo_p99_seconds = 0.2;
  model::WorkloadSignals s = Loaded(5e-3, 2, 0.9);  // busy: nothing learned
  s.p95_latency_seconds = 0.1;
  const Proposal p = Eval(s);
  EXPECT_DOUBLE_EQ(TermOf(p, "runqueue_signal"), 0);
  EXPECT_DOUBLE_EQ(TermOf(p, "target"), 0.2);
}

TEST_F(ShowarTest, ZeroRunQueueWaitHoldsInsteadOfScalingDown) {
  // y = 10·(0 − 1 ms) is far below the band, yet no wait means no contention: hold.
  const Proposal p = Eval(Loaded(0, 4, 0.9));
  EXPECT_EQ(p.replicas, 4);
  EXPECT_DOUBLE_EQ(TermOf(p, "zero_signal_hold"), 1);
  EXPECT_LT(TermOf(p, "pid_output"), -TermOf(p, "band"));
  // A wait below the band does scale down, by the hysteresis rule.
  clock_.Advance(seconds{3});
  memory_.has_previous = false;
  EXPECT_EQ(Eval(Loaded(0.5 * kTarget, 4, 0.9)).replicas, 1);
}

TEST_F(ShowarTest, AZeroBaselineTreatsAnyWaitAsContention) {
  memory_ = ShowarMemory{};
  EXPECT_EQ(Eval(Loaded(0, 2, 0.1)).replicas, 2);  // learns 0 and holds
  clock_.Advance(seconds{3});
  EXPECT_EQ(Eval(Loaded(1e-6, 2, 0.9)).replicas, 4);
}

TEST_F(ShowarTest, FallsBackToP95AgainstTheSlo) {
  config_.slo_p99_seconds = 0.2;
  model::WorkloadSignals s = RunqSignals(model::kMissing, 2);
  s.p95_latency_seconds = 0.3;
  const Proposal p = Eval(s);
  EXPECT_EQ(p.replicas, 4);
  EXPECT_DOUBLE_EQ(TermOf(p, "runqueue_signal"), 0);
  EXPECT_DOUBLE_EQ(TermOf(p, "target"), 0.2);
}

TEST_F(ShowarTest, NoReplicasWithoutASignal) {
  const Proposal p = Eval(RunqSignals(model::kMissing, 2));
  EXPECT_FALSE(p.replicas);
  EXPECT_FALSE(p.cpu_cores);
}

model::WorkloadSignals UsageSignals(std::vector<double> history) {
  model::WorkloadSignals s = RunqSignals(kTarget, 2);  // horizontal holds
  s.cpu_usage_history = std::move(history);
  s.cpu_usage_sample_interval = seconds{1};
  return s;
}

TEST_F(ShowarTest, SizesCpuAtMeanPlusThreeSigma) {
  const Proposal p = Eval(UsageSignals({0.1, 0.3, 0.1, 0.3}));
  EXPECT_NEAR(TermOf(p, "mean_cores"), 0.2, 1e-12);
  EXPECT_NEAR(TermOf(p, "stdev_cores"), 0.1, 1e-12);  // population σ
  EXPECT_NEAR(TermOf(p, "size_cores"), 0.5, 1e-12);
  ASSERT_TRUE(p.cpu_cores);
  EXPECT_NEAR(*p.cpu_cores, 1.0, 1e-12);  // limit = 2 × size
}

TEST_F(ShowarTest, CpuChangesOnlyOutsideTheBand) {
  EXPECT_DOUBLE_EQ(TermOf(Eval(UsageSignals({0.2})), "size_cores"), 0.2);
  const Proposal kept = Eval(UsageSignals({0.22}));  // ≤ 1.15·0.2
  EXPECT_DOUBLE_EQ(TermOf(kept, "size_cores"), 0.2);
  EXPECT_DOUBLE_EQ(TermOf(kept, "band_kept"), 1);
  EXPECT_DOUBLE_EQ(TermOf(Eval(UsageSignals({0.24})), "size_cores"), 0.24);
  EXPECT_DOUBLE_EQ(TermOf(Eval(UsageSignals({0.14})), "size_cores"), 0.24);  // ≥ 0.55·0.24
  EXPECT_DOUBLE_EQ(TermOf(Eval(UsageSignals({0.13})), "size_cores"), 0.13);
}

TEST_F(ShowarTest, CpuSizeHasAMinimum) {
  EXPECT_DOUBLE_EQ(TermOf(Eval(UsageSignals({0.01})), "size_cores"), 0.128);
}

TEST_F(ShowarTest, MoreThanOneCoreAddsAReplica) {
  const Proposal p = Eval(UsageSignals({1.5, 1.5}));
  EXPECT_EQ(p.replicas, 3);
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 2);
  EXPECT_DOUBLE_EQ(TermOf(p, "cpu_overflow_replica"), 1);
}

TEST_F(ShowarTest, UsesOnlyTheLastFiveMinutesOfUsage) {
  std::vector<double> history(600, 5.0);  // ten minutes at 1 s, old samples far larger
  for (size_t i = 300; i < 600; ++i) history[i] = 0.5;
  EXPECT_DOUBLE_EQ(TermOf(Eval(UsageSignals(history)), "size_cores"), 0.5);
}

}  // namespace
}  // namespace recommender::policies
