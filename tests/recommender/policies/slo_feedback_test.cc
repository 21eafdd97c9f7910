#include "recommender/policies/slo_feedback.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/checkpoint/policy_state.h"
#include "tests/recommender/policies/term.h"
#include "tests/support/fake_clock.h"

namespace recommender::policies {
namespace {

using std::chrono::seconds;

TowerOptions NoExplore() {
  TowerOptions o;
  o.explore = 0;
  o.drop_samples = 0;
  return o;
}

TEST(TowerTest, ActionsMapOntoTheNineByNineGrid) {
  TowerOptions o = NoExplore();
  o.initial_action = 3 * 9 + 7;
  const Tower tower(o);
  EXPECT_DOUBLE_EQ(tower.target1(), 0.06);
  EXPECT_DOUBLE_EQ(tower.target2(), 0.25);
  WorkloadConfig high, other;
  high.tower_high_cpu_group = true;
  EXPECT_DOUBLE_EQ(tower.TargetFor(high), 0.06);
  EXPECT_DOUBLE_EQ(tower.TargetFor(other), 0.25);
}

TEST(TowerTest, CostNormalisesAllocationWhenMeetingTheSloAndLatencyOtherwise) {
  Tower tower(NoExplore());
  tower.AddSample({100, 0, 0.5, 10});
  tower.AddSample({100, 1, 0.9, 20});
  tower.AddSample({100, 2, 1.0, 15});  // exactly at the SLO still meets it
  tower.AddSample({100, 3, 1.5, 5});
  tower.AddSample({100, 4, 2.5, 5});
  tower.AddSample({100, 5, 2.0, 5});
  EXPECT_EQ(tower.Costs(), (std::vector<double>{0, 1, 0.5, 2, 3, 2.5}));
}

TEST(TowerTest, DegenerateRangesCostTheMiddle) {
  Tower tower(NoExplore());
  tower.AddSample({100, 0, 0.5, 10});
  tower.AddSample({100, 1, 3.0, 10});
  EXPECT_EQ(tower.Costs(), (std::vector<double>{0.5, 2.5}));
}

TEST(TowerTest, ChoosesTheLowestMedianCostInTheRateBucket) {
  Tower tower(NoExplore());
  // Bucket 100: action 5 has costs {0, 1, 0.9} → median 0.9; action 10 {0.2, 0.3} → 0.25.
  // Allocation range [10, 20] maps cost = (alloc − 10) / 10.
  for (double alloc : {10.0, 20.0, 19.0}) tower.AddSample({101, 5, 0.5, alloc});
  for (double alloc : {12.0, 13.0}) tower.AddSample({95, 10, 0.5, alloc});
  tower.AddSample({300, 7, 0.5, 10});  // another bucket: ignored
  EXPECT_DOUBLE_EQ(*tower.MedianCost(5, 100), 0.9);
  EXPECT_DOUBLE_EQ(*tower.MedianCost(10, 100), 0.25);
  EXPECT_FALSE(tower.MedianCost(7, 100));
  const TowerChoice& c = tower.Choose(104, common::TimePoint{seconds{60}});
  EXPECT_EQ(c.action, 10);
  EXPECT_EQ(c.best_action, 10);
  EXPECT_DOUBLE_EQ(c.best_cost, 0.25);
  EXPECT_EQ(c.candidates, 2);
  EXPECT_DOUBLE_EQ(c.bucket_rps, 100);
  EXPECT_FALSE(c.explored);
}

TEST(TowerTest, UsesTheNearestBucketWithSamples) {
  Tower tower(NoExplore());
  tower.AddSample({100, 4, 0.5, 10});
  tower.AddSample({200, 6, 0.5, 12});
  // 145 rounds to 140: 100 is 40 away, 200 is 60.
  EXPECT_EQ(tower.Choose(145, {}).action, 4);
  EXPECT_DOUBLE_EQ(tower.choice().bucket_rps, 100);
  // 150 rounds to 160: 200 is nearer.
  EXPECT_EQ(tower.Choose(150, {}).action, 6);
}

TEST(TowerTest, KeepsTheCurrentActionWithoutSamples) {
  TowerOptions o = NoExplore();
  o.initial_action = 40;
  Tower tower(o);
  const TowerChoice& c = tower.Choose(100, {});
  EXPECT_EQ(c.action, 40);
  EXPECT_EQ(c.best_action, -1);
}

TEST(TowerTest, ExplorationPicksOnlyGridNeighbours) {
  TowerOptions o = NoExplore();
  o.explore = 1;          // always explore, to see every neighbour
  o.initial_action = 40;  // (4, 4): neighbours (3,4) (5,4) (4,3) (4,5)
  o.seed = 7;
  std::set<int> seen;
  for (int i = 0; i < 200; ++i) {
    Tower tower = Tower(o);
    o.seed += 1;
    const TowerChoice& c = tower.Choose(100, {});
    EXPECT_TRUE(c.explored);
    seen.insert(c.action);
  }
  EXPECT_EQ(seen, (std::set<int>{31, 49, 39, 41}));

  o.initial_action = 0;  // a corner has two neighbours
  seen.clear();
  for (int i = 0; i < 50; ++i) {
    Tower tower = Tower(o);
    o.seed += 1;
    seen.insert(tower.Choose(100, {}).action);
  }
  EXPECT_EQ(seen, (std::set<int>{1, 9}));
}

TEST(TowerTest, ExploresAboutTheConfiguredFractionWithAFixedSeed) {
  TowerOptions o = NoExplore();
  o.explore = 0.1;
  o.seed = 42;
  Tower tower(o);
  tower.AddSample({100, 40, 0.5, 10});
  int explored = 0;
  for (int i = 0; i < 1000; ++i) {
    const TowerChoice& c = tower.Choose(100, {});
    if (c.explored) {
      ++explored;
    } else {
      EXPECT_EQ(c.action, 40);
    }
  }
  EXPECT_GT(explored, 70);
  EXPECT_LT(explored, 130);
}

TEST(TowerTest, SameSeedSameChoices) {
  TowerOptions o = NoExplore();
  o.explore = 0.5;
  Tower a(o), b(o);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(a.Choose(100, {}).action, b.Choose(100, {}).action);
  }
}

TEST(TowerTest, DropsWarmUpSamplesAndRecordsTheContextOfTheChoice) {
  TowerOptions o = NoExplore();
  o.drop_samples = 3;
  o.initial_action = 12;
  Tower tower(o);
  tower.Observe(0.5, 10);  // before any choice: nothing to attribute
  tower.Choose(80, {});
  for (int i = 0; i < 3; ++i) tower.Observe(0.5, 10);
  EXPECT_TRUE(tower.samples().empty());
  tower.Observe(1.2, 11);
  ASSERT_EQ(tower.samples().size(), 1u);
  EXPECT_DOUBLE_EQ(tower.samples()[0].rps, 80);
  EXPECT_EQ(tower.samples()[0].action, 12);
  EXPECT_DOUBLE_EQ(tower.samples()[0].p99_ratio, 1.2);
}

TEST(TowerTest, TickChoosesOncePerMinuteWithTheMinutesMeanAllocation) {
  TowerOptions o = NoExplore();
  Tower tower(o);
  common::FakeClock clock;
  EXPECT_TRUE(tower.Tick({.rps = 50, .p99_ratio = 0.8, .alloc_cores = 4}, clock.Now()));
  for (int i = 0; i < 59; ++i) {
    clock.Advance(seconds{1});
    EXPECT_FALSE(
        tower.Tick({.rps = 60, .p99_ratio = 0.7, .alloc_cores = i < 29 ? 2.0 : 6.0}, clock.Now()));
  }
  clock.Advance(seconds{1});
  EXPECT_TRUE(tower.Tick({.rps = 70, .p99_ratio = 0.9, .alloc_cores = 4}, clock.Now()));
  ASSERT_EQ(tower.samples().size(), 1u);
  EXPECT_DOUBLE_EQ(tower.samples()[0].rps, 50);         // the context of the first choice
  EXPECT_DOUBLE_EQ(tower.samples()[0].p99_ratio, 0.9);  // P99 at the minute's end
  // Passes after the first choice: 29 × 2 + 30 × 6 + 4 over 60.
  EXPECT_DOUBLE_EQ(tower.samples()[0].alloc_cores, (29 * 2.0 + 30 * 6.0 + 4) / 60);
}

TEST(TowerTest, TheMinutesP99IsTheWorstWindowInsideTheMinute) {
  // 5 s windows: the passes 1–4 s after the choice still see the previous action and are left
  // out; of the windows inside the minute the worst, 1.3, is the minute's P99. Costs against
  // the SLO then follow by hand: a second minute meeting it at 3 cores, a third at 5 cores.
  TowerOptions o = NoExplore();
  o.latency_window = seconds{5};
  Tower tower(o);
  common::FakeClock clock;
  const auto minute = [&](double early, double worst, double alloc) {
    for (int i = 1; i <= 60; ++i) {
      clock.Advance(seconds{1});
      const double p99 = i < 5 ? early : (i == 30 ? worst : 0.5);
      tower.Tick({.rps = 100, .p99_ratio = p99, .alloc_cores = alloc}, clock.Now());
    }
  };
  tower.Tick({.rps = 100, .p99_ratio = 9, .alloc_cores = 4}, clock.Now());
  minute(/*early=*/9, /*worst=*/1.3, /*alloc=*/4);
  minute(9, 0.8, 3);
  minute(0.1, 0.9, 5);
  ASSERT_EQ(tower.samples().size(), 3u);
  EXPECT_DOUBLE_EQ(tower.samples()[0].p99_ratio, 1.3);
  EXPECT_DOUBLE_EQ(tower.samples()[1].p99_ratio, 0.8);
  EXPECT_DOUBLE_EQ(tower.samples()[2].p99_ratio, 0.9);
  // Over the SLO alone in its range: 2.5; meeting it at 3 and 5 cores: 0 and 1.
  EXPECT_EQ(tower.Costs(), (std::vector<double>{2.5, 0, 1}));
}

TEST(TowerTest, GridWarmUpVisitsTheLeastExploredActionsThenScoresWithoutExploring) {
  TowerOptions grid = NoExplore();
  grid.mode = TowerMode::kGrid;
  grid.seed = 3;
  Tower tower(grid);
  common::FakeClock clock;
  std::set<int> chosen;
  // 81 holds of 2 min, one sample each (over the hold's second minute).
  for (int i = 0; i <= 81 * 120; ++i) {
    const int a = tower.choice().action;
    const double alloc = 1 + a;  // cheaper actions are lower-numbered; all meet the SLO
    if (tower.Tick({.rps = 100, .p99_ratio = 0.5, .alloc_cores = alloc}, clock.Now())) {
      chosen.insert(tower.choice().action);
      EXPECT_TRUE(tower.choice().explored);
    }
    clock.Advance(seconds{1});
  }
  EXPECT_EQ(chosen.size(), 81u);
  ASSERT_EQ(tower.samples().size(), 81u);
  std::set<int> sampled;
  for (const TowerSample& s : tower.samples()) {
    sampled.insert(s.action);
    EXPECT_DOUBLE_EQ(s.alloc_cores, 1 + s.action);
  }
  EXPECT_EQ(sampled.size(), 81u);

  // Scored: the same samples, explore 0, the argmin (action 0) every minute.
  TowerOptions scored = NoExplore();
  Tower carried(scored);
  std::string error;
  ASSERT_TRUE(checkpoint::ReadTowerModel(checkpoint::WriteTowerModel(tower), carried, &error))
      << error;
  for (int i = 0; i < 30; ++i) {
    EXPECT_TRUE(carried.Tick({.rps = 100, .p99_ratio = 0.5, .alloc_cores = 1}, clock.Now()));
    EXPECT_EQ(carried.choice().action, 0);
    EXPECT_FALSE(carried.choice().explored);
    clock.Advance(seconds{60});
  }
}

TEST(TowerTest, TheModelRoundTripsThroughItsCheckpointIntoANewRun) {
  TowerOptions o;
  o.explore = 0.5;
  o.drop_samples = 1;
  Tower tower(o);
  common::FakeClock clock;
  for (int i = 0; i < 40; ++i) {
    tower.Tick({.rps = 40.0 + i * 7, .p99_ratio = 0.4 + (i % 9) * 0.1, .alloc_cores = 3.0 + i % 5},
               clock.Now());
    clock.Advance(seconds{60});
  }
  ASSERT_GT(tower.samples().size(), 30u);
  Tower carried(NoExplore());
  std::string error;
  ASSERT_TRUE(checkpoint::ReadTowerModel(checkpoint::WriteTowerModel(tower), carried, &error))
      << error;
  ASSERT_EQ(carried.samples().size(), tower.samples().size());
  for (size_t i = 0; i < tower.samples().size(); ++i) {
    EXPECT_EQ(carried.samples()[i].action, tower.samples()[i].action);
    EXPECT_EQ(carried.samples()[i].rps, tower.samples()[i].rps);
    EXPECT_EQ(carried.samples()[i].p99_ratio, tower.samples()[i].p99_ratio);
    EXPECT_EQ(carried.samples()[i].alloc_cores, tower.samples()[i].alloc_cores);
  }
  EXPECT_EQ(carried.Costs(), tower.Costs());
  for (int a = 0; a < kTowerActions; ++a) {
    EXPECT_EQ(carried.MedianCost(a, 200), tower.MedianCost(a, 200)) << a;
  }
  // A new run: no choice yet, its own first outcomes to drop, the carried options' explore.
  EXPECT_FALSE(carried.has_choice());
  EXPECT_EQ(carried.state().observed, 0);
  EXPECT_FALSE(checkpoint::ReadTowerModel("{\"tower\": {}}", carried, &error));
  EXPECT_EQ(carried.samples().size(), tower.samples().size());
}

TEST(TowerTest, MaxSamplesDropsTheOldest) {
  TowerOptions o = NoExplore();
  o.max_samples = 3;
  Tower tower(o);
  for (int i = 0; i < 5; ++i) tower.AddSample({100, i, 0.5, 1});
  ASSERT_EQ(tower.samples().size(), 3u);
  EXPECT_EQ(tower.samples()[0].action, 2);
}

TEST(TowerTest, IgnoresInvalidSamples) {
  Tower tower(NoExplore());
  tower.AddSample({100, 81, 0.5, 1});
  tower.AddSample({100, 3, NAN, 1});
  EXPECT_TRUE(tower.samples().empty());
}

std::string Serialise(const Tower& tower) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  checkpoint::WriteTowerState(tower, writer);
  return buffer.GetString();
}

TEST(TowerTest, JsonRoundTripRestoresTableChoiceAndRng) {
  TowerOptions o;
  o.explore = 0.3;
  o.drop_samples = 1;
  Tower tower(o);
  common::FakeClock clock;
  for (int i = 0; i < 10; ++i) {
    tower.Tick({.rps = 40.0 + i * 10, .p99_ratio = 0.5 + i * 0.1, .alloc_cores = 3.0 + i},
               clock.Now());
    clock.Advance(seconds{60});
  }
  const std::string text = Serialise(tower);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
  ASSERT_FALSE(doc.HasParseError());
  Tower restored(o);
  std::string error;
  ASSERT_TRUE(checkpoint::ReadTowerState(doc, restored, &error)) << error;
  EXPECT_EQ(Serialise(restored), text);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(tower.Choose(90, clock.Now()).action, restored.Choose(90, clock.Now()).action);
  }
}

TEST(TowerTest, CorruptJsonIsRejectedAndLeavesTheTowerUnchanged) {
  Tower tower(NoExplore());
  tower.AddSample({100, 3, 0.5, 1});
  const std::string before = Serialise(tower);
  for (const char* bad : {R"({"samples": [[100, 99, 0.5, 1]]})", R"([])", R"({"samples": []})"}) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseFullPrecisionFlag>(bad);
    std::string error;
    EXPECT_FALSE(checkpoint::ReadTowerState(doc, tower, &error)) << bad;
    EXPECT_FALSE(error.empty());
    EXPECT_EQ(Serialise(tower), before);
  }
}

TEST(SloFeedbackTest, ProposesNoValuesButTheWorkloadsTarget) {
  TowerOptions o = NoExplore();
  o.initial_action = 2 * 9 + 5;
  const Tower tower(o);
  WorkloadConfig high;
  high.tower_high_cpu_group = true;
  const Proposal p = EvaluateSloFeedback(tower, high);
  EXPECT_EQ(p.policy, "slo_feedback");
  EXPECT_FALSE(p.replicas);
  EXPECT_FALSE(p.cpu_cores);
  EXPECT_DOUBLE_EQ(TermOf(p, "target"), 0.04);
  EXPECT_DOUBLE_EQ(TermOf(p, "group"), 1);
  EXPECT_DOUBLE_EQ(TermOf(p, "target2"), 0.15);
}

}  // namespace
}  // namespace recommender::policies
