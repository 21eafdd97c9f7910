#pragma once

#include <functional>
#include <memory>
#include <string>

#include "common/http_server.h"
#include "common/http_server_metrics.h"
#include "exporter/loop.h"
#include "exporter/state/kernel_snapshot.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace exporter::exposition {

// The /metrics text: `registry`'s families (the process's self-metrics), then `state`'s, in the
// Prometheus text format, appended to `out`.
void AppendMetricsText(const prometheus::Collectable& registry,
                       const prometheus::Collectable& state, std::string& out);

using KernelSnapshotFn = std::function<std::shared_ptr<const state::KernelSnapshot>()>;

// Serves, on one server: /metrics (the registry's self-metrics plus the state snapshot, as
// Prometheus text), / (status page), /api/v1/services (JSON) and /healthz. Handlers only read
// snapshots; they never touch the live state. With `kernel` (kernel collection on), /metrics
// also carries the kernel families and the status page the per-pod join.
// With `http`, /metrics also carries the listeners' own metrics.
void AddExporterRoutes(common::HttpServer& server, ExporterLoop& loop,
                       const std::shared_ptr<prometheus::Registry>& registry,
                       const KernelSnapshotFn& kernel = nullptr,
                       const std::shared_ptr<const common::HttpServerCollectable>& http = nullptr);

}  // namespace exporter::exposition
