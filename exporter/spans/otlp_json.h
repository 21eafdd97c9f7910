#pragma once

#include <string_view>

#include "exporter/spans/formats.h"
#include "exporter/spans/span.h"

namespace exporter::spans {

// Reads OTLP/JSON: an ExportTraceServiceRequest `{"resourceSpans":[...]}` or Jaeger api_v3's
// `{"result":{"resourceSpans":[...]}}`. Ids are hex (base64 from old gateways is accepted), times
// are nanoseconds as decimal strings or numbers, enums are integers or their proto names.
// Unknown fields are ignored; a resource without service.name yields "unknown_service".
ParseResult ParseOtlpJson(std::string_view json, SpanBatch& out);
ParseResult ParseOtlpJson(PaddedJson json, SpanBatch& out);

}  // namespace exporter::spans
