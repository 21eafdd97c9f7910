#include "recommender/loop.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "tests/recommender/loop_fixture.h"

namespace recommender {
namespace {

using ::testing::HasSubstr;

TEST(RecommenderLoopTest, APassPublishesARecommendationWithEveryStepTimed) {
  LoopHarness h;
  EXPECT_EQ(h.snapshots.Get()->Find("shop", "cart"), nullptr);
  h.Run(1);
  const auto snap = h.snapshots.Get();
  EXPECT_EQ(snap->pass, 1u);
  EXPECT_EQ(snap->computed_at, h.clock.Now());
  const output::WorkloadView& cart = h.Cart();
  ASSERT_TRUE(cart.recommendation.replicas);
  EXPECT_GE(*cart.recommendation.replicas, 1);
  EXPECT_EQ(cart.recommendation.policy, "queue_sizing");
  EXPECT_FALSE(cart.recommendation.stale);
  EXPECT_EQ(cart.signals.request_rate, 100);
  EXPECT_EQ(cart.signals.current_replicas, 2);
  ASSERT_EQ(cart.proposals.size(), policies::kPolicyNames.size());
  EXPECT_EQ(cart.proposals[0].policy, "queue_balancing");
  ASSERT_EQ(snap->steps.size(), 4u);
  EXPECT_EQ(snap->steps[0].step, "feed");
  EXPECT_EQ(snap->steps[3].step, "combine");
  for (const char* step : {"feed", "model", "evaluate", "combine", "publish"}) {
    EXPECT_EQ(h.Metric("queuelens_recommender_loop_step_seconds_count", {{"step", step}}), 1)
        << step;
  }
}

TEST(RecommenderLoopTest, MoreLoadRaisesTheRecommendation) {
  LoopHarness h;
  h.Run(3);
  const int before = *h.Cart().recommendation.replicas;
  h.inputs->inflight *= 10;
  h.Run(3);
  EXPECT_GT(*h.Cart().recommendation.replicas, before);
}

TEST(RecommenderLoopTest, UnreachableInputsHoldTheLastGoodValueMarkedStale) {
  LoopHarness h;
  h.Run(5);
  const std::optional<int> good = h.Cart().recommendation.replicas;
  ASSERT_TRUE(good);
  h.inputs->up = false;
  h.inputs->inflight = 0;  // would mean scale down, if it were believed
  h.Run(120);              // two minutes without inputs: past the staleness limit
  const output::WorkloadView& cart = h.Cart();
  EXPECT_TRUE(cart.recommendation.stale);
  EXPECT_EQ(cart.recommendation.replicas, good);
  EXPECT_THAT(cart.recommendation.reason, HasSubstr("inputs too old"));
  ASSERT_EQ(h.snapshots.Get()->input_errors.size(), 1u);
  EXPECT_EQ(h.snapshots.Get()->input_errors[0].reason, "fetch");
  EXPECT_EQ(h.Metric("queuelens_recommender_input_errors_total",
                     {{"input", "http://cart-exporter/metrics"}, {"reason", "fetch"}}),
            120);
  h.inputs->up = true;
  h.Run(1);
  EXPECT_FALSE(h.Cart().recommendation.stale);
  EXPECT_TRUE(h.snapshots.Get()->input_errors.empty());
}

TEST(RecommenderLoopTest, RunAndStopOnAThread) {
  LoopHarness h;
  common::SystemClock clock;
  std::thread t([&] { h.loop->Run(clock, std::chrono::milliseconds{1}); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{30};
  while (h.snapshots.Get()->pass < 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  h.loop->Stop();
  t.join();
  EXPECT_GE(h.snapshots.Get()->pass, 3u);
}

}  // namespace
}  // namespace recommender
