#include "exporter/exposition/http_routes.h"

#include <chrono>

#include "common/text_serializer.h"
#include "exporter/exposition/kernel_collectable.h"
#include "exporter/exposition/metric_names.h"
#include "exporter/exposition/state_collectable.h"
#include "exporter/exposition/status_page.h"
#include "prometheus/gauge.h"

namespace exporter::exposition {

void AppendMetricsText(const prometheus::Collectable& registry,
                       const prometheus::Collectable& state, std::string& out) {
  // The state first: the sources count spans before the state can apply them, so counters read
  // after it are never behind it.
  std::vector<prometheus::MetricFamily> from_state = state.Collect();
  std::vector<prometheus::MetricFamily> families = registry.Collect();
  families.insert(families.end(), std::make_move_iterator(from_state.begin()),
                  std::make_move_iterator(from_state.end()));
  common::AppendText(families, out);
}

void AddExporterRoutes(common::HttpServer& server, ExporterLoop& loop,
                       const std::shared_ptr<prometheus::Registry>& registry,
                       const KernelSnapshotFn& kernel,
                       const std::shared_ptr<const common::HttpServerCollectable>& http) {
  prometheus::Gauge& scrape_duration = prometheus::BuildGauge()
                                           .Name(std::string(kScrapeDuration.name))
                                           .Help(std::string(kScrapeDuration.help))
                                           .Register(*registry)
                                           .Add({});
  auto state = std::make_shared<StateCollectable>([&loop] { return loop.Snapshot(false); });
  std::shared_ptr<KernelCollectable> kernel_families;
  if (kernel) kernel_families = std::make_shared<KernelCollectable>(kernel);

  server.Handle("/metrics", [registry, state, kernel_families, http,
                             &scrape_duration](const common::HttpRequest&) {
    const auto start = std::chrono::steady_clock::now();
    common::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.compressible = true;
    AppendMetricsText(*registry, *state, r.body);
    if (kernel_families) common::AppendText(kernel_families->Collect(), r.body);
    if (http) common::AppendText(http->Collect(), r.body);
    scrape_duration.Set(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return r;
  });
  server.Handle("/", [&loop, kernel](const common::HttpRequest& req) {
    common::HttpResponse r;
    if (req.path != "/") {
      r.status = 404;
      r.body = "not found: " + req.path + "\n";
      return r;
    }
    r.content_type = "text/html; charset=utf-8";
    const std::shared_ptr<const state::StateSnapshot> spans = loop.Snapshot(true);
    const std::shared_ptr<const state::KernelSnapshot> node = kernel ? kernel() : nullptr;
    r.body = RenderStatusPage(*spans, RenderInterferenceSection(*spans, node.get()));
    return r;
  });
  server.Handle("/api/v1/services", [&loop](const common::HttpRequest&) {
    common::HttpResponse r;
    r.content_type = "application/json";
    r.body = RenderServicesJson(*loop.Snapshot(false));
    return r;
  });
  server.Handle("/healthz", [](const common::HttpRequest&) {
    common::HttpResponse r;
    r.body = "ok\n";
    return r;
  });
}

}  // namespace exporter::exposition
