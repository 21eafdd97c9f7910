#include "recommender/actuate/decisions.h"

#include <gtest/gtest.h>

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
  const VpaRecommendation r = VpaBounds("app", 1.5, 0.1, 2.0, &policy);
  EXPECT_EQ(r.container, "app");
  EXPECT_EQ(r.target, "1");
  EXPECT_EQ(r.lower_bound, "200m");
  EXPECT_EQ(r.upper_bound, "1");
  EXPECT_EQ(r.uncapped_target, "1500m");
  const VpaRecommendation free = VpaBounds("app", 0.5, 0.7, 0.4, nullptr);
  EXPECT_EQ(free.lower_bound, "500m");  // bounds never exclude the target
  EXPECT_EQ(free.upper_bound, "500m");
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
