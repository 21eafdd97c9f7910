// One recommendation pass (performance.md G6): every policy for 500 workloads, then the combine and
// safety stage, in steady state (memories and the Tower carried over, 1 s apart). Goal ≤ 5 ms CPU.
#include <benchmark/benchmark.h>

#include <cmath>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/combine/combiner.h"
#include "recommender/policies/all_policies.h"
#include "tests/support/fake_clock.h"

namespace {

using recommender::BudgetGroup;
using recommender::WorkloadConfig;
using recommender::model::WorkloadSignals;
namespace policies = recommender::policies;
namespace combine = recommender::combine;

constexpr int kWorkloads = 500;
constexpr int kGroupSize = 10;      // half the workloads share budgets in groups of 10
constexpr int kUsageHistory = 300;  // 5 min of 1 s per-pod usage samples, as SHOWAR reads

struct Fleet {
  std::vector<WorkloadConfig> configs;
  std::vector<WorkloadSignals> signals;
  std::vector<BudgetGroup> groups;
  std::vector<policies::PolicyMemory> memory;
  std::vector<combine::SafetyMemory> safety;
  policies::Tower tower;
  common::FakeClock clock;
};

void Refresh(Fleet& fleet, int pass) {
  for (int i = 0; i < kWorkloads; ++i) {
    WorkloadSignals& s = fleet.signals[static_cast<size_t>(i)];
    const double load = 1 + 0.5 * std::sin(0.01 * pass + i);
    s.observed_at = fleet.clock.Now();
    s.request_rate = 50 * load;
    s.inflight = 3 * load;
    s.queue_length = 2 * load;
    s.mean_latency_seconds = 0.02 * load;
    s.p95_latency_seconds = 0.05 * load;
    s.p99_latency_seconds = 0.08 * load;
    s.runqueue_wait_per_timeslice_seconds = 0.001 * load;
    s.cpu_usage_cores = s.current_replicas * 0.4 * load;
    s.throttled_ratio = 0.02 * load;
    s.cpu_usage_history.erase(s.cpu_usage_history.begin());
    s.cpu_usage_history.push_back(0.4 * load);
  }
}

Fleet MakeFleet() {
  Fleet fleet;
  for (int i = 0; i < kWorkloads; ++i) {
    WorkloadConfig c;
    c.key = {.k8s_namespace = "team-" + std::to_string(i % 8),
             .workload = "service-" + std::to_string(i)};
    c.services = {c.key.workload};
    c.container = "app";
    c.slo_p99_seconds = 0.1;
    c.max_replicas = 50;
    c.tower_high_cpu_group = i % 5 == 0;
    if (i < kWorkloads / 2) c.budget_group = "pool-" + std::to_string(i / kGroupSize);
    fleet.configs.push_back(std::move(c));

    WorkloadSignals s;
    s.key = fleet.configs.back().key;
    s.current_replicas = 3;
    s.ready_replicas = 3;
    s.cpu_request_cores = 0.5;
    s.cpu_limit_cores = 1;
    s.uncongested_seconds = 0.005;
    s.cpu_usage_history.assign(kUsageHistory, 0.4);
    s.cpu_usage_sample_interval = std::chrono::seconds{1};
    fleet.signals.push_back(std::move(s));
  }
  for (int g = 0; g < kWorkloads / 2 / kGroupSize; ++g) {
    fleet.groups.push_back({.name = "pool-" + std::to_string(g), .extra_pods = 2 * kGroupSize});
  }
  fleet.memory.resize(kWorkloads);
  fleet.safety.resize(kWorkloads);
  return fleet;
}

void BM_RecommendationPass(benchmark::State& state) {
  Fleet fleet = MakeFleet();
  const policies::PolicyOptions options;
  int pass = 0;
  int replicas = 0;
  for (auto _ : state) {
    state.PauseTiming();
    fleet.clock.Advance(std::chrono::seconds{1});
    Refresh(fleet, pass++);
    state.ResumeTiming();

    const common::TimePoint now = fleet.clock.Now();
    const std::vector<policies::WorkloadProposals> proposals = policies::EvaluatePolicies(
        options, fleet.configs, fleet.signals, fleet.groups, fleet.memory, fleet.tower, now);
    for (size_t i = 0; i < proposals.size(); ++i) {
      const combine::Recommendation r =
          combine::Combine(fleet.configs[i], proposals[i], fleet.signals[i], fleet.safety[i], now);
      replicas += r.replicas.value_or(0);
    }
  }
  benchmark::DoNotOptimize(replicas);
  state.counters["workloads"] = kWorkloads;
}
BENCHMARK(BM_RecommendationPass)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// The once-a-minute Tower choice with a full table (a week of minute samples): the spike on top
// of the steady pass above.
void BM_TowerChooseFullTable(benchmark::State& state) {
  policies::Tower tower;
  const policies::TowerOptions& o = tower.options();
  for (size_t i = 0; i < o.max_samples; ++i) {
    const double rps = 100 + static_cast<double>(i % 400);
    tower.AddSample({.rps = rps,
                     .action = static_cast<int>(i * 7 % policies::kTowerActions),
                     .p99_ratio = 0.5 + static_cast<double>(i % 13) / 10,
                     .alloc_cores = 20 + static_cast<double>(i % 17)});
  }
  common::FakeClock clock;
  for (auto _ : state) {
    clock.Advance(std::chrono::minutes{1});
    benchmark::DoNotOptimize(tower.Choose(250, clock.Now()).action);
  }
}
BENCHMARK(BM_TowerChooseFullTable)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

}  // namespace

BENCHMARK_MAIN();
