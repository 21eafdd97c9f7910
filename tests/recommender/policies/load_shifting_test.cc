#include "recommender/policies/load_shifting.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <random>

#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

using std::chrono::seconds;

const common::TimePoint kT0{std::chrono::hours{1000}};

double TermOf(const Terms& terms, std::string_view name) {
  for (const auto& [n, v] : terms) {
    if (n == name) return v;
  }
  return std::nan("");
}

model::InstanceSignals Instance(std::string name, double rate, double latency,
                                double interference) {
  return {.instance = std::move(name),
          .request_rate = rate,
          .mean_latency_seconds = latency,
          .mean_exclusive_seconds = latency,
          .interference_ratio = interference};
}

Proposal QueueSizing(int replicas, double budget) {
  Proposal p{.policy = std::string(kQueueSizing), .replicas = replicas};
  p.Term("target_sojourn_seconds", budget);
  return p;
}

model::WorkloadSignals Signals(std::vector<model::InstanceSignals> instances, double replicas) {
  model::WorkloadSignals s;
  s.instances = std::move(instances);
  s.current_replicas = replicas;
  s.ready_replicas = replicas;
  s.uncongested_seconds = 0.01;
  return s;
}

// Memory whose replica count has not changed for an hour: the coupling may act.
LoadShiftingMemory Settled(int replicas) {
  LoadShiftingMemory m;
  m.replicas = replicas;
  m.replicas_changed_at = kT0 - std::chrono::hours{1};
  return m;
}

// ---- gradient estimator ----

TEST(LoadShiftingSlope, PriorWithoutHistoryIsTheMm1Slope) {
  PerformanceTable table;
  int source = -1;
  const double g = EstimateSlope(50, 0.02, 5, 1, nullptr, table, {}, &source);
  EXPECT_EQ(source, 2);
  EXPECT_DOUBLE_EQ(g, 0.02 * 0.02);
  // The latency went into the cell, no slope did.
  EXPECT_EQ(table.at({5, 1}).latency_samples, 1);
  EXPECT_EQ(table.at({5, 1}).slope_samples, 0);
}

TEST(LoadShiftingSlope, ZeroLoadChangeFallsBackToTheTable) {
  PerformanceTable table;
  table[{5, 1}] = {.latency = 0.02, .slope = 3e-4, .latency_samples = 4, .slope_samples = 4};
  int source = -1;
  // The load moved by 1 %: the latency difference says nothing about the slope.
  const LoadShiftingMemory::Last prev{.load = 50, .latency = 0.001, .interference_bucket = 1};
  const double g = EstimateSlope(50.5, 0.05, 5, 1, &prev, table, {}, &source);
  EXPECT_EQ(source, 1);
  EXPECT_DOUBLE_EQ(g, std::max(3e-4, 0.1 * 0.05 * 0.05));
  EXPECT_EQ(table.at({5, 1}).slope_samples, 4);  // no slope learned from it
}

TEST(LoadShiftingSlope, InterferenceChangeOrNegativeSlopeIsNotMeasured) {
  PerformanceTable table;
  int source = -1;
  const LoadShiftingMemory::Last other_bucket{
      .load = 40, .latency = 0.01, .interference_bucket = 3};
  EstimateSlope(50, 0.05, 5, 1, &other_bucket, table, {}, &source);
  EXPECT_EQ(source, 2);
  const LoadShiftingMemory::Last higher{.load = 40, .latency = 0.05, .interference_bucket = 1};
  EstimateSlope(50, 0.01, 5, 1, &higher, table, {}, &source);
  EXPECT_EQ(source, 2);
  EXPECT_EQ(table.at({5, 1}).slope_samples, 0);
}

TEST(LoadShiftingSlope, NoisyLatenciesAverageToTheTrueSlope) {
  // l = 0.01 + 2e-4·x with ±10 % noise, the load alternating between 40 and 60 rps.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> noise(-0.2, 0.2);
  PerformanceTable table;
  const LoadShiftingOptions options;
  LoadShiftingMemory::Last prev{.load = 40, .latency = 0.018, .interference_bucket = 0};
  double g = 0;
  for (int step = 0; step < 400; ++step) {
    const double x = step % 2 == 0 ? 60 : 40;
    const double l = (0.01 + 2e-4 * x) * (1 + noise(rng) * 0.5);
    int source = -1;
    g = EstimateSlope(x, l, 0, 0, &prev, table, options, &source);
    prev = {.load = x, .latency = l, .interference_bucket = 0};
  }
  // Single noisy pairs stray by up to ±90 % of the slope; the table's average does not.
  EXPECT_NEAR(g, 2e-4, 0.5e-4);
}

// ---- weight update ----

TEST(LoadShiftingSlope, OnePairOnAFreshCellMovesThePriorByAlpha) {
  PerformanceTable table;
  const LoadShiftingOptions options;
  const LoadShiftingMemory::Last prev{.load = 40, .latency = 0.020, .interference_bucket = 1};
  int source = -1;
  // 0.5 ms more at 10 rps more: a measured 5e-5, far from the prior 0.0205² ≈ 4.2e-4.
  const double g = EstimateSlope(50, 0.0205, 5, 1, &prev, table, options, &source);
  EXPECT_EQ(source, 0);
  const double prior = 0.0205 * 0.0205;
  EXPECT_NEAR(g, prior + options.table_alpha * (5e-5 - prior), 1e-12);
  EXPECT_EQ(table.at({5, 1}).slope_samples, 1);
}

TEST(LoadShiftingWeights, ProjectionKeepsSumBoundsAndStepCap) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(0.01, 1);
  for (int trial = 0; trial < 200; ++trial) {
    const size_t n = 2 + trial % 6;
    const double w_min = 0.25 / static_cast<double>(n);
    std::vector<double> w(n, 1.0 / static_cast<double>(n)), target(n);
    for (int step = 0; step < 20; ++step) {
      for (double& t : target) t = u(rng);
      const double s = std::accumulate(target.begin(), target.end(), 0.0);
      for (double& t : target) t /= s;
      const double w_max = std::min(1.0, 2 / static_cast<double>(n));
      const std::vector<double> next = ProjectWeights(w, target, w_min, w_max, 0.05);
      ASSERT_NEAR(std::accumulate(next.begin(), next.end(), 0.0), 1, 1e-9);
      for (size_t j = 0; j < n; ++j) {
        ASSERT_GE(next[j], w_min - 1e-9);
        ASSERT_LE(next[j], w_max + 1e-9);
        ASSERT_LE(std::abs(next[j] - w[j]), 0.05 + 1e-9);
      }
      w = next;
    }
  }
}

TEST(LoadShiftingWeights, ProjectionReachesAnAllowedTarget) {
  const std::vector<double> w = {0.5, 0.5};
  const std::vector<double> next = ProjectWeights(w, {0.52, 0.48}, 0.1, 1, 0.05);
  EXPECT_NEAR(next[0], 0.52, 1e-9);
  EXPECT_NEAR(next[1], 0.48, 1e-9);
}

TEST(LoadShiftingWeights, LoadMovesAwayFromTheInterferedInstance) {
  LoadShiftingMemory memory;
  const LoadShiftingOptions options;
  common::TimePoint now = kT0;
  double w_slow = 0.5;
  for (int step = 0; step < 40; ++step) {
    // Equal loads at first; the slow instance's latency is three times the other's.
    auto s = Signals({Instance("a-1", 50, 0.03, 0.5), Instance("a-2", 50, 0.01, 0.0)}, 2);
    const LoadShiftingResult r = EvaluateLoadShifting(s, QueueSizing(2, 1.0), memory, now, options);
    ASSERT_EQ(r.instances.size(), 2u);
    const double sum = r.instances[0].weight + r.instances[1].weight;
    ASSERT_NEAR(sum, 1, 1e-9);
    ASSERT_LE(std::abs(r.instances[0].weight - w_slow), options.max_step + 1e-9);
    ASSERT_GE(r.instances[0].weight, options.min_weight_share / 2 - 1e-9);
    w_slow = r.instances[0].weight;
    now += options.update_interval;
  }
  EXPECT_NEAR(w_slow, options.min_weight_share / 2, 1e-6);  // pinned at w_min
}

TEST(LoadShiftingWeights, AShiftFadesOnceTheInstancesAreAlikeAgain) {
  LoadShiftingMemory memory;
  memory.weights = {{"a-1", 0.85}, {"a-2", 0.15}};  // left by an interference that has ended
  const LoadShiftingOptions options;
  common::TimePoint now = kT0;
  double w = 0.85;
  for (int step = 0; step < 30; ++step) {
    auto s =
        Signals({Instance("a-1", 100 * w, 0.002, 0), Instance("a-2", 100 * (1 - w), 0.002, 0)}, 2);
    const LoadShiftingResult r =
        EvaluateLoadShifting(s, QueueSizing(2, 0.004), memory, now, options);
    ASSERT_LE(r.instances[0].weight, w + 1e-12) << "step " << step;  // never away from even
    ASSERT_GE(r.instances[0].weight, 0.5 - 1e-12);
    ASSERT_LE(w - r.instances[0].weight, options.max_step + 1e-9) << "step " << step;
    w = r.instances[0].weight;
    now += options.update_interval;
  }
  EXPECT_NEAR(w, 0.5, 0.01);
}

TEST(LoadShiftingWeights, AlikeInstancesWithNoisyLatenciesStayNearEven) {
  // Two instances with the same flat latency curve, each 5 s mean off by up to ±15 %, and loads
  // that follow the weights: the weights must not wander off the even split.
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> noise(0.85, 1.15);
  LoadShiftingMemory memory;
  const LoadShiftingOptions options;
  common::TimePoint now = kT0;
  double w = 0.5, farthest = 0;
  for (int step = 0; step < 500; ++step) {
    auto s = Signals({Instance("a-1", 1000 * w, 0.002 * noise(rng), 0),
                      Instance("a-2", 1000 * (1 - w), 0.002 * noise(rng), 0)},
                     2);
    s.uncongested_seconds = 0.0015;
    const LoadShiftingResult r =
        EvaluateLoadShifting(s, QueueSizing(2, 0.004), memory, now, options);
    w = r.instances[0].weight;
    farthest = std::max(farthest, std::abs(w - 0.5));
    now += options.update_interval;
  }
  EXPECT_LT(farthest, 0.2);
}

TEST(LoadShiftingWeights, AnInstanceOverBudgetLosesItsSurplusAtOnce) {
  LoadShiftingMemory memory;
  memory.weights = {{"a-1", 0.7}, {"a-2", 0.2}, {"a-3", 0.1}};
  memory.updated_at = kT0;  // not due: only the guard acts
  const LoadShiftingResult r =
      EvaluateLoadShifting(Signals({Instance("a-1", 70, 0.5, 0.6), Instance("a-2", 20, 0.01, 0),
                                    Instance("a-3", 10, 0.01, 0)},
                                   3),
                           QueueSizing(3, 0.1), memory, kT0 + seconds{1});
  ASSERT_EQ(r.instances.size(), 3u);
  EXPECT_NEAR(r.instances[0].weight, 1.0 / 3, 1e-9);
  EXPECT_NEAR(r.instances[1].weight / r.instances[2].weight, 2, 1e-9);
  EXPECT_NEAR(r.instances[1].weight + r.instances[2].weight, 2.0 / 3, 1e-9);
  EXPECT_EQ(TermOf(r.proposal.terms, "cut_to_even"), 1);
}

TEST(LoadShiftingWeights, SingleInstanceIsNotShifted) {
  LoadShiftingMemory memory;
  memory.weights["gone"] = 0.7;
  const LoadShiftingResult r = EvaluateLoadShifting(Signals({Instance("a-1", 50, 0.03, 0.5)}, 1),
                                                    QueueSizing(3, 1.0), memory, kT0);
  EXPECT_TRUE(r.instances.empty());
  EXPECT_EQ(r.proposal.replicas, 3);  // queue_sizing's
  EXPECT_TRUE(memory.weights.empty());
}

TEST(LoadShiftingWeights, NewInstanceStartsAtAnEvenShare) {
  LoadShiftingMemory memory;
  memory.weights = {{"a-1", 0.8}, {"a-2", 0.2}};
  memory.updated_at = kT0;  // not due: the weights are only re-based
  const LoadShiftingResult r =
      EvaluateLoadShifting(Signals({Instance("a-1", 50, 0.01, 0), Instance("a-2", 50, 0.01, 0),
                                    Instance("a-3", 50, 0.01, 0)},
                                   3),
                           QueueSizing(3, 1.0), memory, kT0 + seconds{1});
  ASSERT_EQ(r.instances.size(), 3u);
  EXPECT_NEAR(r.instances[2].weight, 1.0 / 3, 1e-9);
  EXPECT_NEAR(r.instances[0].weight / r.instances[1].weight, 4, 1e-9);
}

// ---- min-max split ----

TEST(LoadShiftingSplit, BestMaxLatencyEqualisesLinearInstances) {
  // l_a = 0.01 + 1e-3·(x − 50), l_b = 0.03 + 1e-3·(x − 50): b sheds 10 rps to a, both at 0.02.
  const double best = BestMaxLatency({50, 50}, {0.01, 0.03}, {1e-3, 1e-3}, 100, 1);
  EXPECT_NEAR(best, 0.02, 1e-9);
  const std::vector<double> split = MinMaxSplit({50, 50}, {0.01, 0.03}, {1e-3, 1e-3}, 100, 1);
  EXPECT_NEAR(split[0], 60, 1e-6);
  EXPECT_NEAR(split[1], 40, 1e-6);
  // The floor binds: b keeps its minimum 30 rps (0.3 − 0.02) and a takes the other 70 (0.03).
  EXPECT_NEAR(BestMaxLatency({50, 50}, {0.01, 0.3}, {1e-3, 1e-3}, 100, 30), 0.28, 1e-9);
  EXPECT_NEAR(MinMaxSplit({50, 50}, {0.01, 0.3}, {1e-3, 1e-3}, 100, 30)[0], 70, 1e-6);
}

// ---- coupling with scaling ----

TEST(LoadShiftingCoupling, AsksForAReplicaWhenShiftingCannotMeetTheBudget) {
  LoadShiftingMemory memory = Settled(2);
  const LoadShiftingResult r = EvaluateLoadShifting(
      Signals({Instance("a-1", 50, 0.20, 0.6), Instance("a-2", 50, 0.15, 0.1)}, 2),
      QueueSizing(2, 0.05), memory, kT0);
  EXPECT_EQ(r.proposal.replicas, 3);
  EXPECT_EQ(TermOf(r.proposal.terms, "coupling"), 1);
  EXPECT_EQ(r.most_interfered, "a-1");
  // The most interfered pod has the lowest deletion cost.
  EXPECT_EQ(r.instances[0].deletion_cost, 0);
  EXPECT_EQ(r.instances[1].deletion_cost, 1);
}

TEST(LoadShiftingCoupling, UnderTheCaptainsOnlyInterferenceAsksForAReplica) {
  // The same latencies, with the Captains holding the CPU: throttling is theirs to remove.
  Proposal rq = QueueSizing(2, 0.05);
  rq.Term("captain_cpu", 1);
  LoadShiftingMemory calm = Settled(2);
  const LoadShiftingResult r = EvaluateLoadShifting(
      Signals({Instance("a-1", 50, 0.20, 0.05), Instance("a-2", 50, 0.15, 0.0)}, 2), rq, calm, kT0);
  EXPECT_EQ(r.proposal.replicas, 2);
  EXPECT_EQ(TermOf(r.proposal.terms, "coupling"), 0);
  EXPECT_EQ(TermOf(r.proposal.terms, "scale_out_needs_interference"), 1);
  // A pod that waits for a CPU a tenth of its runnable time: a replica away from its node.
  LoadShiftingMemory noisy = Settled(2);
  const LoadShiftingResult q = EvaluateLoadShifting(
      Signals({Instance("a-1", 50, 0.20, 0.1), Instance("a-2", 50, 0.15, 0.0)}, 2), rq, noisy, kT0);
  EXPECT_EQ(q.proposal.replicas, 3);
  EXPECT_EQ(TermOf(q.proposal.terms, "coupling"), 1);
}

TEST(LoadShiftingCoupling, NoSecondReplicaWhileOneIsStarting) {
  LoadShiftingMemory memory = Settled(3);
  auto s = Signals({Instance("a-1", 50, 0.20, 0.6), Instance("a-2", 50, 0.15, 0.1)}, 3);
  s.ready_replicas = 2;
  const LoadShiftingResult r = EvaluateLoadShifting(s, QueueSizing(2, 0.05), memory, kT0);
  EXPECT_EQ(r.proposal.replicas, 3);
}

TEST(LoadShiftingCoupling, RemovesTheMostInterferedOnlyWhenTheTableVouches) {
  LoadShiftingOptions options;
  const auto signals = Signals({Instance("a-1", 20, 0.012, 0.05), Instance("a-2", 20, 0.011, 0.0),
                                Instance("a-3", 20, 0.030, 0.45)},
                               3);
  // An empty table says nothing about 30 rps per instance: queue_sizing's count stands.
  LoadShiftingMemory empty = Settled(3);
  LoadShiftingResult r = EvaluateLoadShifting(signals, QueueSizing(3, 0.1), empty, kT0, options);
  EXPECT_EQ(r.proposal.replicas, 3);
  EXPECT_EQ(TermOf(r.proposal.terms, "coupling"), 0);

  // A table that saw those instances' buckets at 30 rps (ρ = 0.3) well under budget.
  LoadShiftingMemory memory = Settled(3);
  for (int bucket : {2, 3, 4}) {
    for (int i : {0, 1}) {
      memory.table[{bucket, i}] = {
          .latency = 0.02, .slope = 1e-4, .latency_samples = 5, .slope_samples = 5};
    }
  }
  r = EvaluateLoadShifting(signals, QueueSizing(3, 0.1), memory, kT0, options);
  EXPECT_EQ(r.proposal.replicas, 2);
  EXPECT_EQ(TermOf(r.proposal.terms, "coupling"), -1);
  EXPECT_EQ(r.most_interfered, "a-3");
  EXPECT_EQ(r.instances[2].deletion_cost, 0);
  // Not again within `hold`: queue_sizing's count stands.
  r = EvaluateLoadShifting(signals, QueueSizing(3, 0.1), memory, kT0 + seconds{10}, options);
  EXPECT_EQ(r.proposal.replicas, 3);
  // And queue_sizing asking for more is never capped.
  auto later = Signals({Instance("a-1", 30, 0.015, 0.05), Instance("a-2", 30, 0.014, 0.0)}, 2);
  r = EvaluateLoadShifting(later, QueueSizing(3, 0.1), memory, kT0 + seconds{20}, options);
  EXPECT_EQ(r.proposal.replicas, 3);

  // Over the margin: no scale-in.
  LoadShiftingMemory tight = memory;
  tight.scaled_in_at = {};
  for (auto& [key, cell] : tight.table) cell.latency = 0.09;
  r = EvaluateLoadShifting(signals, QueueSizing(3, 0.1), tight, kT0, options);
  EXPECT_EQ(r.proposal.replicas, 3);
}

TEST(LoadShiftingCoupling, NoScaleInThatTheOthersCpuLimitsCannotAbsorb) {
  auto signals = Signals({Instance("a-1", 20, 0.012, 0.05), Instance("a-2", 20, 0.011, 0.0),
                          Instance("a-3", 20, 0.030, 0.45)},
                         3);
  LoadShiftingMemory memory = Settled(3);
  for (int bucket : {2, 3, 4}) {
    for (int i : {0, 1}) {
      memory.table[{bucket, i}] = {
          .latency = 0.02, .slope = 1e-4, .latency_samples = 5, .slope_samples = 5};
    }
  }
  // 1.5 cores over three pods limited to 0.6 each: two pods would need 0.75, over 0.8 × 0.6.
  signals.cpu_usage_cores = 1.5;
  signals.cpu_limit_cores = 0.6;
  LoadShiftingMemory tight = memory;
  LoadShiftingResult r = EvaluateLoadShifting(signals, QueueSizing(3, 0.1), tight, kT0);
  EXPECT_EQ(r.proposal.replicas, 3);
  EXPECT_EQ(TermOf(r.proposal.terms, "coupling"), 0);
  EXPECT_NEAR(TermOf(r.proposal.terms, "scale_in_cpu_per_pod_cores"), 0.75, 1e-12);
  // Limits of one core leave room for 0.75 each: the table decides, and it vouches.
  signals.cpu_limit_cores = 1;
  r = EvaluateLoadShifting(signals, QueueSizing(3, 0.1), memory, kT0);
  EXPECT_EQ(r.proposal.replicas, 2);
  EXPECT_EQ(TermOf(r.proposal.terms, "coupling"), -1);
}

TEST(LoadShiftingCoupling, NoCouplingWhileTheReplicaCountSettles) {
  const LoadShiftingOptions options;
  // Over budget after shifting, but the count went from 2 to 3 just now: queue_sizing's stands.
  LoadShiftingMemory memory = Settled(2);
  const auto s = Signals({Instance("a-1", 50, 0.20, 0.6), Instance("a-2", 50, 0.15, 0.1)}, 3);
  LoadShiftingResult r = EvaluateLoadShifting(s, QueueSizing(3, 0.05), memory, kT0, options);
  EXPECT_EQ(r.proposal.replicas, 3);
  EXPECT_EQ(TermOf(r.proposal.terms, "settling"), 1);
  EXPECT_EQ(TermOf(r.proposal.terms, "coupling"), 0);
  r = EvaluateLoadShifting(s, QueueSizing(3, 0.05), memory, kT0 + options.hold - seconds{1},
                           options);
  EXPECT_EQ(r.proposal.replicas, 3);
  // A hold after the change, the same signals describe the present set: one replica more.
  r = EvaluateLoadShifting(s, QueueSizing(3, 0.05), memory, kT0 + options.hold, options);
  EXPECT_EQ(r.proposal.replicas, 4);
  EXPECT_EQ(TermOf(r.proposal.terms, "settling"), 0);
  EXPECT_EQ(TermOf(r.proposal.terms, "coupling"), 1);
}

TEST(LoadShiftingCoupling, BudgetIsTheSojournQueueSizingSizesFor) {
  // A hop whose service time (35 ms) is over its W* (20 ms): queue_sizing floors the target
  // concurrency at 0.1, so B = 38.5 ms, and instances at 40 ms need no replica more.
  Proposal q = QueueSizing(3, 0.02);
  q.Term("uncongested_seconds", 0.035);
  q.Term("target_concurrency", 0.1);
  LoadShiftingMemory memory = Settled(3);
  const auto s = Signals({Instance("a-1", 1.5, 0.040, 0), Instance("a-2", 1.5, 0.041, 0),
                          Instance("a-3", 1.5, 0.039, 0)},
                         3);
  LoadShiftingResult r = EvaluateLoadShifting(s, q, memory, kT0);
  EXPECT_NEAR(TermOf(r.proposal.terms, "latency_budget_seconds"), 0.0385, 1e-12);
  EXPECT_EQ(r.proposal.replicas, 3);
  EXPECT_EQ(TermOf(r.proposal.terms, "cut_to_even"), 0);
  // Against W* alone every instance would be over budget and one replica more asked for.
  memory = Settled(3);
  r = EvaluateLoadShifting(s, QueueSizing(3, 0.02), memory, kT0);
  EXPECT_EQ(r.proposal.replicas, 4);
}

TEST(LoadShiftingPolicies, RegisteredAfterQueueSizing) {
  EXPECT_TRUE(ProposesReplicas(kLoadShifting));
  EXPECT_FALSE(ProposesCpu(kLoadShifting));
  EXPECT_EQ(kPolicyNames.back(), kLoadShifting);
}

}  // namespace
}  // namespace recommender::policies
