#pragma once

#include <string_view>

#include "exporter/spans/span.h"

namespace exporter::spans {

// Reads a protobuf-encoded OTLP ExportTraceServiceRequest without copying or building messages:
// a walk over the wire format that keeps views into `bytes` until the spans are committed.
// Fields the span model does not use (scope, attributes of spans, events, links) are skipped
// unread; everything read is checked (wire types, lengths, UTF-8 of kept strings, nesting of
// resource attribute values), and a malformed payload is an error naming the message and field.
// Spans with ids of the wrong size, zero ids or no times are rejected one by one.
ParseResult ParseOtlpProto(std::string_view bytes, SpanBatch& out);

}  // namespace exporter::spans
