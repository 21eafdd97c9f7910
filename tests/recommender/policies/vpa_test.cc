#include "recommender/policies/vpa.h"

#include <gtest/gtest.h>

#include <chrono>

#include "common/clock.h"
#include "tests/recommender/policies/term.h"
#include "tests/support/fake_clock.h"

namespace recommender::policies {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const VpaOptions kOptions;

// Bucket starts by hand: 0.01·(1.05^i − 1)/0.05.
double Start(int i) { return 0.2 * (std::pow(1.05, i) - 1); }

TEST(VpaHistogramTest, ExponentialBuckets) {
  // ceil(log_1.05(1000·0.05/0.01 + 1)) + 1 = ceil(174.57) + 1.
  EXPECT_EQ(VpaBucketCount(kOptions), 176);
  EXPECT_EQ(VpaFindBucket(0.005, kOptions), 0);
  EXPECT_EQ(VpaFindBucket(0.01, kOptions), 1);
  EXPECT_EQ(VpaFindBucket(0.2, kOptions), 14);  // [0.19599, 0.21579)
  EXPECT_EQ(VpaFindBucket(2.0, kOptions), 49);
  EXPECT_EQ(VpaFindBucket(5000, kOptions), 175);
  EXPECT_DOUBLE_EQ(VpaBucketStart(0, kOptions), 0);
  EXPECT_DOUBLE_EQ(VpaBucketStart(1, kOptions), 0.01);
  EXPECT_NEAR(VpaBucketStart(14, kOptions), 0.19598631988787957, 1e-15);
  EXPECT_NEAR(VpaBucketStart(15, kOptions), 0.21578563588227356, 1e-15);
}

TEST(VpaHistogramTest, PercentileIsTheEndOfTheBucketReachingIt) {
  VpaMemory m;
  const common::TimePoint t{hours{24 * 20000}};
  VpaAddSample(m, 0.1, 4, t, kOptions);  // bucket 8
  VpaAddSample(m, 0.2, 4, t, kOptions);  // bucket 14
  VpaAddSample(m, 1.0, 2, t, kOptions);  // bucket 36
  EXPECT_EQ(VpaPercentile(m, 0.3, kOptions), VpaBucketStart(9, kOptions));
  EXPECT_NEAR(VpaPercentile(m, 0.3, kOptions), Start(9), 1e-12);
  // 0.4 of the weight below the median: it is in bucket 14.
  EXPECT_NEAR(VpaPercentile(m, 0.5, kOptions), Start(15), 1e-12);
  EXPECT_NEAR(VpaPercentile(m, 0.9, kOptions), Start(37), 1e-12);
  EXPECT_NEAR(VpaPercentile(m, 0.95, kOptions), Start(37), 1e-12);
  EXPECT_EQ(VpaPercentile(VpaMemory{}, 0.9, kOptions), 0);
}

TEST(VpaHistogramTest, NewerSamplesWeighDoubleAfterAHalfLife) {
  VpaMemory m;
  const common::TimePoint t{hours{24 * 20000}};
  VpaAddSample(m, 0.1, 1, t, kOptions);
  VpaAddSample(m, 1.0, 1, t + hours{24}, kOptions);
  // Weights 1 : 2, so the median (1.5 of 3) lies in the 1-core bucket; equal weights would
  // have put it in the 0.1-core bucket.
  EXPECT_NEAR(VpaPercentile(m, 0.5, kOptions), Start(37), 1e-12);
  EXPECT_NEAR(VpaPercentile(m, 0.3, kOptions), Start(9), 1e-12);
  EXPECT_NEAR(m.total_weight / m.weights[8], 3, 1e-12);
}

TEST(VpaHistogramTest, ReferenceMovesWithoutChangingPercentiles) {
  VpaMemory m;
  const common::TimePoint t{hours{24 * 20000}};
  VpaAddSample(m, 0.1, 1, t, kOptions);
  const common::TimePoint ref = m.reference;
  // 101 half-lives later the exponent would pass 100: the reference moves and old weights
  // shrink by 2^−101 rather than new ones growing.
  VpaAddSample(m, 1.0, 1, t + hours{24 * 101}, kOptions);
  EXPECT_GT(m.reference, ref);
  EXPECT_NEAR(VpaPercentile(m, 0.5, kOptions), Start(37), 1e-12);
  EXPECT_LT(m.total_weight, 1);
}

TEST(VpaHistogramTest, ConfidenceIsTheSmallerOfDaysAndSamplesPerDay) {
  VpaMemory m;
  const common::TimePoint t0{hours{24 * 20000}};
  for (int i = 0; i <= 60; ++i) VpaAddSample(m, 0.2, 1, t0 + minutes{i}, kOptions);
  EXPECT_NEAR(VpaConfidence(m), 60.0 / 1440, 1e-12);  // 61 samples, 60 minutes
  VpaMemory sparse;
  VpaAddSample(sparse, 0.2, 1, t0, kOptions);
  VpaAddSample(sparse, 0.2, 1, t0 + hours{24}, kOptions);
  EXPECT_NEAR(VpaConfidence(sparse), 2.0 / 1440, 1e-12);  // a day apart, but two samples
}

class VpaTest : public ::testing::Test {
 protected:
  VpaTest() {
    signals_.current_replicas = 1;
    signals_.cpu_usage_cores = 0.2;
    signals_.cpu_request_cores = 0.5;
    signals_.cpu_limit_cores = 1.0;  // limit : request = 2
    clock_.Advance(hours{24 * 20000});
  }

  Proposal Eval() { return EvaluateVpa(signals_, memory_, clock_.Now(), kOptions); }

  // Two hours of a steady 0.2 core, evaluated once a minute.
  Proposal TwoHours() {
    Proposal p;
    for (int i = 0; i <= 120; ++i) {
      p = Eval();
      if (i < 120) clock_.Advance(minutes{1});
    }
    return p;
  }

  model::WorkloadSignals signals_;
  VpaMemory memory_;
  common::FakeClock clock_;
};

TEST_F(VpaTest, TargetAndBoundsByHand) {
  const Proposal p = TwoHours();
  const double p90 = Start(15);   // every sample in bucket 14
  const double c = 120.0 / 1440;  // 2 h, fewer than 121 samples/1440
  EXPECT_NEAR(TermOf(p, "samples_total"), 121, 1e-12);
  EXPECT_NEAR(TermOf(p, "confidence"), c, 1e-12);
  EXPECT_NEAR(TermOf(p, "p90_cores"), p90, 1e-12);
  EXPECT_NEAR(TermOf(p, "target_cores"), p90 * 1.15, 1e-12);
  EXPECT_NEAR(TermOf(p, "lower_bound_cores"), p90 * 1.15 / std::pow(1 + 0.012, 2), 1e-12);
  EXPECT_NEAR(TermOf(p, "upper_bound_cores"), p90 * 1.15 * 13, 1e-12);
  EXPECT_NEAR(TermOf(p, "target_cores"), 0.24815348126, 1e-10);
}

TEST_F(VpaTest, InsideTheBoundsTheUpdaterLeavesThePodAlone) {
  const Proposal p = TwoHours();
  // Request 0.5 = 1.0 / 2 lies in [0.2423, 3.226]: the limit stays 1 core, not 2 × 0.248.
  EXPECT_DOUBLE_EQ(TermOf(p, "current_request_cores"), 0.5);
  EXPECT_DOUBLE_EQ(TermOf(p, "outside_bounds"), 0);
  ASSERT_TRUE(p.cpu_cores);
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 1.0);
}

TEST_F(VpaTest, OutsideTheBoundsTheRequestGoesToTheTargetAndTheLimitKeepsItsRatio) {
  TwoHours();
  signals_.cpu_limit_cores = 0.4;  // request 0.4 / 2 = 0.2 < lower bound 0.2423
  Proposal p = Eval();
  EXPECT_DOUBLE_EQ(TermOf(p, "outside_bounds"), 1);
  EXPECT_DOUBLE_EQ(TermOf(p, "limit_to_request"), 2);
  ASSERT_TRUE(p.cpu_cores);
  EXPECT_NEAR(*p.cpu_cores, 2 * Start(15) * 1.15, 1e-12);
  signals_.cpu_limit_cores = 8;  // request 4 > upper bound 3.226
  p = Eval();
  EXPECT_DOUBLE_EQ(TermOf(p, "outside_bounds"), 1);
  EXPECT_NEAR(*p.cpu_cores, 2 * Start(15) * 1.15, 1e-12);
}

TEST_F(VpaTest, OneSampleAMinutePerPod) {
  signals_.current_replicas = 3;
  for (int i = 0; i <= 120; ++i) {  // two minutes at 1 s
    Eval();
    if (i < 120) clock_.Advance(seconds{1});
  }
  EXPECT_DOUBLE_EQ(memory_.samples, 9);  // at 0, 60 and 120 s, three pods each
}

TEST_F(VpaTest, WithoutHistoryOnlyTheMinimumBoundsTheRequest) {
  // Confidence 0: lower bound = 25 m, upper bound unbounded.
  const Proposal p = Eval();
  EXPECT_DOUBLE_EQ(TermOf(p, "lower_bound_cores"), 0.025);
  EXPECT_TRUE(std::isinf(TermOf(p, "upper_bound_cores")));
  EXPECT_DOUBLE_EQ(*p.cpu_cores, 1.0);
}

TEST_F(VpaTest, NoUsageNoProposal) {
  signals_.cpu_usage_cores = model::kMissing;
  const Proposal p = Eval();
  EXPECT_FALSE(p.cpu_cores);
  EXPECT_FALSE(p.replicas);
}

}  // namespace
}  // namespace recommender::policies
