#include "exporter/spans/otlp_proto_writer.h"

#include <bit>
#include <charconv>
#include <cmath>

#include "exporter/spans/ids.h"
#include "exporter/spans/otlp_encoding.h"

namespace exporter::spans {
namespace {

using wire::AppendDecimal;
using wire::AppendQuotedDecimal;
using wire::kVarint;
using wire::LenFieldSize;
using wire::PutBytes;
using wire::PutFixed64;
using wire::PutLenHeader;
using wire::PutTag;
using wire::PutVarint;
using wire::VarintSize;

// AnyValue: 1 string_value, 2 bool_value, 3 int_value, 4 double_value.
size_t AnyValueSize(const OtlpAttribute& a) {
  struct {
    size_t operator()(const std::string& s) const { return LenFieldSize(1, s.size()); }
    size_t operator()(bool) const { return 2; }
    size_t operator()(int64_t v) const { return 1 + VarintSize(static_cast<uint64_t>(v)); }
    size_t operator()(double) const { return 9; }
  } size;
  return std::visit(size, a.value);
}

void WriteAnyValue(std::string& out, const OtlpAttribute& a) {
  if (const auto* s = std::get_if<std::string>(&a.value)) {
    PutBytes(out, 1, *s);
  } else if (const auto* b = std::get_if<bool>(&a.value)) {
    PutTag(out, 2, kVarint);
    out.push_back(*b ? 1 : 0);
  } else if (const auto* i = std::get_if<int64_t>(&a.value)) {
    PutTag(out, 3, kVarint);
    PutVarint(out, static_cast<uint64_t>(*i));
  } else {
    PutFixed64(out, 4, std::bit_cast<uint64_t>(std::get<double>(a.value)));
  }
}

// KeyValue: 1 key, 2 value.
size_t KeyValueSize(const OtlpAttribute& a) {
  return LenFieldSize(1, a.key.size()) + LenFieldSize(2, AnyValueSize(a));
}

void WriteKeyValue(std::string& out, uint32_t field, const OtlpAttribute& a) {
  PutLenHeader(out, field, KeyValueSize(a));
  PutBytes(out, 1, a.key);
  PutLenHeader(out, 2, AnyValueSize(a));
  WriteAnyValue(out, a);
}

size_t AttributesSize(uint32_t field, const std::vector<OtlpAttribute>& attributes) {
  size_t n = 0;
  for (const OtlpAttribute& a : attributes) n += LenFieldSize(field, KeyValueSize(a));
  return n;
}

// Status: 3 code.
size_t StatusSize(const OtlpSpan& s) { return 1 + VarintSize(static_cast<uint64_t>(s.status)); }

// Span: 1 trace_id, 2 span_id, 3 trace_state, 4 parent_span_id, 5 name, 6 kind, 7 start, 8 end, 9
// attributes, 15 status.
size_t SpanSize(const OtlpSpan& s) {
  size_t n = LenFieldSize(1, 16) + LenFieldSize(2, 8);
  if (!s.trace_state.empty()) n += LenFieldSize(3, s.trace_state.size());
  if (s.parent_span_id != 0) n += LenFieldSize(4, 8);
  if (!s.name.empty()) n += LenFieldSize(5, s.name.size());
  if (s.kind != SpanKind::kUnspecified) n += 1 + VarintSize(static_cast<uint64_t>(s.kind));
  if (s.start_unix_nano != 0) n += 9;
  if (s.end_unix_nano != 0) n += 9;
  n += AttributesSize(9, s.attributes);
  if (s.status != OtlpStatusCode::kUnset) n += LenFieldSize(15, StatusSize(s));
  return n;
}

void WriteSpan(std::string& out, const OtlpSpan& s) {
  PutLenHeader(out, 2, SpanSize(s));
  const auto trace = TraceIdToBytes(s.trace_id);
  PutBytes(out, 1, {trace.data(), trace.size()});
  const auto id = SpanIdToBytes(s.span_id);
  PutBytes(out, 2, {id.data(), id.size()});
  if (!s.trace_state.empty()) PutBytes(out, 3, s.trace_state);
  if (s.parent_span_id != 0) {
    const auto parent = SpanIdToBytes(s.parent_span_id);
    PutBytes(out, 4, {parent.data(), parent.size()});
  }
  if (!s.name.empty()) PutBytes(out, 5, s.name);
  if (s.kind != SpanKind::kUnspecified) {
    PutTag(out, 6, kVarint);
    PutVarint(out, static_cast<uint64_t>(s.kind));
  }
  if (s.start_unix_nano != 0) PutFixed64(out, 7, static_cast<uint64_t>(s.start_unix_nano));
  if (s.end_unix_nano != 0) PutFixed64(out, 8, static_cast<uint64_t>(s.end_unix_nano));
  for (const OtlpAttribute& a : s.attributes) WriteKeyValue(out, 9, a);
  if (s.status != OtlpStatusCode::kUnset) {
    PutLenHeader(out, 15, StatusSize(s));
    PutTag(out, 3, kVarint);
    PutVarint(out, static_cast<uint64_t>(s.status));
  }
}

// InstrumentationScope: 1 name.
size_t ScopeSize(const OtlpResourceSpans& r) {
  return r.scope_name.empty() ? 0 : LenFieldSize(1, r.scope_name.size());
}

// ScopeSpans: 1 scope, 2 spans.
size_t ScopeSpansSize(const OtlpResourceSpans& r) {
  size_t n = LenFieldSize(1, ScopeSize(r));
  for (const OtlpSpan& s : r.spans) n += LenFieldSize(2, SpanSize(s));
  return n;
}

// ResourceSpans: 1 resource (Resource: 1 attributes), 2 scope_spans.
size_t ResourceSpansSize(const OtlpResourceSpans& r) {
  return LenFieldSize(1, AttributesSize(1, r.resource)) + LenFieldSize(2, ScopeSpansSize(r));
}

// ---- JSON ------------------------------------------------------------------------------------

void AppendJsonAttributes(std::string& out, const std::vector<OtlpAttribute>& attributes) {
  out.append("[");
  for (size_t i = 0; i < attributes.size(); ++i) {
    const OtlpAttribute& a = attributes[i];
    if (i > 0) out.push_back(',');
    out.append("{\"key\":");
    AppendJsonString(out, a.key);
    out.append(",\"value\":{");
    if (const auto* s = std::get_if<std::string>(&a.value)) {
      out.append("\"stringValue\":");
      AppendJsonString(out, *s);
    } else if (const auto* b = std::get_if<bool>(&a.value)) {
      out.append(*b ? "\"boolValue\":true" : "\"boolValue\":false");
    } else if (const auto* v = std::get_if<int64_t>(&a.value)) {
      out.append("\"intValue\":");
      AppendQuotedDecimal(out, *v);
    } else {
      // proto3 JSON spells non-finite doubles as strings.
      const double d = std::get<double>(a.value);
      out.append("\"doubleValue\":");
      if (std::isnan(d)) {
        out.append("\"NaN\"");
      } else if (std::isinf(d)) {
        out.append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
      } else {
        char buf[32];
        const auto result = std::to_chars(buf, buf + sizeof(buf), d);
        out.append(buf, result.ptr);
      }
    }
    out.append("}}");
  }
  out.append("]");
}

void AppendJsonSpan(std::string& out, const OtlpSpan& s) {
  out.append("{\"traceId\":\"");
  out.append(FormatTraceId(s.trace_id));
  out.append("\",\"spanId\":\"");
  out.append(FormatSpanId(s.span_id));
  out.push_back('"');
  if (!s.trace_state.empty()) {
    out.append(",\"traceState\":");
    AppendJsonString(out, s.trace_state);
  }
  if (s.parent_span_id != 0) {
    out.append(",\"parentSpanId\":\"");
    out.append(FormatSpanId(s.parent_span_id));
    out.push_back('"');
  }
  out.append(",\"name\":");
  AppendJsonString(out, s.name);
  out.append(",\"kind\":");
  AppendDecimal(out, static_cast<int64_t>(s.kind));
  out.append(",\"startTimeUnixNano\":");
  AppendQuotedDecimal(out, s.start_unix_nano);
  out.append(",\"endTimeUnixNano\":");
  AppendQuotedDecimal(out, s.end_unix_nano);
  if (!s.attributes.empty()) {
    out.append(",\"attributes\":");
    AppendJsonAttributes(out, s.attributes);
  }
  if (s.status != OtlpStatusCode::kUnset) {
    out.append(",\"status\":{\"code\":");
    AppendDecimal(out, static_cast<int64_t>(s.status));
    out.push_back('}');
  }
  out.push_back('}');
}

}  // namespace

std::string ToOtlpProto(std::span<const OtlpResourceSpans> resources) {
  size_t total = 0;
  for (const OtlpResourceSpans& r : resources) total += LenFieldSize(1, ResourceSpansSize(r));
  std::string out;
  out.reserve(total);
  for (const OtlpResourceSpans& r : resources) {
    PutLenHeader(out, 1, ResourceSpansSize(r));
    PutLenHeader(out, 1, AttributesSize(1, r.resource));
    for (const OtlpAttribute& a : r.resource) WriteKeyValue(out, 1, a);
    PutLenHeader(out, 2, ScopeSpansSize(r));
    PutLenHeader(out, 1, ScopeSize(r));
    if (!r.scope_name.empty()) PutBytes(out, 1, r.scope_name);
    for (const OtlpSpan& s : r.spans) WriteSpan(out, s);
  }
  return out;
}

std::string ToOtlpJson(std::span<const OtlpResourceSpans> resources) {
  std::string out = "{\"resourceSpans\":[";
  for (size_t i = 0; i < resources.size(); ++i) {
    const OtlpResourceSpans& r = resources[i];
    if (i > 0) out.push_back(',');
    out.append("{\"resource\":{\"attributes\":");
    AppendJsonAttributes(out, r.resource);
    out.append("},\"scopeSpans\":[{\"scope\":{");
    if (!r.scope_name.empty()) {
      out.append("\"name\":");
      AppendJsonString(out, r.scope_name);
    }
    out.append("},\"spans\":[");
    for (size_t j = 0; j < r.spans.size(); ++j) {
      if (j > 0) out.push_back(',');
      AppendJsonSpan(out, r.spans[j]);
    }
    out.append("]}]}");
  }
  out.append("]}");
  return out;
}

}  // namespace exporter::spans
