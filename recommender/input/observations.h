#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace recommender::input {

inline constexpr double kAbsent = std::numeric_limits<double>::quiet_NaN();

// Why an input value was refused. A refused value makes its workload's inputs invalid for the
// round: nothing is recorded and the recommendation is held, as with missing data.
enum class Invalid : uint8_t {
  kNone,
  kCounterNonFinite,  // NaN or ±Inf
  kCounterNegative,   // counters start at 0 and only grow
  kCounterTooLarge,   // above 2^53, past which a float64 counter cannot count in ones
  kCounterIncrease,   // rose faster than the plausible rate bound since it was last counted
  kGaugeNonFinite,    // exporters omit a gauge they cannot compute, never send NaN or ±Inf
  kRateNonFinite,     // a PromQL rate that came back NaN or ±Inf
  kRateNegative,      // a PromQL rate below 0
  kRateImplausible,   // a PromQL rate above the plausible rate bound
  // Not a value: a scraped target that fed the observation failed this round (counted as an
  // input error), so what is left would be a partial sum.
  kTargetFailed,
  kCount,
};
inline constexpr size_t kInvalidReasons = static_cast<size_t>(Invalid::kCount);
// The metric label of each reason.
inline constexpr std::string_view InvalidName(Invalid reason) {
  switch (reason) {
    case Invalid::kNone:
      return "none";
    case Invalid::kCounterNonFinite:
      return "counter_non_finite";
    case Invalid::kCounterNegative:
      return "counter_negative";
    case Invalid::kCounterTooLarge:
      return "counter_too_large";
    case Invalid::kCounterIncrease:
      return "counter_implausible_increase";
    case Invalid::kGaugeNonFinite:
      return "gauge_non_finite";
    case Invalid::kRateNonFinite:
      return "rate_non_finite";
    case Invalid::kRateNegative:
      return "rate_negative";
    case Invalid::kRateImplausible:
      return "rate_implausible";
    case Invalid::kTargetFailed:
      return "target_failed";
    case Invalid::kCount:
      break;
  }
  return "unknown";
}

// Counters above this cannot be exact: 2^53, the largest integer below which every integer is a
// double.
inline constexpr double kMaxCounterValue = 9007199254740992.0;

// The default plausible rate bound: the most any raw counter rises per second. A whole node does
// a few million context switches per second, and one series counts requests of one operation
// on one node, CPU-seconds of one container or far fewer CFS periods; a series beyond it stays
// refused (and its workload held) for as long as it rises that fast, so the bound errs high.
inline constexpr double kDefaultMaxCounterRate = 1e7;

// A counter value usable as such, or why not; the increase check needs history and is not here.
inline Invalid CheckCounterValue(double v) {
  if (!std::isfinite(v)) return Invalid::kCounterNonFinite;
  if (v < 0) return Invalid::kCounterNegative;
  if (v > kMaxCounterValue) return Invalid::kCounterTooLarge;
  return Invalid::kNone;
}

// Keeps the first reason a group of values was refused for.
inline void Refuse(Invalid& into, Invalid reason) {
  if (into == Invalid::kNone) into = reason;
}

// What the inputs said in one fetch, before it is mapped onto workloads. Rates are over the
// rate window (--model.window), like PromQL's rate(x[window]); kAbsent when not available.

// One instance (pod) of a trace service, summed over exporters.
struct InstanceObservation {
  std::string instance;
  double request_rate = kAbsent;    // requests/s
  double duration_rate = kAbsent;   // rate of the duration sum: mean requests in flight
  double exclusive_rate = kAbsent;  // rate of the exclusive-time sum
};

// One trace service, summed over its operations and over exporters.
struct ServiceObservation {
  std::string k8s_namespace;  // "" when the spans carry no k8s.namespace.name
  std::string service;
  common::TimePoint at{};
  double request_rate = kAbsent;         // requests/s (adjusted for sampling by the exporter)
  double sampled_requests = kAbsent;     // request spans seen in the window, each once
  double inflight = kAbsent;             // rate of the duration sum: mean requests in flight
  double busy = kAbsent;                 // rate of the exclusive-time sum
  double queue_length = kAbsent;         // sum of the exporters' windowed gauges
  double uncongested_seconds = kAbsent;  // max over exporters
  double p95_seconds = kAbsent;          // from the duration histogram over the window
  double p99_seconds = kAbsent;
  double tail_exclusive_seconds = kAbsent;  // p90 of the exclusive-time histogram
  std::vector<std::string> instances;       // instances (pods) that served requests in the window
  std::vector<InstanceObservation> instance_rates;  // the same instances, sorted by instance
  Invalid invalid = Invalid::kNone;                 // set when one of its input values was refused
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
  double cpu_pressure_rate = kAbsent;  // PSI "some" seconds per second
  double cpu_limit_cores = kAbsent;    // the cgroup's quota/period, else the pod spec's limit
  double cpu_request_cores = kAbsent;  // pod spec (kube-state-metrics)
  double interference_ratio = kAbsent;
  double recommended_cpu_cores = kAbsent;  // the exporter's Captain, at 1 s resolution
  Invalid invalid = Invalid::kNone;
};

// One Deployment, from kube-state-metrics.
struct DeploymentObservation {
  std::string k8s_namespace, deployment;
  common::TimePoint at{};
  double replicas = kAbsent;
  double ready_replicas = kAbsent;
  Invalid invalid = Invalid::kNone;
};

struct Observations {
  std::vector<ServiceObservation> services;
  std::vector<ContainerObservation> containers;
  std::vector<DeploymentObservation> deployments;
};

// A failure of one input this round: which input, a short reason for the metric label, details.
struct InputError {
  std::string input;   // a target URL, or a query's name
  std::string reason;  // fetch, parse, query, too_many_series
  std::string message;
};

struct FetchResult {
  Observations observations;
  std::vector<InputError> errors;
  size_t malformed_lines = 0;  // skipped lines of scraped text
  // Values refused this round, by reason (indexed by Invalid); counted whether or not a
  // workload reads them.
  std::array<size_t, kInvalidReasons> invalid_values{};
  void CountInvalid(Invalid reason) { ++invalid_values[static_cast<size_t>(reason)]; }
};

}  // namespace recommender::input
