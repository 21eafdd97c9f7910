#include "recommender/policies/all_policies.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/checkpoint/policy_state.h"
#include "tests/recommender/policies/term.h"
#include "tests/support/fake_clock.h"

namespace recommender::policies {
namespace {

using std::chrono::seconds;

WorkloadConfig Config(std::string name, std::optional<std::string> group = std::nullopt) {
  WorkloadConfig c;
  c.key = {.k8s_namespace = "shop", .workload = std::move(name)};
  c.slo_p99_seconds = 0.5;
  c.budget_group = std::move(group);
  return c;
}

model::WorkloadSignals Signals(double queue, double usage_per_pod, common::TimePoint now) {
  model::WorkloadSignals s;
  s.observed_at = now;
  s.current_replicas = 2;
  s.ready_replicas = 2;
  s.cpu_request_cores = 0.5;
  s.cpu_limit_cores = 1;
  s.request_rate = 100;
  s.inflight = queue;
  s.queue_length = queue;
  s.mean_latency_seconds = 0.1;
  s.mean_exclusive_seconds = queue / s.request_rate;  // `queue` requests inside the service
  s.p95_latency_seconds = 0.2;
  s.p99_latency_seconds = 0.3;
  s.uncongested_seconds = 0.01;
  s.runqueue_wait_per_timeslice_seconds = 0.0005;
  s.cpu_usage_cores = 2 * usage_per_pod;
  s.throttled_ratio = 0;
  s.cpu_usage_history = {usage_per_pod, usage_per_pod, usage_per_pod};
  s.cpu_usage_sample_interval = seconds{1};
  return s;
}

TEST(AllPoliciesTest, NamesAndRoles) {
  for (std::string_view name : {"queue_balancing", "queue_sizing", "hab", "showar", "hpa_cpu"}) {
    EXPECT_TRUE(ProposesReplicas(name)) << name;
  }
  for (std::string_view name : {"throttle_target", "showar", "k8s_cpu", "k8s_cpu_fast"}) {
    EXPECT_TRUE(ProposesCpu(name)) << name;
  }
  EXPECT_FALSE(ProposesReplicas("slo_feedback"));
  EXPECT_FALSE(ProposesCpu("slo_feedback"));
  EXPECT_FALSE(ProposesReplicas("nope"));
}

TEST(AllPoliciesTest, EveryPolicyProposesForEveryWorkloadInListOrder) {
  common::FakeClock clock;
  const std::vector<WorkloadConfig> configs = {Config("a", "pool"), Config("b", "pool"),
                                               Config("c"), Config("d", "unknown")};
  const std::vector<model::WorkloadSignals> signals = {
      Signals(1, 0.2, clock.Now()), Signals(3, 0.2, clock.Now()), Signals(8, 0.2, clock.Now()),
      Signals(8, 0.2, clock.Now())};
  const std::vector<BudgetGroup> groups = {{.name = "pool", .extra_pods = 8}};
  std::vector<PolicyMemory> memory(configs.size());
  Tower tower;

  const std::vector<WorkloadProposals> out =
      EvaluatePolicies(PolicyOptions{}, configs, signals, groups, memory, tower, clock.Now());
  ASSERT_EQ(out.size(), 4u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].key, configs[i].key);
    ASSERT_EQ(out[i].proposals.size(), kPolicyNames.size());
    for (size_t k = 0; k < kPolicyNames.size(); ++k) {
      EXPECT_EQ(out[i].proposals[k].policy, kPolicyNames[k]);
    }
  }
  // The pool shares 8 pods by per-trace exclusive time (10 : 30 ms, no violations): 2 + 1 and
  // 6 + 1. HAB sizes the pool too; outside it neither proposes.
  EXPECT_EQ(out[0].Find("queue_balancing")->replicas, 3);
  EXPECT_EQ(out[1].Find("queue_balancing")->replicas, 7);
  EXPECT_TRUE(out[0].Find("hab")->replicas);
  EXPECT_FALSE(out[2].Find("queue_balancing")->replicas);
  EXPECT_FALSE(out[3].Find("hab")->replicas);
  // queue_sizing everywhere, each of the four equal hops with a quarter of the 0.5 s SLO:
  // W* = 0.125/ln 100 ≈ 27 ms, c* ≈ 1.71; 8 requests inside need 8/1.71 = 4.67 → 5 replicas.
  EXPECT_DOUBLE_EQ(TermOf(*out[2].Find("queue_sizing"), "slo_share"), 0.25);
  EXPECT_EQ(out[2].Find("queue_sizing")->replicas, 5);
  EXPECT_EQ(out[3].Find("queue_sizing")->replicas, 5);
  EXPECT_EQ(out[0].Find("nope"), nullptr);
  // The Tower chose at the first pass and throttle_target uses its target.
  EXPECT_TRUE(tower.has_choice());
  EXPECT_DOUBLE_EQ(TermOf(*out[0].Find("throttle_target"), "target"), tower.target2());
}

// Equal names and values, NaN equal to NaN.
bool SameTerms(const Terms& a, const Terms& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const bool both_nan = std::isnan(a[i].second) && std::isnan(b[i].second);
    if (a[i].first != b[i].first || (!both_nan && a[i].second != b[i].second)) return false;
  }
  return true;
}

std::string Serialise(const PolicyMemory& memory) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  checkpoint::WritePolicyState(memory, writer);
  return buffer.GetString();
}

TEST(AllPoliciesTest, QueueBalancingAllocatesEveryNinetySecondsAndHoldsInBetween) {
  common::FakeClock clock;
  const std::vector<WorkloadConfig> configs = {Config("a", "pool"), Config("b", "pool")};
  const std::vector<BudgetGroup> groups = {{.name = "pool", .extra_pods = 8}};
  std::vector<PolicyMemory> memory(configs.size());
  Tower tower;
  const auto run = [&](double queue_a, double queue_b) {
    const std::vector<model::WorkloadSignals> signals = {Signals(queue_a, 0.2, clock.Now()),
                                                         Signals(queue_b, 0.2, clock.Now())};
    return EvaluatePolicies(PolicyOptions{}, configs, signals, groups, memory, tower, clock.Now());
  };
  // 1 : 3 → 2 + 1 and 6 + 1.
  auto out = run(1, 3);
  EXPECT_EQ(out[0].Find("queue_balancing")->replicas, 3);
  // 89 s later the queues have turned round, but the allocation stands.
  clock.Advance(seconds{89});
  out = run(3, 1);
  EXPECT_EQ(out[0].Find("queue_balancing")->replicas, 3);
  EXPECT_EQ(out[1].Find("queue_balancing")->replicas, 7);
  EXPECT_NE(out[0].Find("queue_balancing")->reason.find("held"), std::string::npos);
  EXPECT_DOUBLE_EQ(TermOf(*out[0].Find("queue_balancing"), "extra_pods"), 2);
  clock.Advance(seconds{1});
  out = run(3, 1);
  EXPECT_EQ(out[0].Find("queue_balancing")->replicas, 7);
  EXPECT_EQ(out[1].Find("queue_balancing")->replicas, 3);
}

TEST(AllPoliciesTest, TheTowerLearnsFromTheEntryWorkloadsP99) {
  // front is the entry (P99 50 ms against 0.5 s); back's P99 of 300 ms is not end to end.
  common::FakeClock clock;
  const std::vector<WorkloadConfig> configs = {Config("front", "pool"), Config("back", "pool")};
  std::vector<model::WorkloadSignals> signals = {Signals(1, 0.2, clock.Now()),
                                                 Signals(1, 0.2, clock.Now())};
  signals[0].p99_latency_seconds = 0.05;
  for (const bool with_entry : {true, false}) {
    std::vector<BudgetGroup> groups = {{.name = "pool", .extra_pods = 2}};
    if (with_entry) groups[0].entry_workloads = {"front"};
    std::vector<PolicyMemory> memory(configs.size());
    PolicyOptions options;
    options.tower.drop_samples = 0;
    Tower tower(options.tower);
    for (int i = 0; i <= 60; ++i) {
      EvaluatePolicies(options, configs, signals, groups, memory, tower, clock.Now());
      clock.Advance(seconds{1});
    }
    ASSERT_EQ(tower.samples().size(), 1u);
    // Without an entry, the worst of all: back's 0.3/0.5.
    EXPECT_DOUBLE_EQ(tower.samples()[0].p99_ratio, with_entry ? 0.1 : 0.6);
    EXPECT_DOUBLE_EQ(tower.samples()[0].alloc_cores, 2 * 2 * 1.0);  // Σ replicas·limit
    // The context is the end-to-end rate: the entry's, else the sum over all.
    EXPECT_DOUBLE_EQ(tower.samples()[0].rps, with_entry ? 100 : 200);
  }
}

TEST(AllPoliciesTest, PolicyMemoryJsonRoundTripContinuesIdentically) {
  common::FakeClock clock;
  const std::vector<WorkloadConfig> configs = {Config("a", "pool")};
  const std::vector<BudgetGroup> groups = {{.name = "pool", .extra_pods = 4}};
  std::vector<PolicyMemory> memory(1);
  Tower tower;
  for (int i = 0; i < 40; ++i) {
    const std::vector<model::WorkloadSignals> signals = {
        Signals(2 + i % 3, 0.2 + 0.05 * (i % 4), clock.Now())};
    EvaluatePolicies(PolicyOptions{}, configs, signals, groups, memory, tower, clock.Now());
    clock.Advance(seconds{5});
  }
  const std::string text = Serialise(memory[0]);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
  ASSERT_FALSE(doc.HasParseError());
  std::vector<PolicyMemory> restored(1);
  std::string error;
  ASSERT_TRUE(checkpoint::ReadPolicyState(doc, restored[0], &error)) << error;
  EXPECT_EQ(Serialise(restored[0]), text);
  EXPECT_FALSE(restored[0].hpa_cpu.recommendations.empty());
  EXPECT_FALSE(restored[0].k8s_cpu.recommendations.empty());
  EXPECT_NE(restored[0].hab.stage, HabMemory::Stage::kIdle);

  Tower tower_copy = tower;
  const std::vector<model::WorkloadSignals> signals = {Signals(9, 0.9, clock.Now())};
  const auto a =
      EvaluatePolicies(PolicyOptions{}, configs, signals, groups, memory, tower, clock.Now());
  const auto b = EvaluatePolicies(PolicyOptions{}, configs, signals, groups, restored, tower_copy,
                                  clock.Now());
  for (size_t k = 0; k < kPolicyNames.size(); ++k) {
    EXPECT_EQ(a[0].proposals[k].replicas, b[0].proposals[k].replicas) << kPolicyNames[k];
    EXPECT_EQ(a[0].proposals[k].cpu_cores, b[0].proposals[k].cpu_cores) << kPolicyNames[k];
    EXPECT_TRUE(SameTerms(a[0].proposals[k].terms, b[0].proposals[k].terms)) << kPolicyNames[k];
  }
}

TEST(AllPoliciesTest, NaNSurvivesTheRoundTripAsNull) {
  PolicyMemory memory;  // throttle_target.limit starts NaN
  const std::string text = Serialise(memory);
  EXPECT_NE(text.find(R"("limit":null)"), std::string::npos) << text;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
  PolicyMemory restored;
  restored.throttle_target.limit = 5;
  ASSERT_TRUE(checkpoint::ReadPolicyState(doc, restored, nullptr));
  EXPECT_TRUE(std::isnan(restored.throttle_target.limit));
}

TEST(AllPoliciesTest, CorruptPolicyStateIsRejectedWithTheField) {
  PolicyMemory memory;
  memory.showar.last_size_cores = 0.3;
  std::string text = Serialise(memory);
  const std::string needle = R"("limit":null)";
  text.replace(text.find(needle), needle.size(), R"("limit":"x")");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
  PolicyMemory target;
  std::string error;
  EXPECT_FALSE(checkpoint::ReadPolicyState(doc, target, &error));
  EXPECT_EQ(error, "policy_state.throttle_target.limit: not a number");
  EXPECT_TRUE(std::isnan(target.showar.last_size_cores));  // unchanged

  doc.Parse<rapidjson::kParseFullPrecisionFlag>(R"({"throttle_target": {}})");
  EXPECT_FALSE(checkpoint::ReadPolicyState(doc, target, &error));
  EXPECT_EQ(error, "policy_state.throttle_target.limit: missing");
}

}  // namespace
}  // namespace recommender::policies
