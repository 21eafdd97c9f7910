#include "recommender/policies/deepscaler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "tests/recommender/policies/term.h"
#include "tests/recommender/predict/fixed_predictor.h"
#include "tests/support/fake_clock.h"

namespace recommender::policies {
namespace {

namespace rp = recommender::predict;
using std::chrono::seconds;

TEST(DeepScalerRounding, RoundsUpFromTheThreshold) {
  EXPECT_EQ(RoundPrediction(2.3, 0.35), 2);
  EXPECT_EQ(RoundPrediction(2.35, 0.35), 3);
  EXPECT_EQ(RoundPrediction(2.4, 0.35), 3);
  EXPECT_EQ(RoundPrediction(2.4, 0.5), 2);
  EXPECT_EQ(RoundPrediction(2.5, 0.5), 3);
  EXPECT_EQ(RoundPrediction(3.0, 0.35), 3);
  EXPECT_EQ(RoundPrediction(0.2, 0.5), 1);  // at least 1
  EXPECT_EQ(RoundPrediction(-4, 0.5), 1);
  EXPECT_EQ(RoundPrediction(NAN, 0.35), 1);  // DeepScaler: a NaN prediction becomes 1
}

model::WorkloadSignals Signals(double rate, double exclusive) {
  model::WorkloadSignals s;
  s.request_rate = rate;
  s.mean_exclusive_seconds = exclusive;
  s.mean_latency_seconds = exclusive * 3;
  return s;
}

// p0 calls p1 → p2 and p3; which branch is critical depends on the measured times only.
std::vector<bool> Critical(double p3_exclusive) {
  const std::vector<std::string> names = {"p0", "p1", "p2", "p3"};
  const model::WorkloadSignals s[] = {Signals(100, 0.001), Signals(100, 0.002), Signals(100, 0.001),
                                      Signals(50, p3_exclusive)};
  const std::vector<const model::WorkloadSignals*> ptrs = {&s[0], &s[1], &s[2], &s[3]};
  const std::vector<rp::Edge> edges = {{"p0", "p1", 100},
                                       {"p1", "p2", 100},
                                       {"p0", "p3", 50},
                                       {"elsewhere", "p0", 10},  // not a service: ignored
                                       {"p2", "p3", 0}};         // no calls: no edge
  return CriticalPath(names, ptrs, edges);
}

TEST(DeepScalerCriticalPath, FollowsTheLargestExpectedTimePerRequest) {
  // p0→p3: 0.001 + 0.5·0.010 = 0.006 beats p0→p1→p2: 0.001 + 0.002 + 0.001 = 0.004.
  EXPECT_EQ(Critical(0.010), (std::vector<bool>{true, false, false, true}));
  // p0→p3: 0.001 + 0.5·0.004 = 0.003 loses.
  EXPECT_EQ(Critical(0.004), (std::vector<bool>{true, true, true, false}));
}

TEST(DeepScalerCriticalPath, FallsBackToTheMeanLatencyAndIsEmptyWithoutAGraph) {
  const std::vector<std::string> names = {"a", "b", "c"};
  model::WorkloadSignals s[3];
  for (auto& x : s) x.request_rate = 10;
  s[1].mean_latency_seconds = 0.001;
  s[2].mean_latency_seconds = 0.002;
  const std::vector<const model::WorkloadSignals*> ptrs = {&s[0], &s[1], &s[2]};
  EXPECT_EQ(CriticalPath(names, ptrs, {{"a", "b", 5}, {"a", "c", 5}}),
            (std::vector<bool>{true, false, true}));
  EXPECT_EQ(CriticalPath(names, ptrs, {}), (std::vector<bool>(3, false)));
}

class DeepScalerTest : public ::testing::Test {
 protected:
  static constexpr int kSteps = 4;

  DeepScalerTest() {
    for (const char* name : {"front", "back", "db"}) {
      WorkloadConfig c;
      c.key = {"ns", name};
      c.max_replicas = 20;
      configs_.push_back(c);
      model::WorkloadSignals s;
      s.current_replicas = 2;
      s.cpu_limit_cores = 0.5;
      s.cpu_usage_cores = 0.5;  // utilisation 0.5
      s.request_rate = 100;
      s.mean_latency_seconds = 0.01;
      s.mean_exclusive_seconds = 0.005;
      signals_.push_back(s);
    }
    signals_[2].mean_exclusive_seconds = 0.02;  // front → db is the critical path
    memory_.resize(3);
    // front → back 0.7, front → db 0.2, back → db 0.4
    std::vector<float> graph = {0, 0.7f, 0.2f, 0, 0, 0.4f, 0, 0, 0};
    model_ = std::make_shared<rp::FixedPredictor>(
        std::vector<std::string>{"front", "back", "db"}, kSteps, graph,
        [this](const rp::Series&) { return prediction_; });
    options_.model = model_;
    options_.call_graph = {{"front", "back", 100}, {"front", "db", 100}};
  }

  std::vector<Proposal> Pass() {
    std::vector<DeepScalerMemory*> m;
    for (auto& x : memory_) m.push_back(&x);
    return EvaluateDeepScaler(configs_, signals_, m, clock_.Now(), options_);
  }
  // Passes every 10 s for `minutes` minutes.
  std::vector<Proposal> Run(int minutes) {
    std::vector<Proposal> out;
    for (int k = 0; k < minutes * 6; ++k) {
      out = Pass();
      clock_.Advance(seconds{10});
    }
    return out;
  }

  std::vector<WorkloadConfig> configs_;
  std::vector<model::WorkloadSignals> signals_;
  std::vector<DeepScalerMemory> memory_;
  std::vector<float> prediction_ = {2.4f, 2.4f, 2.4f};
  std::shared_ptr<rp::FixedPredictor> model_;
  DeepScalerOptions options_;
  common::FakeClock clock_{common::TimePoint{std::chrono::minutes{28'000'000}}};
};

TEST_F(DeepScalerTest, UnavailableWithoutAModel) {
  options_.model = nullptr;
  options_.unavailable = "m.model: corrupt model file (checksum mismatch)";
  for (const Proposal& p : Run(3)) {
    EXPECT_EQ(p.policy, "deepscaler");
    EXPECT_FALSE(p.replicas);
    EXPECT_NE(p.reason.find("unavailable"), std::string::npos) << p.reason;
    EXPECT_NE(p.reason.find("checksum"), std::string::npos) << p.reason;
  }
}

TEST_F(DeepScalerTest, PadsAShortHistoryWithItsFirstMinute) {
  // Nothing until a minute has closed.
  const std::vector<Proposal> first = Pass();
  EXPECT_FALSE(first[0].replicas);
  EXPECT_NE(first[0].reason.find("no complete minute"), std::string::npos);
  EXPECT_EQ(model_->calls, 0);
  clock_.Advance(seconds{60});
  std::vector<Proposal> p = Pass();
  ASSERT_TRUE(p[0].replicas);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "history_minutes"), 1);
  EXPECT_NE(p[0].reason.find("1 of 4 minutes"), std::string::npos) << p[0].reason;
  // Every step of the window is the one recorded minute, with the dataset's features.
  const rp::Series& w = model_->last_window;
  ASSERT_EQ(w.minutes, kSteps);
  for (int t = 0; t < kSteps; ++t) {
    EXPECT_FLOAT_EQ(w.At(t, 1, rp::kReplicas), 2);
    EXPECT_FLOAT_EQ(w.At(t, 1, rp::kCpuUtilization), 0.5f);
    EXPECT_FLOAT_EQ(w.At(t, 1, rp::kResponseSeconds), 0.01f);
    EXPECT_FLOAT_EQ(w.At(t, 1, rp::kRequestRate), 100);
  }
  // The pass above opened minute 1 at 100 req/s; minute 2 runs at 300 req/s: the window ends
  // with minutes 1 and 2, and minute 0 fills the two steps before them.
  clock_.Advance(seconds{60});
  signals_[1].request_rate = 300;
  Pass();
  clock_.Advance(seconds{60});
  p = Pass();
  EXPECT_DOUBLE_EQ(TermOf(p[1], "history_minutes"), 3);
  const rp::Series& w3 = model_->last_window;
  EXPECT_FLOAT_EQ(w3.At(0, 1, rp::kRequestRate), 100);
  EXPECT_FLOAT_EQ(w3.At(1, 1, rp::kRequestRate), 100);
  EXPECT_FLOAT_EQ(w3.At(2, 1, rp::kRequestRate), 100);
  EXPECT_FLOAT_EQ(w3.At(3, 1, rp::kRequestRate), 300);
  // A full window: no note.
  clock_.Advance(seconds{60});
  p = Pass();
  EXPECT_DOUBLE_EQ(TermOf(p[1], "history_minutes"), 4);
  EXPECT_EQ(p[1].reason, "");
}

TEST_F(DeepScalerTest, RoundsAtTheCriticalPathsThreshold) {
  const std::vector<Proposal> p = Run(2);
  // front and db are on the critical path: 2.4 rounds up at 0.35; back rounds down at 0.5.
  EXPECT_EQ(p[0].replicas, 3);
  EXPECT_EQ(p[1].replicas, 2);
  EXPECT_EQ(p[2].replicas, 3);
  EXPECT_DOUBLE_EQ(TermOf(p[0], "threshold"), 0.35);
  EXPECT_DOUBLE_EQ(TermOf(p[1], "threshold"), 0.5);
  EXPECT_DOUBLE_EQ(TermOf(p[1], "on_critical_path"), 0);
  EXPECT_DOUBLE_EQ(TermOf(p[2], "on_critical_path"), 1);
  EXPECT_NEAR(TermOf(p[1], "prediction"), 2.4, 1e-6);
  // The learned graph's strongest edges into db: back (0.4), then front (0.2).
  EXPECT_NEAR(TermOf(p[2], "in_edge.back"), 0.4, 1e-6);
  EXPECT_NEAR(TermOf(p[2], "in_edge.front"), 0.2, 1e-6);
  // Without a call graph nothing is critical.
  options_.call_graph.clear();
  clock_.Advance(seconds{60});
  EXPECT_EQ(Pass()[0].replicas, 2);
}

TEST_F(DeepScalerTest, ClampsToTheWorkloadsBounds) {
  configs_[0].max_replicas = 10;
  configs_[1].min_replicas = 3;
  prediction_ = {50.f, 0.2f, 4.f};
  const std::vector<Proposal> p = Run(2);
  EXPECT_EQ(p[0].replicas, 10);
  EXPECT_EQ(p[1].replicas, 3);
  EXPECT_EQ(p[2].replicas, 4);
  EXPECT_NEAR(TermOf(p[0], "prediction"), 50, 1e-6);
}

TEST_F(DeepScalerTest, PredictsEvery55SecondsAndHoldsInBetween) {
  Run(1);  // the first minute closes on the next pass
  Pass();
  EXPECT_EQ(model_->calls, 1);
  prediction_ = {5.f, 5.f, 5.f};
  clock_.Advance(seconds{30});
  std::vector<Proposal> p = Pass();
  EXPECT_EQ(model_->calls, 1);
  EXPECT_EQ(p[0].replicas, 3);
  EXPECT_NE(p[0].reason.find("held"), std::string::npos);
  clock_.Advance(seconds{25});
  p = Pass();
  EXPECT_EQ(model_->calls, 2);
  EXPECT_EQ(p[0].replicas, 5);
}

TEST_F(DeepScalerTest, NeedsEveryServiceOfTheModel) {
  configs_.pop_back();
  signals_.pop_back();
  memory_.pop_back();
  const std::vector<Proposal> p = Run(2);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_FALSE(p[0].replicas);
  EXPECT_NE(p[0].reason.find("db"), std::string::npos) << p[0].reason;
  EXPECT_EQ(model_->calls, 0);
}

}  // namespace
}  // namespace recommender::policies
