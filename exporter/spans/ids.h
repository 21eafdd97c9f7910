#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/spans/span.h"

namespace exporter::spans {

// Reads a trace id as Jaeger and OTLP JSON write it: 1 to 32 hex digits in either case, left-padded
// to 128 bits (Jaeger drops leading zeros and writes 64-bit ids with 16 digits). Text that is not
// all hex is read as the base64 (standard or URL alphabet, padding optional) of 8 or 16 bytes,
// which older Jaeger api_v3 gateways emitted. nullopt when unreadable; an all-zero id parses, and
// the caller decides whether zero means "missing".
std::optional<TraceId> ParseTraceId(std::string_view text);

// Span ids: 1 to 16 hex digits, or the base64 of 8 bytes.
std::optional<uint64_t> ParseSpanId(std::string_view text);

// Protobuf `bytes` ids are big-endian and must have exactly 16 (trace) or 8 (span) bytes.
std::optional<TraceId> TraceIdFromBytes(std::string_view bytes);
std::optional<uint64_t> SpanIdFromBytes(std::string_view bytes);
std::array<char, 16> TraceIdToBytes(const TraceId& id);
std::array<char, 8> SpanIdToBytes(uint64_t id);

// Lowercase hex, always full width (32 and 16 digits), as OTLP JSON and Jaeger v2 write ids.
std::string FormatTraceId(const TraceId& id);
std::string FormatSpanId(uint64_t id);

}  // namespace exporter::spans
