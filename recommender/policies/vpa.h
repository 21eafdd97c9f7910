#pragma once

#include <vector>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"

namespace recommender::policies {

// vpa: the Kubernetes Vertical Pod Autoscaler as a CPU baseline: its recommender's CPU target
// (contracts.md §8) applied the way its updater applies it in place (update mode
// InPlaceOrRecreate).
//
// Recommender, once per sample_interval (--recommender-interval, 1 min):
//   u = mean per-pod usage over the last sample_interval (signals.cpu_usage_history, else
//       cpu_usage_cores / current_replicas)
//   R samples of u (one per container, R = current replicas; the signals carry the per-pod
//   mean), each of weight min_sample_weight·2^((t − ref)/half_life), go into a histogram of
//   exponential buckets: bucket 0 = [0, first), bucket i ≥ 1 starts at first·(g^i − 1)/(g − 1)
//   (first = 0.01 core, g = 1.05), n = ceil(log_g(max·(g − 1)/first + 1)) + 1 = 176 buckets
//   for max = 1000 cores; a value lands in floor(log_g(u·(g − 1)/first + 1)), at most n − 1.
//   ref is a multiple of half_life; once t > ref + 100·half_life it moves to t rounded to
//   half_life and every weight is scaled by 2^((old ref − new ref)/half_life).
//   P(p) = the end of the first bucket (from the lowest non-empty one) whose cumulative weight
//          reaches p·total weight, or the start of the last bucket when that is the last;
//          0 when the lowest bucket weighs less than ε = 0.001·min_sample_weight
//   c      = min(days between the first and the last sample, samples / 1440)   (confidence)
//   target = max(P(0.9)·(1 + m), min_cpu)
//   lower  = max(P(0.5)·(1 + m)·(1 + 0.001/c)^−2, min_cpu)
//   upper  = max(P(0.95)·(1 + m)·(1 + 1/c), min_cpu)             (c = 0: lower = min_cpu,
//                                                                   upper = ∞)
//   m = 0.15 (--safety-margin-fraction), min_cpu = 25 m (--pod-recommendation-min-cpu-
//   millicores for a pod of one container: queuelens sizes one container per workload).
// Updater, every pass:
//   ratio   = limit : request of the pod as first seen with both (VPA's default
//             controlledValues RequestsAndLimits keeps it); 1 when either is unknown
//   request = current limit / ratio, else signals.cpu_request_cores (unknown: outside)
//   request < lower or request > upper ⇒ limit' = ratio·target (request' = target, in place)
//   otherwise limit' = ratio·request (the current limit: no change)
// The request is derived from the limit because the limit is what queuelens applies; after an
// in-place resize both move together, so it equals the pod's request. Not modelled: the
// updater's second trigger, a pod older than 12 h whose request differs from the target by
// more than 10 %, and memory.
// Terms: usage_cores, samples_total, confidence, p50_cores, p90_cores, p95_cores, target_cores,
// lower_bound_cores, upper_bound_cores, limit_to_request, current_request_cores,
// outside_bounds (1/0).
struct VpaOptions {
  common::Duration sample_interval = std::chrono::minutes{1};
  common::Duration half_life = std::chrono::hours{24};
  double target_percentile = 0.9;
  double lower_percentile = 0.5;
  double upper_percentile = 0.95;
  double safety_margin = 0.15;
  double min_cpu_cores = 0.025;
  double min_sample_weight = 0.1;
  double first_bucket_cores = 0.01;
  double bucket_ratio = 1.05;
  double max_cores = 1000;
};

// The decaying histogram and the sample bookkeeping of one workload.
struct VpaMemory {
  std::vector<double> weights;  // per bucket; empty until the first sample
  double total_weight = 0;
  int min_bucket = 0;  // lowest bucket of weight ≥ ε (the last bucket while empty)
  int max_bucket = 0;  // highest bucket of weight ≥ ε (0 while empty)
  common::TimePoint reference{};
  common::TimePoint first_sample{};
  common::TimePoint last_sample{};
  double samples = 0;
  double limit_to_request = model::kMissing;
};

// The exponential bucket layout (pure helpers, exposed for tests).
int VpaBucketCount(const VpaOptions& options);
int VpaFindBucket(double value, const VpaOptions& options);
double VpaBucketStart(int bucket, const VpaOptions& options);

// Adds `count` samples of `value` at `t` (decaying weights); Percentile reads the histogram.
void VpaAddSample(VpaMemory& memory, double value, double count, common::TimePoint t,
                  const VpaOptions& options);
double VpaPercentile(const VpaMemory& memory, double p, const VpaOptions& options);
// Days of history and samples / 1440, whichever is smaller.
double VpaConfidence(const VpaMemory& memory);

Proposal EvaluateVpa(const model::WorkloadSignals& signals, VpaMemory& memory,
                     common::TimePoint now, const VpaOptions& options = {});

}  // namespace recommender::policies
