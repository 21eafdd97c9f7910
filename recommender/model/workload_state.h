#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/model/window.h"

namespace recommender::model {

// One round of inputs mapped onto one workload (kMissing = not observed this round). The feeder
// fills it from services, containers and the Deployment that belong to the workload.
struct WorkloadSample {
  common::TimePoint at{};
  // Span view, summed over the workload's services (latencies: max over them).
  double request_rate = kMissing;
  double sampled_requests = kMissing;  // request spans behind request_rate, each once
  double inflight = kMissing;
  double busy = kMissing;  // rate of exclusive time: requests being worked on or queued here
  double queue_length = kMissing;
  double p95_latency_seconds = kMissing;
  double p99_latency_seconds = kMissing;
  double tail_exclusive_seconds = kMissing;
  double uncongested_seconds = kMissing;
  // Kernel view, over the workload's pods (the configured container of each).
  double cpu_usage_cores = kMissing;        // total over pods, over the rate window
  double cpu_usage_per_pod_now = kMissing;  // per pod, over the last sample interval
  double runqueue_wait_per_timeslice_seconds = kMissing;
  double throttled_ratio = kMissing;
  double interference_ratio = kMissing;
  double node_recommended_cpu_cores = kMissing;
  double cpu_limit_cores = kMissing;    // per pod (max over pods)
  double cpu_request_cores = kMissing;  // per pod (max over pods)
  // Kubernetes view: kube-state-metrics, else the number of pods seen in kernel or span data.
  double current_replicas = kMissing;
  double ready_replicas = kMissing;
  // Per instance, sorted by instance.
  std::vector<InstanceSignals> instances;
};

// The windows of one workload: every signal the policies read, as a timestamped history. A value
// is reported by Signals() only while its newest sample is younger than the staleness limit;
// older values are kept (for the status page, the checkpoint and a later resumption) but read as
// missing, so policies never act on data the inputs stopped sending.
class WorkloadState {
 public:
  enum Series : size_t {
    kRequestRate,
    kInflight,
    kQueueLength,
    kMeanLatency,
    kP95Latency,
    kP99Latency,
    kMeanExclusive,
    kTailExclusive,
    kUncongested,
    kRunqueuePerTimeslice,
    kCpuUsage,
    kCpuUsagePerPod,
    kThrottledRatio,
    kInterference,
    kNodeRecommendedCpu,
    kCpuLimit,
    kCpuRequest,
    kCurrentReplicas,
    kReadyReplicas,
    kSampledRequests,
    kSeriesCount,
  };
  // Stable names, used in the checkpoint.
  static std::string_view SeriesName(Series s);

  // `history_samples` bounds the windows that keep a history (rates, latencies, run-queue wait,
  // CPU usage); the others keep only their latest few samples.
  explicit WorkloadState(size_t history_samples);

  // Records a round's values and clears an invalid mark.
  void Record(const WorkloadSample& sample);
  // Marks the round at `at` invalid for `reason`; the windows are left as they were.
  void MarkInvalid(std::string_view reason, common::TimePoint at);
  const std::string& invalid_reason() const { return invalid_reason_; }

  // The policies' view at `now`; observed_at is the newest sample of any series, fresh or not.
  // invalid_input carries the invalid mark while it is younger than `staleness` (then the
  // inputs are simply too old).
  // cpu_usage_history holds the per-pod usage samples of the last
  // `history` (oldest first), with the mean spacing of those samples as the sample interval.
  WorkloadSignals Signals(const WorkloadKey& key, common::TimePoint now, common::Duration staleness,
                          common::Duration history) const;

  // Time of the newest sample of any series; TimePoint{} when there is none.
  common::TimePoint LastObserved() const;

  Window& series(Series s) { return series_[s]; }
  const Window& series(Series s) const { return series_[s]; }

 private:
  std::vector<Window> series_;  // indexed by Series
  // The latest round's instances only: policies that read them keep their own history.
  std::vector<InstanceSignals> instances_;
  common::TimePoint instances_at_{};
  std::string invalid_reason_;  // empty while the last round was recorded
  common::TimePoint invalid_at_{};
};

}  // namespace recommender::model
