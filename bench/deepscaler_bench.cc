// The deepscaler policy's cost per prediction pass for 30 services on one core: a model of the
// trainer's default sizes (80 minutes in, 16 + 16 Chebyshev and 32 time filters, graph embedding
// 16) and of DeepScaler's own (64 + 64, 128, 64), fed through EvaluateDeepScaler as the
// recommender runs it. Prints the median and P90 over the passes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include "recommender/policies/deepscaler.h"
#include "recommender/predict/adapgla.h"
#include "recommender/predict/predictor.h"

namespace {

namespace rp = recommender::predict;
namespace pol = recommender::policies;

void Measure(const char* label, rp::ModelShape shape, int passes) {
  const int n = shape.nodes;
  std::vector<std::string> services;
  for (int i = 0; i < n; ++i) services.push_back("service-" + std::to_string(i));
  rp::AdapGla model(shape, services, 2021);
  std::string error;
  pol::DeepScalerOptions options;
  options.model = rp::LoadPredictor(model.Serialize(), &error);
  if (!options.model) {
    std::fprintf(stderr, "deepscaler_bench: %s\n", error.c_str());
    return;
  }
  std::vector<recommender::WorkloadConfig> configs(static_cast<size_t>(n));
  std::vector<recommender::model::WorkloadSignals> signals(static_cast<size_t>(n));
  std::vector<pol::DeepScalerMemory> memory(static_cast<size_t>(n));
  std::vector<pol::DeepScalerMemory*> m;
  std::mt19937 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < n; ++i) {
    configs[static_cast<size_t>(i)].key = {"bench", services[static_cast<size_t>(i)]};
    if (i > 0)
      options.call_graph.push_back(
          {services[static_cast<size_t>((i - 1) / 2)], services[static_cast<size_t>(i)], 100});
    m.push_back(&memory[static_cast<size_t>(i)]);
  }
  common::TimePoint now{std::chrono::minutes{28'000'000}};
  std::vector<double> ms;
  // A full window first, then one timed pass a minute.
  for (int k = 0; k < shape.steps + passes; ++k) {
    for (auto& s : signals) {
      s.current_replicas = 1 + std::floor(4 * u(rng));
      s.cpu_limit_cores = 1;
      s.cpu_usage_cores = s.current_replicas * u(rng);
      s.request_rate = 100 * u(rng);
      s.mean_latency_seconds = 0.05 * u(rng);
      s.mean_exclusive_seconds = 0.02 * u(rng);
    }
    const auto start = std::chrono::steady_clock::now();
    const auto out = pol::EvaluateDeepScaler(configs, signals, m, now, options);
    const auto took = std::chrono::steady_clock::now() - start;
    if (k >= shape.steps) ms.push_back(std::chrono::duration<double, std::milli>(took).count());
    if (!out[0].replicas) std::fprintf(stderr, "deepscaler_bench: %s\n", out[0].reason.c_str());
    now += std::chrono::seconds{60};
  }
  std::sort(ms.begin(), ms.end());
  std::printf("%-44s %d services, %d minutes: median %.2f ms, p90 %.2f ms per pass (%d passes)\n",
              label, n, shape.steps, ms[ms.size() / 2], ms[ms.size() * 9 / 10], passes);
}

}  // namespace

int main() {
  // EvaluateDeepScaler runs on one thread and libtorch is set to one intra-op thread.
  Measure("queuelens-train defaults (16/16/32/16)",
          {.nodes = 30, .steps = 80, .cheb_filters = 16, .time_filters = 32, .graph_dim = 16}, 50);
  Measure("shipped models' window (15 minutes)",
          {.nodes = 30, .steps = 15, .cheb_filters = 16, .time_filters = 32, .graph_dim = 16}, 50);
  Measure("DeepScaler's sizes (64/64/128/64)", {.nodes = 30, .steps = 80}, 20);
  return 0;
}
