#pragma once

#include <string>

#include "exporter/loop.h"
#include "exporter/sources/source_metrics.h"

namespace exporter::sources {

struct ReplayResult {
  bool ok = false;
  size_t spans = 0;
  size_t rejected_spans = 0;
  std::string error;
};

// Reads one trace file — Jaeger v1 JSON ({"data":[...]}, a trace object or a span array), Jaeger
// api_v3 / OTLP JSON, or OTLP protobuf (*.pb, *.binpb, *.protobuf) — and submits its spans as whole
// traces. Files larger than max_bytes are refused.
ReplayResult ReplayFile(const std::string& path, size_t max_bytes, ExporterLoop& loop,
                        SourceMetrics& metrics);

}  // namespace exporter::sources
