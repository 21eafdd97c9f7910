#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "recommender/model/workload_key.h"
#include "recommender/output/snapshot.h"

namespace recommender::output {

// What KEDA's external scaler (contracts.md §2.1, §13) is told, without gRPC: the mapping of a
// ScaledObjectRef to a workload and metric, the value read from a published snapshot, and the
// activity that lets KEDA scale to zero. keda_grpc.cc turns these into messages and statuses.

// The value a trigger scales on: metadata `metric`.
enum class ScalerMetric { kReplicas, kQueueLength, kInflight };

// Why a call has no answer; each is a gRPC status KEDA counts as a scaler error (its `fallback`
// then applies), so no number is ever made up.
enum class ScalerCode {
  kOk,
  kInvalidArgument,  // INVALID_ARGUMENT: bad metadata, or a metric name not of this trigger
  kNotFound,         // NOT_FOUND: no such workload
  kUnavailable,      // UNAVAILABLE: no value yet, held stale, or the snapshot is too old
};

struct ScalerStatus {
  ScalerCode code = ScalerCode::kOk;
  std::string message;
  bool ok() const { return code == ScalerCode::kOk; }
};

// A trigger resolved: the workload, the metric and its per-replica target.
struct ScalerTarget {
  model::WorkloadKey key;
  ScalerMetric metric = ScalerMetric::kReplicas;
  double target = 1;        // 1 for replicas: the HPA then runs the recommended count
  std::string metric_name;  // "queuelens-<metric>-<namespace>-<workload>"
};

// Metadata keys: `workload` and `namespace` (else the ScaledObject's name and namespace),
// `metric` (replicas, the default; queue_length; inflight) and, for queue_length and inflight,
// `target` (a positive number per replica; required).
ScalerStatus ResolveTarget(std::string_view name, std::string_view k8s_namespace,
                           const std::map<std::string, std::string, std::less<>>& metadata,
                           ScalerTarget* out);

// Whether GetMetrics' metricName names the target's metric: as GetMetricSpec returned it, or with
// the "s<trigger index>-" prefix KEDA gives the HPA metric.
bool MatchesMetricName(std::string_view requested, const ScalerTarget& target);

struct ScalerReading {
  ScalerStatus status;
  double value = 0;
  const WorkloadView* view = nullptr;  // into the snapshot read; set unless kNotFound
};

// Whether `key`'s activity can be told from `snapshot` (value unused): kNotFound for an unknown
// workload; kUnavailable when the snapshot is older than `max_age` or the workload's inputs are
// (or were refused). Not the recommendation's staleness: an idle workload may have no proposal.
ScalerReading ReadActivityInputs(const Snapshot& snapshot, const model::WorkloadKey& key,
                                 common::TimePoint now, common::Duration max_age);

// The target's current value in `snapshot`: every ReadActivityInputs error, and kUnavailable
// while the workload has no replicas yet, while its replica count is held stale, and when the
// signal a queue_length or inflight trigger reads is missing.
ScalerReading ReadScalerMetric(const Snapshot& snapshot, const ScalerTarget& target,
                               common::TimePoint now, common::Duration max_age);

// KEDA reads the float fields only when > 0, else the int64 ones; this is the int64 value.
int64_t IntegerValue(double value);

// When each workload last had requests, from the request rates of the published snapshots. A
// workload is idle once every rate observed for `idle_time` was 0 and its config has allow_zero;
// a missing rate (no data) neither starts nor ends idleness, so a workload scaled to zero, whose
// spans are gone, stays idle until a request is seen again. Not thread-safe.
class ActivityTracker {
 public:
  explicit ActivityTracker(common::Duration idle_time) : idle_time_(idle_time) {}

  // Records the rates of `snapshot`; `now` is when it is seen. Workloads no longer in it are
  // forgotten.
  void Observe(const Snapshot& snapshot, common::TimePoint now);
  // False only when view.config.allow_zero and no request has been seen for idle_time.
  bool IsActive(const WorkloadView& view, common::TimePoint now) const;

 private:
  common::Duration idle_time_;
  // Present while the workload's observed rate has been 0 since that time.
  std::map<model::WorkloadKey, common::TimePoint> idle_since_;
};

// What one StreamIsActive stream last sent.
struct PushedState {
  bool active = false;
  // The target's value, nullopt while unavailable: a change makes KEDA read GetMetrics again.
  std::optional<double> value;
  bool operator==(const PushedState&) const = default;
};

// Whether a stream sends `now`: the first time, and on every change of activity or value.
inline bool ShouldPush(const std::optional<PushedState>& last, const PushedState& now) {
  return !last || *last != now;
}

}  // namespace recommender::output
