#include "recommender/policies/slo_feedback.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "recommender/policies/all_policies.h"
#include "recommender/policies/json_state.h"
#include "recommender/policies/stats.h"

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

Tower::Tower(TowerOptions options) : options_(options), rng_state_(options_.seed) {
  choice_.action = std::clamp(options_.initial_action, 0, kTowerActions - 1);
  choice_.best_cost = kNaN;
}

double Tower::NextUniform() {
  return static_cast<double>(SplitMix64(rng_state_) >> 11) * 0x1.0p-53;
}

double Tower::BucketOf(double rps) const {
  return std::round(rps / options_.rate_bucket) * options_.rate_bucket;
}

bool Tower::Tick(const TowerPass& pass, common::TimePoint now) {
  if (std::isfinite(pass.alloc_cores)) {
    minute_alloc_sum_ += pass.alloc_cores;
    ++minute_alloc_passes_;
  }
  if (std::isfinite(pass.p99_ratio)) {
    minute_last_p99_ratio_ = pass.p99_ratio;
    minute_has_p99_ = true;
  }
  if (has_choice_ && now - last_choice_ < options_.interval) return false;
  if (has_choice_ && minute_has_p99_ && minute_alloc_passes_ > 0) {
    Observe(minute_last_p99_ratio_, minute_alloc_sum_ / minute_alloc_passes_);
  }
  minute_alloc_sum_ = 0;
  minute_alloc_passes_ = 0;
  minute_has_p99_ = false;
  Choose(std::isfinite(pass.rps) ? pass.rps : choice_rps_, now);
  return true;
}

void Tower::Observe(double p99_ratio, double alloc_cores) {
  if (!has_choice_ || !std::isfinite(p99_ratio) || !std::isfinite(alloc_cores)) return;
  if (observed_++ < options_.drop_samples) return;
  AddSample({choice_rps_, choice_.action, p99_ratio, alloc_cores});
}

void Tower::AddSample(const TowerSample& sample) {
  if (sample.action < 0 || sample.action >= kTowerActions || !std::isfinite(sample.rps) ||
      !std::isfinite(sample.p99_ratio) || !std::isfinite(sample.alloc_cores)) {
    return;
  }
  samples_.push_back(sample);
  if (samples_.size() > options_.max_samples) {
    samples_.erase(
        samples_.begin(),
        samples_.begin() + static_cast<std::ptrdiff_t>(samples_.size() - options_.max_samples));
  }
}

std::vector<double> Tower::Costs() const {
  double min_alloc = std::numeric_limits<double>::infinity(), max_alloc = -min_alloc;
  double min_lat = min_alloc, max_lat = -min_alloc;
  for (const TowerSample& s : samples_) {
    if (s.p99_ratio <= 1) {
      min_alloc = std::min(min_alloc, s.alloc_cores);
      max_alloc = std::max(max_alloc, s.alloc_cores);
    } else {
      min_lat = std::min(min_lat, s.p99_ratio);
      max_lat = std::max(max_lat, s.p99_ratio);
    }
  }
  std::vector<double> costs;
  costs.reserve(samples_.size());
  for (const TowerSample& s : samples_) {
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
  for (size_t i = 0; i < samples_.size(); ++i) {
    if (samples_[i].action == action && BucketOf(samples_[i].rps) == bucket) {
      mine.push_back(costs[i]);
    }
  }
  if (mine.empty()) return std::nullopt;
  return Median(std::move(mine));
}

const TowerChoice& Tower::Choose(double rps, common::TimePoint now) {
  if (!std::isfinite(rps)) rps = choice_rps_;
  const double bucket = BucketOf(rps);
  TowerChoice c;
  c.action = choice_.action;
  c.bucket_rps = bucket;
  c.best_cost = kNaN;

  // The bucket with samples nearest to the current one (lower on a tie).
  bool found = false;
  double used = 0;
  for (const TowerSample& s : samples_) {
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
    for (size_t i = 0; i < samples_.size(); ++i) {
      if (BucketOf(samples_[i].rps) == used) by_action[samples_[i].action].push_back(costs[i]);
    }
    for (auto& [action, action_costs] : by_action) {
      const double median = Median(std::move(action_costs));
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
  choice_ = c;
  choice_rps_ = rps;
  has_choice_ = true;
  last_choice_ = now;
  return choice_;
}

void Tower::AppendTerms(Proposal& p) const {
  p.Term("action", choice_.action);
  p.Term("target1", target1());
  p.Term("target2", target2());
  p.Term("best_action", choice_.best_action);
  p.Term("best_cost", choice_.best_cost);
  p.Term("bucket_rps", choice_.bucket_rps);
  p.Term("candidates", choice_.candidates);
  p.Term("explored", choice_.explored ? 1 : 0);
  p.Term("samples", static_cast<double>(samples_.size()));
}

void Tower::Write(rapidjson::Writer<rapidjson::StringBuffer>& w) const {
  w.StartObject();
  w.Key("samples");
  w.StartArray();
  for (const TowerSample& s : samples_) {
    w.StartArray();
    w.Double(s.rps);
    w.Int(s.action);
    w.Double(s.p99_ratio);
    w.Double(s.alloc_cores);
    w.EndArray();
  }
  w.EndArray();
  w.Key("action");
  w.Int(choice_.action);
  w.Key("best_action");
  w.Int(choice_.best_action);
  json::Double(w, "best_cost", choice_.best_cost);
  json::Double(w, "bucket_rps", choice_.bucket_rps);
  w.Key("candidates");
  w.Int(choice_.candidates);
  w.Key("explored");
  w.Bool(choice_.explored);
  w.Key("has_choice");
  w.Bool(has_choice_);
  json::Double(w, "choice_rps", choice_rps_);
  json::Time(w, "last_choice", last_choice_);
  w.Key("observed");
  w.Int(observed_);
  w.Key("rng_state");
  w.Uint64(rng_state_);
  w.Key("minute_alloc_passes");
  w.Int(minute_alloc_passes_);
  json::Double(w, "minute_alloc_sum", minute_alloc_sum_);
  json::Double(w, "minute_last_p99_ratio", minute_last_p99_ratio_);
  w.Key("minute_has_p99");
  w.Bool(minute_has_p99_);
  w.EndObject();
}

bool Tower::Read(const rapidjson::Value& value, std::string* error) {
  json::ObjectReader r(value, "tower");
  Tower t(options_);
  if (const rapidjson::Value* samples = r.Array("samples")) {
    for (const rapidjson::Value& s : samples->GetArray()) {
      if (!s.IsArray() || s.Size() != 4 || !s[0].IsNumber() || !s[1].IsInt() || !s[2].IsNumber() ||
          !s[3].IsNumber() || s[1].GetInt() < 0 || s[1].GetInt() >= kTowerActions) {
        r.Fail("samples", "entries must be [rps, action 0..80, p99 ratio, alloc cores]");
        break;
      }
      t.samples_.push_back({s[0].GetDouble(), s[1].GetInt(), s[2].GetDouble(), s[3].GetDouble()});
    }
  }
  r.Int("action", t.choice_.action);
  r.Int("best_action", t.choice_.best_action);
  r.Double("best_cost", t.choice_.best_cost);
  r.Double("bucket_rps", t.choice_.bucket_rps);
  r.Int("candidates", t.choice_.candidates);
  r.Bool("explored", t.choice_.explored);
  r.Bool("has_choice", t.has_choice_);
  r.Double("choice_rps", t.choice_rps_);
  r.Time("last_choice", t.last_choice_);
  r.Int("observed", t.observed_);
  r.Uint64("rng_state", t.rng_state_);
  r.Int("minute_alloc_passes", t.minute_alloc_passes_);
  r.Double("minute_alloc_sum", t.minute_alloc_sum_);
  r.Double("minute_last_p99_ratio", t.minute_last_p99_ratio_);
  r.Bool("minute_has_p99", t.minute_has_p99_);
  if (r.ok() && (t.choice_.action < 0 || t.choice_.action >= kTowerActions)) {
    r.Fail("action", "outside 0..80");
  }
  if (!r.ok()) {
    if (error != nullptr) *error = r.error();
    return false;
  }
  *this = std::move(t);
  return true;
}

Proposal EvaluateSloFeedback(const Tower& tower, const WorkloadConfig& config) {
  Proposal p;
  p.policy = std::string(kSloFeedback);
  p.terms.reserve(11);
  const double target = tower.TargetFor(config);
  p.Term("group", config.tower_high_cpu_group ? 1 : 2);
  p.Term("target", target);
  tower.AppendTerms(p);
  p.reason = "throttle target " + FormatNumber(target) + " for group " +
             (config.tower_high_cpu_group ? "1" : "2") +
             (tower.choice().explored ? " (exploring)" : "");
  return p;
}

}  // namespace recommender::policies
