#include "recommender/combine/combiner.h"

#include <gtest/gtest.h>

#include <string>

#include "common/clock.h"
#include "recommender/checkpoint/safety_state.h"
#include "tests/support/fake_clock.h"

namespace recommender::combine {
namespace {

using std::chrono::seconds;

class CombinerTest : public ::testing::Test {
 protected:
  CombinerTest() {
    config_.key = {.k8s_namespace = "shop", .workload = "cart"};
    config_.min_replicas = 1;
    config_.max_replicas = 10;
    config_.min_cpu_cores = 0.1;
    config_.max_cpu_cores = 4;
    signals_.current_replicas = 3;
    signals_.cpu_limit_cores = 1;
  }

  // Proposals where the configured policies propose `replicas` and `cpu`; shadow policies
  // propose something else that must be ignored.
  policies::WorkloadProposals Proposals(std::optional<int> replicas, std::optional<double> cpu) {
    policies::WorkloadProposals w;
    w.key = config_.key;
    for (std::string_view name : policies::kPolicyNames) {
      policies::Proposal p;
      p.policy = std::string(name);
      p.replicas = 9;
      p.cpu_cores = 3.5;
      p.reason = "shadow";
      if (name == config_.replica_policy) {
        p.replicas = replicas;
        p.reason = "queues";
      }
      if (name == config_.cpu_policy) {
        p.cpu_cores = cpu;
        p.reason = "throttling";
      }
      w.proposals.push_back(std::move(p));
    }
    return w;
  }

  Recommendation Run(std::optional<int> replicas, std::optional<double> cpu) {
    signals_.observed_at = observed_ ? clock_.Now() : common::TimePoint{};
    return Combine(config_, Proposals(replicas, cpu), signals_, memory_, clock_.Now(), options_);
  }

  WorkloadConfig config_;
  model::WorkloadSignals signals_;
  SafetyMemory memory_;
  SafetyOptions options_;
  common::FakeClock clock_;
  bool observed_ = true;
};

TEST_F(CombinerTest, PicksTheConfiguredPolicies) {
  const Recommendation r = Run(4, 1.5);
  EXPECT_EQ(r.key, config_.key);
  EXPECT_EQ(r.replicas, 4);
  EXPECT_EQ(r.cpu_cores, 1.5);
  EXPECT_EQ(r.policy, "queue_sizing");
  EXPECT_EQ(r.cpu_policy, "throttle_target");
  EXPECT_EQ(r.reason, "queue_sizing: queues; throttle_target: throttling");
  EXPECT_EQ(r.computed_at, clock_.Now());
  EXPECT_FALSE(r.stale);
  EXPECT_TRUE(r.steps.empty());
}

TEST_F(CombinerTest, OtherPoliciesCanBeConfigured) {
  config_.replica_policy = "hpa_cpu";
  config_.cpu_policy = "k8s_cpu_fast";
  const Recommendation r = Run(5, 2);
  EXPECT_EQ(r.replicas, 5);
  EXPECT_EQ(r.cpu_cores, 2);
  EXPECT_EQ(r.policy, "hpa_cpu");
}

TEST_F(CombinerTest, ClampsToTheConfiguredBounds) {
  const Recommendation r = Run(0, 9);
  EXPECT_EQ(r.replicas, 1);
  EXPECT_EQ(r.cpu_cores, 4);
  EXPECT_EQ(r.steps, (std::vector<std::string>{"replicas clamp: 0 -> 1", "cpu clamp: 9 -> 4"}));
  EXPECT_NE(r.reason.find("replicas clamp: 0 -> 1"), std::string::npos);
}

TEST_F(CombinerTest, StepLimitAppliesBetweenCalls) {
  Run(2, 1);
  clock_.Advance(seconds{1});
  const Recommendation r = Run(10, 3);
  EXPECT_EQ(r.replicas, 6);
  EXPECT_EQ(r.cpu_cores, 3);  // the Captain's limit passes as it decides
}

TEST_F(CombinerTest, ScaleDownIsStabilised) {
  Run(8, 2);
  clock_.Advance(seconds{60});
  const Recommendation held = Run(2, 0.5);
  EXPECT_EQ(held.replicas, 8);
  EXPECT_EQ(held.cpu_cores, 0.5);  // throttle_target: no window
  clock_.Advance(seconds{240});
  // 300 s after it the 8 leaves the window; the step limit then allows 8 − 4 = 4.
  EXPECT_EQ(Run(2, 0.5).replicas, 4);
  clock_.Advance(seconds{1});
  EXPECT_EQ(Run(2, 0.5).replicas, 2);
}

TEST_F(CombinerTest, EachPolicyKeepsItsSourcesSafety) {
  const SafetyOptions o;
  const auto window = [&](std::string_view policy, bool replicas) {
    return DefaultSafety(policy, replicas, o).stabilization_window;
  };
  const auto step = [&](std::string_view policy, bool replicas) {
    return DefaultSafety(policy, replicas, o).max_step;
  };
  EXPECT_EQ(window(policies::kQueueBalancing, true), seconds{300});
  EXPECT_EQ(step(policies::kQueueBalancing, true), 4);
  // The HPA's window and rate policies and SHOWAR's hysteresis live in the policies.
  EXPECT_EQ(window(policies::kQueueSizing, true), seconds{300});
  for (std::string_view p : {policies::kHpaCpu, policies::kShowar, policies::kHab}) {
    EXPECT_EQ(window(p, true), common::Duration::zero()) << p;
    EXPECT_EQ(step(p, true), 0) << p;
  }
  for (std::string_view p : {policies::kThrottleTarget, policies::kShowar, policies::kK8sCpu,
                             policies::kK8sCpuFast, policies::kVpa}) {
    EXPECT_EQ(window(p, false), common::Duration::zero()) << p;
    EXPECT_EQ(step(p, false), 0) << p;
  }
}

TEST_F(CombinerTest, WorkloadOverridesThePolicyDefault) {
  config_.replica_safety.max_step = 1;
  config_.cpu_safety = {.stabilization_window = seconds{60}, .max_step = 2};
  Run(2, 2);
  clock_.Advance(seconds{1});
  Recommendation r = Run(5, 0.2);
  EXPECT_EQ(r.replicas, 3);   // one step
  EXPECT_EQ(r.cpu_cores, 2);  // held by the 60 s window
  clock_.Advance(seconds{60});
  r = Run(5, 0.2);
  EXPECT_EQ(r.cpu_cores, 1);  // out of the window, at most halved
}

TEST_F(CombinerTest, K8sCpuFastScalesDownAfterItsOwn20Seconds) {
  // The policy and the combiner together, once a second: 2 cores of use for 10 s, then 0.2.
  config_.cpu_policy = policies::kK8sCpuFast;
  config_.max_cpu_cores = 8;
  policies::K8sCpuMemory k8s;
  const policies::K8sCpuOptions fast = policies::K8sCpuOptions::Fast();
  signals_.current_replicas = 1;
  std::optional<double> out_at_28, out_at_30;
  for (int t = 0; t <= 30; ++t) {
    signals_.cpu_usage_cores = t < 10 ? 2 : 0.2;
    const policies::Proposal p =
        policies::EvaluateK8sCpu(policies::kK8sCpuFast, signals_, k8s, clock_.Now(), fast);
    policies::WorkloadProposals w = Proposals(3, 1);
    for (policies::Proposal& q : w.proposals) {
      if (q.policy == policies::kK8sCpuFast) q = p;
    }
    signals_.observed_at = clock_.Now();
    const Recommendation r = Combine(config_, w, signals_, memory_, clock_.Now(), options_);
    if (t == 28) out_at_28 = r.cpu_cores;
    if (t == 30) out_at_30 = r.cpu_cores;
    clock_.Advance(seconds{1});
  }
  // usage / 0.5: 4 cores while the 2-core second (t = 9) is in the policy's last 20 periods
  // (t = 9..28), then 0.4, not 4 until t = 309.
  EXPECT_EQ(out_at_28, 4);
  ASSERT_TRUE(out_at_30);
  EXPECT_NEAR(*out_at_30, 0.4, 1e-12);
}

TEST_F(CombinerTest, StaleInputsHoldTheLastGoodValue) {
  Run(6, 2);
  clock_.Advance(seconds{10});
  observed_ = false;  // observed_at never set: inputs missing
  signals_.current_replicas = 3;
  signals_.cpu_limit_cores = 1;
  const Recommendation r = Run(1, 0.2);
  EXPECT_TRUE(r.stale);
  EXPECT_EQ(r.replicas, 6);
  EXPECT_EQ(r.cpu_cores, 2);
  EXPECT_NE(r.reason.find("no inputs"), std::string::npos);
}

TEST_F(CombinerTest, OldInputsAreStale) {
  Run(6, 2);
  signals_.observed_at = clock_.Now();
  clock_.Advance(seconds{61});
  const Recommendation r =
      Combine(config_, Proposals(2, 0.5), signals_, memory_, clock_.Now(), options_);
  EXPECT_TRUE(r.stale);
  EXPECT_EQ(r.replicas, 6);
  EXPECT_NE(r.reason.find("inputs too old"), std::string::npos);
}

TEST_F(CombinerTest, InvalidInputsAreStale) {
  Run(6, 2);
  clock_.Advance(seconds{1});
  signals_.invalid_input = "counter_non_finite";
  Recommendation r = Run(1, 0.2);  // fresh by age, but refused: held
  EXPECT_TRUE(r.stale);
  EXPECT_EQ(r.replicas, 6);
  EXPECT_EQ(r.cpu_cores, 2);
  EXPECT_NE(r.reason.find("inputs invalid (counter_non_finite)"), std::string::npos);
  clock_.Advance(seconds{1});
  signals_.invalid_input.clear();
  r = Run(8, 2.5);
  EXPECT_FALSE(r.stale);
  EXPECT_EQ(r.replicas, 8);
}

TEST_F(CombinerTest, MissingProposalNeverScalesBelowCurrent) {
  Run(2, 0.5);
  clock_.Advance(seconds{1});
  signals_.current_replicas = 5;  // scaled up by someone else meanwhile
  signals_.cpu_limit_cores = 3;
  const Recommendation r = Run(std::nullopt, std::nullopt);
  EXPECT_TRUE(r.stale);
  EXPECT_EQ(r.replicas, 5);
  EXPECT_EQ(r.cpu_cores, 3);
  // The held value does not become the new last good value.
  EXPECT_EQ(memory_.replicas.last_good, 2);
}

TEST_F(CombinerTest, NothingToHoldYieldsNoValue) {
  signals_.current_replicas = model::kMissing;
  signals_.cpu_limit_cores = model::kMissing;
  const Recommendation r = Run(std::nullopt, std::nullopt);
  EXPECT_TRUE(r.stale);
  EXPECT_FALSE(r.replicas);
  EXPECT_FALSE(r.cpu_cores);
}

TEST_F(CombinerTest, OnlyTheStaleChannelIsHeld) {
  Run(4, 1);
  clock_.Advance(seconds{1});
  const Recommendation r = Run(5, std::nullopt);
  EXPECT_TRUE(r.stale);
  EXPECT_EQ(r.replicas, 5);
  EXPECT_EQ(r.cpu_cores, 1);
}

std::string Serialise(const SafetyMemory& memory) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  checkpoint::WriteSafetyState(memory, writer);
  return buffer.GetString();
}

TEST_F(CombinerTest, SafetyMemoryJsonRoundTrip) {
  Run(8, 2);
  clock_.Advance(seconds{30});
  Run(3, 1.25);
  const std::string text = Serialise(memory_);
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
  SafetyMemory restored;
  std::string error;
  ASSERT_TRUE(checkpoint::ReadSafetyState(doc, restored, &error)) << error;
  EXPECT_EQ(Serialise(restored), text);
  EXPECT_EQ(restored.replicas.last_good, 8);
  EXPECT_EQ(restored.replicas.window.size(), 2u);

  // Both continue identically.
  clock_.Advance(seconds{1});
  const Recommendation a = Run(1, 0.2);
  memory_ = restored;
  const Recommendation b = Run(1, 0.2);
  EXPECT_EQ(a.replicas, b.replicas);
  EXPECT_EQ(a.cpu_cores, b.cpu_cores);
  EXPECT_EQ(a.steps, b.steps);
}

TEST_F(CombinerTest, EmptySafetyMemoryRoundTripsNulls) {
  const std::string text = Serialise(SafetyMemory{});
  EXPECT_EQ(text, R"({"replicas":{"last_good":null,"last_output":null,"window":[]},)"
                  R"("cpu":{"last_good":null,"last_output":null,"window":[]}})");
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(text.c_str());
  SafetyMemory restored;
  restored.cpu.last_good = 3;
  ASSERT_TRUE(checkpoint::ReadSafetyState(doc, restored, nullptr));
  EXPECT_FALSE(restored.cpu.last_good);
}

TEST_F(CombinerTest, CorruptSafetyStateIsRejected) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseFullPrecisionFlag>(
      R"({"replicas":{"last_good":1,"last_output":1,"window":[[1]]},"cpu":{}})");
  memory_.replicas.last_good = 4;
  std::string error;
  EXPECT_FALSE(checkpoint::ReadSafetyState(doc, memory_, &error));
  EXPECT_EQ(error, "safety_state.replicas.window: entries must be [nanoseconds, number]");
  EXPECT_EQ(memory_.replicas.last_good, 4);
}

}  // namespace
}  // namespace recommender::combine
