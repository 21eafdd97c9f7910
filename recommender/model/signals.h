#pragma once

#include <limits>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/model/workload_key.h"

namespace recommender::model {

inline constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

// One instance (pod) of a workload: its spans (span attribute k8s.pod.name) joined with its
// sized container's kernel view by pod name. Over the rate window, like the workload's values.
// No per-instance P95: the exporter keeps no latency histogram per instance (see README,
// "Per-instance signals").
struct InstanceSignals {
  std::string instance;                      // the pod
  double request_rate = kMissing;            // requests/s
  double mean_latency_seconds = kMissing;    // duration sum rate / request rate
  double mean_exclusive_seconds = kMissing;  // exclusive-time sum rate / request rate
  double runqueue_wait_per_timeslice_seconds = kMissing;
  double cpu_pressure_ratio = kMissing;  // PSI "some": seconds waited per second
  double throttled_ratio = kMissing;     // Δthrottled periods / Δperiods
  double interference_ratio = kMissing;  // [0, 1]
};

// What the model knows about one workload at one instant: the only input policies read.
// Every value is kMissing (NaN) when the inputs did not provide it; policies must check.
// Rates and latencies are over the model's window (default 1 min) unless noted.
struct WorkloadSignals {
  WorkloadKey key;
  common::TimePoint observed_at{};  // time of the newest input sample behind these values
  // Why the last round's inputs were refused (an input::InvalidName, e.g. counter_negative);
  // empty when they were usable. The values below are then the last good ones and the
  // recommendation is held, as for missing inputs.
  std::string invalid_input;

  // Kubernetes view (kube-state-metrics, or the simulator).
  double current_replicas = kMissing;
  double ready_replicas = kMissing;
  double cpu_request_cores = kMissing;  // per pod
  double cpu_limit_cores = kMissing;    // per pod, kMissing when unlimited or unknown

  // Span view (exporter, summed over the workload's trace services).
  double request_rate = kMissing;  // requests/s, each sampled request counted 1/p
  // Request spans seen in the rate window, each once: the effective sample size behind
  // request_rate and the latencies (kMissing from exporters that do not report it).
  double sampled_requests = kMissing;
  double inflight = kMissing;      // mean concurrency, λ·W
  double queue_length = kMissing;  // QueueFlower estimate, requests
  double mean_latency_seconds = kMissing;
  double p95_latency_seconds = kMissing;
  double p99_latency_seconds = kMissing;
  double mean_exclusive_seconds = kMissing;
  double tail_exclusive_seconds = kMissing;  // p90 of exclusive time: QueueFlower's tail input
  double uncongested_seconds = kMissing;     // low quantile of exclusive time, long horizon

  // Kernel view (exporter DaemonSets, summed over the workload's containers).
  double runqueue_wait_per_timeslice_seconds = kMissing;
  double cpu_usage_cores = kMissing;     // total over pods
  double throttled_ratio = kMissing;     // Δthrottled periods / Δperiods
  double interference_ratio = kMissing;  // max over containers, [0, 1]
  // Max over the workload's pods of the exporters' Captain recommendation (1 s throttle control).
  double node_recommended_cpu_cores = kMissing;

  // Per instance, sorted by instance; only instances that served requests in the window.
  std::vector<InstanceSignals> instances;

  // Recent per-pod CPU usage samples (cores), oldest first, for σ-based sizing.
  std::vector<double> cpu_usage_history;
  common::Duration cpu_usage_sample_interval{};
};

}  // namespace recommender::model
