#include "recommender/policies/hab.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/recommender/policies/term.h"
#include "tests/support/fake_clock.h"

namespace recommender::policies {
namespace {

using std::chrono::seconds;

// Two members with mean processing times S = 125 and 375 ms (exact in binary); member 0 is the
// entry, whose mean latency is HAB's R.
struct HabGroup {
  std::vector<model::WorkloadSignals> signals = std::vector<model::WorkloadSignals>(2);
  std::vector<HabMemory> memory = std::vector<HabMemory>(2);
  common::FakeClock clock;
  int budget;

  explicit HabGroup(int extra_pods, double s0 = 0.125, double s1 = 0.375) : budget(extra_pods) {
    signals[0].mean_exclusive_seconds = s0;
    signals[1].mean_exclusive_seconds = s1;
    signals[0].request_rate = 10;
  }

  std::vector<Proposal> Pass(double latency) {
    signals[0].mean_latency_seconds = latency;
    const std::vector<size_t> members = {0, 1}, entry = {0};
    std::vector<HabMemory*> m = {&memory[0], &memory[1]};
    return EvaluateHabGroup(signals, members, entry, budget, m, clock.Now());
  }
};

std::vector<int> Replicas(const std::vector<Proposal>& proposals) {
  std::vector<int> r;
  for (const Proposal& p : proposals) r.push_back(p.replicas.value_or(-1));
  return r;
}

TEST(HabTest, BisectsThePodMultiplierOnTheLatencyBand) {
  HabGroup g(/*extra_pods=*/4);
  // φ = (2 + 20)/2 = 11: pods = 11·2·(0.125, 0.375) = 2.75, 8.25 > 4 → floor(4·p/11) = 1, 3.
  std::vector<Proposal> p = g.Pass(0.005);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "phi"), 11);
  EXPECT_EQ(Replicas(p), (std::vector<int>{2, 4}));
  // Before the 10 s probe has run its course nothing moves.
  g.clock.Advance(seconds{5});
  p = g.Pass(0.005);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "phi"), 11);
  // R = 5 ms > 1.5 + 0.5 ms: more pods, φ_L = 11 and φ = 15.5.
  g.clock.Advance(seconds{5});
  p = g.Pass(0.005);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "phi_left"), 11);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "phi"), 15.5);
  EXPECT_EQ(TermOf(p[0], "stage"), 1);
  // R = 0.5 ms < 1.5 − 0.5 ms: fewer pods, φ_R = 15.5 and φ = 13.25.
  g.clock.Advance(seconds{10});
  p = g.Pass(0.0005);
  EXPECT_DOUBLE_EQ(TermOf(p[1], "phi_right"), 15.5);
  EXPECT_DOUBLE_EQ(TermOf(p[1], "phi"), 13.25);
  // R = 1.5 ms is inside the band: final, pods 1 and 3 (Σ = C, so no renormalisation).
  g.clock.Advance(seconds{10});
  p = g.Pass(0.0015);
  EXPECT_EQ(TermOf(p[0], "stage"), 2);
  EXPECT_EQ(Replicas(p), (std::vector<int>{2, 4}));
  // Held until 90 s after the bisection started, then a new one starts at φ = 11.
  g.clock.Advance(seconds{30});
  EXPECT_EQ(TermOf(g.Pass(0.01)[0], "stage"), 2);
  g.clock.Advance(seconds{30});
  p = g.Pass(0.01);
  EXPECT_EQ(TermOf(p[0], "stage"), 1);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "phi"), 11);
}

TEST(HabTest, SmallServiceTimesDeployOnePodEachAndTheFinalRecomputesOverTheBudget) {
  // S = 10, 30 ms: φ = 11 gives 0.22 and 0.66 pods, under C, deployed as floor + 1 = 1 each.
  HabGroup g(/*extra_pods=*/1, 0.01, 0.03);
  std::vector<Proposal> p = g.Pass(0.0015);
  EXPECT_EQ(Replicas(p), (std::vector<int>{1, 1}));
  EXPECT_NEAR(TermOf(p[1], "pods"), 0.66, 1e-12);
  // In the band: floored at 1 each, Σ = 2 > C = 1, so pods = floor(λ·φ·λ·S/λ_base) with λ = 10:
  // floor(5.5) = 5 and floor(16.5) = 16, normalised to C: floor(5/21) = floor(16/21) = 0.
  g.clock.Advance(seconds{10});
  p = g.Pass(0.0015);
  EXPECT_EQ(TermOf(p[0], "stage"), 2);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "pods"), 0);
  EXPECT_DOUBLE_EQ(TermOf(p[1], "pods"), 0);
  EXPECT_EQ(Replicas(p), (std::vector<int>{1, 1}));
  // With room in the budget the floor at 1 stands: replicas 2 each.
  HabGroup roomy(/*extra_pods=*/5, 0.01, 0.03);
  roomy.Pass(0.0015);
  roomy.clock.Advance(seconds{10});
  EXPECT_EQ(Replicas(roomy.Pass(0.0015)), (std::vector<int>{2, 2}));
}

TEST(HabTest, NoProposalWithoutAServiceTime) {
  HabGroup g(4);
  g.signals[1].mean_exclusive_seconds = model::kMissing;
  const std::vector<Proposal> p = g.Pass(0.005);
  EXPECT_FALSE(p[1].replicas);
  // φ = 11: 2.75 pods alone, under the budget: floor + 1 = 3.
  EXPECT_EQ(p[0].replicas, 3);
}

}  // namespace
}  // namespace recommender::policies
