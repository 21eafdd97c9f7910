// DeepScaler's training data from the simulator: per-minute samples and the call graph's edges.
#include "sim/dataset.h"

#include <gtest/gtest.h>

#include "tests/sim/test_apps.h"

namespace sim {
namespace {

namespace rp = recommender::predict;

Step Call(std::string service, std::string operation, double probability = 1, int repeat = 1) {
  Step s;
  s.kind = Step::Kind::kCall;
  s.service = std::move(service);
  s.operation = std::move(operation);
  s.probability = probability;
  s.repeat = repeat;
  return s;
}

TEST(CallGraphEdges, WeighsCallsByTheMixProbabilitiesAndRepeats) {
  App app;
  Service front, back, db;
  front.name = "front";
  back.name = "back";
  db.name = "db";
  Step parallel;
  parallel.kind = Step::Kind::kParallel;
  parallel.steps = {Call("back", "get", 0.5, 2)};
  front.operations = {{.name = "read", .steps = {parallel}},
                      {.name = "write", .steps = {Call("db", "put")}}};
  back.operations = {{.name = "get", .steps = {Call("db", "put", 1, 3)}}};
  db.operations = {{.name = "put", .steps = {}}};
  app.services = {front, back, db};
  app.requests = {{.name = "read", .weight = 1, .service = "front", .operation = "read"},
                  {.name = "write", .weight = 3, .service = "front", .operation = "write"}};
  // 400 requests: 100 reads make 0.5·2 = 1 call to back each, which makes 3 to db; 300 writes
  // make one call to db each.
  const std::vector<rp::Edge> edges = CallGraphEdges(app, 400);
  ASSERT_EQ(edges.size(), 3u);
  EXPECT_EQ(edges[0].caller, "back");
  EXPECT_EQ(edges[0].callee, "db");
  EXPECT_DOUBLE_EQ(edges[0].calls, 300);
  EXPECT_EQ(edges[1].callee, "back");
  EXPECT_DOUBLE_EQ(edges[1].calls, 100);
  EXPECT_EQ(edges[2].callee, "db");
  EXPECT_DOUBLE_EQ(edges[2].calls, 300);
}

TEST(MinuteSampler, MeasuresEachMinutesRateUtilisationAndResponseTime) {
  // 20 req/s of 10 ms CPU on a 1-core limit: 20 % utilisation, about 10 ms per request.
  const App app =
      testing::SingleServiceApp(4, 4, {.kind = Distribution::Kind::kConstant, .mean = 0.01}, 1);
  Simulation sim(app, testing::ConstantTrace(20, 180), {.seed = 3, .emit_spans = false});
  MinuteSampler sampler(app);
  for (int k = 1; k <= 1800; ++k) {
    sim.RunUntil(k * 0.1);
    sampler.Sample(sim);
  }
  const rp::Series& s = sampler.series();
  ASSERT_EQ(s.minutes, 3);
  EXPECT_EQ(s.services, std::vector<std::string>{"svc"});
  for (int m = 0; m < 3; ++m) {
    EXPECT_EQ(s.At(m, 0, rp::kReplicas), 1);
    EXPECT_NEAR(s.At(m, 0, rp::kRequestRate), 20, 2.5) << m;
    EXPECT_NEAR(s.At(m, 0, rp::kCpuUtilization), 0.2, 0.03) << m;
    EXPECT_NEAR(s.At(m, 0, rp::kResponseSeconds), 0.01, 1e-3) << m;
  }
}

TEST(RecordDataset, IsDeterministicForASeedAndRunsEveryPolicyAndSeed) {
  const App app =
      testing::SingleServiceApp(4, 4, {.kind = Distribution::Kind::kConstant, .mean = 0.01}, 1);
  RunOptions o;
  o.seed = 9;
  o.warmup = 0;
  const RateTrace trace = testing::ConstantTrace(20, 120);
  const std::vector<PolicySpec> policies = ParsePolicyList("hpa_cpu");
  const Dataset a = RecordDataset(app, trace, policies, 2, o);
  const Dataset b = RecordDataset(app, trace, policies, 2, o);
  ASSERT_EQ(a.runs.size(), 2u);
  EXPECT_EQ(a.runs[0].minutes, 2);
  EXPECT_EQ(a.runs[0].values, b.runs[0].values);
  EXPECT_EQ(a.runs[1].values, b.runs[1].values);
  EXPECT_NE(a.runs[0].values, a.runs[1].values);  // seeds 9 and 10
  EXPECT_TRUE(a.edges.empty());                   // one service calls no other
  std::vector<rp::Series> parsed;
  std::string error;
  ASSERT_TRUE(rp::ParseSeriesCsv(rp::FormatSeriesCsv(a.runs), &parsed, &error)) << error;
  EXPECT_EQ(parsed.size(), 2u);
}

}  // namespace
}  // namespace sim
