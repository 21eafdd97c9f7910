#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/clock.h"
#include "exporter/spans/sampling.h"

namespace exporter::state {

// A copy of the state taken by the thread that owns it, rendered by scrapes and pages on other
// threads without touching the live state.
struct StateSnapshot {
  common::TimePoint at;
  double window_seconds = 0;
  std::vector<double> bucket_bounds;  // histogram upper bounds, +Inf implied

  struct Quantiles {
    double p50 = 0, p95 = 0, p99 = 0;  // NaN when the window is empty
  };
  struct Operation {
    std::string k8s_namespace, service, operation;
    // Adjusted counts: each sampled request weighs 1/p.
    double requests = 0, errors = 0;
    std::vector<double> duration_buckets, exclusive_buckets;  // cumulative, +Inf last
    double duration_sum = 0, exclusive_sum = 0;
    uint64_t window_requests = 0;  // weighted as the sketch holds them (rounded 1/p)
    Quantiles window_duration;     // filled only when asked for (status page, JSON API)
  };
  struct Service {
    std::string k8s_namespace, service;
    double requests = 0;                         // cumulative, adjusted
    uint64_t requests_sampled = 0;               // cumulative, each sampled request once
    uint64_t sampling_unknown = 0;               // cumulative
    double duration_sum = 0, exclusive_sum = 0;  // cumulative seconds
    double window_requests = 0;                  // adjusted
    uint64_t window_sampled = 0;                 // the effective sample size of the window
    double sampling_probability = 0;             // window_sampled / window_requests; NaN when empty
    spans::SamplingMethod sampling_method = spans::SamplingMethod::kNone;  // of the last request
    double arrival_rate = 0;    // λ, requests/s over the window
    double inflight = 0;        // λ·W: mean requests in flight
    double mean_exclusive = 0;  // seconds, NaN when the window is empty
    double uncongested = 0;     // seconds: low quantile of exclusive time over the horizon
    double queue_length = 0;    // λ · max(0, mean_exclusive − uncongested)
    Quantiles window_duration, window_exclusive;
  };
  struct Instance {
    std::string k8s_namespace, service, instance;
    double requests = 0;
    double duration_sum = 0;
    double exclusive_sum = 0;
    double window_rate = 0;
    double window_mean_exclusive = 0;  // NaN when the window is empty
  };
  struct Edge {
    std::string client, server;
    double calls = 0;
  };
  struct Family {
    size_t series = 0;
    uint64_t overflowed = 0;  // updates folded into the overflow series
  };
  struct Stats {
    size_t buffered_traces = 0, buffered_spans = 0;
    uint64_t traces_finished = 0, traces_evicted = 0, spans_dropped_trace_cap = 0;
    uint64_t series_expired = 0;
    size_t interned_strings = 0;
    size_t interned_bytes = 0;
    Family operations, services, instances, edges;
  };

  std::vector<Operation> operations;
  std::vector<Service> services;
  std::vector<Instance> instances;
  std::vector<Edge> edges;
  Stats stats;
};

}  // namespace exporter::state
