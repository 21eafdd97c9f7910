// The deepscaler policy on a model trained here, through the model file and LoadPredictor: a
// load step at the front end raises the replicas of the service behind it at the next
// prediction, before anything changes in that service's own inputs.
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "recommender/policies/deepscaler.h"
#include "recommender/predict/adapgla.h"
#include "recommender/predict/predictor.h"

namespace recommender::predict {
namespace {

using std::chrono::seconds;

// front's load holds a random level for 3-8 minutes at a time; back's replicas follow it a
// minute later (load / 10); back's own load and CPU are noise, so only the edge front → back
// tells back's next replicas.
Series LeadingFront(int minutes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> level(10, 90), noise(40, 60);
  std::uniform_int_distribution<int> hold(3, 8);
  Series s;
  s.services = {"front", "back"};
  s.minutes = minutes;
  s.values.assign(static_cast<size_t>(minutes) * 2 * kFeatures, 0);
  float load = level(rng), previous = load;
  for (int m = 0, left = hold(rng); m < minutes; ++m, --left) {
    if (left == 0) {
      load = level(rng);
      left = hold(rng);
    }
    const float back = noise(rng);
    s.At(m, 0, kReplicas) = 4;
    s.At(m, 0, kCpuUtilization) = load / 100;
    s.At(m, 0, kResponseSeconds) = 0.01f;
    s.At(m, 0, kRequestRate) = load;
    s.At(m, 1, kReplicas) = previous / 10;
    s.At(m, 1, kCpuUtilization) = back / 100;
    s.At(m, 1, kResponseSeconds) = 0.02f;
    s.At(m, 1, kRequestRate) = back;
    previous = load;
  }
  return s;
}

TEST(DeepScalerOnATrainedModel, ScalesTheServiceBehindAFrontEndStepAtTheNextPrediction) {
  const ModelShape shape = {.nodes = 2,
                            .steps = 4,
                            .blocks = 2,
                            .cheb_order = 3,
                            .cheb_filters = 8,
                            .time_filters = 8,
                            .kernel = 3,
                            .graph_dim = 4};
  AdapGla trained(shape, {"front", "back"}, 2021);
  TrainOptions o;
  o.iterations = 2;
  o.epochs = 6;
  o.batch = 16;
  o.learning_rate = 0.01;
  const std::vector<Series> runs = {LeadingFront(300, 3)};
  trained.Train(runs, GcnNormalize(PriorGraph({"front", "back"}, {{"front", "back", 1}}, runs), 2),
                o);
  std::string error;
  policies::DeepScalerOptions options;
  options.model = LoadPredictor(trained.Serialize(), &error);
  ASSERT_TRUE(options.model) << error;
  options.call_graph = {{"front", "back", 100}};

  std::vector<WorkloadConfig> configs(2);
  configs[0].key = {"ns", "front"};
  configs[1].key = {"ns", "back"};
  configs[0].max_replicas = configs[1].max_replicas = 20;
  std::vector<model::WorkloadSignals> signals(2);
  for (auto& s : signals) {
    s.cpu_limit_cores = 1;
    s.mean_latency_seconds = 0.01;
  }
  std::vector<policies::DeepScalerMemory> memory(2);
  std::vector<policies::DeepScalerMemory*> m = {&memory[0], &memory[1]};
  common::TimePoint now{std::chrono::minutes{28'000'000}};
  // One pass a minute, 10 s into it; back's own inputs never change.
  const auto minute = [&](float front_load) {
    signals[0].current_replicas = 4;
    signals[0].request_rate = front_load;
    signals[0].cpu_usage_cores = 4 * front_load / 100;
    signals[1].current_replicas = 2;
    signals[1].request_rate = 50;
    signals[1].cpu_usage_cores = 2 * 0.5;
    const std::vector<policies::Proposal> p =
        policies::EvaluateDeepScaler(configs, signals, m, now + seconds{10}, options);
    now += seconds{60};
    return p[1].replicas.value_or(0);
  };
  for (int k = 0; k < 8; ++k) minute(20);
  const int before = minute(20);
  minute(80);  // the step: this minute's prediction still reads the minutes at 20
  const int after = minute(80);
  // At 20 req/s the front end's followers need 2; at 80, 8.
  EXPECT_LE(before, 3);
  EXPECT_GE(after, 6);
}

}  // namespace
}  // namespace recommender::predict
