#include "sim/recorder.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace sim {

void Recorder::OnRequestDone(uint32_t, double start, double end) {
  Bin(end).finished += 1;
  AddLatency(start, end - start);
}

void Recorder::AddLatency(double start, double latency) {
  const auto minute = static_cast<size_t>(start / 60);
  if (minute >= minutes_.size()) minutes_.resize(minute + 1);
  minutes_[minute].Add(latency);
  if (start >= warmup_) whole_.Add(latency);
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
  b.usage += usage;
  if (t > warmup_ + 1e-9) {
    alloc_area_ += alloc * kTick;
    usage_area_ += usage;
    pods_area_ += pods * kTick;
    periods_ += periods;
    throttled_ += throttled;
  }
}

RunSummary Recorder::Summary(double end) const {
  RunSummary s;
  const double measured = end - warmup_;
  s.requests = whole_.count();
  s.core_hours = alloc_area_ / 3600;
  s.usage_core_hours = usage_area_ / 3600;
  s.p50 = whole_.Quantile(0.5);
  s.p99 = whole_.Quantile(0.99);
  s.slo = sim_.app().slo_p99;
  s.pass = s.requests > 0 && s.p99 <= s.slo;
  const auto first = static_cast<size_t>(std::ceil(warmup_ / 60 - 1e-9));
  const auto last = static_cast<size_t>(end / 60 + 1e-9);  // whole minutes only
  for (size_t m = first; m < last; ++m) {
    ++s.minutes;
    if (m < minutes_.size() && minutes_[m].count() > 0 && minutes_[m].Quantile(0.99) > s.slo) {
      ++s.violation_minutes;
    }
  }
  s.throttled_ratio =
      periods_ > 0 ? static_cast<double>(throttled_) / static_cast<double>(periods_) : 0;
  s.mean_replicas = measured > 0 ? pods_area_ / measured : 0;
  return s;
}

RunSeries Recorder::Series() const {
  RunSeries out;
  out.step = step_;
  for (const Point& p : bins_) {
    out.throughput.push_back(p.finished / step_);
    out.replicas.push_back(p.pods / step_);
    out.cores.push_back(p.alloc / step_);
    out.usage.push_back(p.usage / step_);
  }
  for (const common::LatencySketch& m : minutes_) {
    out.p99_minutes.push_back(m.count() > 0 ? m.Quantile(0.99)
                                            : std::numeric_limits<double>::quiet_NaN());
  }
  return out;
}

Recorder::Point& Recorder::Bin(double t) {
  const auto i = static_cast<size_t>(std::max(0.0, t) / step_);
  if (i >= bins_.size()) bins_.resize(i + 1);
  return bins_[i];
}

}  // namespace sim
