#pragma once

#include <memory>

#include "common/http_server.h"
#include "prometheus/registry.h"
#include "recommender/output/snapshot.h"

namespace recommender::output {

// Serves, on one server: /metrics (the registry's self-metrics plus the published snapshot, as
// Prometheus text), /api/v1/recommendations[/{namespace}/{workload}] (KEDA metrics-api),
// /api/v1/targets (the Tower's throttle targets), / (status page) and /healthz. Handlers only
// read the latest snapshot; they never compute a recommendation.
void AddRecommenderRoutes(common::HttpServer& server, const SnapshotHolder& snapshots,
                          std::shared_ptr<prometheus::Registry> registry);

}  // namespace recommender::output
