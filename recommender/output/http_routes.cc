#include "recommender/output/http_routes.h"

#include "common/text_serializer.h"
#include "recommender/output/aggregator_auth.h"
#include "recommender/output/external_metrics.h"
#include "recommender/output/keda_handler.h"
#include "recommender/output/recommender_metrics.h"
#include "recommender/output/status_page.h"
#include "recommender/output/weights.h"

namespace recommender::output {

void AddRecommenderRoutes(common::HttpServer& server, const SnapshotHolder& snapshots,
                          const std::shared_ptr<prometheus::Registry>& registry,
                          const std::shared_ptr<const common::HttpServerCollectable>& http,
                          std::function<std::string()> status_section) {
  server.Handle("/metrics", [registry, http, &snapshots](const common::HttpRequest&) {
    std::vector<prometheus::MetricFamily> families = registry->Collect();
    if (http) {
      std::vector<prometheus::MetricFamily> listeners = http->Collect();
      families.insert(families.end(), std::make_move_iterator(listeners.begin()),
                      std::make_move_iterator(listeners.end()));
    }
    const std::shared_ptr<const Snapshot> snapshot = snapshots.Get();
    std::vector<prometheus::MetricFamily> from_snapshot = SnapshotFamilies(*snapshot);
    families.insert(families.end(), std::make_move_iterator(from_snapshot.begin()),
                    std::make_move_iterator(from_snapshot.end()));
    std::vector<prometheus::MetricFamily> weights = WeightFamilies(*snapshot);
    families.insert(families.end(), std::make_move_iterator(weights.begin()),
                    std::make_move_iterator(weights.end()));
    common::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.compressible = true;
    common::AppendText(families, r.body);
    return r;
  });
  server.Handle(
      "/api/v1/recommendations",
      [&snapshots](const common::HttpRequest& req) {
        return HandleRecommendations(*snapshots.Get(), req);
      },
      1 << 10, true);
  server.Handle(
      "/api/v1/weights/",
      [&snapshots](const common::HttpRequest& req) { return HandleWeights(*snapshots.Get(), req); },
      1 << 10, true);
  server.Handle("/api/v1/targets", [&snapshots](const common::HttpRequest& req) {
    return HandleTargets(*snapshots.Get(), req);
  });
  server.Handle("/", [&snapshots, section = std::move(status_section)](const common::HttpRequest&) {
    common::HttpResponse r;
    r.content_type = "text/html; charset=utf-8";
    r.body = RenderStatusPage(*snapshots.Get());
    if (section) r.body.insert(r.body.rfind("</body>"), section());
    return r;
  });
  server.Handle("/healthz", [](const common::HttpRequest&) {
    common::HttpResponse r;
    r.body = "ok\n";
    return r;
  });
}

void AddExternalMetricsRoutes(common::HttpServer& server, const SnapshotHolder& snapshots,
                              std::vector<std::string> allowed_names) {
  server.Handle(
      "/",
      [&snapshots, allowed = std::move(allowed_names)](const common::HttpRequest& req) {
        if (auto refusal = RefuseUnauthenticated(req, allowed)) return std::move(*refusal);
        return HandleExternalMetrics(*snapshots.Get(), req);
      },
      1 << 10, true);
  const auto alive = [](const common::HttpRequest&) {
    common::HttpResponse r;
    r.body = "ok\n";
    return r;
  };
  server.Handle("/livez", alive);
  server.Handle("/healthz", alive);
  server.Handle("/readyz", [&snapshots](const common::HttpRequest&) {
    common::HttpResponse r;
    const bool ready = snapshots.Get()->pass > 0;
    r.status = ready ? 200 : 503;
    r.body = ready ? "ok\n" : "no recommendation pass yet\n";
    return r;
  });
}

}  // namespace recommender::output
