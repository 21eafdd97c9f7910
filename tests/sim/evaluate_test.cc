// evaluate: every policy with every seed on worker threads, and the tuned baselines' walks.
#include "sim/evaluate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

#include "sim/run.h"
#include "sim/scoreboard.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using ::testing::HasSubstr;

TEST(EvaluateTest, SameSeedSameScoreboard) {
  const App app = LoadApp(QL_SOURCE_DIR "/sim/apps/hotel-reservation.yaml");
  const RateTrace trace = LoadTrace("constant:400:40s", 1, 0);
  EvaluateOptions options;
  options.run.warmup = 20;
  options.jobs = 2;
  const std::vector<PolicySpec> policies = ParsePolicyList("hpa_cpu,throttle_target,static");
  auto board = [&](uint64_t seed) {
    options.run.seed = seed;
    const Scoreboard b = Evaluate(app, trace, "constant", policies, options);
    return FormatScoreboard(b) + ScoreboardCsv(b);
  };
  const std::string first = board(1);
  EXPECT_EQ(first, board(1));
  EXPECT_NE(first, board(2));
}

TEST(EvaluateTest, TuneGivesTheSameBoardWhateverTheWorkersTake) {
  // Two walks that stop at different targets and a policy that is not tuned: workers take runs as
  // they come free, so the runs finish in another order with two workers than with one.
  auto board = [&](int jobs) {
    const Scoreboard b = testing::TunedOverloaded("k8s_cpu_fast,hpa_cpu,static", 1.2, 30, 2, jobs);
    return FormatScoreboard(b) + ScoreboardCsv(b);
  };
  const std::string one = board(1);
  EXPECT_THAT(one, HasSubstr("k8s_cpu_fast tuned: targets tried (seeds passed/run) 0.9 (0/1), "));
  EXPECT_EQ(one, board(2));
}

TEST(EvaluateTest, AFailedTargetStopsAtItsFirstFailingSeed) {
  // With a 1.2 s SLO the walk passes in the middle of the grid: each target above it shows the
  // seeds up to its first failing one, the kept one all three. With 50 ms no target passes, and
  // then every seed of every target runs, as the fallback choice needs.
  for (double slo : {1.2, 0.05}) {
    double progress = 0;
    const Scoreboard b = testing::TunedOverloaded(
        "k8s_cpu_fast", slo, 30, 3, 2, [&](double f) { progress = std::max(progress, f); });
    ASSERT_EQ(b.policies.size(), 1u);
    EXPECT_EQ(b.policies[0].seeds.size(), 3u);
    EXPECT_EQ(b.policies[0].pass(), slo > 1);
    const std::string walk = testing::WalkNote(b, "k8s_cpu_fast");
    ASSERT_FALSE(walk.empty());
    const std::regex target(R"(\d\.\d \((\d)/(\d)\))");
    int targets = 0;
    for (auto it = std::sregex_iterator(walk.begin(), walk.end(), target);
         it != std::sregex_iterator(); ++it, ++targets) {
      const int passed = std::stoi((*it)[1]);
      const int run = std::stoi((*it)[2]);
      const bool last = std::next(it) == std::sregex_iterator();
      if (slo > 1 && last) {
        EXPECT_EQ(passed, 3) << walk;
        EXPECT_EQ(run, 3) << walk;
      } else if (slo > 1) {
        EXPECT_EQ(passed, run - 1) << walk;  // every seed shown but the last passed
      } else {
        EXPECT_EQ(run, 3) << walk;
      }
    }
    EXPECT_GE(targets, 2) << walk;
    if (slo < 1) {
      EXPECT_EQ(targets, 7) << walk;
    }
    EXPECT_NEAR(progress, 1, 1e-9);
  }
}

}  // namespace
}  // namespace sim
