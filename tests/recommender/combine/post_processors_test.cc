#include "recommender/combine/post_processors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

namespace recommender::combine {
namespace {

using std::chrono::seconds;

const common::TimePoint kT0{seconds{1000}};

TEST(StalenessTest, FreshProposalPassesThrough) {
  ChannelMemory memory;
  memory.last_good = 7;
  std::vector<std::string> steps;
  bool held = true;
  EXPECT_EQ(ApplyStaleness(3.0, true, 5, memory, &held, steps), 3.0);
  EXPECT_FALSE(held);
  EXPECT_TRUE(steps.empty());
}

TEST(StalenessTest, HoldsLastGoodAndNeverScalesDownOnMissingData) {
  struct Case {
    const char* name;
    std::optional<double> proposed;
    bool fresh;
    std::optional<double> last_good;
    double current;
    std::optional<double> want;
  };
  const Case cases[] = {
      {"stale inputs hold last good", 2.0, false, 6.0, 4, 6.0},
      {"no proposal holds last good", std::nullopt, true, 6.0, 4, 6.0},
      {"current above last good wins", std::nullopt, false, 3.0, 5, 5.0},
      {"unknown current", std::nullopt, false, 3.0, NAN, 3.0},
      {"no history uses current", std::nullopt, false, std::nullopt, 4, 4.0},
      {"nothing known", std::nullopt, false, std::nullopt, NAN, std::nullopt},
  };
  for (const Case& c : cases) {
    ChannelMemory memory;
    memory.last_good = c.last_good;
    std::vector<std::string> steps;
    bool held = false;
    EXPECT_EQ(ApplyStaleness(c.proposed, c.fresh, c.current, memory, &held, steps), c.want)
        << c.name;
    EXPECT_TRUE(held) << c.name;
    ASSERT_EQ(steps.size(), 1u) << c.name;
    EXPECT_EQ(steps[0].rfind("stale", 0), 0u) << c.name;
  }
}

TEST(StabilizeTest, ScaleUpImmediateScaleDownAfterTheWindow) {
  std::deque<policies::TimedValue> history;
  std::vector<std::string> steps;
  const seconds window{300};
  EXPECT_EQ(Stabilize(8, kT0, window, history, steps), 8);
  EXPECT_EQ(Stabilize(4, kT0 + seconds{100}, window, history, steps), 8);
  EXPECT_EQ(steps.back(), "stabilize: 4 -> 8");
  EXPECT_EQ(Stabilize(10, kT0 + seconds{200}, window, history, steps), 10);
  EXPECT_EQ(Stabilize(4, kT0 + seconds{300}, window, history, steps), 10);  // 8 expired, 10 not
  EXPECT_EQ(Stabilize(4, kT0 + seconds{500}, window, history, steps), 4);
  EXPECT_EQ(history.size(), 1u);  // only values that can still be the max are kept
}

TEST(StepTest, ReplicasMoveAtMostMaxStep) {
  std::vector<std::string> steps;
  EXPECT_EQ(LimitReplicaStep(10, 2.0, 4, steps), 6);
  EXPECT_EQ(steps.back(), "step: 10 -> 6");
  EXPECT_EQ(LimitReplicaStep(1, 9.0, 4, steps), 5);
  EXPECT_EQ(LimitReplicaStep(7, 5.0, 4, steps), 7);
  EXPECT_EQ(LimitReplicaStep(30, std::nullopt, 4, steps), 30);
  EXPECT_EQ(steps.size(), 2u);
}

TEST(StepTest, CpuMovesAtMostAFactor) {
  std::vector<std::string> steps;
  EXPECT_DOUBLE_EQ(LimitCpuStep(3, 1.0, 2, steps), 2);
  EXPECT_DOUBLE_EQ(LimitCpuStep(0.1, 1.0, 2, steps), 0.5);
  EXPECT_DOUBLE_EQ(LimitCpuStep(1.5, 1.0, 2, steps), 1.5);
  EXPECT_DOUBLE_EQ(LimitCpuStep(9, std::nullopt, 2, steps), 9);
}

TEST(ClampTest, BoundsAndRecordsTheChange) {
  std::vector<std::string> steps;
  EXPECT_EQ(Clamp(12, 1, 10, steps), 10);
  EXPECT_EQ(Clamp(0, 1, 10, steps), 1);
  EXPECT_EQ(Clamp(5, 1, 10, steps), 5);
  EXPECT_EQ(Clamp(5, 3, 2, steps), 3);  // an inverted range keeps the minimum
  EXPECT_EQ(steps, (std::vector<std::string>{"clamp: 12 -> 10", "clamp: 0 -> 1", "clamp: 5 -> 3"}));
}

}  // namespace
}  // namespace recommender::combine
