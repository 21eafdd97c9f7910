#include "recommender/output/keda_scaler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/recommender/output/snapshot_fixture.h"
#include "tests/support/fake_clock.h"

namespace recommender::output {
namespace {

using ::testing::HasSubstr;
using Metadata = std::map<std::string, std::string, std::less<>>;
using std::chrono::minutes;
using std::chrono::seconds;

ScalerTarget Resolved(std::string_view name, std::string_view ns, const Metadata& metadata) {
  ScalerTarget t;
  const ScalerStatus s = ResolveTarget(name, ns, metadata, &t);
  EXPECT_TRUE(s.ok()) << s.message;
  return t;
}

TEST(ResolveTargetTest, DefaultsToTheScaledObjectsNameAndReplicas) {
  const ScalerTarget t = Resolved("cart", "shop", {{"scalerAddress", "recommender:9098"}});
  EXPECT_EQ(t.key.k8s_namespace, "shop");
  EXPECT_EQ(t.key.workload, "cart");
  EXPECT_EQ(t.metric, ScalerMetric::kReplicas);
  EXPECT_EQ(t.target, 1);
  EXPECT_EQ(t.metric_name, "queuelens-replicas-shop-cart");
}

TEST(ResolveTargetTest, MetadataNamesTheWorkloadAndMetric) {
  const ScalerTarget t = Resolved("cart-scaler", "keda",
                                  {{"workload", "search"},
                                   {"namespace", "hotel"},
                                   {"metric", "queue_length"},
                                   {"target", "2.5"}});
  EXPECT_EQ(t.key.k8s_namespace, "hotel");
  EXPECT_EQ(t.key.workload, "search");
  EXPECT_EQ(t.metric, ScalerMetric::kQueueLength);
  EXPECT_EQ(t.target, 2.5);
  EXPECT_EQ(t.metric_name, "queuelens-queue-length-hotel-search");
  EXPECT_EQ(Resolved("a", "b", {{"metric", "inflight"}, {"target", "4"}}).metric,
            ScalerMetric::kInflight);
}

TEST(ResolveTargetTest, RefusesBadMetadata) {
  ScalerTarget t;
  for (const Metadata& m : std::vector<Metadata>{{{"metric", "cpu"}},
                                                 {{"metric", "inflight"}},
                                                 {{"metric", "inflight"}, {"target", "0"}},
                                                 {{"metric", "inflight"}, {"target", "-1"}},
                                                 {{"metric", "inflight"}, {"target", "2x"}},
                                                 {{"metric", "inflight"}, {"target", "nan"}}}) {
    EXPECT_EQ(ResolveTarget("cart", "shop", m, &t).code, ScalerCode::kInvalidArgument)
        << m.begin()->second;
  }
  EXPECT_EQ(ResolveTarget("", "shop", {}, &t).code, ScalerCode::kInvalidArgument);
  EXPECT_EQ(ResolveTarget("cart", "", {}, &t).code, ScalerCode::kInvalidArgument);
}

TEST(MatchesMetricNameTest, AcceptsKedasTriggerPrefix) {
  const ScalerTarget t = Resolved("cart", "shop", {});
  EXPECT_TRUE(MatchesMetricName("queuelens-replicas-shop-cart", t));
  EXPECT_TRUE(MatchesMetricName("s0-queuelens-replicas-shop-cart", t));
  EXPECT_TRUE(MatchesMetricName("s12-queuelens-replicas-shop-cart", t));
  EXPECT_FALSE(MatchesMetricName("s-queuelens-replicas-shop-cart", t));
  EXPECT_FALSE(MatchesMetricName("x0-queuelens-replicas-shop-cart", t));
  EXPECT_FALSE(MatchesMetricName("s0-queuelens-replicas-shop-carts", t));
  EXPECT_FALSE(MatchesMetricName("", t));
}

class ReadScalerMetricTest : public ::testing::Test {
 protected:
  Snapshot snapshot_ = FixedSnapshot();
  common::TimePoint now_ = snapshot_.computed_at + seconds{1};
  common::Duration max_age_ = seconds{30};
};

TEST_F(ReadScalerMetricTest, ReadsTheRecommendedReplicas) {
  const ScalerReading r = ReadScalerMetric(snapshot_, Resolved("cart", "shop", {}), now_, max_age_);
  ASSERT_TRUE(r.status.ok()) << r.status.message;
  EXPECT_EQ(r.value, 5);
  EXPECT_EQ(r.view, &snapshot_.workloads[1]);
}

TEST_F(ReadScalerMetricTest, ReadsQueueLengthAndInflight) {
  snapshot_.workloads[1].signals.queue_length = 7.5;
  snapshot_.workloads[1].signals.inflight = 12.5;
  EXPECT_EQ(ReadScalerMetric(
                snapshot_, Resolved("cart", "shop", {{"metric", "queue_length"}, {"target", "2"}}),
                now_, max_age_)
                .value,
            7.5);
  EXPECT_EQ(ReadScalerMetric(snapshot_,
                             Resolved("cart", "shop", {{"metric", "inflight"}, {"target", "2"}}),
                             now_, max_age_)
                .value,
            12.5);
}

TEST_F(ReadScalerMetricTest, UnknownWorkloadIsNotFound) {
  const ScalerReading r = ReadScalerMetric(snapshot_, Resolved("nope", "shop", {}), now_, max_age_);
  EXPECT_EQ(r.status.code, ScalerCode::kNotFound);
  EXPECT_THAT(r.status.message, HasSubstr("shop/nope"));
}

TEST_F(ReadScalerMetricTest, NoValueStaleOrOldIsUnavailable) {
  snapshot_.workloads[1].signals.observed_at = snapshot_.computed_at;
  // hotel/search has never had replicas.
  EXPECT_EQ(
      ReadScalerMetric(snapshot_, Resolved("search", "hotel", {}), now_, max_age_).status.code,
      ScalerCode::kUnavailable);
  // A held CPU value alone does not hold the replica count.
  snapshot_.workloads[1].recommendation.stale = true;
  EXPECT_TRUE(
      ReadScalerMetric(snapshot_, Resolved("cart", "shop", {}), now_, max_age_).status.ok());
  snapshot_.workloads[1].recommendation.replicas_stale = true;
  EXPECT_EQ(ReadScalerMetric(snapshot_, Resolved("cart", "shop", {}), now_, max_age_).status.code,
            ScalerCode::kUnavailable);
  snapshot_.workloads[1].recommendation.replicas_stale = false;
  EXPECT_TRUE(ReadScalerMetric(snapshot_, Resolved("cart", "shop", {}),
                               snapshot_.computed_at + max_age_, max_age_)
                  .status.ok());
  EXPECT_EQ(ReadScalerMetric(snapshot_, Resolved("cart", "shop", {}),
                             snapshot_.computed_at + max_age_ + seconds{1}, max_age_)
                .status.code,
            ScalerCode::kUnavailable);
}

TEST_F(ReadScalerMetricTest, MissingSignalIsUnavailableNotZero) {
  // The fixture's cart has no queue length (NaN).
  const ScalerReading r = ReadScalerMetric(
      snapshot_, Resolved("cart", "shop", {{"metric", "queue_length"}, {"target", "1"}}), now_,
      max_age_);
  EXPECT_EQ(r.status.code, ScalerCode::kUnavailable);
}

TEST_F(ReadScalerMetricTest, ActivityNeedsFreshInputsNotAFreshRecommendation) {
  const model::WorkloadKey cart{"shop", "cart"};
  // An idle workload may have no proposal: its recommendation is held, its inputs are fresh.
  snapshot_.workloads[1].recommendation.stale = true;
  EXPECT_TRUE(ReadActivityInputs(snapshot_, cart, now_, max_age_).status.ok());
  EXPECT_EQ(ReadActivityInputs(snapshot_, {"shop", "nope"}, now_, max_age_).status.code,
            ScalerCode::kNotFound);
  // hotel/search never had inputs.
  EXPECT_EQ(ReadActivityInputs(snapshot_, {"hotel", "search"}, now_, max_age_).status.code,
            ScalerCode::kUnavailable);
  snapshot_.workloads[1].signals.invalid_input = "counter_negative";
  EXPECT_EQ(ReadActivityInputs(snapshot_, cart, now_, max_age_).status.code,
            ScalerCode::kUnavailable);
  snapshot_.workloads[1].signals.invalid_input.clear();
  snapshot_.workloads[1].signals.observed_at = now_ - max_age_ - seconds{1};
  EXPECT_EQ(ReadActivityInputs(snapshot_, cart, now_, max_age_).status.code,
            ScalerCode::kUnavailable);
  snapshot_.workloads[1].signals.observed_at = now_;
  EXPECT_EQ(
      ReadActivityInputs(snapshot_, cart, snapshot_.computed_at + max_age_ + seconds{1}, max_age_)
          .status.code,
      ScalerCode::kUnavailable);
}

TEST(IntegerValueTest, RoundsToNearest) {
  EXPECT_EQ(IntegerValue(5), 5);
  EXPECT_EQ(IntegerValue(2.5), 3);
  EXPECT_EQ(IntegerValue(0.2), 0);
}

class ActivityTrackerTest : public ::testing::Test {
 protected:
  ActivityTrackerTest() {
    snapshot_.workloads.resize(1);
    view().config.key = {"shop", "cart"};
    view().config.allow_zero = true;
  }
  WorkloadView& view() { return snapshot_.workloads[0]; }
  // One pass seeing `rate`, then `step` of time.
  void Pass(double rate, common::Duration step = seconds{15}) {
    view().signals.request_rate = rate;
    tracker_.Observe(snapshot_, clock_.Now());
    clock_.Advance(step);
  }
  bool Active() { return tracker_.IsActive(view(), clock_.Now()); }

  common::FakeClock clock_;
  Snapshot snapshot_;
  ActivityTracker tracker_{minutes{5}};
};

TEST_F(ActivityTrackerTest, ActiveUntilIdleForTheIdleTime) {
  EXPECT_TRUE(Active());  // nothing seen yet
  Pass(3);
  Pass(0);  // idle from here
  for (int i = 0; i < 18; ++i) Pass(0);
  EXPECT_TRUE(Active());  // 19 passes × 15 s = 285 s idle
  clock_.Advance(seconds{14});
  EXPECT_TRUE(Active());
  clock_.Advance(seconds{1});  // 300 s: the idle time
  EXPECT_FALSE(Active());
}

TEST_F(ActivityTrackerTest, ARequestEndsIdleness) {
  Pass(0, minutes{6});
  EXPECT_FALSE(Active());
  Pass(0.1, seconds{0});
  EXPECT_TRUE(Active());
  Pass(0, minutes{4});
  EXPECT_TRUE(Active());
}

TEST_F(ActivityTrackerTest, MissingRatesNeitherStartNorEndIdleness) {
  Pass(model::kMissing, minutes{10});
  EXPECT_TRUE(Active());
  Pass(0, minutes{6});
  Pass(model::kMissing, seconds{0});  // scaled to zero: no spans, no rate
  EXPECT_FALSE(Active());
}

TEST_F(ActivityTrackerTest, AlwaysActiveWithoutAllowZero) {
  view().config.allow_zero = false;
  Pass(0, minutes{60});
  EXPECT_TRUE(Active());
}

TEST_F(ActivityTrackerTest, ForgetsWorkloadsThatLeft) {
  Pass(0, minutes{6});
  EXPECT_FALSE(Active());
  const WorkloadView cart = view();
  snapshot_.workloads.clear();
  tracker_.Observe(snapshot_, clock_.Now());
  EXPECT_TRUE(tracker_.IsActive(cart, clock_.Now()));
}

TEST(ShouldPushTest, FirstTimeAndOnEveryChange) {
  const PushedState a{.active = true, .value = 3};
  EXPECT_TRUE(ShouldPush(std::nullopt, a));
  EXPECT_FALSE(ShouldPush(a, a));
  EXPECT_TRUE(ShouldPush(a, PushedState{.active = false, .value = 3}));
  EXPECT_TRUE(ShouldPush(a, PushedState{.active = true, .value = 4}));
  EXPECT_TRUE(ShouldPush(a, PushedState{.active = true, .value = std::nullopt}));
}

}  // namespace
}  // namespace recommender::output
