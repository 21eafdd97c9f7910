#include "sim/recorder.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sim {
namespace {

// The quantile of a copy, leaving the recorded latencies as they are.
double QuantileOf(const std::vector<double>& values, double q) {
  std::vector<double> copy = values;
  return NearestRankQuantile(copy, q);
}

}  // namespace

double NearestRankQuantile(std::vector<double>& values, double q) {
  if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
  const auto n = static_cast<double>(values.size());
  // ⌈q·n⌉ with a relative slack far below 1/n, so that 0.99 · 100 = 99.00000000000001 is 99.
  const double rank = std::ceil(q * n * (1 - 1e-12));
  const auto k = static_cast<size_t>(std::clamp(rank, 1.0, n)) - 1;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
  return values[k];
}

Recorder::Recorder(Simulation& sim, double warmup, double step)
    : sim_(sim),
      warmup_(warmup),
      step_(step),
      first_full_minute_(static_cast<size_t>(std::ceil(warmup / 60 - 1e-9))) {}

void Recorder::OnRequestDone(uint32_t, double start, double end) {
  Bin(end).finished += 1;
  AddLatency(start, end - start);
}

void Recorder::AddLatency(double start, double latency) {
  const auto minute = static_cast<size_t>(start / 60);
  if (minute >= minutes_.size()) minutes_.resize(minute + 1);
  minutes_[minute].push_back(latency);
  if (start >= warmup_ && minute < first_full_minute_) warmup_minute_tail_.push_back(latency);
}

void Recorder::AddUnfinished(double end) {
  sim_.ForEachPendingRequest([&](uint32_t, double start) { AddLatency(start, end - start); });
}

void Recorder::Tick(double t) {
  double alloc = 0, usage = 0;
  int pods = 0;
  uint64_t periods = 0, throttled = 0;
  for (uint32_t i = 0; i < sim_.replicas().size(); ++i) {
    const Replica& r = sim_.replicas()[i];
    if (r.state == ReplicaState::kGone) {
      last_.erase(i);
      continue;
    }
    ++pods;
    const double limit = sim_.cpu().Limit(r.container);
    // No quota allocates the whole node.
    alloc += limit > 0 ? limit : sim_.cpu().NodeCores(r.node);
    const ContainerCounters k = sim_.Counters(i);
    auto [it, fresh] = last_.try_emplace(i, ContainerCounters{});
    usage += k.usage_seconds - it->second.usage_seconds;
    periods += k.periods - it->second.periods;
    throttled += k.throttled_periods - it->second.throttled_periods;
    it->second = k;
  }
  Point& b = Bin(t - kTick / 2);
  b.alloc += alloc * kTick;
  b.pods += pods * kTick;
  const int pending = sim_.PendingReplicas();
  b.pending += pending * kTick;
  b.usage += usage;
  if (t > warmup_ + 1e-9) {
    alloc_area_ += alloc * kTick;
    usage_area_ += usage;
    pods_area_ += pods * kTick;
    pending_area_ += pending * kTick;
    periods_ += periods;
    throttled_ += throttled;
  }
}

RunSummary Recorder::Summary(double end) const {
  RunSummary s;
  const double measured = end - warmup_;
  std::vector<double> whole = warmup_minute_tail_;
  for (size_t m = first_full_minute_; m < minutes_.size(); ++m) {
    whole.insert(whole.end(), minutes_[m].begin(), minutes_[m].end());
  }
  s.requests = whole.size();
  s.core_hours = alloc_area_ / 3600;
  s.usage_core_hours = usage_area_ / 3600;
  s.slo = sim_.app().slo_p99;
  if (!whole.empty()) {
    // P99 first: nth_element for P50 then only reorders within the lower part.
    s.p99 = NearestRankQuantile(whole, 0.99);
    s.p50 = NearestRankQuantile(whole, 0.5);
  }
  s.pass = s.requests > 0 && s.p99 <= s.slo;
  const auto last = static_cast<size_t>(end / 60 + 1e-9);  // whole minutes only
  for (size_t m = first_full_minute_; m < last; ++m) {
    ++s.minutes;
    if (m < minutes_.size() && !minutes_[m].empty() && QuantileOf(minutes_[m], 0.99) > s.slo) {
      ++s.violation_minutes;
    }
  }
  s.throttled_ratio =
      periods_ > 0 ? static_cast<double>(throttled_) / static_cast<double>(periods_) : 0;
  s.mean_replicas = measured > 0 ? pods_area_ / measured : 0;
  s.pending_pod_minutes = pending_area_ / 60;
  return s;
}

RunSeries Recorder::Series() const {
  RunSeries out;
  out.step = step_;
  for (const Point& p : bins_) {
    out.throughput.push_back(p.finished / step_);
    out.replicas.push_back(p.pods / step_);
    out.pending_pods.push_back(p.pending / step_);
    out.cores.push_back(p.alloc / step_);
    out.usage.push_back(p.usage / step_);
  }
  for (const std::vector<double>& m : minutes_) {
    out.p99_minutes.push_back(m.empty() ? std::numeric_limits<double>::quiet_NaN()
                                        : QuantileOf(m, 0.99));
  }
  return out;
}

Recorder::Point& Recorder::Bin(double t) {
  const auto i = static_cast<size_t>(std::max(0.0, t) / step_);
  if (i >= bins_.size()) bins_.resize(i + 1);
  return bins_[i];
}

}  // namespace sim
