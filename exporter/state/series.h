#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/clock.h"
#include "common/rolling_window.h"
#include "common/sketch.h"
#include "exporter/spans/sampling.h"

namespace exporter::state {

// Series keys are interned string ids (see StringInterner).
struct OperationKey {
  uint32_t k8s_namespace = 0;
  uint32_t service = 0;
  uint32_t operation = 0;
  friend bool operator==(const OperationKey&, const OperationKey&) = default;
};
struct ServiceKey {
  uint32_t k8s_namespace = 0;
  uint32_t service = 0;
  friend bool operator==(const ServiceKey&, const ServiceKey&) = default;
};
struct InstanceKey {
  uint32_t k8s_namespace = 0;
  uint32_t service = 0;
  uint32_t instance = 0;
  friend bool operator==(const InstanceKey&, const InstanceKey&) = default;
};
struct EdgeKey {
  uint32_t client = 0;
  uint32_t server = 0;
  friend bool operator==(const EdgeKey&, const EdgeKey&) = default;
};

struct KeyHash {
  static size_t Mix(uint64_t a, uint64_t b) {
    uint64_t h = (a * 0x9e3779b97f4a7c15ull) ^ (b + 0x632be59bd9b4e019ull + (a << 6) + (a >> 2));
    return static_cast<size_t>(h ^ (h >> 31));
  }
  size_t operator()(const OperationKey& k) const {
    return Mix((uint64_t{k.k8s_namespace} << 32) | k.service, k.operation);
  }
  size_t operator()(const ServiceKey& k) const { return Mix(k.k8s_namespace, k.service); }
  size_t operator()(const InstanceKey& k) const {
    return Mix((uint64_t{k.k8s_namespace} << 32) | k.service, k.instance);
  }
  size_t operator()(const EdgeKey& k) const { return Mix(k.client, k.server); }
};

// Cumulative histogram state: counts per bucket (not cumulative; the last is +Inf) and the sum.
// Counts are adjusted counts of sampled requests, hence fractional.
struct Histogram {
  std::vector<double> counts;
  double sum = 0;
  void Observe(const std::vector<double>& bounds, double value, double weight);
};

// Per-window sums for Little's law: λ = count / covered, L = Σduration / covered. Every sum is
// over adjusted counts (each request weighs 1/p); `sampled` counts the requests seen.
struct WindowSums {
  double count = 0;
  uint64_t sampled = 0;
  double duration_seconds = 0;
  double exclusive_seconds = 0;
  void Reset() { *this = WindowSums{}; }
};

struct OperationSeries {
  double requests = 0;
  double errors = 0;
  Histogram duration;
  Histogram exclusive;
  common::WindowedSketch duration_window;
  common::TimePoint last_update;
};

struct ServiceSeries {
  double requests = 0;
  uint64_t requests_sampled = 0;  // spans seen, each counted once
  uint64_t sampling_unknown = 0;  // requests whose adjusted count was unknown
  double default_count = 1;       // 1/p of the configured default probability for this service
  spans::SamplingMethod sampling_method = spans::SamplingMethod::kNone;  // of the last request
  double duration_seconds = 0;
  double exclusive_seconds = 0;
  common::RollingWindow<WindowSums> window;
  common::WindowedSketch duration_window;
  common::WindowedSketch exclusive_window;
  common::WindowedSketch exclusive_horizon;  // long horizon: the uncongested service time
  common::TimePoint last_update;
};

struct InstanceSeries {
  double requests = 0;
  double duration_seconds = 0;
  double exclusive_seconds = 0;
  common::RollingWindow<WindowSums> window;
  common::TimePoint last_update;
};

struct EdgeSeries {
  double calls = 0;
  common::TimePoint last_update;
};

}  // namespace exporter::state
