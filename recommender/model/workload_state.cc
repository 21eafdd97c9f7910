#include "recommender/model/workload_state.h"

#include <algorithm>
#include <cmath>

namespace recommender::model {
namespace {

// Series that keep a history; the rest keep their latest few samples.
bool KeepsHistory(WorkloadState::Series s) {
  switch (s) {
    case WorkloadState::kRequestRate:
    case WorkloadState::kInflight:
    case WorkloadState::kQueueLength:
    case WorkloadState::kP95Latency:
    case WorkloadState::kP99Latency:
    case WorkloadState::kMeanExclusive:
    case WorkloadState::kRunqueuePerTimeslice:
    case WorkloadState::kCpuUsagePerPod:
      return true;
    default:
      return false;
  }
}

constexpr size_t kLatestOnly = 4;

double Ratio(double num, double den) { return den > 0 ? num / den : kMissing; }

}  // namespace

std::string_view WorkloadState::SeriesName(Series s) {
  switch (s) {
    case kRequestRate:
      return "request_rate";
    case kInflight:
      return "inflight";
    case kQueueLength:
      return "queue_length";
    case kMeanLatency:
      return "mean_latency_seconds";
    case kP95Latency:
      return "p95_latency_seconds";
    case kP99Latency:
      return "p99_latency_seconds";
    case kMeanExclusive:
      return "mean_exclusive_seconds";
    case kTailExclusive:
      return "tail_exclusive_seconds";
    case kUncongested:
      return "uncongested_seconds";
    case kRunqueuePerTimeslice:
      return "runqueue_wait_per_timeslice_seconds";
    case kCpuUsage:
      return "cpu_usage_cores";
    case kCpuUsagePerPod:
      return "cpu_usage_per_pod_cores";
    case kThrottledRatio:
      return "throttled_ratio";
    case kInterference:
      return "interference_ratio";
    case kNodeRecommendedCpu:
      return "node_recommended_cpu_cores";
    case kCpuLimit:
      return "cpu_limit_cores";
    case kCpuRequest:
      return "cpu_request_cores";
    case kCurrentReplicas:
      return "current_replicas";
    case kReadyReplicas:
      return "ready_replicas";
    case kSampledRequests:
      return "sampled_requests";
    case kSeriesCount:
      break;
  }
  return "";
}

WorkloadState::WorkloadState(size_t history_samples) {
  series_.reserve(kSeriesCount);
  for (size_t s = 0; s < kSeriesCount; ++s) {
    series_.emplace_back(KeepsHistory(static_cast<Series>(s)) ? std::max<size_t>(history_samples, 2)
                                                              : kLatestOnly);
  }
}

void WorkloadState::MarkInvalid(std::string_view reason, common::TimePoint at) {
  invalid_reason_ = reason;
  invalid_at_ = at;
}

void WorkloadState::Record(const WorkloadSample& x) {
  invalid_reason_.clear();
  const auto add = [&](Series s, double v) { series_[s].Add(x.at, v); };
  add(kRequestRate, x.request_rate);
  add(kSampledRequests, x.sampled_requests);
  add(kInflight, x.inflight);
  add(kQueueLength, x.queue_length);
  // Little's law on the window: W = L / λ, for the whole span and for the exclusive part.
  add(kMeanLatency, Ratio(x.inflight, x.request_rate));
  add(kMeanExclusive, Ratio(x.busy, x.request_rate));
  add(kP95Latency, x.p95_latency_seconds);
  add(kP99Latency, x.p99_latency_seconds);
  add(kTailExclusive, x.tail_exclusive_seconds);
  add(kUncongested, x.uncongested_seconds);
  add(kRunqueuePerTimeslice, x.runqueue_wait_per_timeslice_seconds);
  add(kCpuUsage, x.cpu_usage_cores);
  add(kCpuUsagePerPod, x.cpu_usage_per_pod_now);
  add(kThrottledRatio, x.throttled_ratio);
  add(kInterference, x.interference_ratio);
  add(kNodeRecommendedCpu, x.node_recommended_cpu_cores);
  add(kCpuLimit, x.cpu_limit_cores);
  add(kCpuRequest, x.cpu_request_cores);
  add(kCurrentReplicas, x.current_replicas);
  add(kReadyReplicas, x.ready_replicas);
  instances_ = x.instances;
  instances_at_ = x.at;
}

common::TimePoint WorkloadState::LastObserved() const {
  common::TimePoint newest{};
  for (const Window& w : series_) {
    if (auto p = w.Latest()) newest = std::max(newest, p->t);
  }
  return newest;
}

WorkloadSignals WorkloadState::Signals(const WorkloadKey& key, common::TimePoint now,
                                       common::Duration staleness, common::Duration history) const {
  WorkloadSignals out;
  out.key = key;
  // The newest sample even when it is too old to use, so staleness can be told from absence.
  out.observed_at = LastObserved();
  if (!invalid_reason_.empty() && now - invalid_at_ <= staleness) {
    out.invalid_input = invalid_reason_;
  }
  const auto fresh = [&](Series s) {
    const auto p = series_[s].Latest();
    return p && now - p->t <= staleness ? p->v : kMissing;
  };
  out.current_replicas = fresh(kCurrentReplicas);
  out.ready_replicas = fresh(kReadyReplicas);
  out.cpu_request_cores = fresh(kCpuRequest);
  out.cpu_limit_cores = fresh(kCpuLimit);
  out.request_rate = fresh(kRequestRate);
  out.sampled_requests = fresh(kSampledRequests);
  out.inflight = fresh(kInflight);
  out.queue_length = fresh(kQueueLength);
  out.mean_latency_seconds = fresh(kMeanLatency);
  out.p95_latency_seconds = fresh(kP95Latency);
  out.p99_latency_seconds = fresh(kP99Latency);
  out.mean_exclusive_seconds = fresh(kMeanExclusive);
  out.tail_exclusive_seconds = fresh(kTailExclusive);
  out.uncongested_seconds = fresh(kUncongested);
  out.runqueue_wait_per_timeslice_seconds = fresh(kRunqueuePerTimeslice);
  out.cpu_usage_cores = fresh(kCpuUsage);
  out.throttled_ratio = fresh(kThrottledRatio);
  out.interference_ratio = fresh(kInterference);
  out.node_recommended_cpu_cores = fresh(kNodeRecommendedCpu);
  if (now - instances_at_ <= staleness) out.instances = instances_;

  const std::vector<Window::Point> usage = series_[kCpuUsagePerPod].Points(now - history);
  if (!usage.empty() && now - usage.back().t <= staleness) {
    out.cpu_usage_history.reserve(usage.size());
    for (const Window::Point& p : usage) out.cpu_usage_history.push_back(p.v);
    if (usage.size() >= 2) {
      out.cpu_usage_sample_interval =
          (usage.back().t - usage.front().t) / static_cast<int64_t>(usage.size() - 1);
    }
  }
  return out;
}

}  // namespace recommender::model
