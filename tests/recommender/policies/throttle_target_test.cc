#include "recommender/policies/throttle_target.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "common/clock.h"
#include "tests/recommender/policies/term.h"

namespace recommender::policies {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

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
  EXPECT_DOUBLE_EQ(TermOf(p, "action"), static_cast<double>(control::CaptainAction::kScaleUp));
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
  EXPECT_DOUBLE_EQ(TermOf(back, "action"), static_cast<double>(control::CaptainAction::kRollback));
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
