#include "recommender/output/trend.h"

#include <cmath>

namespace recommender::output {
namespace {

// CPU limits closer than this are the same limit: a CFS quota is whole microseconds per 100 ms
// period.
constexpr double kCpuResolution = 1e-5;

double Value(const std::optional<int>& v) { return v ? static_cast<double>(*v) : model::kMissing; }
double Value(const std::optional<double>& v) { return v ? *v : model::kMissing; }

// Notes a change of a published value; the first value seen is not a change.
void Track(double& last, double now_value, double resolution, const std::string& policy,
           const combine::Recommendation& r, common::TimePoint now, ChannelChange& change) {
  if (!std::isfinite(now_value)) return;  // held or not ready: nothing was published
  if (std::isfinite(last) && std::abs(now_value - last) >= resolution) {
    change = {.at = now, .from = last, .to = now_value, .policy = policy, .reason = r.reason};
  }
  last = now_value;
}

}  // namespace

WorkloadTrend TrendRecorder::Observe(const model::WorkloadSignals& signals,
                                     const combine::Recommendation& recommendation,
                                     common::TimePoint now) {
  State& s = states_[signals.key];
  if (!s.trend.points) s.trend.points = std::make_shared<const std::vector<TrendPoint>>();
  Track(s.replicas, Value(recommendation.replicas), 0.5, recommendation.policy, recommendation, now,
        s.trend.replicas);
  Track(s.cpu, Value(recommendation.cpu_cores), kCpuResolution, recommendation.cpu_policy,
        recommendation, now, s.trend.cpu);
  if (now >= s.next_point) {
    auto points = std::make_shared<std::vector<TrendPoint>>();
    const std::vector<TrendPoint>& old = *s.trend.points;
    const size_t keep = old.size() >= options_.points ? options_.points - 1 : old.size();
    points->reserve(keep + 1);
    points->assign(old.end() - static_cast<std::ptrdiff_t>(keep), old.end());
    points->push_back({.at = now,
                       .request_rate = signals.request_rate,
                       .queue_length = signals.queue_length,
                       .replicas = signals.current_replicas,
                       .recommended_replicas = Value(recommendation.replicas),
                       .cpu_limit_cores = signals.cpu_limit_cores,
                       .recommended_cpu_cores = Value(recommendation.cpu_cores)});
    s.trend.points = std::move(points);
    // On the step's grid from the first point, so a late pass does not shift every later point.
    s.next_point =
        s.next_point == common::TimePoint{} ? now + options_.step : s.next_point + options_.step;
    if (s.next_point <= now) s.next_point = now + options_.step;
  }
  return s.trend;
}

void TrendRecorder::Retain(const std::function<bool(const model::WorkloadKey&)>& keep) {
  std::erase_if(states_, [&](const auto& kv) { return !keep(kv.first); });
}

}  // namespace recommender::output
