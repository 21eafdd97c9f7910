#include "sim/run.h"

#include <chrono>
#include <cmath>
#include <optional>

#include "sim/closed_loop.h"
#include "sim/recorder.h"
#include "sim/simulation.h"

namespace sim {

RunResult RunOne(const App& app, const RateTrace& trace, const PolicySpec& policy,
                 const RunOptions& options) {
  const auto wall_start = std::chrono::steady_clock::now();
  RateTrace measured = trace;
  if (options.duration > 0) {
    const auto steps = static_cast<size_t>(std::ceil(options.duration / trace.step));
    if (steps < measured.rates.size()) measured.rates.resize(steps);
  }
  const RateTrace full = WithWarmup(measured, options.warmup);
  // Without a policy nothing reads the spans, so they are not made.
  const bool closed_loop = !policy.replica_policy.empty() || !policy.cpu_policy.empty();
  Simulation sim(app, full,
                 {.seed = options.seed, .emit_spans = closed_loop, .scenario = options.scenario});
  Recorder recorder(sim, options.warmup, 10);
  sim.set_listener(&recorder);
  std::optional<ClosedLoop> loop;
  if (closed_loop) {
    loop.emplace(sim, ClosedLoopOptions{.policy = policy,
                                        .seed = options.seed,
                                        .tower = options.tower,
                                        .actuation = options.actuation,
                                        .sampling = options.sampling,
                                        .deepscaler = options.deepscaler});
  }

  const auto ticks = static_cast<int64_t>(std::llround(full.duration() / kTick));
  for (int64_t k = 1; k <= ticks; ++k) {
    const double t = static_cast<double>(k) * kTick;
    sim.RunUntil(t);
    recorder.Tick(t);
    if (loop) loop->Tick(t);
    if (options.observe) options.observe(sim, t);
    if (options.progress && k % 100 == 0) {
      options.progress(static_cast<double>(k) / static_cast<double>(ticks));
    }
  }

  RunResult r;
  recorder.AddUnfinished(full.duration());
  r.summary = recorder.Summary(full.duration());
  r.summary.policy = policy.name;
  if (policy.target_utilization) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "target %.2g", *policy.target_utilization);
    r.summary.setting = buf;
  }
  if (const std::string label = ActuationLabel(options.actuation.mode, policy); !label.empty()) {
    r.summary.setting += (r.summary.setting.empty() ? "" : "; ") + label;
  }
  r.summary.scaling_actions = loop ? loop->scaling_actions() : 0;
  r.summary.cgroup_writes = loop ? loop->cgroup_writes() : 0;
  r.series = recorder.Series();
  r.warmup = options.warmup;
  r.simulated_seconds = full.duration();
  r.events = sim.events();
  r.spans = loop ? loop->spans_processed() : 0;
  if (loop) r.tower_model = loop->TowerModel();
  r.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return r;
}

std::string WarmTower(const App& app, const RateTrace& trace, const PolicySpec& policy,
                      const RunOptions& options, int runs,
                      const std::function<void(int, const RunResult&)>& on_run) {
  namespace rp = recommender::policies;
  std::string model = options.tower.model;
  for (int k = 0; k < runs; ++k) {
    RunOptions o = options;
    o.seed = options.seed + 1 + static_cast<uint64_t>(k);
    // Autothrottle: 6 ExploreTower runs, then 6 VwTower runs at explore 0.5.
    o.tower = {.mode = k < (runs + 1) / 2 ? rp::TowerMode::kGrid : rp::TowerMode::kBandit,
               .explore = 0.5,
               .model = model};
    const RunResult r = RunOne(app, trace, policy, o);
    model = r.tower_model;
    if (on_run) on_run(k, r);
  }
  return model;
}

}  // namespace sim
