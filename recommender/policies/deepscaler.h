#pragma once

#include <array>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/policies/proposal.h"
#include "recommender/predict/predictor.h"
#include "recommender/predict/series.h"
#include "recommender/workload_config.h"

namespace recommender::policies {

// deepscaler (replicas): DeepScaler (ASE 2023). A graph neural network (AdapGLA, loaded from a
// model file) predicts every service's replicas for the next minute jointly, from the last
// `steps` minutes (DeepScaler: 80) of all services, over a service graph it learned.
//
// Per minute, per workload (each pass adds to the minute in progress; a minute closes when the
// pass clock enters the next one, a gap repeats the last minute):
//   replicas          current_replicas at the minute's end
//   cpu_utilization   Σ cpu_usage_cores / Σ (current_replicas · cpu_limit_cores) over the passes
//   response_seconds  mean_latency_seconds weighted by request_rate
//   request_rate      mean of request_rate over the passes
// (the features `queuelens-sim dataset` records; a missing value counts as 0, as in the dataset).
//
// Every `interval` (DeepScaler: ~55 s; in between the last proposal is held):
//   ŷ_s  = model(last `steps` minutes of every model service)[s]
//   θ_s  = critical_threshold (0.35) if s is on the critical path, else other_threshold (0.5)
//   replicas = floor(ŷ_s) if ŷ_s − floor(ŷ_s) < θ_s, else ceil(ŷ_s); at least 1; then
//              [min_replicas, max_replicas]; the safety post-processors follow in combine/.
// Short history: until the first minute closes there is no proposal (held by combine); after,
// the missing older minutes are the first recorded minute repeated. A service that has just
// started has been at its first minute's state for as long as the recommender knows, and the
// alternative, holding for `steps` minutes (80 in DeepScaler, 15 in the bundled models), would
// leave it without autoscaling for most of a short run.
// Critical path: from the call graph (edges caller → callee with calls > 0, as
// queuelens_calls_total counts them), for each entry service e (no caller) the path from e that
// maximises Σ_v (request_rate_v / request_rate_e) · W_v, the expected time per request at e spent
// in v's own work, W_v = mean_exclusive_seconds (else mean_latency_seconds, else 0); the
// services on the best entry's best path are critical. DeepScaler names its critical services by
// hand (frontend, cart, checkout, product catalog, recommendation); this derives them from data.
// Without a model (none given, unreadable, mismatched, or queuelens built without libtorch)
// there is no proposal and the reason says why. Not checkpointed: after a restart the history
// starts again (padded as above).
// Terms: prediction, threshold, on_critical_path, history_minutes, and the strongest incoming
// edges of the learned graph as in_edge.<caller> (up to max_edge_terms).
struct DeepScalerOptions {
  // The loaded model (shared: the loop and the HTTP handlers read it), or null.
  std::shared_ptr<const predict::Predictor> model;
  std::string model_source;               // the file it came from
  common::TimePoint loaded_at{};          // when it was loaded
  std::string unavailable;                // without a model: why (shown as the proposal's reason)
  std::vector<predict::Edge> call_graph;  // empty: no critical path, every service at 0.5
  common::Duration interval = std::chrono::seconds{55};
  double critical_threshold = 0.35;
  double other_threshold = 0.5;
  int max_edge_terms = 3;
};

// One workload's per-minute history and the last proposal.
struct DeepScalerMemory {
  std::deque<std::array<float, predict::kFeatures>> minutes;  // closed minutes, oldest first
  // The minute in progress: its index (since the epoch) and running sums.
  int64_t minute = -1;
  double replicas = 0, usage = 0, alloc = 0, latency_rate = 0, rate = 0;
  int passes = 0;
  common::TimePoint predicted_at{};
  bool predicted = false;
  Proposal last;
};

// The services on the critical path (see above) among `names`, whose signals are `signals` (same
// order). Exposed for tests.
std::vector<bool> CriticalPath(std::span<const std::string> names,
                               std::span<const model::WorkloadSignals* const> signals,
                               const std::vector<predict::Edge>& call_graph);

// Rounds a prediction with threshold θ (see above), at least 1.
int RoundPrediction(double prediction, double threshold);

// One pass over every workload (configs[i], signals[i], memory[i] describe the same workload):
// records the minute and, when due, predicts. Returns one proposal per workload.
std::vector<Proposal> EvaluateDeepScaler(std::span<const WorkloadConfig> configs,
                                         std::span<const model::WorkloadSignals> signals,
                                         std::span<DeepScalerMemory* const> memory,
                                         common::TimePoint now, const DeepScalerOptions& options);

}  // namespace recommender::policies
