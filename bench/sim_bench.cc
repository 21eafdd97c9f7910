// queuelens-sim speed: one simulated hour of hotel-reservation under Autothrottle's x10 bursty
// trace (about 1 600 req/s and 5 spans per request) plus the 3-minute warm-up, on one thread.
// Goal: >= 280 simulated seconds per wall second in closed loop, with the spans going through the
// real exporter code and the real exposition text through the recommender's scrape and parse.
//
//   sim/closed_loop  the whole loop: simulation, exporter state (spans and kernel counters), the
//                    exporter's /metrics text scraped every second by the recommender, policies
//                    (queuelens defaults) and actuation
//   sim/open_loop    the simulation alone (no spans made, nothing scaled): the simulator's own cost
//
// Besides wall time, each run reports its process CPU time, which load from elsewhere on a shared
// machine disturbs far less: simulated_per_cpu_second is the figure to compare between runs.
#include <benchmark/benchmark.h>

#include <ctime>
#include <string>

#include "sim/app.h"
#include "sim/policies.h"
#include "sim/run.h"
#include "sim/workload.h"

namespace {

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void RunHour(benchmark::State& state, const char* policy) {
  const sim::App app = sim::LoadApp(QL_SOURCE_DIR "/sim/apps/hotel-reservation.yaml");
  const sim::RateTrace trace =
      sim::LoadTrace(QL_SOURCE_DIR "/sim/traces/bursty.txt", app.trace_multiplier, 0);
  const sim::PolicySpec spec = *sim::FindPolicy(policy);
  sim::RunResult r;
  double cpu = 0;
  for (auto _ : state) {
    const double start = ProcessCpuSeconds();
    r = sim::RunOne(app, trace, spec, {});
    cpu = ProcessCpuSeconds() - start;
  }
  const double wall = r.wall_seconds;
  state.counters["events_per_second"] = static_cast<double>(r.events) / wall;
  state.counters["spans_per_second"] = static_cast<double>(r.spans) / wall;
  state.counters["requests"] = static_cast<double>(r.summary.requests);
  state.counters["simulated_per_wall_second"] = r.simulated_seconds / wall;
  state.counters["simulated_per_cpu_second"] = r.simulated_seconds / cpu;
  state.counters["events_per_cpu_second"] = static_cast<double>(r.events) / cpu;
}

void BM_ClosedLoop(benchmark::State& state) { RunHour(state, "queuelens"); }
void BM_OpenLoop(benchmark::State& state) { RunHour(state, "static"); }

BENCHMARK(BM_ClosedLoop)
    ->Name("sim/closed_loop")
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();
BENCHMARK(BM_OpenLoop)
    ->Name("sim/open_loop")
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
