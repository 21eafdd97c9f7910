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
// Context: the request rate (Σ of the workloads' rates).
// Each minute: the outcome of the previous action is stored as a sample (rps at choice, action,
// p99 ratio, alloc), where p99 ratio = max over workloads of P99/SLO (≤ 1 meets the SLO) at the
// minute's end and alloc = mean over the minute of Σ replicas·CPU limit. The first drop_samples
// outcomes are dropped (warm-up). Costs are normalised over all stored samples:
//   p99 ratio ≤ 1:  cost = (alloc − min alloc_ok)/(max alloc_ok − min alloc_ok)  ∈ [0, 1], 0.5 if
//                   the range is empty
//   otherwise:      cost = 2 + (ratio − min ratio_bad)/(max ratio_bad − min ratio_bad) ∈ [2, 3],
//                   2.5 if the range is empty
// Choice: bucket = round(rps / rate_bucket)·rate_bucket; the median cost per action among the
// samples of that bucket (of the nearest bucket that has samples, lower on a tie); the argmin
// (lowest action on a tie) keeps 1 − explore and its 2–4 grid neighbours (target1 ± 1 step,
// target2 ± 1 step) share explore equally. With no samples at all the current action stands in
// for the argmin.
// The per-bucket median table stands in for Autothrottle's Vowpal Wabbit network, which is
// trained on exactly these aggregated medians. The RNG is splitmix64, seeded and checkpointed,
// so a fixed seed gives the same choices on every platform.

inline constexpr std::array<double, 9> kTowerTargets = {0.0,  0.02, 0.04, 0.06, 0.1,
                                                        0.15, 0.2,  0.25, 0.3};
inline constexpr int kTowerActions = 81;

struct TowerOptions {
  common::Duration interval = std::chrono::minutes{1};
  double rate_bucket = 20;  // requests/s; Autothrottle uses 20 (200 for hotel-reservation)
  double explore = 0.1;
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
  int observed = 0;  // outcomes seen, including dropped ones
  uint64_t rng_state = 0;
  // The current minute.
  int minute_alloc_passes = 0;
  double minute_alloc_sum = 0;
  double minute_last_p99_ratio = 0;
  bool minute_has_p99 = false;
};

class Tower {
 public:
  explicit Tower(TowerOptions options = {});

  // Once per recommendation pass: accumulates the minute; when `interval` has passed since the
  // last choice (or at the first pass) stores the outcome and chooses again. True if it chose.
  bool Tick(const TowerPass& pass, common::TimePoint now);

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

  TowerOptions options_;
  TowerState state_;
};

// The per-workload view: this workload's target, its group and the Tower's terms. Proposes no
// replicas or CPU: throttle_target applies the target.
Proposal EvaluateSloFeedback(const Tower& tower, const WorkloadConfig& config);

}  // namespace recommender::policies
