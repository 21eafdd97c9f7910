#pragma once

#include <string_view>

#include "exporter/spans/formats.h"
#include "exporter/spans/span.h"

namespace exporter::spans {

// Reads Jaeger's v1 query-API JSON: the envelope `{"data":[trace,...],...}`, one trace object
// `{"traceID","spans","processes"}`, or an array of spans that each carry an inline `process`.
// Times are microseconds; the service comes from the span's process, the kind from the
// `span.kind` tag, the error flag from the tag error=true, and the parent from the first CHILD_OF
// reference within the same trace, else the first reference within it, else `parentSpanID`.
ParseResult ParseJaegerJson(std::string_view json, SpanBatch& out);
ParseResult ParseJaegerJson(PaddedJson json, SpanBatch& out);

}  // namespace exporter::spans
