#pragma once

#include <memory>

#include "common/http_server.h"
#include "exporter/loop.h"
#include "prometheus/registry.h"

namespace exporter::exposition {

// Serves, on one server: /metrics (the registry's self-metrics plus the state snapshot, as
// Prometheus text), / (status page), /api/v1/services (JSON) and /healthz. Handlers only read
// snapshots; they never touch the live state.
void AddExporterRoutes(common::HttpServer& server, ExporterLoop& loop,
                       std::shared_ptr<prometheus::Registry> registry);

}  // namespace exporter::exposition
