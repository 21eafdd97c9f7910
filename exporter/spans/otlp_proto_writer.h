#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "exporter/spans/otlp_encoding.h"
#include "exporter/spans/span.h"

namespace exporter::spans {

// The subset of OTLP traces that queuelens reads, plus attributes, to build payloads for tests,
// the corpus generator and the simulator. Its own library (otlp_proto_writer): queuelens-exporter
// only reads requests; its answers are otlp_response.h.
struct OtlpAttribute {
  std::string key;
  std::variant<std::string, bool, int64_t, double> value;
};

enum class OtlpStatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

struct OtlpSpan {
  TraceId trace_id;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;  // 0: root, field omitted
  std::string trace_state;      // W3C tracestate, e.g. "ot=th:e666666666666"; empty: omitted
  std::string name;
  SpanKind kind = SpanKind::kUnspecified;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  OtlpStatusCode status = OtlpStatusCode::kUnset;
  std::vector<OtlpAttribute> attributes;
};

// One ResourceSpans holding a single ScopeSpans.
struct OtlpResourceSpans {
  std::vector<OtlpAttribute> resource;
  std::string scope_name;
  std::vector<OtlpSpan> spans;
};

// ExportTraceServiceRequest in the protobuf wire format. Fields at their proto3 default are
// omitted, as protobuf encoders do.
std::string ToOtlpProto(std::span<const OtlpResourceSpans> resources);

// The same request as OTLP/JSON: hex ids, enums as integers, 64-bit integers as decimal strings.
std::string ToOtlpJson(std::span<const OtlpResourceSpans> resources);

}  // namespace exporter::spans
