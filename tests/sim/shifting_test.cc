#include "sim/shifting.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "sim/app.h"
#include "sim/simulation.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using testing::ConstantTrace;

// One service of `replicas` pods burning 1 ms of CPU per call, spread over three nodes.
App OneService(int replicas) {
  App app;
  app.name = "shifting";
  app.k8s_namespace = "test";
  app.slo_p99 = 1;
  app.network_delay = 0;
  app.pod_startup = 0;
  NodeGroup group;
  group.name = "worker";
  group.count = 3;
  group.cores = 8;
  group.allocatable = 8;
  app.nodes = {group};
  Step step;
  step.kind = Step::Kind::kCpu;
  step.cpu = {.kind = Distribution::Kind::kConstant, .mean = 0.001, .cv = 0};
  Service svc;
  svc.name = "api";
  svc.threads = 64;
  svc.replicas = replicas;
  svc.cpu_limit = 1;
  svc.cpu_request = 1;
  svc.operations = {{.name = "op", .steps = {step}}};
  app.services.push_back(svc);
  app.requests = {{.name = "op", .weight = 1, .service = "api", .operation = "op"}};
  return app;
}

std::map<std::string, int> CallsPerPod(Simulation& sim, double until) {
  std::map<std::string, int> calls;
  for (double t = 1; t <= until; t += 1) {
    sim.RunUntil(t);
    for (const auto& span : sim.spans().spans()) ++calls[std::string(span.instance)];
    sim.spans().Clear();
  }
  return calls;
}

std::vector<std::string> Pods(const Simulation& sim) {
  std::vector<std::string> out;
  for (const Replica& r : sim.replicas()) {
    if (r.state == ReplicaState::kReady) out.push_back(r.pod);
  }
  return out;
}

TEST(ShiftingTest, WeightedRoutingSendsTheStatedShares) {
  const App app = OneService(3);
  Simulation sim(app, ConstantTrace(200, 60), {.seed = 1});
  const std::vector<std::string> pods = Pods(sim);
  ASSERT_EQ(pods.size(), 3u);
  sim.SetRouteWeights(0, {{pods[0], 0.5, 0}, {pods[1], 0.3, 0}, {pods[2], 0.2, 0}});
  const std::map<std::string, int> calls = CallsPerPod(sim, 50);
  const double total = calls.at(pods[0]) + calls.at(pods[1]) + calls.at(pods[2]);
  ASSERT_GT(total, 9000);
  // Smooth weighted round robin is exact over every cycle of ten calls.
  EXPECT_NEAR(calls.at(pods[0]) / total, 0.5, 0.002);
  EXPECT_NEAR(calls.at(pods[1]) / total, 0.3, 0.002);
  EXPECT_NEAR(calls.at(pods[2]) / total, 0.2, 0.002);
}

TEST(ShiftingTest, UnweightedPodTakesTheMeanWeight) {
  const App app = OneService(3);
  Simulation sim(app, ConstantTrace(200, 60), {.seed = 1});
  const std::vector<std::string> pods = Pods(sim);
  sim.SetRouteWeights(0, {{pods[0], 0.6, 0}, {pods[1], 0.2, 0}});
  const std::map<std::string, int> calls = CallsPerPod(sim, 30);
  const double total = calls.at(pods[0]) + calls.at(pods[1]) + calls.at(pods[2]);
  EXPECT_NEAR(calls.at(pods[0]) / total, 0.6 / 1.2, 0.002);
  EXPECT_NEAR(calls.at(pods[2]) / total, 0.4 / 1.2, 0.002);
}

TEST(ShiftingTest, ScaleInRemovesTheLowestDeletionCostFirst) {
  const App app = OneService(3);
  Simulation sim(app, ConstantTrace(10, 60), {.seed = 1});
  const std::vector<std::string> pods = Pods(sim);
  // The oldest pod has the lowest cost: it goes, not the newest.
  sim.SetRouteWeights(0, {{pods[0], 0.2, 0}, {pods[1], 0.4, 2}, {pods[2], 0.4, 1}});
  sim.SetReplicas(0, 2);
  sim.RunUntil(5);
  EXPECT_EQ(Pods(sim), std::vector<std::string>({pods[1], pods[2]}));
  sim.SetReplicas(0, 1);
  sim.RunUntil(10);
  EXPECT_EQ(Pods(sim), std::vector<std::string>({pods[1]}));
}

}  // namespace
}  // namespace sim
