#pragma once

#include <cstddef>

#include "common/http_server.h"
#include "exporter/loop.h"
#include "exporter/sources/source_metrics.h"

namespace exporter::sources {

struct OtlpReceiverOptions {
  size_t max_body_bytes = 16 << 20;          // compressed, as received; larger → 413
  size_t max_decompressed_bytes = 64 << 20;  // after gunzip; larger → 413
};

// OTLP/HTTP trace receiver: POST /v1/traces with an ExportTraceServiceRequest as
// application/x-protobuf or application/json, optionally gzip-encoded. Answers per the OTLP/HTTP
// spec: 200 with an (empty or partial-success) ExportTraceServiceResponse in the request's content
// type; 400 with a google.rpc.Status for unreadable payloads; 413 over the size limits; 415 for
// other content types or encodings; 503 (retryable) when the state thread's queue is full.
class OtlpReceiver {
 public:
  OtlpReceiver(ExporterLoop& loop, SourceMetrics& metrics, OtlpReceiverOptions options);

  common::HttpResponse Handle(const common::HttpRequest& request);
  const OtlpReceiverOptions& options() const { return options_; }

 private:
  ExporterLoop& loop_;
  SourceMetrics& metrics_;
  OtlpReceiverOptions options_;
};

}  // namespace exporter::sources
