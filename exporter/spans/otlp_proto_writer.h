#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "exporter/spans/span.h"

namespace exporter::spans {

// The subset of OTLP traces that queuelens reads, plus attributes, to build payloads for tests,
// the corpus generator and the simulator.
struct OtlpAttribute {
  std::string key;
  std::variant<std::string, bool, int64_t, double> value;
};

enum class OtlpStatusCode : uint8_t { kUnset = 0, kOk = 1, kError = 2 };

struct OtlpSpan {
  TraceId trace_id;
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;  // 0: root, field omitted
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

// ExportTraceServiceResponse. With nothing rejected and no message, partial_success is left
// unset: an empty protobuf body and `{}` in JSON, which is what OTLP asks for on full success.
std::string ToExportResponseProto(int64_t rejected_spans, std::string_view error_message);
std::string ToExportResponseJson(int64_t rejected_spans, std::string_view error_message);

// google.rpc.Status, the body OTLP/HTTP returns with 4xx/5xx answers.
std::string ToStatusProto(int32_t code, std::string_view message);
std::string ToStatusJson(int32_t code, std::string_view message);

// Appends `s` as a quoted JSON string (UTF-8 passes through; quotes, backslashes and control
// characters are escaped).
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace exporter::spans
