#pragma once

#include <array>
#include <memory>
#include <vector>

#include "common/clock.h"
#include "recommender/input/source.h"
#include "recommender/model/model.h"

namespace recommender::input {

struct FeedReport {
  std::vector<InputError> errors;
  size_t malformed_lines = 0;
  size_t services = 0, containers = 0, deployments = 0;  // observations received
  size_t workloads_updated = 0;
  size_t workloads_invalid = 0;  // held: one of their input values was refused
  std::array<size_t, kInvalidReasons> invalid_values{};  // refused values, by Invalid
};

// Fetches one round of observations and maps them onto the model's workloads: services by the
// workloads' trace service names (discovering new ones when enabled), containers by pod name and
// the workload's container, Deployments by name. Sums what adds up (rates, in-flight requests,
// queue lengths, CPU), takes the max of what does not (latency quantiles, interference, the
// per-pod CPU limit), and derives ratios from the sums (throttled periods / periods, run-queue
// wait / timeslices), so a workload with many pods reads like PromQL's sum by (workload).
// A workload any of whose observations carries a refused value records nothing this round and
// is marked invalid in the model instead, so one bad value cannot become a decision.
class Feeder {
 public:
  explicit Feeder(std::unique_ptr<Source> source) : source_(std::move(source)) {}

  FeedReport LoadInto(model::Model& model, common::TimePoint now);

  // The same mapping without the fetch, for callers that already hold observations. Returns the
  // workloads recorded; `invalid`, when given, gets the number marked invalid.
  static size_t Apply(const Observations& observations, model::Model& model, common::TimePoint now,
                      size_t* invalid = nullptr);

 private:
  std::unique_ptr<Source> source_;
};

}  // namespace recommender::input
