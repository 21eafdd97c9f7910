#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/http_server.h"
#include "common/http_server_metrics.h"
#include "prometheus/registry.h"
#include "recommender/output/snapshot.h"

namespace recommender::output {

// Serves, on one server: /metrics (the registry's self-metrics plus the published snapshot, as
// Prometheus text), /api/v1/recommendations[/{namespace}/{workload}] (KEDA metrics-api),
// /api/v1/targets (the Tower's throttle targets), /api/v1/weights/{namespace}/{service}
// (load_shifting's routing weights), / (status page) and /healthz. Handlers only
// read the latest snapshot; they never compute a recommendation.
// With `http`, /metrics also carries the listeners' own metrics; with `status_section`, the
// status page ends with the HTML it returns.
void AddRecommenderRoutes(
    common::HttpServer& server, const SnapshotHolder& snapshots,
    const std::shared_ptr<prometheus::Registry>& registry,
    const std::shared_ptr<const common::HttpServerCollectable>& http = nullptr,
    std::function<std::string()> status_section = nullptr);

// Serves, on the TLS server: external.metrics.k8s.io/v1beta1 (external_metrics.h) to clients
// with a verified certificate whose common name is in `allowed_names` (empty: any), and without
// one /livez, /healthz and /readyz (ready once the first pass is published) for the kubelet.
void AddExternalMetricsRoutes(common::HttpServer& server, const SnapshotHolder& snapshots,
                              std::vector<std::string> allowed_names);

}  // namespace recommender::output
