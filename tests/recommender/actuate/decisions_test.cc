#include "recommender/actuate/decisions.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace recommender::actuate {
namespace {

using std::chrono::seconds;
const common::TimePoint kT0 = common::TimePoint{} + std::chrono::hours{24 * 365 * 50};

TEST(ResizeTarget, HysteresisIsRelativeToTheCurrentValue) {
  EXPECT_EQ(ResizeTarget(1.0, 1.09, 0.1, 4, 0.1), std::nullopt);
  EXPECT_EQ(ResizeTarget(1.0, 0.91, 0.1, 4, 0.1), std::nullopt);
  EXPECT_EQ(ResizeTarget(1.0, 1.2, 0.1, 4, 0.1), 1.2);
  EXPECT_EQ(ResizeTarget(1.0, 0.5, 0.1, 4, 0.1), 0.5);
  EXPECT_EQ(ResizeTarget(std::nullopt, 0.5, 0.1, 4, 0.1), 0.5);
}

TEST(ResizeTarget, ClampsToMinAndMaxBeforeComparing) {
  EXPECT_EQ(ResizeTarget(1.0, 9, 0.1, 2, 0.1), 2.0);
  EXPECT_EQ(ResizeTarget(0.25, 0.01, 0.25, 2, 0.1), std::nullopt);  // already at the floor
  EXPECT_EQ(ResizeTarget(1.0, 0.01, 0.25, 2, 0.1), 0.25);
}

TEST(RateLimiter, AllowsTheBurstThenTheRate) {
  RateLimiter limiter(2, 2);
  EXPECT_TRUE(limiter.TryTake(kT0));
  EXPECT_TRUE(limiter.TryTake(kT0));
  EXPECT_FALSE(limiter.TryTake(kT0));
  EXPECT_FALSE(limiter.TryTake(kT0 + std::chrono::milliseconds{400}));
  EXPECT_TRUE(limiter.TryTake(kT0 + std::chrono::milliseconds{500}));
  EXPECT_FALSE(limiter.TryTake(kT0 + std::chrono::milliseconds{500}));
  // A long pause refills only up to the burst.
  const common::TimePoint later = kT0 + std::chrono::hours{1};
  EXPECT_TRUE(limiter.TryTake(later));
  EXPECT_TRUE(limiter.TryTake(later));
  EXPECT_FALSE(limiter.TryTake(later));
}

TEST(InfeasibleMemory, HoldsTheRefusedSizeAndLargerUntilTheRetry) {
  InfeasibleMemory memory(std::chrono::minutes{10});
  memory.Refused("pod-a", 2.0, kT0);
  EXPECT_TRUE(memory.Holds("pod-a", 2.0, kT0 + seconds{15}));
  EXPECT_TRUE(memory.Holds("pod-a", 3.0, kT0 + seconds{15}));
  EXPECT_FALSE(memory.Holds("pod-a", 1.5, kT0 + seconds{15}));  // smaller may fit
  EXPECT_FALSE(memory.Holds("pod-b", 2.0, kT0 + seconds{15}));
  EXPECT_FALSE(memory.Holds("pod-a", 2.0, kT0 + std::chrono::minutes{10}));
  // Seeing the same refusal again does not restart the clock.
  memory.Refused("pod-a", 2.0, kT0 + std::chrono::minutes{5});
  EXPECT_FALSE(memory.Holds("pod-a", 2.0, kT0 + std::chrono::minutes{10}));
  memory.Keep({"pod-b"});
  EXPECT_FALSE(memory.Holds("pod-a", 2.0, kT0));
}

TEST(VpaBounds, CapsTargetAndBoundsButNotTheUncappedTarget) {
  VpaContainerPolicy policy{.container = "app", .min_cpu = 0.2, .max_cpu = 1.0};
  const VpaRecommendation r = VpaBounds("app", 1.5, {0.1, 2.0, "default_band"}, &policy);
  EXPECT_EQ(r.container, "app");
  EXPECT_EQ(r.target, "1");
  EXPECT_EQ(r.lower_bound, "200m");
  EXPECT_EQ(r.upper_bound, "1");
  EXPECT_EQ(r.uncapped_target, "1500m");
  const VpaRecommendation free = VpaBounds("app", 0.5, {0.7, 0.4, "recent_range"}, nullptr);
  EXPECT_EQ(free.lower_bound, "500m");  // bounds never exclude the target
  EXPECT_EQ(free.upper_bound, "500m");
  const VpaCores cores = VpaBoundsCores(0.5, {0.3, 0.9, "showar_3sigma"}, nullptr);
  EXPECT_DOUBLE_EQ(cores.lower, 0.3);
  EXPECT_DOUBLE_EQ(cores.upper, 0.9);
  EXPECT_DOUBLE_EQ(cores.target, 0.5);
  EXPECT_DOUBLE_EQ(cores.uncapped, 0.5);
}

TEST(RecentRange, KeepsTheWindow) {
  RecentRange r(std::chrono::minutes{1});
  EXPECT_TRUE(r.empty());
  EXPECT_TRUE(std::isnan(r.Range().first));
  r.Add(kT0, 2.0);
  r.Add(kT0 + seconds{30}, 0.5);
  r.Add(kT0 + seconds{50}, 1.0);
  EXPECT_EQ(r.Range(), (std::pair<double, double>{0.5, 2.0}));
  r.Add(kT0 + seconds{61}, 1.2);  // 2.0 is older than a minute now
  EXPECT_EQ(r.Range(), (std::pair<double, double>{0.5, 1.2}));
}

output::WorkloadView ViewWith(const std::string& policy, double cpu, policies::Terms terms) {
  output::WorkloadView w;
  w.config.cpu_policy = policy;
  w.recommendation.cpu_cores = cpu;
  policies::Proposal other;
  other.policy = "k8s_cpu";
  other.terms = {{"mean_cores", 9}, {"stdev_cores", 9}};  // not the workload's CPU policy
  w.proposals.push_back(other);
  policies::Proposal own;
  own.policy = policy;
  own.terms = std::move(terms);
  w.proposals.push_back(own);
  return w;
}

TEST(PolicySpread, ShowarIsThreeSigmaAroundTheMean) {
  const RecentRange recent(std::chrono::hours{1});
  const CpuSpread s = PolicySpread(
      ViewWith("showar", 1.3, {{"mean_cores", 1.0}, {"stdev_cores", 0.1}}), recent, 0.1);
  EXPECT_EQ(s.source, "showar_3sigma");
  EXPECT_DOUBLE_EQ(s.low, 0.7);
  EXPECT_DOUBLE_EQ(s.high, 1.3);
  // A wide σ does not go below zero.
  EXPECT_DOUBLE_EQ(
      PolicySpread(ViewWith("showar", 1, {{"mean_cores", 0.2}, {"stdev_cores", 0.5}}), recent, 0.1)
          .low,
      0);
}

TEST(PolicySpread, VpaUsesItsOwnBoundsWhenFinite) {
  const RecentRange recent(std::chrono::hours{1});
  const CpuSpread s = PolicySpread(
      ViewWith("vpa", 1, {{"lower_bound_cores", 0.6}, {"upper_bound_cores", 1.8}}), recent, 0.1);
  EXPECT_EQ(s.source, "vpa_bounds");
  EXPECT_DOUBLE_EQ(s.low, 0.6);
  EXPECT_DOUBLE_EQ(s.high, 1.8);
  // No confidence yet: VPA's upper bound is infinite, which no quantity can say.
  const CpuSpread young =
      PolicySpread(ViewWith("vpa", 1,
                            {{"lower_bound_cores", 0.6},
                             {"upper_bound_cores", std::numeric_limits<double>::infinity()}}),
                   recent, 0.1);
  EXPECT_EQ(young.source, "default_band");
}

TEST(PolicySpread, ThrottleTargetUsesTheRecentRangeElseTheDefaultBand) {
  RecentRange recent(std::chrono::hours{1});
  EXPECT_EQ(PolicySpread(ViewWith("throttle_target", 1, {}), recent, 0.1).source, "default_band");
  recent.Add(kT0, 0.8);
  recent.Add(kT0 + seconds{1}, 1.4);
  const CpuSpread s = PolicySpread(ViewWith("throttle_target", 1, {}), recent, 0.1);
  EXPECT_EQ(s.source, "recent_range");
  EXPECT_DOUBLE_EQ(s.low, 0.8);
  EXPECT_DOUBLE_EQ(s.high, 1.4);
  const CpuSpread band = PolicySpread(ViewWith("k8s_cpu", 2, {}), recent, 0.25);
  EXPECT_EQ(band.source, "default_band");
  EXPECT_DOUBLE_EQ(band.low, 1.5);
  EXPECT_DOUBLE_EQ(band.high, 2.5);
  // SHOWAR before it has usage to size on.
  EXPECT_EQ(PolicySpread(ViewWith("showar", 2, {}), recent, 0.1).source, "default_band");
}

TEST(LeaseElector, CreatesRenewsAndLosesOnFailedWrites) {
  LeaseElector e("a", seconds{15});
  LeaseElector::Step s = e.Observe(std::nullopt, kT0);
  ASSERT_EQ(s.action, LeaseElector::Action::kCreate);
  EXPECT_EQ(s.lease.holder, "a");
  EXPECT_EQ(s.lease.duration_seconds, 15);
  EXPECT_FALSE(e.IsLeader(kT0));
  e.Written(true, kT0);
  EXPECT_TRUE(e.IsLeader(kT0));
  EXPECT_TRUE(e.IsLeader(kT0 + seconds{9}));
  EXPECT_FALSE(e.IsLeader(kT0 + seconds{10}));  // 2/3 of the duration without a renewal

  Lease held = s.lease;
  held.resource_version = "7";
  s = e.Observe(held, kT0 + seconds{3});
  ASSERT_EQ(s.action, LeaseElector::Action::kUpdate);
  EXPECT_EQ(s.lease.renew_time, kT0 + seconds{3});
  EXPECT_EQ(s.lease.acquire_time, kT0);
  EXPECT_EQ(s.lease.transitions, 0);
  EXPECT_EQ(s.lease.resource_version, "7");
  e.Written(false, kT0 + seconds{3});         // 409: someone else wrote first
  EXPECT_TRUE(e.IsLeader(kT0 + seconds{5}));  // until the deadline of the last renewal
  EXPECT_FALSE(e.IsLeader(kT0 + seconds{10}));
}

TEST(LeaseElector, TakesOverOnlyAfterTheLeaseLapsesOnItsOwnClock) {
  LeaseElector e("b", seconds{15});
  Lease other{.holder = "a",
              .duration_seconds = 15,
              .acquire_time = kT0,
              .renew_time = kT0,
              .transitions = 2,
              .resource_version = "1"};
  EXPECT_EQ(e.Observe(other, kT0 + seconds{1}).action, LeaseElector::Action::kNone);
  // The holder's renewTime lies far in the past (clock skew), but the object is fresh to us.
  EXPECT_EQ(e.Observe(other, kT0 + seconds{15}).action, LeaseElector::Action::kNone);
  EXPECT_FALSE(e.IsLeader(kT0 + seconds{15}));
  // A renewal by the holder restarts our clock.
  other.resource_version = "2";
  other.renew_time = kT0 + seconds{10};
  EXPECT_EQ(e.Observe(other, kT0 + seconds{20}).action, LeaseElector::Action::kNone);
  EXPECT_EQ(e.Observe(other, kT0 + seconds{34}).action, LeaseElector::Action::kNone);
  const LeaseElector::Step s = e.Observe(other, kT0 + seconds{35});
  ASSERT_EQ(s.action, LeaseElector::Action::kUpdate);
  EXPECT_EQ(s.lease.holder, "b");
  EXPECT_EQ(s.lease.transitions, 3);
  EXPECT_EQ(s.lease.acquire_time, kT0 + seconds{35});
  EXPECT_EQ(e.holder(), "a");
  e.Written(true, kT0 + seconds{35});
  EXPECT_TRUE(e.IsLeader(kT0 + seconds{36}));
  EXPECT_EQ(e.holder(), "b");
}

TEST(LeaseElector, TakesAReleasedLeaseAtOnce) {
  LeaseElector e("b", seconds{15});
  const Lease released{
      .holder = "", .duration_seconds = 15, .transitions = 4, .resource_version = "9"};
  const LeaseElector::Step s = e.Observe(released, kT0);
  ASSERT_EQ(s.action, LeaseElector::Action::kUpdate);
  EXPECT_EQ(s.lease.holder, "b");
  EXPECT_EQ(s.lease.transitions, 5);
}

}  // namespace
}  // namespace recommender::actuate
