#pragma once

#include <cstdint>
#include <initializer_list>
#include <string_view>

#include "exporter/spans/span.h"

// Spans written as one line each, for the state tests.
namespace exporter::state {

inline constexpr int64_t kMs = 1'000'000;

struct SpanSpec {
  uint64_t trace, id, parent;
  std::string_view service, operation;
  spans::SpanKind kind;
  int64_t start_ms, end_ms;
  std::string_view instance = "";
  bool error = false;
  spans::Sampling sampling = {};
};

inline void AddSpans(spans::SpanBatch& batch, std::initializer_list<SpanSpec> specs) {
  for (const SpanSpec& s : specs) {
    spans::Span& span = batch.Add();
    span.trace_id = {.hi = 0, .lo = s.trace};
    span.span_id = s.id;
    span.parent_span_id = s.parent;
    span.service = batch.Store(s.service);
    span.operation = batch.Store(s.operation);
    span.instance = batch.Store(s.instance);
    span.k8s_namespace = batch.Store("shop");
    span.kind = s.kind;
    span.start_unix_nano = s.start_ms * kMs;
    span.end_unix_nano = s.end_ms * kMs;
    span.error = s.error;
    span.SetSampling(s.sampling);
  }
}

}  // namespace exporter::state
