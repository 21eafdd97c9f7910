#include "recommender/output/trend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>

#include "recommender/output/status_page.h"
#include "tests/recommender/output/snapshot_fixture.h"

namespace recommender::output {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

const common::TimePoint kStart{std::chrono::milliseconds{1'787'392'800'000}};

model::WorkloadSignals Signals(double rate, double replicas) {
  model::WorkloadSignals s;
  s.key = {"shop", "cart"};
  s.request_rate = rate;
  s.queue_length = rate / 100;
  s.current_replicas = replicas;
  s.cpu_limit_cores = 0.5;
  return s;
}

combine::Recommendation Rec(std::optional<int> replicas, std::optional<double> cpu,
                            std::string reason = "") {
  combine::Recommendation r;
  r.key = {"shop", "cart"};
  r.replicas = replicas;
  r.cpu_cores = cpu;
  r.policy = "queue_sizing";
  r.cpu_policy = "throttle_target";
  r.reason = std::move(reason);
  return r;
}

TEST(TrendRecorderTest, KeepsOnePointPerStepAndAtMostTheConfiguredNumber) {
  TrendRecorder trends({.step = seconds{10}, .points = 3});
  WorkloadTrend t;
  for (int i = 0; i <= 60; ++i) {  // a pass every second for a minute
    t = trends.Observe(Signals(100 + i, 2), Rec(2, 0.5), kStart + seconds{i});
  }
  ASSERT_EQ(t.points->size(), 3u);
  // Points at 0, 10, ..., 60 s: the last three are kept, oldest first.
  EXPECT_EQ((*t.points)[0].at, kStart + seconds{40});
  EXPECT_EQ((*t.points)[2].at, kStart + seconds{60});
  EXPECT_DOUBLE_EQ((*t.points)[2].request_rate, 160);
  EXPECT_DOUBLE_EQ((*t.points)[2].recommended_replicas, 2);
}

TEST(TrendRecorderTest, SharesThePointsBetweenPassesUntilTheNextPointIsDue) {
  TrendRecorder trends;
  const WorkloadTrend a = trends.Observe(Signals(100, 2), Rec(2, 0.5), kStart);
  const WorkloadTrend b = trends.Observe(Signals(110, 2), Rec(2, 0.5), kStart + seconds{1});
  EXPECT_EQ(a.points.get(), b.points.get());
  const WorkloadTrend c = trends.Observe(Signals(120, 2), Rec(2, 0.5), kStart + seconds{10});
  EXPECT_NE(b.points.get(), c.points.get());
  EXPECT_EQ(a.points->size(), 1u);  // published points never change
  EXPECT_EQ(c.points->size(), 2u);
}

TEST(TrendRecorderTest, NotesTheLastChangeOfEachChannelWithItsPolicyAndReason) {
  TrendRecorder trends;
  WorkloadTrend t = trends.Observe(Signals(100, 2), Rec(2, 0.5), kStart);
  EXPECT_EQ(t.replicas.at, common::TimePoint{});  // the first value is not a change
  EXPECT_EQ(t.cpu.at, common::TimePoint{});
  t = trends.Observe(Signals(400, 2), Rec(5, 0.5, "queue grew"), kStart + seconds{3});
  EXPECT_EQ(t.replicas.at, kStart + seconds{3});
  EXPECT_DOUBLE_EQ(t.replicas.from, 2);
  EXPECT_DOUBLE_EQ(t.replicas.to, 5);
  EXPECT_EQ(t.replicas.policy, "queue_sizing");
  EXPECT_EQ(t.replicas.reason, "queue grew");
  EXPECT_EQ(t.cpu.at, common::TimePoint{});
  // A held pass publishes nothing: not a change, and the next value compares with the last one.
  t = trends.Observe(Signals(400, 5), Rec(std::nullopt, 0.8, "throttled"), kStart + seconds{4});
  EXPECT_EQ(t.replicas.at, kStart + seconds{3});
  EXPECT_EQ(t.cpu.at, kStart + seconds{4});
  EXPECT_EQ(t.cpu.policy, "throttle_target");
  t = trends.Observe(Signals(400, 5), Rec(5, 0.8), kStart + seconds{5});
  EXPECT_EQ(t.replicas.at, kStart + seconds{3});
}

TEST(TrendRecorderTest, ForgetsWorkloadsTheModelDropped) {
  TrendRecorder trends;
  trends.Observe(Signals(100, 2), Rec(2, 0.5), kStart);
  EXPECT_EQ(trends.workloads(), 1u);
  trends.Retain([](const model::WorkloadKey& k) { return k.workload != "cart"; });
  EXPECT_EQ(trends.workloads(), 0u);
}

TEST(TrendRecorderTest, StatusPageDrawsTheTrendAndSaysWhichHalfActed) {
  TrendRecorder trends;
  Snapshot snap = FixedSnapshot();
  WorkloadView& cart = snap.workloads.front().config.key.workload == "cart" ? snap.workloads.front()
                                                                            : snap.workloads.back();
  const common::TimePoint at = snap.computed_at;
  trends.Observe(Signals(100, 3), Rec(3, 0.75), at - seconds{40});
  cart.trend = trends.Observe(Signals(300, 3), Rec(5, 0.75, "queue grew"), at - seconds{30});
  const std::string page = RenderStatusPage(snap);
  EXPECT_THAT(page, HasSubstr("replicas 3 → 5 by queue_sizing, 30 s ago"));
  EXPECT_THAT(page, HasSubstr("replicas 3 → 5 by queue_sizing, 30 s ago: queue grew"));
  EXPECT_THAT(page, HasSubstr("<svg class=\"spark\""));
  EXPECT_THAT(page, HasSubstr("load req/s 300 (top 300)"));
  EXPECT_THAT(page, HasSubstr("stroke-dasharray"));  // the recommendation beside the current value
  EXPECT_THAT(page, Not(HasSubstr("<script")));
}

}  // namespace
}  // namespace recommender::output
