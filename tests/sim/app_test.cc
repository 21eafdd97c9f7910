#include "sim/app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "sim/program.h"

namespace sim {
namespace {

using ::testing::HasSubstr;

constexpr char kMinimal[] = R"(
name: shop
namespace: prod
slo_p99: 250ms
network_delay: 0.5ms
nodes:
  - {name: n, count: 2, cores: 8, background: {mean: 1, amplitude: 0.5, period: 10m}}
defaults: {threads: 16, cpu_limit: 1}
services:
  front:
    replicas: 2
    cpu_request: 0.5
    high_cpu_group: true
    operations:
      GET /:
        - cpu: 1ms
        - parallel:
            - call: cart/get
            - {call: cart/get, repeat: 2}
        - {store: redis, delay: 300us, probability: 0.5}
        - {call: cart/put, async: true}
  cart:
    operations:
      get:
        - cpu: {dist: exponential, mean: 2ms}
      put:
        - cpu: {mean: 1ms, cv: 0.5}
        - repeat: 2
          probability: 0.1
          sequence:
            - {store: db, delay: 1ms}
requests:
  - {name: home, weight: 3, call: front/GET /}
)";

std::string ErrorOf(const std::string& yaml) {
  try {
    ParseApp(yaml);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(AppTest, ParsesEveryField) {
  const App app = ParseApp(kMinimal);
  EXPECT_EQ(app.name, "shop");
  EXPECT_EQ(app.k8s_namespace, "prod");
  EXPECT_DOUBLE_EQ(app.slo_p99, 0.25);
  EXPECT_DOUBLE_EQ(app.network_delay, 0.0005);
  ASSERT_EQ(app.nodes.size(), 1u);
  EXPECT_EQ(app.nodes[0].count, 2);
  EXPECT_EQ(app.nodes[0].cores, 8);
  EXPECT_DOUBLE_EQ(app.nodes[0].background.period, 600);
  ASSERT_EQ(app.services.size(), 2u);
  const Service& front = app.services[0];
  EXPECT_EQ(front.name, "front");
  EXPECT_EQ(front.threads, 16);  // from defaults
  EXPECT_EQ(front.replicas, 2);
  EXPECT_DOUBLE_EQ(front.cpu_limit, 1);
  EXPECT_DOUBLE_EQ(front.cpu_request, 0.5);
  EXPECT_TRUE(front.high_cpu_group);
  EXPECT_FALSE(app.services[1].high_cpu_group);
  const std::vector<Step>& steps = front.operations[0].steps;
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0].kind, Step::Kind::kCpu);
  EXPECT_EQ(steps[0].cpu.kind, Distribution::Kind::kConstant);
  EXPECT_DOUBLE_EQ(steps[0].cpu.mean, 0.001);
  EXPECT_EQ(steps[1].kind, Step::Kind::kParallel);
  EXPECT_EQ(steps[1].steps[1].repeat, 2);
  EXPECT_EQ(steps[2].kind, Step::Kind::kStore);
  EXPECT_DOUBLE_EQ(steps[2].probability, 0.5);
  EXPECT_TRUE(steps[3].async);
  EXPECT_EQ(app.services[1].operations[0].steps[0].cpu.kind, Distribution::Kind::kExponential);
  EXPECT_EQ(app.services[1].operations[1].steps[0].cpu.kind, Distribution::Kind::kLognormal);
  ASSERT_EQ(app.requests.size(), 1u);
  EXPECT_EQ(app.requests[0].service, "front");
  EXPECT_EQ(app.requests[0].operation, "GET /");
}

TEST(AppTest, CompilesRepeatsAndParallelBranches) {
  const App app = ParseApp(kMinimal);
  const Program p = Compile(app);
  ASSERT_EQ(p.ops.size(), 3u);
  ASSERT_EQ(p.request_ops.size(), 1u);
  const CompiledOperation& front = p.ops[p.request_ops[0]];
  // cpu, fork of 1 + 2 branches (a repeat inside a parallel step runs side by side), store, call.
  std::vector<Instr::Op> ops;
  for (uint32_t pc = front.entry; p.code[pc].op != Instr::Op::kEnd; ++pc)
    ops.push_back(p.code[pc].op);
  using O = Instr::Op;
  EXPECT_EQ(ops, (std::vector<O>{O::kCpu, O::kFork, O::kCall, O::kEndBranch, O::kCall,
                                 O::kEndBranch, O::kCall, O::kEndBranch, O::kStore, O::kCall}));
  const Instr& fork = p.code[front.entry + 1];
  EXPECT_EQ(fork.count, 3u);
  EXPECT_EQ(fork.next, front.entry + 8);
  // A sequence with a probability becomes a one-branch fork that can be skipped; repeat 2 of it
  // gives two of them.
  const CompiledOperation& put = p.ops[2];
  EXPECT_EQ(p.code[put.entry + 1].op, Instr::Op::kFork);
  EXPECT_DOUBLE_EQ(p.code[put.entry + 1].probability, 0.1);
  EXPECT_EQ(p.code[p.code[put.entry + 1].next].op, Instr::Op::kFork);
}

TEST(AppTest, RejectsMistakesNamingTheField) {
  std::string yaml = kMinimal;
  EXPECT_THAT(ErrorOf(std::string(yaml).replace(yaml.find("cart/put"), 8, "cart/nope")),
              HasSubstr("unknown operation cart/nope"));
  EXPECT_THAT(ErrorOf(std::string(yaml).replace(yaml.find("threads: 16"), 11, "thread: 16")),
              HasSubstr("defaults: unknown key \"thread\""));
  EXPECT_THAT(
      ErrorOf(std::string(yaml).replace(yaml.find("probability: 0.5"), 16, "probability: 2")),
      HasSubstr("operations.GET /[2].probability: must be in [0, 1]"));
  EXPECT_THAT(ErrorOf(std::string(yaml).replace(yaml.find("250ms"), 5, "soon")),
              HasSubstr("slo_p99: not a number"));
  EXPECT_THAT(ErrorOf("name: x\n"), HasSubstr("slo_p99"));
  EXPECT_THAT(ErrorOf("[1, 2"), HasSubstr("not valid YAML"));
}

TEST(AppTest, RejectsCallCycles) {
  const std::string yaml = R"(
name: loop
slo_p99: 1s
nodes: [{cores: 1}]
services:
  a: {operations: {x: [{call: b/y}]}}
  b: {operations: {y: [{call: a/x}]}}
requests: [{call: a/x}]
)";
  EXPECT_THAT(ErrorOf(yaml), HasSubstr("cycle"));
}

TEST(AppTest, ShippedAppsLoad) {
  for (const char* name : {"hotel-reservation", "social-network", "train-ticket"}) {
    const App app = LoadApp(std::string(QL_SOURCE_DIR "/sim/apps/") + name + ".yaml");
    EXPECT_EQ(app.name, name);
    EXPECT_FALSE(app.requests.empty());
    const Program p = Compile(app);
    for (uint32_t op : p.request_ops) EXPECT_LT(op, p.ops.size());
  }
}

TEST(AppTest, LognormalSamplesHaveTheConfiguredMeanAndSpread) {
  const Distribution d{.kind = Distribution::Kind::kLognormal, .mean = 0.002, .cv = 0.5};
  Rng rng(5);
  double sum = 0, sum2 = 0;
  constexpr int kN = 200'000;
  for (int i = 0; i < kN; ++i) {
    const double x = d.Sample(rng);
    sum += x;
    sum2 += x * x;
  }
  const double mean = sum / kN;
  const double sd = std::sqrt(sum2 / kN - mean * mean);
  EXPECT_NEAR(mean, 0.002, 0.002 * 0.01);
  EXPECT_NEAR(sd / mean, 0.5, 0.02);
}

}  // namespace
}  // namespace sim
