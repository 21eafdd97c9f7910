#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "sim/app.h"
#include "sim/closed_loop.h"
#include "sim/policies.h"
#include "sim/scenario.h"
#include "sim/simulation.h"
#include "sim/workload.h"

namespace sim {

struct RunOptions {
  uint64_t seed = 1;
  double warmup = 180;  // seconds of Autothrottle's ramp before the trace; excluded from results
  double duration = 0;  // seconds of trace after the warm-up; 0 = the whole trace
  Scenario scenario;    // interference; its times count from the start of the warm-up
  // Called about every 10 simulated seconds with the fraction done (for a progress bar).
  std::function<void(double fraction)> progress;
  // Called after every tick (100 ms), once the closed loop acted, to sample the simulation.
  std::function<void(Simulation& sim, double t)> observe;
  TowerRun tower;              // how the Tower explores and what it starts from
  ActuationOptions actuation;  // how CPU recommendations reach the pods
  double sampling = 1;         // head-sampling probability of the traces (SpanSampler)
  recommender::policies::DeepScalerOptions deepscaler;  // the deepscaler policy's model
};

// One policy's result, by Autothrottle's protocol: everything after the warm-up.
struct RunSummary {
  std::string policy;
  // e.g. "target 0.6" for a tuned baseline, "cpu resize" for a CPU actuation not the policy's
  // own (ActuationLabel); empty otherwise
  std::string setting;
  uint64_t requests = 0;           // requests sent after the warm-up, unfinished ones included
  double core_hours = 0;           // time-weighted sum of the pods' CPU limits
  double usage_core_hours = 0;     // CPU used
  double p50 = 0, p99 = 0;         // seconds, end to end, whole run; exact, nearest rank
  double slo = 0;                  // the app's P99 SLO, seconds
  bool pass = false;               // p99 ≤ slo
  int violation_minutes = 0;       // minutes whose P99 exceeds the SLO
  int minutes = 0;                 // minutes measured
  double throttled_ratio = 0;      // Σ throttled periods / Σ periods, all containers
  uint64_t scaling_actions = 0;    // replica or pod CPU-limit changes through the API
  uint64_t cgroup_writes = 0;      // quota writes by the node-local Captains (cpu.max)
  double mean_replicas = 0;        // pods, time-averaged
  double pending_pod_minutes = 0;  // ∫ Pending pods dt: pods no node had room for
};

// Time series over the whole run (warm-up included), for the report's plots.
struct RunSeries {
  double step = 10;                 // seconds per point of the series below
  std::vector<double> throughput;   // finished requests/s
  std::vector<double> replicas;     // pods (starting, ready and draining), mean over the step
  std::vector<double> cores;        // allocated cores (Σ limits), mean over the step
  std::vector<double> usage;        // cores used
  std::vector<double> p99_minutes;  // end-to-end P99 per minute, seconds; NaN when idle
  // Pods waiting for a node to start on, mean over the step.
  std::vector<double> pending_pods;
};

struct RunResult {
  RunSummary summary;
  RunSeries series;
  double warmup = 0;
  double simulated_seconds = 0;
  double wall_seconds = 0;
  uint64_t events = 0;
  uint64_t spans = 0;       // spans the exporter state processed
  std::string tower_model;  // the Tower's learned model at the end (empty without a policy)
};

// Simulates `app` under `trace` (with the warm-up ramp prepended) with `policy` in closed loop
// through the exporter and recommender code. Deterministic for a given seed.
RunResult RunOne(const App& app, const RateTrace& trace, const PolicySpec& policy,
                 const RunOptions& options);

// Autothrottle's Tower warm-up: `runs` exploring runs of `policy` on the same app and trace with
// seeds options.seed + 1, + 2, …, each starting from the model the previous one left (the first
// from options.tower.model). The first half (rounded up) explores the grid (ExploreTower), the
// rest run the bandit with explore 0.5. Returns the warmed model; a scored run then starts from
// it with explore 0. `on_run` is told of each finished run (index from 0).
std::string WarmTower(const App& app, const RateTrace& trace, const PolicySpec& policy,
                      const RunOptions& options, int runs,
                      const std::function<void(int, const RunResult&)>& on_run = {});

}  // namespace sim
