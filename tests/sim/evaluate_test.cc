// evaluate: every policy with every seed on worker threads, and the tuned baselines' walks.
#include "sim/evaluate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sim/run.h"
#include "sim/scoreboard.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using testing::ConstantTrace;
using ::testing::HasSubstr;
using testing::Short;

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
  App app = testing::OverloadedApp();
  app.slo_p99 = 1.2;
  EvaluateOptions options;
  options.run = Short(30);
  options.tune = true;
  options.seeds = 2;
  const std::vector<PolicySpec> policies = ParsePolicyList("k8s_cpu_fast,hpa_cpu,static");
  auto board = [&](int jobs) {
    options.jobs = jobs;
    const Scoreboard b = Evaluate(app, ConstantTrace(600, 30), "constant", policies, options);
    return FormatScoreboard(b) + ScoreboardCsv(b);
  };
  const std::string one = board(1);
  EXPECT_THAT(one, HasSubstr("k8s_cpu_fast tuned: targets tried (seeds passed) 0.9 (0/2), "));
  EXPECT_EQ(one, board(2));
}

}  // namespace
}  // namespace sim
