// Little's law in the simulator's own counters, and the exporter's estimates on simulated spans
// against the simulator's ground truth.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "exporter/state/state.h"
#include "sim/simulation.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using testing::ConstantTrace;

// frontend → (search → ‖{geo, rate + store}) then profile + store: sequential and parallel calls,
// network delays and store delays, on 4 cores shared by 8 threads per service.
App ChainApp() {
  App app;
  app.name = "chain";
  app.k8s_namespace = "test";
  app.network_delay = 200e-6;
  app.pod_startup = 0;
  NodeGroup node;
  node.cores = 4;
  app.nodes = {node};
  auto cpu = [](double mean) {
    Step s;
    s.kind = Step::Kind::kCpu;
    s.cpu = {.kind = Distribution::Kind::kExponential, .mean = mean, .cv = 0};
    return s;
  };
  auto call = [](const char* service, const char* op) {
    Step s;
    s.kind = Step::Kind::kCall;
    s.service = service;
    s.operation = op;
    return s;
  };
  Step store;
  store.kind = Step::Kind::kStore;
  store.delay = 0.002;
  Step parallel;
  parallel.kind = Step::Kind::kParallel;
  parallel.steps = {call("geo", "near"), call("rate", "get")};
  auto service = [](const char* name, const char* op, std::vector<Step> steps) {
    Service s;
    s.name = name;
    s.threads = 8;
    s.operations = {{.name = op, .steps = std::move(steps)}};
    return s;
  };
  app.services = {
      service("frontend", "search",
              {cpu(0.0005), call("search", "nearby"), call("profile", "get")}),
      service("search", "nearby", {cpu(0.0003), parallel}),
      service("geo", "near", {cpu(0.001)}),
      service("rate", "get", {cpu(0.0005), store}),
      service("profile", "get", {cpu(0.0008), store}),
  };
  app.requests = {{.name = "search", .weight = 1, .service = "frontend", .operation = "search"}};
  return app;
}

TEST(TruthTest, LittlesLawHoldsInTheSimulatorsCounters) {
  const App app = ChainApp();
  // About 0.8 of the 4 cores are busy: moderate load with queueing for CPU.
  Simulation sim(app, ConstantTrace(800, 120), {.seed = 3, .emit_spans = false});
  sim.RunUntil(60);  // mid-run: requests are in flight
  for (uint32_t s = 0; s < app.services.size(); ++s) {
    const ServiceTruth t = sim.Truth(s);
    const double mean_in_system = t.present_area / 60;
    const double throughput = static_cast<double>(t.completions) / 60;
    const double mean_sojourn = t.sojourn_sum / static_cast<double>(t.completions);
    // Only the few requests in flight at t = 60 s are in the area and not yet in the sum.
    EXPECT_NEAR(mean_in_system, throughput * mean_sojourn, 0.01 * mean_in_system)
        << app.services[s].name;
  }
  sim.RunUntil(sim.end() + 5);  // drained: every request's whole stay is in both counters
  for (uint32_t s = 0; s < app.services.size(); ++s) {
    const ServiceTruth t = sim.Truth(s);
    EXPECT_EQ(t.present, 0);
    EXPECT_EQ(t.arrivals, t.completions);
    EXPECT_NEAR(t.present_area, t.sojourn_sum, 1e-9 * t.sojourn_sum) << app.services[s].name;
  }
}

TEST(TruthTest, ExporterQueueLengthAndInflightMatchTheTrueTimeAverages) {
  // M/D/1 at ρ = 0.7: a real queue in front of one worker thread, and a constant service time,
  // so the exporter's uncongested time (the 10th percentile of exclusive time) is the service
  // time and its queue_length = λ·(W − S) is the mean number waiting.
  constexpr double kServiceTime = 0.01;
  constexpr double kRate = 70;
  const App app = testing::SingleServiceApp(
      1, 1, {.kind = Distribution::Kind::kConstant, .mean = kServiceTime, .cv = 0});
  Simulation sim(app, ConstantTrace(kRate, 900), {.seed = 11, .emit_spans = true});
  exporter::state::State state({});

  // Cumulative ground truth every half second, to average over the exporter's window.
  std::vector<ServiceTruth> truth;
  constexpr double kTick = 0.5;
  const double until = 600;
  for (int i = 1; i * kTick <= until; ++i) {
    const double t = i * kTick;
    sim.RunUntil(t);
    truth.push_back(sim.Truth(0));
    if (i % 2 == 0) {  // spans reach the exporter once a second
      const auto now = common::TimePoint{std::chrono::nanoseconds{sim.ToUnixNanos(t)}};
      state.Add(sim.spans(), now);
      sim.spans().Clear();
    }
  }
  const auto snap =
      state.Snapshot(common::TimePoint{std::chrono::nanoseconds{sim.ToUnixNanos(until)}});
  ASSERT_EQ(snap->services.size(), 1u);
  const auto& svc = snap->services[0];
  ASSERT_GT(svc.window_requests, 2000u);

  // The window holds the requests whose traces finished in it: completed 5–6 s earlier (the
  // trace wait plus up to one second until the next batch).
  const double covered = static_cast<double>(svc.window_requests) / svc.arrival_rate;
  const double lag = 5.5;
  auto area_at = [&](double t, double ServiceTruth::*field) {
    return truth[static_cast<size_t>(std::lround(t / kTick)) - 1].*field;
  };
  const double to = until - lag, from = to - covered;
  const double true_in_system =
      (area_at(to, &ServiceTruth::present_area) - area_at(from, &ServiceTruth::present_area)) /
      covered;
  const double true_waiting =
      (area_at(to, &ServiceTruth::waiting_area) - area_at(from, &ServiceTruth::waiting_area)) /
      covered;

  EXPECT_NEAR(svc.uncongested, kServiceTime, 0.01 * kServiceTime);  // the sketch's 1 %
  EXPECT_NEAR(svc.inflight, true_in_system, 0.1 * true_in_system);
  EXPECT_NEAR(svc.queue_length, true_waiting, 0.1 * true_waiting);
  // M/D/1: Lq = ρ² / (2 (1 − ρ)) ≈ 0.82; the window is one minute, so only loosely.
  EXPECT_NEAR(true_waiting, 0.7 * 0.7 / (2 * 0.3), 0.3);
}

}  // namespace
}  // namespace sim
