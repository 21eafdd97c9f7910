#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/emitters.h"
#include "sim/simulation.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using testing::ConstantTrace;
using testing::SingleServiceApp;

constexpr Distribution kTwoMs = {.kind = Distribution::Kind::kConstant, .mean = 0.002, .cv = 0};

// Two services of four threads, one pod each, on two nodes of four cores: each pod lands on its
// own node and alone never has more runnable threads than cores.
App TwoNodeApp() {
  App app = SingleServiceApp(4, 4, kTwoMs);
  app.nodes[0].count = 2;
  app.services[0].cpu_request = 1;
  Service other = app.services[0];
  other.name = "other";
  app.services.push_back(other);
  app.requests.push_back({.name = "other", .weight = 1, .service = "other", .operation = "op"});
  return app;
}

std::string ParseError(const std::string& yaml) {
  try {
    ParseScenario(yaml);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ScenarioTest, ParsesAnAntagonist) {
  const Scenario s = ParseScenario(R"(
name: t
description: a test
antagonists:
  - kind: cpu
    node: node-1
    start: 2m
    on: {dist: pareto, mean: 90s, shape: 1.8}
    off: {dist: lognormal, mean: 3m, cv: 2}
    core_fraction: [0.25, 0.75]
    move_every: 5m
  - {kind: membw, on: 1m, off: 2m, slowdown: 1.3}
)");
  EXPECT_EQ(s.name, "t");
  EXPECT_EQ(s.description, "a test");
  ASSERT_EQ(s.antagonists.size(), 2u);
  const Antagonist& a = s.antagonists[0];
  EXPECT_EQ(a.kind, Antagonist::Kind::kCpu);
  EXPECT_EQ(a.node, "node-1");
  EXPECT_EQ(a.start, 120);
  EXPECT_EQ(a.on.kind, Holding::Kind::kPareto);
  EXPECT_EQ(a.on.mean, 90);
  EXPECT_EQ(a.on.shape, 1.8);
  EXPECT_EQ(a.off.kind, Holding::Kind::kLognormal);
  EXPECT_EQ(a.off.cv, 2);
  EXPECT_EQ(a.core_fraction_min, 0.25);
  EXPECT_EQ(a.core_fraction_max, 0.75);
  EXPECT_EQ(a.move_every, 300);
  const Antagonist& b = s.antagonists[1];
  EXPECT_EQ(b.kind, Antagonist::Kind::kMembw);
  EXPECT_EQ(b.node, "0");
  EXPECT_EQ(b.on.kind, Holding::Kind::kConstant);
  EXPECT_EQ(b.off.mean, 120);
  EXPECT_EQ(b.slowdown, 1.3);
}

TEST(ScenarioTest, ParseErrorsNameTheField) {
  const std::string head = "name: t\nantagonists:\n  - ";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"name: t\nantagonist: []\n", "scenario: unknown key \"antagonist\""},
      {"antagonists: []\n", "name: required"},
      {head + "{kind: gpu, on: 1m, off: 1m, threads: 1}", "antagonists[0].kind: unknown kind"},
      {head + "{kind: cpu, off: 1m, threads: 1}", "antagonists[0].on: required"},
      {head + "{kind: cpu, on: {dist: pareto, mean: 1m, shape: 1}, off: 1m, threads: 1}",
       "antagonists[0].on.shape: must be > 1"},
      {head + "{kind: cpu, on: 1m, off: {dist: weibull, mean: 1m}, threads: 1}",
       "antagonists[0].off.dist: unknown distribution"},
      {head + "{kind: cpu, on: 1m, off: {mean: -1}, threads: 1}", "antagonists[0].off.mean"},
      {head + "{kind: cpu, on: 1m, off: 1m}", "antagonists[0]: a cpu antagonist needs exactly one"},
      {head + "{kind: cpu, on: 1m, off: 1m, thread: 1}", "antagonists[0]: unknown key \"thread\""},
      {head + "{kind: cpu, on: 1m, off: 1m, core_fraction: [1, 0.5]}",
       "antagonists[0].core_fraction: needs 0 < min"},
      {head + "{kind: cpu, on: 1m, off: 1m, threads: 1, slowdown: 2}",
       "antagonists[0].slowdown: only for kind: membw"},
      {head + "{kind: membw, on: 1m, off: 1m}", "antagonists[0].slowdown: required"},
      {head + "{kind: membw, on: 1m, off: 1m, slowdown: 0.5}", "antagonists[0].slowdown: must be"},
      {head + "{kind: cpu, on: 1m, off: 1m, threads: 1, move_every: soon}",
       "antagonists[0].move_every: not a number"},
  };
  for (const auto& [yaml, message] : cases) {
    EXPECT_NE(ParseError(yaml).find(message), std::string::npos)
        << yaml << "\n→ " << ParseError(yaml);
  }
}

TEST(ScenarioTest, UnknownNodeIsAnErrorNamingTheField) {
  const App app = TwoNodeApp();
  for (const std::string node : {"2", "worker-0", ""}) {
    Scenario s;
    s.antagonists.push_back({.node = node, .threads = 1});
    try {
      CheckScenario(s, app);
      ADD_FAILURE() << node;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("antagonists[0].node: the app has no node"),
                std::string::npos)
          << e.what();
    }
  }
  Scenario ok;
  ok.antagonists.push_back({.node = "node-1", .threads = 1});
  ok.antagonists.push_back({.node = "1", .threads = 1});
  EXPECT_NO_THROW(CheckScenario(ok, app));
}

TEST(ScenarioTest, ShippedScenariosLoadByName) {
  const std::string app_path = QL_SOURCE_DIR "/sim/apps/hotel-reservation.yaml";
  const App app = LoadApp(app_path);
  for (const std::string name : {"none", "noisy-node", "rolling", "memory-bandwidth"}) {
    const Scenario s = LoadScenario(name, app_path);
    EXPECT_EQ(s.name, name);
    EXPECT_NO_THROW(CheckScenario(s, app)) << name;
    EXPECT_EQ(s.antagonists.empty(), name == "none") << name;
  }
  EXPECT_EQ(LoadScenario(QL_SOURCE_DIR "/sim/scenarios/rolling.yaml", "").name, "rolling");
  EXPECT_THROW(LoadScenario("no-such-scenario", app_path), std::invalid_argument);
  // Without a scenarios directory beside the app, "none" still means no interference.
  EXPECT_TRUE(LoadScenario("none", "/nonexistent/app.yaml").antagonists.empty());
}

TEST(ScenarioTest, HoldingTimesHaveTheirMeans) {
  Rng rng(3);
  // Shape 3 has a finite variance, so the sample mean settles; shape 1.5 (the files') does not.
  const Holding pareto = {.kind = Holding::Kind::kPareto, .mean = 60, .shape = 3};
  const Holding lognormal = {.kind = Holding::Kind::kLognormal, .mean = 60, .cv = 1};
  double sum_pareto = 0, sum_lognormal = 0, min_pareto = kInfinity;
  constexpr int kDraws = 200'000;
  for (int i = 0; i < kDraws; ++i) {
    const double x = pareto.Sample(rng);
    sum_pareto += x;
    min_pareto = std::min(min_pareto, x);
    sum_lognormal += lognormal.Sample(rng);
  }
  EXPECT_NEAR(sum_pareto / kDraws, 60, 60 * 0.02);
  EXPECT_NEAR(sum_lognormal / kDraws, 60, 60 * 0.02);
  EXPECT_GE(min_pareto, 60 * 2.0 / 3);  // the scale x_m = mean (α − 1) / α
  EXPECT_LT(min_pareto, 60 * 2.0 / 3 * 1.001);
}

TEST(ScenarioTest, RollingAntagonistMovesToTheNextNode) {
  App app = TwoNodeApp();
  app.nodes[0].count = 3;
  Scenario s;
  s.antagonists.push_back({.node = "1",
                           .start = 30,
                           .on = {.kind = Holding::Kind::kConstant, .mean = 1000},
                           .off = {.kind = Holding::Kind::kConstant, .mean = 10},
                           .core_fraction_min = 0.5,
                           .core_fraction_max = 0.5,
                           .move_every = 60});
  const std::vector<InterferenceChange> expected = {
      {30, 1, 2, 1},  {90, 1, 0, 1},  {90, 2, 2, 1},  {150, 0, 2, 1},
      {150, 2, 0, 1}, {210, 0, 0, 1}, {210, 1, 2, 1},
  };
  EXPECT_EQ(InterferenceTimeline(s, app, 1, 250), expected);
}

TEST(ScenarioTest, AntagonistsOnOneNodeAddThreadsAndMultiplySlowdowns) {
  const App app = TwoNodeApp();
  Scenario s;
  const Holding on = {.kind = Holding::Kind::kConstant, .mean = 10};
  const Holding off = {.kind = Holding::Kind::kConstant, .mean = 10};
  s.antagonists.push_back({.node = "0", .on = on, .off = off, .threads = 3});
  s.antagonists.push_back({.node = "0", .start = 5, .on = on, .off = off, .threads = 2});
  s.antagonists.push_back({.kind = Antagonist::Kind::kMembw,
                           .node = "0",
                           .start = 5,
                           .on = on,
                           .off = off,
                           .slowdown = 1.5});
  s.antagonists.push_back({.kind = Antagonist::Kind::kMembw,
                           .node = "0",
                           .start = 8,
                           .on = on,
                           .off = off,
                           .slowdown = 2});
  const std::vector<InterferenceChange> expected = {
      {0, 0, 3, 1}, {5, 0, 5, 1.5}, {8, 0, 5, 3}, {10, 0, 2, 3}, {15, 0, 0, 2}, {18, 0, 0, 1},
  };
  EXPECT_EQ(InterferenceTimeline(s, app, 1, 20), expected);
}

TEST(ScenarioTest, SameSeedSameTimeline) {
  const App app = LoadApp(QL_SOURCE_DIR "/sim/apps/hotel-reservation.yaml");
  const Scenario s = LoadScenario(QL_SOURCE_DIR "/sim/scenarios/rolling.yaml", "");
  const auto day = InterferenceTimeline(s, app, 5, 86400);
  EXPECT_GT(day.size(), 100u);
  EXPECT_EQ(day, InterferenceTimeline(s, app, 5, 86400));
  EXPECT_NE(day, InterferenceTimeline(s, app, 6, 86400));
  // A shorter run sees the beginning of the same timeline.
  const auto hour = InterferenceTimeline(s, app, 5, 3600);
  ASSERT_LT(hour.size(), day.size());
  EXPECT_TRUE(std::equal(hour.begin(), hour.end(), day.begin()));
  EXPECT_GE(day[hour.size()].time, 3600);
  // One to one and a half threads per core of a 32-core node while on.
  for (const InterferenceChange& c : day) {
    EXPECT_TRUE(c.threads == 0 || (c.threads >= 32 && c.threads <= 48)) << c.threads;
  }
}

Scenario AlwaysOn(Antagonist a) {
  a.on = {.kind = Holding::Kind::kConstant, .mean = 1e6};
  a.off = {.kind = Holding::Kind::kConstant, .mean = 1};
  Scenario s;
  s.name = "always";
  s.antagonists.push_back(a);
  return s;
}

TEST(ScenarioTest, NoisyNodeRaisesRunQueueWaitOfItsPodsOnly) {
  const App app = TwoNodeApp();
  struct Result {
    double wait[2];
    double pressure[2];
    uint64_t kernel_wait_ns[2];
    uint64_t requests;
  };
  auto run = [&](const Scenario& scenario) {
    Simulation sim(app, ConstantTrace(400, 10), {.seed = 3, .scenario = scenario});
    sim.RunUntil(10);
    EXPECT_EQ(sim.replicas()[0].node, 0);
    EXPECT_EQ(sim.replicas()[1].node, 1);
    exporter::kernel::KernelSample sample;
    FillKernelSample(sim, sample);
    Result r{};
    for (uint32_t i = 0; i < 2; ++i) {
      r.wait[i] = sim.Counters(i).run_delay_seconds;
      r.pressure[i] = sim.Counters(i).pressure_some_seconds;
      r.kernel_wait_ns[i] = sample.containers[i].wait_ns;
    }
    r.requests = sim.requests_started();
    return r;
  };
  const Result quiet = run(Scenario{});
  // Eight batch threads on node-0's four cores.
  const Result noisy = run(AlwaysOn({.node = "node-0", .threads = 8}));
  EXPECT_EQ(quiet.wait[0], 0);
  EXPECT_EQ(quiet.wait[1], 0);
  EXPECT_GT(noisy.wait[0], 1);  // ~0.4 cores of work, at most 4/9 of a core per thread
  EXPECT_GT(noisy.pressure[0], 1);
  EXPECT_GT(noisy.kernel_wait_ns[0], 1'000'000'000u);
  EXPECT_EQ(noisy.wait[1], 0);
  EXPECT_EQ(noisy.pressure[1], 0);
  EXPECT_EQ(noisy.kernel_wait_ns[1], 0u);
  // The scenario has its own random stream: the arrivals are the same.
  EXPECT_EQ(noisy.requests, quiet.requests);
}

TEST(ScenarioTest, MemoryBandwidthStretchesServiceTimeByTheSlowdown) {
  // Ten-millisecond requests on more threads and cores than ever run at once: the time at the
  // service is the CPU step alone.
  const App app =
      SingleServiceApp(64, 64, {.kind = Distribution::Kind::kConstant, .mean = 0.01, .cv = 0});
  auto mean_time = [&](const Scenario& scenario) {
    Simulation sim(app, ConstantTrace(50, 20), {.seed = 4, .scenario = scenario});
    sim.RunUntil(21);
    const ServiceTruth t = sim.Truth(0);
    EXPECT_GT(t.completions, 500u);
    return t.sojourn_sum / static_cast<double>(t.completions);
  };
  EXPECT_NEAR(mean_time(Scenario{}), 0.01, 1e-9);
  EXPECT_NEAR(mean_time(AlwaysOn({.kind = Antagonist::Kind::kMembw, .slowdown = 1.3})), 0.013,
              1e-9);
}

}  // namespace
}  // namespace sim
