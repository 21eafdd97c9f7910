#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/app.h"
#include "sim/simulation.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using testing::ConstantTrace;

struct Spec {
  const char* name;
  double request;  // cores; the limit is the same (Guaranteed)
  int replicas = 1;
};

// Services burning 1 ms of CPU per call on `nodes` nodes with `allocatable` cores each; requests
// go to the first service.
App CapacityApp(const std::vector<Spec>& specs, int nodes, double allocatable) {
  App app;
  app.name = "capacity";
  app.k8s_namespace = "test";
  app.slo_p99 = 1;
  app.network_delay = 0;
  app.pod_startup = 5;
  NodeGroup group;
  group.name = "worker";
  group.count = nodes;
  group.cores = 8;
  group.allocatable = allocatable;
  app.nodes = {group};
  Step step;
  step.kind = Step::Kind::kCpu;
  step.cpu = {.kind = Distribution::Kind::kConstant, .mean = 0.001, .cv = 0};
  for (const Spec& spec : specs) {
    Service svc;
    svc.name = spec.name;
    svc.threads = 64;
    svc.replicas = spec.replicas;
    svc.cpu_limit = spec.request;
    svc.cpu_request = spec.request;
    svc.operations = {{.name = "op", .steps = {step}}};
    app.services.push_back(svc);
  }
  app.requests = {{.name = "op", .weight = 1, .service = specs[0].name, .operation = "op"}};
  return app;
}

// Nodes of the service's pods that are not gone, oldest pod first.
std::vector<int> NodesOf(const Simulation& sim, uint32_t service) {
  std::vector<int> out;
  for (const Replica& r : sim.replicas()) {
    if (r.service == service && r.state != ReplicaState::kGone) out.push_back(r.node);
  }
  return out;
}

TEST(CapacityTest, PlacesOnTheLeastAllocatedNodeThatFits) {
  // a (1 core) starts on node 0, b (3 cores) on the emptier node 1.
  const App app = CapacityApp({{"a", 1}, {"b", 3}}, 3, 4);
  Simulation sim(app, ConstantTrace(1, 1), {.seed = 1});
  EXPECT_EQ(NodesOf(sim, 1), std::vector<int>({1}));
  // Requested 1/3/0: the empty node 2 scores 75, then node 0 and node 2 tie at 50 (lowest index).
  sim.SetReplicas(0, 3);
  EXPECT_EQ(NodesOf(sim, 0), std::vector<int>({0, 2, 0}));
  EXPECT_DOUBLE_EQ(sim.NodeRequested(0), 2);
  EXPECT_DOUBLE_EQ(sim.NodeRequested(1), 3);
  // Node 1 still fits 1 core exactly, but scores 0 against node 2's 50.
  sim.SetReplicas(0, 4);
  EXPECT_EQ(NodesOf(sim, 0).back(), 2);
  // Free: 2, 1, 2 cores. A second b (3 cores) fits nowhere: Pending, yet a desired replica.
  sim.SetReplicas(1, 2);
  EXPECT_EQ(sim.Replicas(1), 2);
  EXPECT_EQ(sim.PendingReplicas(1), 1);
  EXPECT_EQ(sim.PendingReplicas(), 1);
  EXPECT_EQ(NodesOf(sim, 1).size(), 1u);
  for (int n = 0; n < 3; ++n) EXPECT_LE(sim.NodeRequested(n), sim.NodeAllocatable(n));
}

TEST(CapacityTest, PendingPodsGetNoTrafficAndAreScheduledWhenAPodGoes) {
  // One node of 4 cores: a (1 core) and two b (1 core each) leave room for one more pod.
  const App app = CapacityApp({{"a", 1}, {"b", 1, 2}}, 1, 4);
  Simulation sim(app, ConstantTrace(100, 60), {.seed = 2});
  sim.RunUntil(1);
  sim.SetReplicas(0, 3);
  EXPECT_EQ(sim.Replicas(0), 3);
  EXPECT_EQ(sim.PendingReplicas(0), 1);
  sim.RunUntil(10);
  EXPECT_EQ(sim.ReadyReplicas(0), 2);
  EXPECT_EQ(sim.PendingReplicas(0), 1);
  std::set<std::string_view> pods;
  for (const auto& s : sim.spans().spans()) pods.insert(s.instance);
  EXPECT_EQ(pods.size(), 2u);  // the Pending pod has no container and serves nothing
  EXPECT_EQ(pods.count(PodName("a", 2)), 0u);

  sim.SetReplicas(1, 1);  // b's newest pod drains (b gets no requests), so goes at once
  EXPECT_EQ(sim.PendingReplicas(0), 0);
  const Replica& placed = sim.replicas().back();
  EXPECT_EQ(placed.service, 0u);
  EXPECT_DOUBLE_EQ(placed.created, 10);
  EXPECT_EQ(placed.state, ReplicaState::kStarting);
  sim.RunUntil(15.01);
  EXPECT_EQ(sim.ReadyReplicas(0), 3);
}

TEST(CapacityTest, LoweringALimitFreesRequestsForPendingPods) {
  const App app = CapacityApp({{"a", 1, 4}}, 1, 4);
  Simulation sim(app, ConstantTrace(1, 30), {.seed = 3});
  sim.SetReplicas(0, 6);
  EXPECT_EQ(sim.PendingReplicas(0), 2);
  // Guaranteed pods: the request follows the limit down, 4 × 0.5 cores, room for the two.
  sim.SetCpuLimit(0, 0.5);
  EXPECT_EQ(sim.PendingReplicas(0), 0);
  EXPECT_DOUBLE_EQ(sim.NodeRequested(0), 3);
  EXPECT_EQ(sim.infeasible_resizes(), 0u);
}

TEST(CapacityTest, AResizeBeyondTheNodeIsLeftUnappliedAndCounted) {
  // 5 cores: a's two pods and b's two take 4.
  const App app = CapacityApp({{"a", 1, 2}, {"b", 1, 2}}, 1, 5);
  Simulation sim(app, ConstantTrace(1, 30), {.seed = 4});
  sim.SetCpuLimit(0, 2);  // the first pod grows to 2 cores (5 of 5), the second cannot
  EXPECT_EQ(sim.infeasible_resizes(), 1u);
  const Replica& first = sim.replicas()[0];
  const Replica& second = sim.replicas()[1];
  EXPECT_DOUBLE_EQ(sim.cpu().Limit(first.container), 2);
  EXPECT_DOUBLE_EQ(first.cpu_request, 2);
  EXPECT_DOUBLE_EQ(sim.cpu().Limit(second.container), 1);
  EXPECT_DOUBLE_EQ(second.cpu_request, 1);
  EXPECT_DOUBLE_EQ(sim.NodeRequested(0), 5);
  // Burstable pods keep their request when the limit rises: no capacity needed.
  App burstable = CapacityApp({{"a", 1, 5}}, 1, 5);
  burstable.services[0].cpu_limit = 2;
  Simulation other(burstable, ConstantTrace(1, 30), {.seed = 4});
  other.SetCpuLimit(0, 4);
  EXPECT_EQ(other.infeasible_resizes(), 0u);
  EXPECT_DOUBLE_EQ(other.NodeRequested(0), 5);
}

TEST(CapacityTest, ScalingDownRemovesPendingPodsFirst) {
  const App app = CapacityApp({{"a", 1, 2}}, 1, 3);
  Simulation sim(app, ConstantTrace(100, 30), {.seed = 5});
  sim.RunUntil(1);
  sim.SetReplicas(0, 5);  // one more placed, two Pending
  EXPECT_EQ(sim.PendingReplicas(0), 2);
  sim.SetReplicas(0, 3);
  EXPECT_EQ(sim.PendingReplicas(0), 0);
  EXPECT_EQ(NodesOf(sim, 0).size(), 3u);
  for (const Replica& r : sim.replicas()) EXPECT_NE(r.state, ReplicaState::kDraining);
  sim.SetReplicas(0, 2);  // now a placed pod goes: the starting one
  EXPECT_EQ(NodesOf(sim, 0).size(), 2u);
}

TEST(CapacityTest, NodeAutoscalerAddsANodeAfterTheDelayAndRemovesItWhenUnneeded) {
  App app = CapacityApp({{"a", 1}}, 1, 2);
  app.node_autoscaler = NodeAutoscaler{.group = "worker",
                                       .min_nodes = 1,
                                       .max_nodes = 3,
                                       .provisioning_delay = 60,
                                       .scale_down_unneeded_time = 600};
  Simulation sim(app, ConstantTrace(1, 2000), {.seed = 6});
  sim.RunUntil(10);
  sim.SetReplicas(0, 3);  // node 0 takes one more; one Pending
  EXPECT_EQ(sim.PendingReplicas(0), 1);
  sim.RunUntil(69.999);
  EXPECT_EQ(sim.Nodes(), 1);
  EXPECT_EQ(sim.PendingReplicas(0), 1);
  sim.RunUntil(70);
  EXPECT_EQ(sim.Nodes(), 2);
  EXPECT_EQ(sim.PendingReplicas(0), 0);
  EXPECT_EQ(sim.replicas().back().node, 1);
  EXPECT_DOUBLE_EQ(sim.replicas().back().created, 70);

  // Three more: one fits node 1, two wait for one node (one at a time), which takes both.
  sim.RunUntil(100);
  sim.SetReplicas(0, 6);
  EXPECT_EQ(sim.PendingReplicas(0), 2);
  sim.RunUntil(159.999);
  EXPECT_EQ(sim.Nodes(), 2);
  sim.RunUntil(160);
  EXPECT_EQ(sim.Nodes(), 3);
  EXPECT_EQ(sim.PendingReplicas(0), 0);
  // At max_nodes a Pending pod waits.
  sim.RunUntil(200);
  sim.SetReplicas(0, 7);
  sim.RunUntil(400);
  EXPECT_EQ(sim.Nodes(), 3);
  EXPECT_EQ(sim.PendingReplicas(0), 1);

  // Back to one pod: nodes 1 and 2 empty once their pods drain, and go 10 minutes later.
  sim.SetReplicas(0, 1);
  sim.RunUntil(990);
  EXPECT_EQ(sim.Nodes(), 3);
  sim.RunUntil(1010);
  EXPECT_EQ(sim.Nodes(), 1);
  EXPECT_EQ(NodesOf(sim, 0), std::vector<int>({0}));
  // A node that comes back is the removed one, empty.
  sim.SetReplicas(0, 4);
  sim.RunUntil(1080);
  EXPECT_EQ(sim.Nodes(), 2);
  EXPECT_EQ(sim.PendingReplicas(0), 0);
  EXPECT_EQ(sim.cpu().nodes(), 3u);
}

TEST(CapacityTest, RequiredAntiAffinitySpreadsAndPreferredAvoidsOneNode) {
  // b's two 4-core pods take nodes 0 and 1; a starts on the empty node 2.
  auto make = [] {
    App app = CapacityApp({{"a", 0.5}, {"b", 4, 2}}, 3, 8);
    std::swap(app.services[0], app.services[1]);  // b is placed first
    return app;
  };
  const App app = make();
  {
    Simulation sim(app, ConstantTrace(1, 10), {.seed = 7});
    ASSERT_EQ(NodesOf(sim, 1), std::vector<int>({2}));
    sim.SetReplicas(1, 3);  // least allocated alone keeps them together
    EXPECT_EQ(NodesOf(sim, 1), std::vector<int>({2, 2, 2}));
  }
  {
    Simulation sim(app, ConstantTrace(1, 10), {.seed = 7});
    sim.SetAntiAffinity(1, true);
    sim.SetReplicas(1, 4);
    EXPECT_EQ(NodesOf(sim, 1), std::vector<int>({2, 0, 1}));
    EXPECT_EQ(sim.PendingReplicas(1), 1);  // every node has one
    sim.SetAntiAffinity(1, false);         // a preference no longer: scheduled
    EXPECT_EQ(sim.PendingReplicas(1), 0);
  }
  {
    Simulation sim(app, ConstantTrace(1, 10), {.seed = 7});
    sim.AvoidNode(1, 2);
    sim.SetReplicas(1, 3);  // the next pod avoids node 2; the one after does not
    EXPECT_EQ(NodesOf(sim, 1), std::vector<int>({2, 0, 2}));
  }
}

// Spans per pod of the service between two times.
std::map<std::string, int> Served(Simulation& sim, double from, double to) {
  sim.RunUntil(from);
  sim.spans().Clear();
  sim.RunUntil(to);
  std::map<std::string, int> out;
  for (const auto& s : sim.spans().spans()) ++out[std::string(s.instance)];
  return out;
}

TEST(CapacityTest, PersistentConnectionsReachANewReplicaOnlyAsTheyChurn) {
  App app = testing::SingleServiceApp(
      64, 8, {.kind = Distribution::Kind::kConstant, .mean = 0.001, .cv = 0});
  app.services[0].connection_lifetime = 10;
  app.services[0].connections = 32;
  const std::string old_pod = PodName("svc", 0), new_pod = PodName("svc", 1);
  {
    Simulation sim(app, ConstantTrace(200, 100), {.seed = 8});
    sim.RunUntil(1);
    sim.SetReplicas(0, 2);  // ready at once (pod_startup 0)
    // Every connection was opened in the first 0.2 s and lives at least 9 s.
    auto early = Served(sim, 1, 8.9);
    EXPECT_GT(early[old_pod], 1000);
    EXPECT_EQ(early.count(new_pod), 0u);
    auto late = Served(sim, 40, 100);
    const double share = static_cast<double>(late[new_pod]) / (late[new_pod] + late[old_pod]);
    EXPECT_NEAR(share, 0.5, 0.08);
  }
  {
    // The same run balancing each request reaches the new replica at once.
    app.services[0].connection_lifetime = 0;
    Simulation sim(app, ConstantTrace(200, 100), {.seed = 8});
    sim.RunUntil(1);
    sim.SetReplicas(0, 2);
    auto early = Served(sim, 1, 8.9);
    EXPECT_NEAR(early[new_pod], early[old_pod], 1);
  }
}

TEST(CapacityTest, ConnectionsFollowTheSeed) {
  App app = testing::SingleServiceApp(
      64, 8, {.kind = Distribution::Kind::kConstant, .mean = 0.001, .cv = 0});
  app.services[0].replicas = 3;
  app.services[0].connection_lifetime = 2;
  app.services[0].connections = 4;
  auto run = [&](uint64_t seed) {
    Simulation sim(app, ConstantTrace(100, 10), {.seed = seed});
    sim.RunUntil(10);
    std::vector<std::string> pods;
    for (const auto& s : sim.spans().spans()) pods.emplace_back(s.instance);
    return pods;
  };
  EXPECT_EQ(run(10), run(10));
  EXPECT_NE(run(10), run(11));
}

TEST(CapacityTest, ConnectionsLeaveADrainingReplica) {
  App app = testing::SingleServiceApp(
      64, 8, {.kind = Distribution::Kind::kConstant, .mean = 0.001, .cv = 0});
  app.services[0].replicas = 2;
  app.services[0].connection_lifetime = 300;
  Simulation sim(app, ConstantTrace(200, 20), {.seed = 9});
  sim.RunUntil(2);
  sim.SetReplicas(0, 1);
  auto after = Served(sim, 2.1, 10);
  EXPECT_EQ(after.count(PodName("svc", 1)), 0u);
  EXPECT_GT(after[PodName("svc", 0)], 1000);
}

TEST(CapacityTest, ReadsCapacityFieldsFromTheAppFile) {
  EXPECT_NEAR(SystemReservedAllocatable(32), 31.85, 1e-9);
  EXPECT_NEAR(SystemReservedAllocatable(1), 0.94, 1e-9);
  const App app = ParseApp(R"(
name: shop
slo_p99: 100ms
nodes:
  - {name: worker, count: 2, cores: 8}
  - {name: big, cores: 64, allocatable: 60}
node_autoscaler: {group: big, max_nodes: 4, provisioning_delay: 90s}
defaults: {connection_lifetime: 5m}
services:
  front:
    connections: 8
    operations:
      get: [{cpu: 1ms}]
  back:
    connection_lifetime: 0
    operations:
      get: [{cpu: 1ms}]
requests:
  - {call: front/get}
)");
  EXPECT_DOUBLE_EQ(app.nodes[0].allocatable, SystemReservedAllocatable(8));
  EXPECT_DOUBLE_EQ(app.nodes[1].allocatable, 60);
  ASSERT_TRUE(app.node_autoscaler.has_value());
  EXPECT_EQ(app.node_autoscaler->group, "big");
  EXPECT_EQ(app.node_autoscaler->min_nodes, 1);
  EXPECT_EQ(app.node_autoscaler->max_nodes, 4);
  EXPECT_DOUBLE_EQ(app.node_autoscaler->provisioning_delay, 90);
  EXPECT_DOUBLE_EQ(app.node_autoscaler->scale_down_unneeded_time, 600);
  EXPECT_DOUBLE_EQ(app.services[0].connection_lifetime, 300);
  EXPECT_EQ(app.services[0].connections, 8);
  EXPECT_DOUBLE_EQ(app.services[1].connection_lifetime, 0);
  EXPECT_THROW(ParseApp(R"(
name: shop
slo_p99: 100ms
nodes: [{name: worker, cores: 8}]
node_autoscaler: {group: gpu, max_nodes: 4}
services: {front: {operations: {get: [{cpu: 1ms}]}}}
requests: [{call: front/get}]
)"),
               std::invalid_argument);
}

TEST(CapacityTest, AServiceWhoseFirstPodFitsNowhereIsAConfigError) {
  const App app = CapacityApp({{"a", 5}}, 2, 4);
  EXPECT_THROW(Simulation(app, ConstantTrace(1, 1), {.seed = 1}), std::invalid_argument);
}

}  // namespace
}  // namespace sim
