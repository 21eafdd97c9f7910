#include "sim/simulation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using testing::ConstantTrace;

Step Cpu(double seconds) {
  Step s;
  s.kind = Step::Kind::kCpu;
  s.cpu = {.kind = Distribution::Kind::kConstant, .mean = seconds, .cv = 0};
  return s;
}

Step Call(const char* service, const char* op, bool async = false) {
  Step s;
  s.kind = Step::Kind::kCall;
  s.service = service;
  s.operation = op;
  s.async = async;
  return s;
}

Service Svc(const char* name, std::vector<Step> steps) {
  Service s;
  s.name = name;
  s.threads = 64;
  s.operations = {{.name = "op", .steps = std::move(steps)}};
  return s;
}

// front calls a and b side by side, then c without waiting for it.
App ForkApp() {
  App app;
  app.name = "fork";
  app.k8s_namespace = "test";
  app.network_delay = 0.001;
  app.pod_startup = 0;
  NodeGroup node;
  node.cores = 16;
  app.nodes = {node};
  Step parallel;
  parallel.kind = Step::Kind::kParallel;
  parallel.steps = {Call("a", "op"), Call("b", "op")};
  app.services = {Svc("front", {Cpu(0.002), parallel, Call("c", "op", true)}),
                  Svc("a", {Cpu(0.010)}), Svc("b", {Cpu(0.030)}), Svc("c", {Cpu(0.100)})};
  app.requests = {{.name = "r", .weight = 1, .service = "front", .operation = "op"}};
  return app;
}

class Latencies final : public RequestListener {
 public:
  void OnRequestDone(uint32_t, double start, double end) override { values.push_back(end - start); }
  std::vector<double> values;
};

TEST(SimulationTest, UnixNanosRoundHalvesAwayFromZeroAsLlround) {
  const App app = ForkApp();
  Simulation sim(app, ConstantTrace(1, 1), {.seed = 1});
  for (const double t : {0.0, 1e-9, 1.5e-9, 2.5e-9, 0.49999999999999994e-9, 3779.9999999995,
                         1234.5678901234567, -1.5e-9, -2.4e-9, 1e5 + 0.5e-9}) {
    EXPECT_EQ(sim.ToUnixNanos(t), sim.epoch_nanos() + std::llround(t * 1e9)) << t;
  }
}

TEST(SimulationTest, ParallelCallsOverlapAndAsyncCallsAreNotAwaited) {
  const App app = ForkApp();
  Simulation sim(app, ConstantTrace(1, 1), {.seed = 1});  // about one request
  Latencies latency;
  sim.set_listener(&latency);
  sim.RunUntil(3);
  ASSERT_GE(latency.values.size(), 1u);
  // 2 ms of CPU, then the slower branch: 1 ms there, 30 ms of CPU, 1 ms back. The async call
  // to c (100 ms) is not waited for.
  EXPECT_NEAR(latency.values[0], 0.002 + 0.001 + 0.030 + 0.001, 1e-9);

  std::map<std::string_view, const exporter::spans::Span*> by_service;
  for (const auto& s : sim.spans().spans()) by_service.emplace(s.service, &s);
  ASSERT_EQ(by_service.size(), 4u);
  const auto* front = by_service["front"];
  const auto *a = by_service["a"], *b = by_service["b"], *c = by_service["c"];
  EXPECT_EQ(front->parent_span_id, 0u);
  for (const auto* child : {a, b, c}) {
    EXPECT_EQ(child->parent_span_id, front->span_id);
    EXPECT_EQ(child->trace_id, front->trace_id);
    EXPECT_EQ(child->kind, exporter::spans::SpanKind::kServer);
    EXPECT_EQ(child->k8s_namespace, "test");
  }
  EXPECT_EQ(a->start_unix_nano, b->start_unix_nano);  // the branches start together
  EXPECT_LT(a->end_unix_nano, b->end_unix_nano);
  EXPECT_GT(c->end_unix_nano, front->end_unix_nano);  // the async call outlives its caller
  EXPECT_EQ(front->instance, PodName("front", 0));
}

TEST(SimulationTest, NewReplicasServeOnlyOnceStarted) {
  App app = testing::SingleServiceApp(
      64, 8, {.kind = Distribution::Kind::kConstant, .mean = 0.001, .cv = 0});
  app.pod_startup = 5;
  Simulation sim(app, ConstantTrace(300, 20), {.seed = 2});
  sim.RunUntil(1);
  sim.SetReplicas(0, 3);
  EXPECT_EQ(sim.Replicas(0), 3);
  EXPECT_EQ(sim.ReadyReplicas(0), 1);
  sim.RunUntil(5.99);
  EXPECT_EQ(sim.ReadyReplicas(0), 1);
  for (const auto& s : sim.spans().spans()) EXPECT_EQ(s.instance, PodName("svc", 0));
  sim.spans().Clear();
  sim.RunUntil(6.01);
  EXPECT_EQ(sim.ReadyReplicas(0), 3);
  sim.spans().Clear();
  sim.RunUntil(16);
  std::map<std::string_view, int> per_pod;
  for (const auto& s : sim.spans().spans()) ++per_pod[s.instance];
  ASSERT_EQ(per_pod.size(), 3u);  // round robin over the three ready pods
  int least = per_pod.begin()->second, most = least;
  for (const auto& [pod, n] : per_pod) {
    least = std::min(least, n);
    most = std::max(most, n);
  }
  EXPECT_GT(least, 900);
  EXPECT_LE(most - least, 1);
}

TEST(SimulationTest, RemovedReplicasDrainTheirRequests) {
  App app = testing::SingleServiceApp(
      1, 4, {.kind = Distribution::Kind::kConstant, .mean = 0.5, .cv = 0});
  app.services[0].replicas = 2;
  Simulation sim(app, ConstantTrace(3, 10), {.seed = 3});
  sim.RunUntil(2);
  const Replica& newest = sim.replicas()[1];
  const int in_flight = newest.busy + static_cast<int>(newest.waiting.size());
  ASSERT_GT(in_flight, 0);
  sim.spans().Clear();
  sim.SetReplicas(0, 1);
  EXPECT_EQ(newest.state, ReplicaState::kDraining);
  EXPECT_EQ(sim.Replicas(0), 1);
  sim.RunUntil(10);
  EXPECT_EQ(newest.state, ReplicaState::kGone);
  // What was routed to it before the drain was served there, and nothing after.
  int served = 0;
  for (const auto& s : sim.spans().spans()) served += s.instance == PodName("svc", 1) ? 1 : 0;
  EXPECT_EQ(served, in_flight);
}

TEST(SimulationTest, CpuLimitAppliesToEveryReplica) {
  App app = testing::SingleServiceApp(
      64, 8, {.kind = Distribution::Kind::kConstant, .mean = 0.001, .cv = 0});
  app.pod_startup = 0;
  Simulation sim(app, ConstantTrace(10, 5), {.seed = 4});
  sim.SetReplicas(0, 2);
  sim.SetCpuLimit(0, 0.25);
  sim.SetReplicas(0, 3);  // a new pod gets the service's current limit
  for (const Replica& r : sim.replicas()) EXPECT_DOUBLE_EQ(sim.cpu().Limit(r.container), 0.25);
  EXPECT_DOUBLE_EQ(sim.CpuLimit(0), 0.25);
}

TEST(SimulationTest, NodeBackgroundLoadShowsAsRunQueueWait) {
  auto wait_with = [](double background_threads) {
    // Two worker threads on two cores: the app alone never has more runnable threads than cores.
    App app = testing::SingleServiceApp(
        2, 2, {.kind = Distribution::Kind::kConstant, .mean = 0.002, .cv = 0});
    app.nodes[0].background = {.mean = background_threads, .amplitude = 0, .period = 60};
    Simulation sim(app, ConstantTrace(400, 10), {.seed = 5});  // 0.8 of the 2 cores
    sim.RunUntil(10);
    return sim.Counters(0).run_delay_seconds;
  };
  EXPECT_EQ(wait_with(0), 0);
  EXPECT_GT(wait_with(4), 1);  // other tenants' threads take turns with ours
}

TEST(SimulationTest, SameSeedSameRun) {
  const App app = ForkApp();
  auto run = [&](uint64_t seed) {
    Simulation sim(app, ConstantTrace(200, 5), {.seed = seed});
    sim.RunUntil(6);
    std::vector<int64_t> ends;
    for (const auto& s : sim.spans().spans()) ends.push_back(s.end_unix_nano);
    return std::make_pair(sim.events(), ends);
  };
  EXPECT_EQ(run(8), run(8));
  EXPECT_NE(run(8), run(9));
}

}  // namespace
}  // namespace sim
