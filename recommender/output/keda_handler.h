#pragma once

#include <string>

#include "common/http_server.h"
#include "recommender/output/snapshot.h"

namespace recommender::output {

// KEDA metrics-api contract (contracts.md §2.2): one object per workload,
//   {"namespace","workload","replicas","cpuCores","policy","reason","computedAt","stale"}
// read with valueLocation: replicas, metricType: AverageValue, targetValue: "1". replicas and
// cpuCores are null while the workload has no usable value yet; computedAt is RFC 3339 UTC.
std::string RenderRecommendationJson(const WorkloadView& view);
// {"computedAt": ..., "recommendations": [<one object per workload>]}
std::string RenderRecommendationsJson(const Snapshot& snapshot);
// The Tower's throttle targets, polled by exporters running the Captain (--recommender.url):
// {"computedAt", "chosen", "action", "groups": {"high_cpu", "other"},
//  "targets": [{"namespace", "workload", "container", "throttleTarget"}]}
std::string RenderTargetsJson(const Snapshot& snapshot);

// GET /api/v1/recommendations (all) and /api/v1/recommendations/{namespace}/{workload}: 404 with
// a JSON error for an unknown workload, 503 while it has no replicas yet (KEDA treats any
// non-200 as an error and keeps the current scale).
common::HttpResponse HandleRecommendations(const Snapshot& snapshot,
                                           const common::HttpRequest& request);
// GET /api/v1/targets.
common::HttpResponse HandleTargets(const Snapshot& snapshot, const common::HttpRequest& request);

// "2026-08-22T10:00:00.123Z".
std::string FormatRfc3339(common::TimePoint t);

}  // namespace recommender::output
