#include "recommender/policies/slo_feedback.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "control/stats.h"
#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kGrid = static_cast<int>(kTowerTargets.size());

// (max − min) ranges below this are treated as empty, as a tie between equal measurements.
constexpr double kDegenerateRange = 1e-12;

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::vector<int> Neighbours(int action) {
  const int i = action / kGrid, j = action % kGrid;
  std::vector<int> n;
  if (i > 0) n.push_back((i - 1) * kGrid + j);
  if (i + 1 < kGrid) n.push_back((i + 1) * kGrid + j);
  if (j > 0) n.push_back(i * kGrid + j - 1);
  if (j + 1 < kGrid) n.push_back(i * kGrid + j + 1);
  return n;
}

}  // namespace

Tower::Tower(TowerOptions options) : options_(std::move(options)) {
  state_.rng_state = options_.seed;
  state_.choice.action = std::clamp(options_.initial_action, 0, kTowerActions - 1);
  state_.choice.best_cost = kNaN;
}

double Tower::NextUniform() {
  return static_cast<double>(SplitMix64(state_.rng_state) >> 11) * 0x1.0p-53;
}

double Tower::BucketOf(double rps) const {
  return std::round(rps / options_.rate_bucket) * options_.rate_bucket;
}

common::Duration Tower::Hold() const {
  return options_.mode == TowerMode::kGrid ? std::max(options_.grid_hold, options_.interval)
                                           : options_.interval;
}

bool Tower::Tick(const TowerPass& pass, common::TimePoint now) {
  if (state_.has_choice && now >= state_.minute_start) {
    if (std::isfinite(pass.alloc_cores)) {
      state_.minute_alloc_sum += pass.alloc_cores;
      ++state_.minute_alloc_passes;
    }
    if (std::isfinite(pass.p99_ratio)) {
      const bool inside = now - state_.minute_start >= options_.latency_window;
      if (inside && state_.minute_p99_inside) {
        state_.minute_p99_ratio = std::max(state_.minute_p99_ratio, pass.p99_ratio);
      } else if (inside || !state_.minute_p99_inside) {
        state_.minute_p99_ratio = pass.p99_ratio;
      }
      state_.minute_p99_inside = state_.minute_p99_inside || inside;
      state_.minute_has_p99 = true;
    }
  }
  if (state_.has_choice && now - state_.last_choice < Hold()) return false;
  if (state_.has_choice && state_.minute_has_p99 && state_.minute_alloc_passes > 0) {
    Observe(state_.minute_p99_ratio, state_.minute_alloc_sum / state_.minute_alloc_passes);
  }
  state_.minute_alloc_sum = 0;
  state_.minute_alloc_passes = 0;
  state_.minute_p99_ratio = 0;
  state_.minute_has_p99 = false;
  state_.minute_p99_inside = false;
  // The outcome is the last `interval` of the hold (the whole of it outside grid exploration).
  state_.minute_start = now + (Hold() - options_.interval);
  Choose(std::isfinite(pass.rps) ? pass.rps : state_.choice_rps, now);
  return true;
}

void Tower::StartRun() {
  TowerState next;
  next.samples = std::move(state_.samples);
  next.rng_state = options_.seed;
  next.choice.action = std::clamp(options_.initial_action, 0, kTowerActions - 1);
  next.choice.best_cost = kNaN;
  state_ = std::move(next);
}

void Tower::Observe(double p99_ratio, double alloc_cores) {
  if (!state_.has_choice || !std::isfinite(p99_ratio) || !std::isfinite(alloc_cores)) return;
  if (state_.observed++ < options_.drop_samples) return;
  AddSample({state_.choice_rps, state_.choice.action, p99_ratio, alloc_cores});
}

void Tower::AddSample(const TowerSample& sample) {
  if (sample.action < 0 || sample.action >= kTowerActions || !std::isfinite(sample.rps) ||
      !std::isfinite(sample.p99_ratio) || !std::isfinite(sample.alloc_cores)) {
    return;
  }
  state_.samples.push_back(sample);
  if (state_.samples.size() > options_.max_samples) {
    state_.samples.erase(
        state_.samples.begin(),
        state_.samples.begin() +
            static_cast<std::ptrdiff_t>(state_.samples.size() - options_.max_samples));
  }
}

std::vector<double> Tower::Costs() const {
  double min_alloc = std::numeric_limits<double>::infinity(), max_alloc = -min_alloc;
  double min_lat = min_alloc, max_lat = -min_alloc;
  for (const TowerSample& s : state_.samples) {
    if (s.p99_ratio <= 1) {
      min_alloc = std::min(min_alloc, s.alloc_cores);
      max_alloc = std::max(max_alloc, s.alloc_cores);
    } else {
      min_lat = std::min(min_lat, s.p99_ratio);
      max_lat = std::max(max_lat, s.p99_ratio);
    }
  }
  std::vector<double> costs;
  costs.reserve(state_.samples.size());
  for (const TowerSample& s : state_.samples) {
    if (s.p99_ratio <= 1) {
      const double range = max_alloc - min_alloc;
      costs.push_back(range > kDegenerateRange ? (s.alloc_cores - min_alloc) / range : 0.5);
    } else {
      const double range = max_lat - min_lat;
      costs.push_back(range > kDegenerateRange ? 2 + (s.p99_ratio - min_lat) / range : 2.5);
    }
  }
  return costs;
}

std::optional<double> Tower::MedianCost(int action, double rps) const {
  const std::vector<double> costs = Costs();
  const double bucket = BucketOf(rps);
  std::vector<double> mine;
  for (size_t i = 0; i < state_.samples.size(); ++i) {
    if (state_.samples[i].action == action && BucketOf(state_.samples[i].rps) == bucket) {
      mine.push_back(costs[i]);
    }
  }
  if (mine.empty()) return std::nullopt;
  return control::Median(std::move(mine));
}

int Tower::LeastExplored() {
  std::array<int, kTowerActions> count{};
  for (const TowerSample& s : state_.samples) ++count[static_cast<size_t>(s.action)];
  const int least = *std::min_element(count.begin(), count.end());
  std::vector<int> candidates;
  for (int a = 0; a < kTowerActions; ++a) {
    if (count[static_cast<size_t>(a)] == least) candidates.push_back(a);
  }
  const auto k = static_cast<size_t>(NextUniform() * static_cast<double>(candidates.size()));
  return candidates[std::min(k, candidates.size() - 1)];
}

const TowerChoice& Tower::Choose(double rps, common::TimePoint now) {
  if (!std::isfinite(rps)) rps = state_.choice_rps;
  if (options_.mode == TowerMode::kGrid) {
    TowerChoice c;
    c.action = LeastExplored();
    c.bucket_rps = BucketOf(rps);
    c.best_cost = kNaN;
    c.explored = true;
    state_.choice = c;
    state_.choice_rps = rps;
    state_.has_choice = true;
    state_.last_choice = now;
    return state_.choice;
  }
  const double bucket = BucketOf(rps);
  TowerChoice c;
  c.action = state_.choice.action;
  c.bucket_rps = bucket;
  c.best_cost = kNaN;

  // The bucket with samples nearest to the current one (lower on a tie).
  bool found = false;
  double used = 0;
  for (const TowerSample& s : state_.samples) {
    const double b = BucketOf(s.rps);
    const double distance = std::fabs(b - bucket), best = std::fabs(used - bucket);
    if (!found || distance < best || (distance == best && b < used)) {
      used = b;
      found = true;
    }
  }
  if (found) {
    const std::vector<double> costs = Costs();
    std::map<int, std::vector<double>> by_action;
    for (size_t i = 0; i < state_.samples.size(); ++i) {
      if (BucketOf(state_.samples[i].rps) == used)
        by_action[state_.samples[i].action].push_back(costs[i]);
    }
    for (auto& [action, action_costs] : by_action) {
      const double median = control::Median(std::move(action_costs));
      if (c.best_action < 0 || median < c.best_cost) {
        c.best_action = action;
        c.best_cost = median;
      }
    }
    c.candidates = static_cast<int>(by_action.size());
    c.bucket_rps = used;
    c.action = c.best_action;
  }
  const double u = NextUniform();
  if (u < options_.explore) {
    const std::vector<int> neighbours = Neighbours(c.action);
    const auto k =
        static_cast<size_t>(u / options_.explore * static_cast<double>(neighbours.size()));
    c.action = neighbours[std::min(k, neighbours.size() - 1)];
    c.explored = true;
  }
  state_.choice = c;
  state_.choice_rps = rps;
  state_.has_choice = true;
  state_.last_choice = now;
  return state_.choice;
}

void Tower::AppendTerms(Proposal& p) const {
  p.Term("action", state_.choice.action);
  p.Term("target1", target1());
  p.Term("target2", target2());
  p.Term("best_action", state_.choice.best_action);
  p.Term("best_cost", state_.choice.best_cost);
  p.Term("bucket_rps", state_.choice.bucket_rps);
  p.Term("candidates", state_.choice.candidates);
  p.Term("explored", state_.choice.explored ? 1 : 0);
  p.Term("samples", static_cast<double>(state_.samples.size()));
  p.Term("explore", options_.mode == TowerMode::kGrid ? 1.0 : options_.explore);
}

Proposal EvaluateSloFeedback(const Tower& tower, const WorkloadConfig& config) {
  Proposal p;
  p.policy = std::string(kSloFeedback);
  p.terms.reserve(12);
  const double target = tower.TargetFor(config);
  p.Term("group", config.tower_high_cpu_group ? 1 : 2);
  p.Term("target", target);
  tower.AppendTerms(p);
  p.reason = "throttle target " + control::FormatNumber(target) + " for group " +
             (config.tower_high_cpu_group ? "1" : "2") +
             (tower.choice().explored ? " (exploring)" : "");
  return p;
}

}  // namespace recommender::policies
