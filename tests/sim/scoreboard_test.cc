// The scoreboard's statistics, reference and reports, and Evaluate over several seeds.
#include "sim/scoreboard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "sim/evaluate.h"
#include "sim/policies.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(StudentTTest, MatchesTheTables) {
  // Two-sided 95 % critical values of Student's t.
  const std::vector<std::pair<int, double>> known = {
      {1, 12.7062}, {2, 4.3027},  {3, 3.1824},  {4, 2.7764},  {5, 2.5706},  {9, 2.2622},
      {10, 2.2281}, {19, 2.0930}, {29, 2.0452}, {30, 2.0423}, {60, 2.0003}, {120, 1.9799}};
  for (const auto& [df, t] : known) EXPECT_NEAR(StudentT975(df), t, 1e-4) << df << " df";
  EXPECT_NEAR(StudentT975(100000), 1.95996, 1e-4);  // the normal quantile in the limit
}

TEST(StudentTTest, EstimateIsMeanPlusMinusTTimesStandardError) {
  const Estimate e = Estimate95({10, 12, 14});
  EXPECT_EQ(e.n, 3u);
  EXPECT_DOUBLE_EQ(e.mean, 12);
  EXPECT_NEAR(e.half_width, 4.3027 * 2 / std::sqrt(3.0), 1e-3);  // s = 2
  EXPECT_EQ(e.min, 10);
  EXPECT_EQ(e.max, 14);
  EXPECT_TRUE(std::isnan(Estimate95({5}).half_width));
  EXPECT_DOUBLE_EQ(Estimate95({5}).mean, 5);
}

RunResult Run(const std::string& policy, double core_hours, bool pass, double p99) {
  RunResult r;
  r.summary = {.policy = policy,
               .core_hours = core_hours,
               .usage_core_hours = core_hours / 2,
               .p99 = p99,
               .slo = 0.1,
               .pass = pass,
               .violation_minutes = pass ? 0 : 3,
               .minutes = 60};
  r.warmup = 180;
  r.simulated_seconds = 3780;
  r.series.step = 10;
  r.series.cores = {core_hours, core_hours + 1};
  r.series.pending_pods = {0, 1};
  r.series.p99_minutes = {p99, std::nan("")};
  return r;
}

// hpa_cpu passes everywhere at 10 core-h, k8s_cpu is cheaper but fails one seed, k8s_cpu_fast
// passes everywhere at 8: the reference is k8s_cpu_fast.
Scoreboard ThreeSeeds() {
  Scoreboard b;
  b.app = "app";
  b.trace = "t.txt";
  b.seeds = {4, 5, 6};
  b.slo = 0.1;
  b.tuned = true;
  auto policy = [](const std::string& name, std::vector<double> core_hours,
                   std::vector<bool> pass) {
    PolicyRuns p;
    for (size_t i = 0; i < core_hours.size(); ++i) {
      p.seeds.push_back(Run(name, core_hours[i], pass[i], pass[i] ? 0.05 : 0.2));
    }
    return p;
  };
  b.policies = {policy("hpa_cpu", {10, 10, 10}, {true, true, true}),
                policy("k8s_cpu", {5, 5, 5}, {true, false, true}),
                policy("k8s_cpu_fast", {8, 8, 8}, {true, true, true}),
                policy("queuelens", {5, 6, 7}, {true, true, true})};
  for (RunResult& r : b.policies[2].seeds) r.summary.setting = "target 0.6";
  return b;
}

TEST(ScoreboardTest, ReferenceIsTheCheapestBaselinePassingInEverySeed) {
  const Scoreboard b = ThreeSeeds();
  ASSERT_NE(b.Reference(), nullptr);
  EXPECT_EQ(b.Reference()->name(), "k8s_cpu_fast");
  EXPECT_FALSE(b.policies[1].pass());
  EXPECT_EQ(b.policies[1].passes(), 2);

  Scoreboard none = b;
  none.policies[0].seeds[2].summary.pass = false;
  none.policies[2].seeds[0].summary.pass = false;
  EXPECT_EQ(none.Reference(), nullptr);
  EXPECT_THAT(FormatScoreboard(none), HasSubstr("reference: none"));
}

TEST(ScoreboardTest, TablePrintsMeansIntervalsPassCountsAndBothRatios) {
  const std::string table = FormatScoreboard(ThreeSeeds());
  EXPECT_THAT(table, HasSubstr("app, trace t.txt, scenario none, seeds 4..6, SLO P99 100 ms"));
  EXPECT_THAT(table, HasSubstr("measured: 60 min after a 3 min warm-up"));
  EXPECT_THAT(table, HasSubstr("over 3 seeds (Student t, 2 degrees of freedom, t = 4.303)"));
  EXPECT_THAT(table, HasSubstr("reference: k8s_cpu_fast (target 0.6)"));
  // queuelens: 5, 6, 7 core-h → 6 ± 4.303 · 1 / √3; per seed 5/8, 6/8, 7/8 of the reference and
  // half, 0.6, 0.7 of hpa_cpu.
  EXPECT_THAT(table, HasSubstr("queuelens                           3/3   6.000 ± 2.484  "
                               "0.75 ± 0.31  0.60 ± 0.25"));
  EXPECT_THAT(table, HasSubstr("k8s_cpu                        2/3 FAIL   5.000 ± 0.000"));
}

TEST(ScoreboardTest, CsvHasARowPerPolicyAndSeedAndTheSummaryOnePerPolicy) {
  const Scoreboard b = ThreeSeeds();
  const std::string runs = ScoreboardCsv(b);
  EXPECT_EQ(Count(runs, "\n"), 1u + 4 * 3);
  EXPECT_THAT(runs, HasSubstr("app,t.txt,none,5,queuelens,,0,6.000000,0.75,0.6,k8s_cpu_fast,"));
  const std::string summary = ScoreboardSummaryCsv(b);
  EXPECT_EQ(Count(summary, "\n"), 1u + 4);
  EXPECT_THAT(summary, HasSubstr("app,trace,scenario,policy,setting,seeds,passes,pass,reference,"
                                 "core_hours_vs_reference_mean,core_hours_vs_reference_ci95,"));
  EXPECT_THAT(summary,
              HasSubstr("app,t.txt,none,k8s_cpu,,3,2,false,k8s_cpu_fast,0.625,0,0.625,0.625,"
                        "0.5,0,0.5,0.5,5,0,5,5,"));
}

TEST(ScoreboardTest, HtmlPlotsBandsAcrossSeedsAndPendingPods) {
  const std::string html = ScoreboardHtml(ThreeSeeds());
  EXPECT_EQ(Count(html, "<svg"), 5u);
  EXPECT_THAT(html, HasSubstr("Pending pods"));
  EXPECT_THAT(html, HasSubstr("<td class=\"fail\">2/3 FAIL</td>"));
  EXPECT_GT(Count(html, "class=\"band\""), 4u);
  EXPECT_THAT(html, Not(HasSubstr("<script")));

  Scoreboard one = ThreeSeeds();
  one.seeds = {4};
  for (PolicyRuns& p : one.policies) p.seeds.resize(1);
  const std::string single = FormatScoreboard(one);
  EXPECT_THAT(single, Not(HasSubstr("±")));
  EXPECT_THAT(single, Not(HasSubstr("confidence")));
}

TEST(EvaluateTest, RunsEveryPolicyWithEverySeed) {
  App app = testing::SingleServiceApp(
      16, 4, {.kind = Distribution::Kind::kExponential, .mean = 0.004, .cv = 1}, 1);
  app.slo_p99 = 0.1;
  const RateTrace trace = testing::ConstantTrace(100, 40);
  EvaluateOptions options;
  options.run.warmup = 0;
  options.run.seed = 5;
  options.seeds = 3;
  options.jobs = 2;
  const Scoreboard b = Evaluate(app, trace, "constant", ParsePolicyList("static,hpa_cpu"), options);
  EXPECT_EQ(b.seeds, (std::vector<uint64_t>{5, 6, 7}));
  ASSERT_EQ(b.policies.size(), 2u);
  for (const PolicyRuns& p : b.policies) ASSERT_EQ(p.seeds.size(), 3u);
  // Each seed's run is the run of that seed alone.
  RunOptions seven = options.run;
  seven.seed = 7;
  const RunSummary alone = RunOne(app, trace, *FindPolicy("static"), seven).summary;
  EXPECT_EQ(b.policies[0].seeds[2].summary.p99, alone.p99);
  EXPECT_EQ(b.policies[0].seeds[2].summary.requests, alone.requests);
  EXPECT_NE(b.policies[0].seeds[0].summary.requests, alone.requests);
  // Candidates that were not run are named; one missing from the build is said to be missing.
  const std::string table = FormatScoreboard(b);
  EXPECT_THAT(table, HasSubstr("k8s_cpu was not evaluated: left out of the reference"));
  if (!FindPolicy("vpa")) {
    EXPECT_THAT(table, HasSubstr("vpa is not a policy of this build"));
  }
}

}  // namespace
}  // namespace sim
