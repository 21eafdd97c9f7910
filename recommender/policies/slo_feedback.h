#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "recommender/policies/proposal.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// slo_feedback: Autothrottle's Tower, a contextual bandit that picks the Captains' throttle
// targets for two service groups once a minute.
//
// Actions: a ∈ [0, 81): target1 = T[a / 9] for the high-CPU group (WorkloadConfig::
// tower_high_cpu_group), target2 = T[a % 9] for all others, T = kTowerTargets.
// Context: the end-to-end request rate (Σ of the entry workloads' rates; of all without entry).
// Reward input: the end-to-end P99 against the SLO, p99 ratio = P99/SLO of the entry workloads
// (the app's entry service's request-duration histogram, worst entry), over the minute after
// the action. Each pass brings a P99 over the recommender's rate window (`latency_window`); the
// minute's P99 is the largest of the windows that lie inside the minute (a P99 of a union of
// windows never exceeds the largest of theirs, and with a 1 min window it is the minute's own),
// or the last one when none fits.
// Each minute: the outcome of the previous action is stored as a sample (rps at choice, action,
// p99 ratio, alloc), where alloc = mean over the minute of Σ replicas·CPU limit. The first
// drop_samples outcomes of a run are dropped (warm-up). Costs are normalised over all stored
// samples (as Autothrottle's, whose P99 is in seconds against one SLO: P99/SLO normalises the
// same):
//   p99 ratio ≤ 1:  cost = (alloc − min alloc_ok)/(max alloc_ok − min alloc_ok)  ∈ [0, 1], 0.5 if
//                   the range is empty
//   otherwise:      cost = 2 + (ratio − min ratio_bad)/(max ratio_bad − min ratio_bad) ∈ [2, 3],
//                   2.5 if the range is empty
// Choice, by mode:
//   kGrid (Autothrottle's ExploreTower, the first warm-up runs): uniformly among the actions with
//     the fewest samples, each held for `grid_hold` (2 min) and measured over its last minute.
//   kBandit (VwTower): bucket = round(rps / rate_bucket)·rate_bucket; the median cost per action
//     among the samples of that bucket (of the nearest bucket that has samples, lower on a tie);
//     the argmin (lowest action on a tie) keeps 1 − explore and its 2–4 grid neighbours
//     (target1 ± 1 step, target2 ± 1 step) share explore equally. With no samples at all the
//     current action stands in for the argmin. explore is 0.1 normally, 0.5 in the second
//     warm-up runs and 0 in scored runs.
// The per-bucket median table stands in for Autothrottle's Vowpal Wabbit network, which is
// trained on exactly these aggregated medians. The samples are the learned model: a warmed Tower
// is carried into a scored run through its checkpoint (StartRun() keeps only them). The RNG is
// splitmix64, seeded and checkpointed, so a fixed seed gives the same choices on every platform.

inline constexpr std::array<double, 9> kTowerTargets = {0.0,  0.02, 0.04, 0.06, 0.1,
                                                        0.15, 0.2,  0.25, 0.3};
inline constexpr int kTowerActions = 81;

enum class TowerMode { kGrid, kBandit };

struct TowerOptions {
  common::Duration interval = std::chrono::minutes{1};
  double rate_bucket = 20;  // requests/s; Autothrottle uses 20 (200 for hotel-reservation)
  TowerMode mode = TowerMode::kBandit;
  double explore = 0.1;                                  // kBandit
  common::Duration grid_hold = std::chrono::minutes{2};  // kGrid
  // The span of the P99 each pass brings: the recommender's rate window.
  common::Duration latency_window = std::chrono::minutes{1};
  // The workloads whose P99 is the end-to-end latency; empty: the budget groups' entry
  // workloads, else every workload (the worst P99/SLO).
  std::vector<std::string> entry_workloads;
  int drop_samples = 3;
  size_t max_samples = 10080;  // one week of minutes; the oldest go first
  int initial_action = 0;      // both targets 0: any throttling scales up until data exists
  uint64_t seed = 1;
};

struct TowerSample {
  double rps = 0;
  int action = 0;
  double p99_ratio = 0;
  double alloc_cores = 0;
};

// What one recommendation pass contributes to the current minute (NaN = unknown).
struct TowerPass {
  double rps = 0;
  double p99_ratio = 0;
  double alloc_cores = 0;
};

struct TowerChoice {
  int action = 0;
  int best_action = -1;  // the argmin, −1 when there were no samples
  double bucket_rps = 0;
  double best_cost = 0;  // the argmin's median cost (NaN without samples)
  int candidates = 0;    // actions with samples in the bucket used
  bool explored = false;
};

// What the Tower learns and remembers: the checkpoint saves all of it (options are not saved).
struct TowerState {
  std::vector<TowerSample> samples;
  TowerChoice choice;
  bool has_choice = false;
  double choice_rps = 0;
  common::TimePoint last_choice{};
  int observed = 0;  // outcomes seen in this run, including dropped ones
  uint64_t rng_state = 0;
  // The measured minute: from minute_start to the next choice.
  common::TimePoint minute_start{};
  int minute_alloc_passes = 0;
  double minute_alloc_sum = 0;
  double minute_p99_ratio = 0;
  bool minute_has_p99 = false;
  bool minute_p99_inside = false;  // minute_p99_ratio is over windows inside the minute
};

class Tower {
 public:
  explicit Tower(TowerOptions options = {});

  // Once per recommendation pass: accumulates the minute; when the action has been held for
  // `interval` (kGrid: `grid_hold`) since the last choice, or at the first pass, stores the
  // outcome and chooses again. True if it chose.
  bool Tick(const TowerPass& pass, common::TimePoint now);

  // A new run (a new benchmark, or a scored run after warm-up): keeps the samples, the learned
  // model; forgets the choice, the minute and the run's dropped outcomes; reseeds the RNG.
  void StartRun();

  // The outcome of the minute after the last choice; dropped while warming up, before any choice
  // or when not finite.
  void Observe(double p99_ratio, double alloc_cores);
  // Stores a sample (warm start from recorded runs, as Autothrottle carries samples over); one with
  // an action outside the grid or a non-finite value is ignored.
  void AddSample(const TowerSample& sample);
  const TowerChoice& Choose(double rps, common::TimePoint now);

  // Normalised cost of every stored sample, in sample order.
  std::vector<double> Costs() const;
  // Median cost of `action` among the samples in the bucket of `rps`; nullopt without samples.
  std::optional<double> MedianCost(int action, double rps) const;

  double target1() const { return kTowerTargets[state_.choice.action / 9]; }
  double target2() const { return kTowerTargets[state_.choice.action % 9]; }
  double TargetFor(const WorkloadConfig& config) const {
    return config.tower_high_cpu_group ? target1() : target2();
  }
  const TowerChoice& choice() const { return state_.choice; }
  const std::vector<TowerSample>& samples() const { return state_.samples; }
  bool has_choice() const { return state_.has_choice; }
  common::TimePoint last_choice() const { return state_.last_choice; }
  const TowerOptions& options() const { return options_; }

  void AppendTerms(Proposal& proposal) const;

  // Checkpoint (recommender/checkpoint/): samples, current choice, RNG state and the partial
  // minute. Restore takes a state whose choice and samples are within the action grid.
  const TowerState& state() const { return state_; }
  void Restore(TowerState state) { state_ = std::move(state); }

 private:
  double NextUniform();
  double BucketOf(double rps) const;
  common::Duration Hold() const;
  int LeastExplored();

  TowerOptions options_;
  TowerState state_;
};

// The per-workload view: this workload's target, its group and the Tower's terms. Proposes no
// replicas or CPU: throttle_target applies the target.
Proposal EvaluateSloFeedback(const Tower& tower, const WorkloadConfig& config);

}  // namespace recommender::policies
