#include "recommender/policies/queue_balancing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "recommender/policies/all_policies.h"
#include "tests/recommender/policies/term.h"

namespace recommender::policies {
namespace {

// QueueFlower's hand-computed case (algorithms.md §1.4–1.5): the entry (member 0) takes 100/s,
// member 1 is visited twice per request, member 2 once; every P99 SLO is 20 ms.
struct Member {
  double rate;
  double mean_exclusive;
  double tail_exclusive;
  double current_replicas = model::kMissing;
};

std::vector<Proposal> RunGroup(const std::vector<Member>& members, int extra_pods,
                               uint64_t seed = 7) {
  std::vector<WorkloadConfig> configs(members.size());
  std::vector<model::WorkloadSignals> signals(members.size());
  std::vector<size_t> indices;
  for (size_t i = 0; i < members.size(); ++i) {
    configs[i].slo_p99_seconds = 0.02;
    signals[i].request_rate = members[i].rate;
    signals[i].mean_exclusive_seconds = members[i].mean_exclusive;
    signals[i].tail_exclusive_seconds = members[i].tail_exclusive;
    signals[i].current_replicas = members[i].current_replicas;
    indices.push_back(i);
  }
  const std::vector<size_t> entry = {0};
  return EvaluateQueueBalancingGroup(configs, signals, indices, entry, extra_pods, seed);
}

std::vector<int> Replicas(const std::vector<Proposal>& proposals) {
  std::vector<int> r;
  for (const Proposal& p : proposals) r.push_back(p.replicas.value_or(-1));
  return r;
}

TEST(QueueFlowerAllocationTest, FloorsOfExactSharesWhenNothingIsLeftOver) {
  const std::vector<double> shares = {0.5, 0.25, 0.25};
  EXPECT_EQ(QueueFlowerAllocation(shares, 8, 1), (std::vector<int>{4, 2, 2}));
}

TEST(QueueFlowerAllocationTest, LeftoverPodsAreDrawnInProportionToTheShares) {
  // floor(1·B/ΣB) = 0 for both, so the one pod is drawn: P(first) = 1/4.
  const std::vector<double> shares = {1, 3};
  int first = 0;
  constexpr int kDraws = 4000;
  for (uint64_t seed = 0; seed < kDraws; ++seed) {
    const std::vector<int> x = QueueFlowerAllocation(shares, 1, seed);
    ASSERT_EQ(x[0] + x[1], 1);
    first += x[0];
  }
  EXPECT_NEAR(static_cast<double>(first) / kDraws, 0.25, 0.03);
  // A zero share never gets a leftover pod.
  const std::vector<double> with_zero = {0, 1, 1};
  for (uint64_t seed = 0; seed < 100; ++seed) {
    const std::vector<int> x = QueueFlowerAllocation(with_zero, 3, seed);
    EXPECT_EQ(x[0], 0);
    EXPECT_EQ(x[1] + x[2], 3);
  }
}

TEST(QueueFlowerAllocationTest, ZeroTotalOrBudgetGivesZeros) {
  const std::vector<double> zeros = {0, 0};
  EXPECT_EQ(QueueFlowerAllocation(zeros, 5, 1), (std::vector<int>{0, 0}));
  const std::vector<double> shares = {1, 2};
  EXPECT_EQ(QueueFlowerAllocation(shares, 0, 1), (std::vector<int>{0, 0}));
  EXPECT_TRUE(QueueFlowerAllocation({}, 3, 1).empty());
}

TEST(QueueBalancingGroupTest, HandComputedQueueFlowerCase) {
  // visits v = 1, 2, 1; q = v·mean excl = 4, 6, 2 ms (Σ 12 ms); t = v·tail = 10, 10, 20 ms (Σ 40).
  // A_s = 12 − 0.5·20 = 2 ms each; T_s = 40 − 20 = 20 ms each: both shares 1/3.
  // B = .5·(4, 6, 2)/12 + .3/3 + .2/3 = 1/3, 5/12, 1/4 (ΣB = 1).
  // C = 16: exact 16/3, 20/3, 4 → floors 5, 6, 4 and one pod drawn; replicas x + 1.
  const std::vector<Proposal> p =
      RunGroup({{100, 0.004, 0.010}, {200, 0.003, 0.005}, {100, 0.002, 0.020}}, 16);
  EXPECT_DOUBLE_EQ(TermOf(p[1], "visits"), 2);
  EXPECT_NEAR(TermOf(p[1], "queue_seconds"), 0.006, 1e-15);
  EXPECT_NEAR(TermOf(p[2], "tail_seconds"), 0.020, 1e-15);
  for (int k = 0; k < 3; ++k) {
    EXPECT_NEAR(TermOf(p[k], "mean_violation_seconds"), 0.002, 1e-15) << k;
    EXPECT_NEAR(TermOf(p[k], "tail_violation_seconds"), 0.020, 1e-15) << k;
    EXPECT_NEAR(TermOf(p[k], "mean_violation_share"), 1.0 / 3, 1e-12) << k;
  }
  EXPECT_NEAR(TermOf(p[0], "weight"), 1.0 / 3, 1e-12);
  EXPECT_NEAR(TermOf(p[1], "weight"), 5.0 / 12, 1e-12);
  EXPECT_NEAR(TermOf(p[2], "weight"), 1.0 / 4, 1e-12);
  EXPECT_NEAR(TermOf(p[0], "exact_extra_pods"), 16.0 / 3, 1e-9);
  const std::vector<int> r = Replicas(p);
  EXPECT_GE(r[0], 6);
  EXPECT_GE(r[1], 7);
  EXPECT_GE(r[2], 4);
  EXPECT_EQ(r[0] + r[1] + r[2], 16 + 3);
}

TEST(QueueBalancingGroupTest, NoViolationLeavesTheQueueShareOnly) {
  // Σq = 4 ms < the mean SLA, Σt = 8 ms < the SLO: B = .5·(1, 3)/4, and 8 pods split 2 : 6.
  const std::vector<Proposal> p = RunGroup({{100, 0.001, 0.002}, {100, 0.003, 0.006}}, 8);
  EXPECT_EQ(Replicas(p), (std::vector<int>{3, 7}));
  EXPECT_DOUBLE_EQ(TermOf(p[0], "mean_violation_share"), 0);
}

TEST(QueueBalancingGroupTest, PlusOneFloorWhenNothingIsMeasured) {
  const std::vector<Proposal> p = RunGroup({{100, 0, 0}, {100, 0, 0}}, 8);
  EXPECT_EQ(Replicas(p), (std::vector<int>{1, 1}));
}

TEST(QueueBalancingGroupTest, MissingExclusiveTimeKeepsCurrentPodsOutOfTheBudget) {
  // The second member has no exclusive time and runs 4 pods: 3 extra stay with it, 7 are shared.
  const std::vector<Proposal> p =
      RunGroup({{100, 0.001, 0.002}, {100, model::kMissing, 0.002, 4}, {100, 0.001, 0.002}}, 10);
  EXPECT_FALSE(p[1].replicas);
  EXPECT_FALSE(p[1].reason.empty());
  EXPECT_DOUBLE_EQ(TermOf(p[0], "budget_pods"), 7);
  EXPECT_EQ(*p[0].replicas + *p[2].replicas, 7 + 2);
}

TEST(QueueBalancingGroupTest, TotalIsBudgetPlusOnePerMemberForAnySeed) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const std::vector<Proposal> p =
        RunGroup({{100, 0.007, 0.02}, {300, 0.002, 0.01}, {50, 0.013, 0.05}, {100, 0.0005, 0.001}},
                 17, seed);
    int total = 0;
    for (const Proposal& x : p) total += *x.replicas;
    EXPECT_EQ(total, 17 + 4);
  }
}

TEST(SloSplitTest, HopTargetsSumToTheEndToEndSloAlongAChain) {
  // A chain a → b → c, each visited once (100/s), uncongested 10, 20, 30 ms: shares 1/6, 2/6,
  // 3/6 of the 300 ms SLO. A workload of another namespace does not take a share.
  std::vector<WorkloadConfig> configs(4);
  std::vector<model::WorkloadSignals> signals(4);
  const double s0[] = {0.01, 0.02, 0.03, 0.05};
  for (size_t i = 0; i < 4; ++i) {
    configs[i].key = {.k8s_namespace = i < 3 ? "shop" : "other", .workload = "w"};
    configs[i].slo_p99_seconds = 0.3;
    signals[i].request_rate = 100;
    signals[i].mean_exclusive_seconds = s0[i];
    signals[i].uncongested_seconds = s0[i];
    signals[i].current_replicas = 2;
  }
  const std::vector<double> shares = SloShares(configs, signals);
  EXPECT_NEAR(shares[0], 1.0 / 6, 1e-12);
  EXPECT_NEAR(shares[2], 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(shares[3], 1);
  double sum = 0;
  for (size_t i = 0; i < 3; ++i) {
    sum += TermOf(EvaluateQueueSizing(signals[i], configs[i], shares[i]), "hop_slo_seconds");
  }
  EXPECT_NEAR(sum, 0.3, 1e-12);
  // Shares ∝ S0: every hop gets the same target concurrency W*/S0 − 1.
  EXPECT_NEAR(TermOf(EvaluateQueueSizing(signals[0], configs[0], shares[0]), "target_concurrency"),
              TermOf(EvaluateQueueSizing(signals[2], configs[2], shares[2]), "target_concurrency"),
              1e-9);
}

TEST(SloSplitTest, AHopVisitedTwiceTakesTwiceItsTime) {
  std::vector<WorkloadConfig> configs(2);
  std::vector<model::WorkloadSignals> signals(2);
  for (size_t i = 0; i < 2; ++i) {
    configs[i].key = {.k8s_namespace = "shop", .workload = "w"};
    signals[i].uncongested_seconds = 0.01;
  }
  signals[0].request_rate = 100;
  signals[1].request_rate = 200;
  const std::vector<double> shares = SloShares(configs, signals);
  EXPECT_NEAR(shares[0], 1.0 / 3, 1e-12);
  EXPECT_NEAR(shares[1], 2.0 / 3, 1e-12);
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

TEST(QueueSizingTest, AtTheTargetUtilisationBothTermsKeepTheReplicas) {
  // 2 replicas holding 8 requests: ρ̂ = 8/10 = ρ*.
  const Proposal p = EvaluateQueueSizing(LittleSignals(8, 0.01, 2), LittleConfig(), 1);
  EXPECT_EQ(p.replicas, 2);  // exactly 2, not pushed to 3 by rounding noise
  EXPECT_NEAR(TermOf(p, "target_concurrency"), 4, 1e-9);
  EXPECT_NEAR(TermOf(p, "target_sojourn_seconds"), 0.05, 1e-12);
  EXPECT_NEAR(TermOf(p, "target_utilization"), 0.8, 1e-9);
  EXPECT_NEAR(TermOf(p, "utilization"), 0.8, 1e-9);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 2, 1e-9);
  EXPECT_NEAR(TermOf(p, "queue_replicas"), 2, 1e-9);
  EXPECT_NEAR(TermOf(p, "exclusive_inflight"), 8, 1e-9);
}

TEST(QueueSizingTest, OverProvisionedScalesToTheOfferedLoadNotToOne) {
  // 20 replicas hold 2 requests: ρ̂ = 2/22, the load of 20·2/22 = 1.82 busy servers, which at
  // ρ* = 0.8 need 2.27 → 3 replicas. B/c* alone would say 0.5 → 1.
  const Proposal p = EvaluateQueueSizing(LittleSignals(2, 0.01, 20), LittleConfig(), 1);
  EXPECT_NEAR(TermOf(p, "utilization"), 2.0 / 22, 1e-12);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 20 * (2.0 / 22) / 0.8, 1e-9);
  EXPECT_NEAR(TermOf(p, "queue_replicas"), 0.5, 1e-12);
  EXPECT_EQ(p.replicas, 3);
  // The answer for the same offered load does not depend on how over-provisioned it is.
  const Proposal q = EvaluateQueueSizing(LittleSignals(20.0 / 9, 0.01, 10), LittleConfig(), 1);
  EXPECT_EQ(q.replicas, 3);
}

TEST(QueueSizingTest, ABacklogScalesWithTheQueueBeyondOneOverTheTarget) {
  // 2 replicas hold 40 requests: ρ̂ = 40/42; the utilisation term is 2.38, the queue term 10.
  const Proposal p = EvaluateQueueSizing(LittleSignals(40, 0.01, 2), LittleConfig(), 1);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 2 * (40.0 / 42) / 0.8, 1e-9);
  EXPECT_NEAR(TermOf(p, "queue_replicas"), 10, 1e-9);
  EXPECT_EQ(p.replicas, 10);
  EXPECT_EQ(EvaluateQueueSizing(LittleSignals(41, 0.01, 2), LittleConfig(), 1).replicas, 11);
}

TEST(QueueSizingTest, UnderTheCaptainsThrottledTimeIsNotLoad) {
  // The backlog of the test above (40 requests on 2 replicas), here made by a quota that the
  // Captains hold under the demand: 100/s of 10 ms work are 1 core of work, 1.25 at ρ* = 0.8,
  // which pods of at most 1 core hold on 2 replicas.
  model::WorkloadSignals s = LittleSignals(40, 0.01, 2);
  s.node_recommended_cpu_cores = 0.5;
  WorkloadConfig config = LittleConfig();
  config.cpu_policy = std::string(kThrottleTarget);
  config.max_cpu_cores = 1;
  const Proposal p = EvaluateQueueSizing(s, config, 1);
  EXPECT_EQ(TermOf(p, "captain_cpu"), 1);
  EXPECT_NEAR(TermOf(p, "offered_load"), 1, 1e-12);
  EXPECT_NEAR(TermOf(p, "pod_cpu_cores"), 1, 1e-12);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 1.25, 1e-12);
  EXPECT_NEAR(TermOf(p, "queue_replicas"), 10, 1e-9);  // reported, not applied
  EXPECT_EQ(p.replicas, 2);
  // A CPU channel that does not follow each pod's load keeps the queue term.
  config.cpu_policy = std::string(kVpa);
  const Proposal q = EvaluateQueueSizing(s, config, 1);
  EXPECT_EQ(TermOf(q, "captain_cpu"), 0);
  EXPECT_EQ(q.replicas, 10);
  // So does throttle_target without a Captain's report for the workload.
  config.cpu_policy = std::string(kThrottleTarget);
  s.node_recommended_cpu_cores = model::kMissing;
  EXPECT_EQ(EvaluateQueueSizing(s, config, 1).replicas, 10);
}

TEST(QueueSizingTest, UnderTheCaptainsPodsGrowToTheirCeilingBeforeScalingOut) {
  // 1 000/s of 10 ms work: 10 cores of work, 12.5 at ρ* = 0.8. Pods of up to 4 cores need
  // 12.5/4 = 3.1 → 4 replicas; pods of up to 16 cores hold it in one, which its Captain sizes.
  model::WorkloadSignals s = LittleSignals(40, 0.01, 6);
  s.request_rate = 1000;
  s.mean_exclusive_seconds = 0.04;
  s.node_recommended_cpu_cores = 2;
  WorkloadConfig config = LittleConfig();
  config.cpu_policy = std::string(kThrottleTarget);
  config.max_cpu_cores = 4;
  const Proposal p = EvaluateQueueSizing(s, config, 1);
  EXPECT_NEAR(TermOf(p, "offered_load"), 10, 1e-9);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 12.5 / 4, 1e-9);
  EXPECT_EQ(p.replicas, 4);
  config.max_cpu_cores = 16;
  EXPECT_EQ(EvaluateQueueSizing(s, config, 1).replicas, 1);
  // Without the Captains the CPU does not follow the load: each pod counts as one server.
  config.cpu_policy = std::string(kVpa);
  const Proposal q = EvaluateQueueSizing(s, config, 1);
  EXPECT_NEAR(TermOf(q, "pod_cpu_cores"), 1, 1e-12);
  EXPECT_GT(q.replicas, 4);
}

TEST(QueueSizingTest, TimeWaitingOnCalleesIsNotLoad) {
  // A front end whose requests take 1 s end to end, 2 ms of it its own: 100/s put 0.2 requests
  // inside it however many are in flight downstream.
  model::WorkloadSignals s = LittleSignals(0.2, 0.001, 4);
  s.inflight = 100;
  s.mean_latency_seconds = 1;
  const Proposal p = EvaluateQueueSizing(s, LittleConfig(), 1);
  EXPECT_NEAR(TermOf(p, "exclusive_inflight"), 0.2, 1e-12);
  EXPECT_EQ(p.replicas, 1);
}

TEST(QueueSizingTest, WithoutAReplicaCountTheOfferedLoadComesFromTheRate) {
  // 100/s at S0 = 10 ms is 1 busy server: 1/0.8 = 1.25 → 2; the queue term, 6/4, also says 2.
  const Proposal p =
      EvaluateQueueSizing(LittleSignals(6, 0.01, model::kMissing), LittleConfig(), 1);
  EXPECT_NEAR(TermOf(p, "offered_load"), 1, 1e-12);
  EXPECT_NEAR(TermOf(p, "utilization_replicas"), 1.25, 1e-12);
  EXPECT_EQ(p.replicas, 2);
  EXPECT_EQ(
      EvaluateQueueSizing(LittleSignals(40, 0.01, model::kMissing), LittleConfig(), 1).replicas,
      10);
}

TEST(QueueSizingTest, NoTrafficMeansOneReplica) {
  model::WorkloadSignals s = LittleSignals(0, 0.01, 5);
  s.request_rate = 0;
  s.mean_exclusive_seconds = model::kMissing;  // the model has no ratio over a zero rate
  const Proposal p = EvaluateQueueSizing(s, LittleConfig(), 1);
  EXPECT_EQ(p.replicas, 1);
  EXPECT_DOUBLE_EQ(TermOf(p, "utilization"), 0);
}

TEST(QueueSizingTest, UnreachableSloUsesTheConcurrencyFloor) {
  // S0 = 60 ms ≥ W*: c* is floored at 0.1, so ρ* = 0.1/1.1; 1 replica holding 1 request
  // (ρ̂ = 0.5) needs 5.5 by utilisation and 10 by the queue.
  const Proposal p = EvaluateQueueSizing(LittleSignals(1, 0.06, 1), LittleConfig(), 1);
  EXPECT_DOUBLE_EQ(TermOf(p, "target_concurrency"), 0.1);
  EXPECT_NEAR(TermOf(p, "target_utilization"), 0.1 / 1.1, 1e-12);
  EXPECT_EQ(p.replicas, 10);
}

TEST(QueueSizingTest, NoProposalWithoutInputs) {
  EXPECT_FALSE(
      EvaluateQueueSizing(LittleSignals(5, model::kMissing, 2), LittleConfig(), 1).replicas);
  EXPECT_FALSE(
      EvaluateQueueSizing(LittleSignals(model::kMissing, 0.01, 2), LittleConfig(), 1).replicas);
  model::WorkloadSignals s = LittleSignals(5, 0.01, 2);
  s.request_rate = model::kMissing;
  const Proposal p = EvaluateQueueSizing(s, LittleConfig(), 1);
  EXPECT_FALSE(p.replicas);
  EXPECT_NE(p.reason.find("exclusive"), std::string::npos);
}

// Sampled traces: with fewer than min_sample_size sampled requests in the window the policy
// sizes for the upper confidence bound of the rate and holds scale-down.
TEST(QueueSizingTest, FewSampledRequestsWidenTheRateAndHoldScaleDown) {
  // Over-provisioned (3 replicas wanted of 20, as above), but only 25 sampled requests: the rate
  // is widened by 1 + 2/√25 = 1.4 and the 20 replicas are held.
  model::WorkloadSignals s = LittleSignals(2, 0.01, 20);
  s.sampled_requests = 25;
  const Proposal few = EvaluateQueueSizing(s, LittleConfig(), 1);
  EXPECT_NEAR(TermOf(few, "sample_widening"), 1.4, 1e-12);
  EXPECT_NEAR(TermOf(few, "exclusive_inflight"), 2 * 1.4, 1e-9);
  EXPECT_EQ(TermOf(few, "sample_hold"), 1.0);
  EXPECT_EQ(few.replicas, 20);
  EXPECT_NE(few.reason.find("scale-down held"), std::string::npos) << few.reason;

  // Enough samples: the same signals scale down as before.
  s.sampled_requests = 100;
  const Proposal enough = EvaluateQueueSizing(s, LittleConfig(), 1);
  EXPECT_EQ(TermOf(enough, "sample_widening"), 1.0);
  EXPECT_EQ(TermOf(enough, "sample_hold"), 0.0);
  EXPECT_EQ(enough.replicas, 3);
}

TEST(QueueSizingTest, FewSampledRequestsScaleUpOnTheUpperBound) {
  // A backlog of 40 (10 replicas at the mean) seen through 4 samples: u = 1 + 2/√4 = 2, so
  // B = 80 and 20 replicas; scale-up is never held.
  model::WorkloadSignals s = LittleSignals(40, 0.01, 2);
  s.sampled_requests = 4;
  const Proposal p = EvaluateQueueSizing(s, LittleConfig(), 1);
  EXPECT_NEAR(TermOf(p, "queue_replicas"), 20, 1e-9);
  EXPECT_EQ(p.replicas, 20);
  EXPECT_EQ(TermOf(p, "sample_hold"), 0.0);
  // Zero samples widen as one (no division by zero) and hold what runs.
  s = LittleSignals(0, 0.01, 5);
  s.sampled_requests = 0;
  const Proposal none = EvaluateQueueSizing(s, LittleConfig(), 1);
  EXPECT_EQ(TermOf(none, "sample_widening"), 3.0);
  EXPECT_EQ(none.replicas, 5);
}

}  // namespace
}  // namespace recommender::policies
