#pragma once

#include <limits>
#include <string>
#include <vector>

#include "common/clock.h"

namespace recommender::input {

inline constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();

// What the inputs said in one fetch, before it is mapped onto workloads. Rates are over the
// rate window (--model.window), like PromQL's rate(x[window]); kAbsent when not available.

// One trace service, summed over its operations and over exporters.
struct ServiceObservation {
  std::string k8s_namespace;  // "" when the spans carry no k8s.namespace.name
  std::string service;
  common::TimePoint at{};
  double request_rate = kAbsent;         // requests/s
  double inflight = kAbsent;             // rate of the duration sum: mean requests in flight
  double busy = kAbsent;                 // rate of the exclusive-time sum
  double queue_length = kAbsent;         // sum of the exporters' windowed gauges
  double uncongested_seconds = kAbsent;  // max over exporters
  double p95_seconds = kAbsent;          // from the duration histogram over the window
  double p99_seconds = kAbsent;
  double tail_exclusive_seconds = kAbsent;  // p90 of the exclusive-time histogram
  std::vector<std::string> instances;       // instances (pods) that served requests in the window
};

// One container, from the exporters' kernel metrics and kube-state-metrics.
struct ContainerObservation {
  std::string k8s_namespace, pod, container;
  common::TimePoint at{};
  double cpu_usage_cores = kAbsent;      // over the rate window
  double cpu_usage_now_cores = kAbsent;  // over the last sample interval (irate)
  double runqueue_wait_rate = kAbsent;   // seconds waited per second
  double timeslice_rate = kAbsent;       // timeslices per second
  double periods_rate = kAbsent;         // CFS periods per second
  double throttled_periods_rate = kAbsent;
  double cpu_limit_cores = kAbsent;    // the cgroup's quota/period, else the pod spec's limit
  double cpu_request_cores = kAbsent;  // pod spec (kube-state-metrics)
  double interference_ratio = kAbsent;
  double recommended_cpu_cores = kAbsent;  // the exporter's Captain, at 1 s resolution
};

// One Deployment, from kube-state-metrics.
struct DeploymentObservation {
  std::string k8s_namespace, deployment;
  common::TimePoint at{};
  double replicas = kAbsent;
  double ready_replicas = kAbsent;
};

struct Observations {
  std::vector<ServiceObservation> services;
  std::vector<ContainerObservation> containers;
  std::vector<DeploymentObservation> deployments;
};

// A failure of one input this round: which input, a short reason for the metric label, details.
struct InputError {
  std::string input;   // a target URL, or a query's name
  std::string reason;  // fetch, parse, query
  std::string message;
};

struct FetchResult {
  Observations observations;
  std::vector<InputError> errors;
  size_t malformed_lines = 0;  // skipped lines of scraped text
};

}  // namespace recommender::input
