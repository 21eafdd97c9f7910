#include "recommender/policies/queue_balancing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "tests/recommender/policies/term.h"

namespace recommender::policies {
namespace {

struct Member {
  double queue;
  double mean_latency;
  double p99_latency;
  double current_replicas = model::kMissing;
};

// Runs one budget group whose members all have a 1 s P99 SLO (mean target 0.5 s).
std::vector<Proposal> RunGroup(const std::vector<Member>& members, int extra_pods) {
  std::vector<WorkloadConfig> configs(members.size());
  std::vector<model::WorkloadSignals> signals(members.size());
  std::vector<size_t> indices;
  for (size_t i = 0; i < members.size(); ++i) {
    configs[i].slo_p99_seconds = 1;
    signals[i].queue_length = members[i].queue;
    signals[i].mean_latency_seconds = members[i].mean_latency;
    signals[i].p99_latency_seconds = members[i].p99_latency;
    signals[i].current_replicas = members[i].current_replicas;
    indices.push_back(i);
  }
  return EvaluateQueueBalancingGroup(configs, signals, indices, extra_pods);
}

std::vector<int> Replicas(const std::vector<Proposal>& proposals) {
  std::vector<int> r;
  for (const Proposal& p : proposals) r.push_back(p.replicas.value_or(-1));
  return r;
}

TEST(LargestRemainderTest, LeftoverGoesToLargestRemainders) {
  // Exact shares of 4 pods: 0.8, 1.2, 2.0 → floors 0, 1, 2; the leftover pod goes to 0.8.
  const std::vector<double> shares = {2, 3, 5};
  EXPECT_EQ(LargestRemainderAllocation(shares, 4), (std::vector<int>{1, 1, 2}));
}

TEST(LargestRemainderTest, TiesGoToLargerShareThenEarlierEntry) {
  const std::vector<double> equal = {1, 1, 1};
  EXPECT_EQ(LargestRemainderAllocation(equal, 10), (std::vector<int>{4, 3, 3}));
  // Remainders 0.5 and 0.5: the larger share (1.5) wins over 0.5.
  const std::vector<double> shares = {0.5, 1.5};
  EXPECT_EQ(LargestRemainderAllocation(shares, 2), (std::vector<int>{0, 2}));
}

TEST(LargestRemainderTest, ZeroTotalOrBudgetGivesZeros) {
  const std::vector<double> zeros = {0, 0};
  EXPECT_EQ(LargestRemainderAllocation(zeros, 5), (std::vector<int>{0, 0}));
  const std::vector<double> shares = {1, 2};
  EXPECT_EQ(LargestRemainderAllocation(shares, 0), (std::vector<int>{0, 0}));
  EXPECT_TRUE(LargestRemainderAllocation({}, 3).empty());
}

TEST(QueueBalancingGroupTest, WeightsQueueMeanAndTailShares) {
  // Q = 4, 4, 2 (shares .4 .4 .2); mean violations .2, 0, 0; tail violations .5, 0, .3.
  // B = .5·.4 + .3·1 + .2·.625 = .625;  .5·.4 = .2;  .5·.2 + .2·.375 = .175   (ΣB = 1)
  // 16 pods: exact 10, 3.2, 2.8 → 10, 3, 2 + the leftover to 2.8 → replicas 11, 4, 4.
  const std::vector<Proposal> p =
      RunGroup({{4, 0.7, 1.5}, {4, 0.5, 1.0}, {2, 0.5, 1.3}}, /*extra_pods=*/16);
  EXPECT_EQ(Replicas(p), (std::vector<int>{11, 4, 4}));
  EXPECT_DOUBLE_EQ(TermOf(p[0], "weight"), 0.625);
  EXPECT_DOUBLE_EQ(TermOf(p[1], "weight"), 0.2);
  EXPECT_NEAR(TermOf(p[2], "weight"), 0.175, 1e-12);
  EXPECT_NEAR(TermOf(p[2], "tail_violation_seconds"), 0.3, 1e-12);
  EXPECT_NEAR(TermOf(p[2], "exact_extra_pods"), 2.8, 1e-12);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "mean_violation_share"), 1);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "extra_pods"), 10);
}

TEST(QueueBalancingGroupTest, PlusOneFloorWhenNothingIsQueued) {
  // Every denominator is zero: ΣB = 0, so nobody gets extra pods and everyone keeps one.
  const std::vector<Proposal> p = RunGroup({{0, 0.1, 0.2}, {0, 0.1, 0.2}}, 8);
  EXPECT_EQ(Replicas(p), (std::vector<int>{1, 1}));
  EXPECT_DOUBLE_EQ(TermOf(p[0], "queue_share"), 0);
}

TEST(QueueBalancingGroupTest, ZeroViolationDenominatorsLeaveQueueShareOnly) {
  // No violations: B = .5·queue share, so pods follow queues exactly.
  const std::vector<Proposal> p = RunGroup({{1, 0.1, 0.2}, {3, 0.1, 0.2}}, 8);
  EXPECT_EQ(Replicas(p), (std::vector<int>{3, 7}));
}

TEST(QueueBalancingGroupTest, NaNViolationInputsAreIgnored) {
  const std::vector<Proposal> with_nan =
      RunGroup({{1, model::kMissing, model::kMissing}, {3, 0.1, 0.2}}, 8);
  EXPECT_EQ(Replicas(with_nan), (std::vector<int>{3, 7}));
  EXPECT_DOUBLE_EQ(TermOf(with_nan[0], "mean_violation_seconds"), 0);
  EXPECT_DOUBLE_EQ(TermOf(with_nan[0], "tail_violation_seconds"), 0);
}

TEST(QueueBalancingGroupTest, MissingQueueKeepsCurrentPodsOutOfTheBudget) {
  // The second member has no queue estimate and runs 4 pods: 3 extra stay with it, 7 are shared.
  const std::vector<Proposal> p =
      RunGroup({{1, 0.1, 0.2}, {model::kMissing, 0.1, 0.2, 4}, {1, 0.1, 0.2}}, /*extra_pods=*/10);
  EXPECT_FALSE(p[1].replicas);
  EXPECT_FALSE(p[1].reason.empty());
  EXPECT_EQ(p[0].replicas, 5);  // 3.5 → 3 + leftover to the first on a tie
  EXPECT_EQ(p[2].replicas, 4);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "budget_pods"), 7);
}

TEST(QueueBalancingGroupTest, TotalIsBudgetPlusOnePerMember) {
  const std::vector<Proposal> p =
      RunGroup({{7, 0.3, 0.9}, {2, 0.9, 2.5}, {13, 0.6, 1.1}, {0.5, 0.2, 0.4}}, 17);
  int total = 0;
  for (const Proposal& x : p) total += *x.replicas;
  EXPECT_EQ(total, 17 + 4);
}

// `busy` requests inside the service (rate 100/s), on `replicas` pods.
model::WorkloadSignals LittleSignals(double busy, double uncongested, double replicas) {
  model::WorkloadSignals s;
  s.request_rate = 100;
  s.mean_exclusive_seconds = busy / 100;
  s.uncongested_seconds = uncongested;
  s.current_replicas = replicas;
  return s;
}

WorkloadConfig LittleConfig() {
  WorkloadConfig c;
  c.slo_p99_seconds = 0.05 * std::log(100.0);  // W* = 50 ms
  return c;
}

// S0 = 10 ms and W* = 50 ms below: ρ* = 0.8, c* = 4 requests per replica.

TEST(LittlesLawTest, AtTheTargetUtilisationBothTermsKeepTheReplicas) {
  // 2 replicas holding 8 requests: ρ̂ = 8/10 = ρ*.
  const Proposal p = EvaluateLittlesLaw(LittleSignals(8, 0.01, 2), LittleConfig());
  EXPECT_EQ(p.replicas, 2);  // exactly 2, not pushed to 3 by rounding noise
  EXPECT_NEAR(TermOf(p, "target_concurrency"), 4, 1e-9);
  EXPECT_NEAR(TermOf(p, "target_sojourn_seconds"), 0.05, 1e-12);
  EXPECT_NEAR(TermOf(p, "target_utilization"), 0.8, 1e-9);
  EXPECT_NEAR(TermOf(p, "utilization"), 0.8, 1e-9);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 2, 1e-9);
  EXPECT_NEAR(TermOf(p, "queue_replicas"), 2, 1e-9);
  EXPECT_NEAR(TermOf(p, "exclusive_inflight"), 8, 1e-9);
}

TEST(LittlesLawTest, OverProvisionedScalesToTheOfferedLoadNotToOne) {
  // 20 replicas hold 2 requests: ρ̂ = 2/22, the load of 20·2/22 = 1.82 busy servers, which at
  // ρ* = 0.8 need 2.27 → 3 replicas. B/c* alone would say 0.5 → 1.
  const Proposal p = EvaluateLittlesLaw(LittleSignals(2, 0.01, 20), LittleConfig());
  EXPECT_NEAR(TermOf(p, "utilization"), 2.0 / 22, 1e-12);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 20 * (2.0 / 22) / 0.8, 1e-9);
  EXPECT_NEAR(TermOf(p, "queue_replicas"), 0.5, 1e-12);
  EXPECT_EQ(p.replicas, 3);
  // The answer for the same offered load does not depend on how over-provisioned it is.
  const Proposal q = EvaluateLittlesLaw(LittleSignals(20.0 / 9, 0.01, 10), LittleConfig());
  EXPECT_EQ(q.replicas, 3);
}

TEST(LittlesLawTest, ABacklogScalesWithTheQueueBeyondOneOverTheTarget) {
  // 2 replicas hold 40 requests: ρ̂ = 40/42; the utilisation term is 2.38, the queue term 10.
  const Proposal p = EvaluateLittlesLaw(LittleSignals(40, 0.01, 2), LittleConfig());
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 2 * (40.0 / 42) / 0.8, 1e-9);
  EXPECT_NEAR(TermOf(p, "queue_replicas"), 10, 1e-9);
  EXPECT_EQ(p.replicas, 10);
  EXPECT_EQ(EvaluateLittlesLaw(LittleSignals(41, 0.01, 2), LittleConfig()).replicas, 11);
}

TEST(LittlesLawTest, TimeWaitingOnCalleesIsNotLoad) {
  // A front end whose requests take 1 s end to end, 2 ms of it its own: 100/s put 0.2 requests
  // inside it however many are in flight downstream.
  model::WorkloadSignals s = LittleSignals(0.2, 0.001, 4);
  s.inflight = 100;
  s.mean_latency_seconds = 1;
  const Proposal p = EvaluateLittlesLaw(s, LittleConfig());
  EXPECT_NEAR(TermOf(p, "exclusive_inflight"), 0.2, 1e-12);
  EXPECT_EQ(p.replicas, 1);
}

TEST(LittlesLawTest, WithoutAReplicaCountTheOfferedLoadComesFromTheRate) {
  // 100/s at S0 = 10 ms is 1 busy server: 1/0.8 = 1.25 → 2; the queue term, 6/4, also says 2.
  const Proposal p = EvaluateLittlesLaw(LittleSignals(6, 0.01, model::kMissing), LittleConfig());
  EXPECT_NEAR(TermOf(p, "offered_load"), 1, 1e-12);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 1.25, 1e-12);
  EXPECT_EQ(p.replicas, 2);
  EXPECT_EQ(EvaluateLittlesLaw(LittleSignals(40, 0.01, model::kMissing), LittleConfig()).replicas,
            10);
}

TEST(LittlesLawTest, NoTrafficMeansOneReplica) {
  model::WorkloadSignals s = LittleSignals(0, 0.01, 5);
  s.request_rate = 0;
  s.mean_exclusive_seconds = model::kMissing;  // the model has no ratio over a zero rate
  const Proposal p = EvaluateLittlesLaw(s, LittleConfig());
  EXPECT_EQ(p.replicas, 1);
  EXPECT_DOUBLE_EQ(TermOf(p, "utilization"), 0);
}

TEST(LittlesLawTest, UnreachableSloUsesTheConcurrencyFloor) {
  // S0 = 60 ms ≥ W*: c* is floored at 0.1, so ρ* = 0.1/1.1; 1 replica holding 1 request
  // (ρ̂ = 0.5) needs 5.5 by utilisation and 10 by the queue.
  const Proposal p = EvaluateLittlesLaw(LittleSignals(1, 0.06, 1), LittleConfig());
  EXPECT_DOUBLE_EQ(TermOf(p, "target_concurrency"), 0.1);
  EXPECT_NEAR(TermOf(p, "target_utilization"), 0.1 / 1.1, 1e-12);
  EXPECT_EQ(p.replicas, 10);
}

TEST(LittlesLawTest, NoProposalWithoutInputs) {
  EXPECT_FALSE(EvaluateLittlesLaw(LittleSignals(5, model::kMissing, 2), LittleConfig()).replicas);
  EXPECT_FALSE(
      EvaluateLittlesLaw(LittleSignals(model::kMissing, 0.01, 2), LittleConfig()).replicas);
  model::WorkloadSignals s = LittleSignals(5, 0.01, 2);
  s.request_rate = model::kMissing;
  const Proposal p = EvaluateLittlesLaw(s, LittleConfig());
  EXPECT_FALSE(p.replicas);
  EXPECT_NE(p.reason.find("exclusive"), std::string::npos);
}

}  // namespace
}  // namespace recommender::policies
