#include "exporter/spans/otlp_json.h"

#include <simdjson.h>

#include <cstdint>
#include <string>

#include "exporter/spans/formats.h"
#include "exporter/spans/ids.h"

namespace exporter::spans {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::key_value_pair;
using simdjson::dom::object;

// Reads an enum given as its number or as its proto name (which proto3 JSON also allows).
// Returns false on a wrong type; unknown values map to 0.
template <size_t N>
bool ReadEnum(element value, const std::string_view (&names)[N], int64_t& out) {
  std::string_view name;
  if (value.get_string().get(name) == SUCCESS) {
    out = 0;
    for (size_t i = 0; i < N; ++i) {
      if (names[i] == name) out = static_cast<int64_t>(i);
    }
    return true;
  }
  if (value.get_int64().get(out) != SUCCESS) return false;
  if (out < 0 || out >= static_cast<int64_t>(N)) out = 0;
  return true;
}

constexpr std::string_view kKindNames[] = {
    "SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",      "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER",
};
constexpr std::string_view kStatusNames[] = {
    "STATUS_CODE_UNSET",
    "STATUS_CODE_OK",
    "STATUS_CODE_ERROR",
};

// A time in ns as the wire's uint64, which must also fit the model's int64.
const char* ReadTime(element value, int64_t& out, const char* wrong_type, const char* range) {
  const auto status = internal::ReadJsonInt64(value, out);
  if (status == internal::IntStatus::kWrongType) return wrong_type;
  if (status != internal::IntStatus::kOk || out < 0) return range;
  return nullptr;
}

class OtlpJsonReader {
 public:
  explicit OtlpJsonReader(SpanBatch& out) : pending_(out) {}

  ParseResult Read(element root) {
    object doc;
    if (root.get_object().get(doc) != SUCCESS) return Fail("top level is not an object");
    for (key_value_pair field : doc) {
      if (field.key == "resourceSpans") {
        if (const char* error = ReadResourceSpansList(field.value)) return Fail(error);
      } else if (field.key == "result") {
        object result;
        if (field.value.get_object().get(result) != SUCCESS) return Fail("result is not an object");
        element list;
        if (result.at_key("resourceSpans").get(list) != SUCCESS) continue;
        if (const char* error = ReadResourceSpansList(list)) return Fail(error);
      }
    }
    return pending_.Finish();
  }

 private:
  ParseResult Fail(std::string_view error) {
    return pending_.Fail("otlp json: " + std::string(error));
  }

  const char* ReadResourceSpansList(element value) {
    if (value.type() == element_type::NULL_VALUE) return nullptr;
    array list;
    if (value.get_array().get(list) != SUCCESS) return "resourceSpans is not an array";
    for (element item : list) {
      object resource_spans;
      if (item.get_object().get(resource_spans) != SUCCESS) {
        return "resourceSpans holds a non-object";
      }
      if (const char* error = ReadResourceSpans(resource_spans)) return error;
    }
    return nullptr;
  }

  const char* ReadResourceSpans(object resource_spans) {
    // The resource may follow its spans, so find both before reading spans.
    element resource, scope_spans;
    bool has_resource = false, has_scope_spans = false;
    for (key_value_pair field : resource_spans) {
      if (field.key == "resource") {
        resource = field.value;
        has_resource = true;
      } else if (field.key == "scopeSpans" || field.key == "instrumentationLibrarySpans") {
        // The second name is the one OTLP used before 1.0; old SDKs still send it.
        scope_spans = field.value;
        has_scope_spans = true;
      }
    }
    internal::ResourceFields fields;
    if (has_resource && resource.type() != element_type::NULL_VALUE) {
      object r;
      if (resource.get_object().get(r) != SUCCESS) return "resource is not an object";
      element attributes;
      if (r.at_key("attributes").get(attributes) == SUCCESS) {
        if (const char* error = ReadResourceAttributes(attributes, fields)) return error;
      }
    }
    if (!has_scope_spans || scope_spans.type() == element_type::NULL_VALUE) return nullptr;
    array scopes;
    if (scope_spans.get_array().get(scopes) != SUCCESS) return "scopeSpans is not an array";
    const uint32_t resource_index = pending_.AddResource(fields);
    for (element scope : scopes) {
      object scope_object;
      if (scope.get_object().get(scope_object) != SUCCESS) return "scopeSpans holds a non-object";
      element spans_value;
      if (scope_object.at_key("spans").get(spans_value) != SUCCESS ||
          spans_value.type() == element_type::NULL_VALUE) {
        continue;
      }
      array spans;
      if (spans_value.get_array().get(spans) != SUCCESS) return "spans is not an array";
      for (element span_value : spans) {
        object span;
        if (span_value.get_object().get(span) != SUCCESS) return "spans holds a non-object";
        Span& s = pending_.Begin();
        if (const char* reason = ReadSpan(span, s)) {
          pending_.Reject(reason);
        } else {
          pending_.Accept(resource_index);
        }
      }
    }
    return nullptr;
  }

  static const char* ReadResourceAttributes(element value, internal::ResourceFields& fields) {
    if (value.type() == element_type::NULL_VALUE) return nullptr;
    array attributes;
    if (value.get_array().get(attributes) != SUCCESS) return "resource attributes is not an array";
    for (element item : attributes) {
      object kv;
      if (item.get_object().get(kv) != SUCCESS) return "resource attribute is not an object";
      std::string_view key, text;
      bool has_text = false;
      for (key_value_pair field : kv) {
        if (field.key == "key") {
          if (field.value.get_string().get(key) != SUCCESS) {
            return "resource attribute key is not a string";
          }
        } else if (field.key == "value") {
          object any;
          if (field.value.type() == element_type::NULL_VALUE) continue;
          if (field.value.get_object().get(any) != SUCCESS) {
            return "resource attribute value is not an object";
          }
          // Only string values name services, pods and namespaces.
          has_text = any.at_key("stringValue").get_string().get(text) == SUCCESS;
        }
      }
      if (has_text) fields.Offer(key, text);
    }
    return nullptr;
  }

  static const char* ReadSpan(object span, Span& s) {
    std::string_view trace_id, span_id, parent_id;
    bool has_start = false, has_end = false;
    for (key_value_pair field : span) {
      const std::string_view key = field.key;
      const element value = field.value;
      if (key == "traceId") {
        if (value.get_string().get(trace_id) != SUCCESS) return "traceId is not a string";
      } else if (key == "spanId") {
        if (value.get_string().get(span_id) != SUCCESS) return "spanId is not a string";
      } else if (key == "parentSpanId") {
        if (value.type() == element_type::NULL_VALUE) continue;
        if (value.get_string().get(parent_id) != SUCCESS) return "parentSpanId is not a string";
      } else if (key == "traceState") {
        std::string_view trace_state;
        if (value.get_string().get(trace_state) != SUCCESS) return "traceState is not a string";
        s.SetSampling(ParseTraceState(trace_state));
      } else if (key == "name") {
        if (value.get_string().get(s.operation) != SUCCESS) return "name is not a string";
      } else if (key == "kind") {
        int64_t kind = 0;
        if (!ReadEnum(value, kKindNames, kind)) return "kind is not an enum";
        s.kind = static_cast<SpanKind>(kind);
      } else if (key == "startTimeUnixNano") {
        if (const char* reason =
                ReadTime(value, s.start_unix_nano, "startTimeUnixNano is not an integer",
                         "startTimeUnixNano out of range")) {
          return reason;
        }
        has_start = true;
      } else if (key == "endTimeUnixNano") {
        if (const char* reason =
                ReadTime(value, s.end_unix_nano, "endTimeUnixNano is not an integer",
                         "endTimeUnixNano out of range")) {
          return reason;
        }
        has_end = true;
      } else if (key == "status") {
        if (value.type() == element_type::NULL_VALUE) continue;
        object status;
        if (value.get_object().get(status) != SUCCESS) return "status is not an object";
        element code_value;
        if (status.at_key("code").get(code_value) == SUCCESS) {
          int64_t code = 0;
          if (!ReadEnum(code_value, kStatusNames, code)) return "status.code is not an enum";
          s.error = code == 2;
        }
      }
    }
    if (trace_id.empty()) return "missing traceId";
    const auto trace = ParseTraceId(trace_id);
    if (!trace) return "unreadable traceId";
    if (trace->IsZero()) return "zero traceId";
    s.trace_id = *trace;
    if (span_id.empty()) return "missing spanId";
    const auto id = ParseSpanId(span_id);
    if (!id) return "unreadable spanId";
    if (*id == 0) return "zero spanId";
    s.span_id = *id;
    if (!parent_id.empty()) {
      const auto parent = ParseSpanId(parent_id);
      if (!parent) return "unreadable parentSpanId";
      s.parent_span_id = *parent;
    }
    // proto3 cannot tell 0 from absent, so zero times count as missing.
    if (!has_start || s.start_unix_nano == 0) return "missing startTimeUnixNano";
    if (!has_end || s.end_unix_nano == 0) return "missing endTimeUnixNano";
    return nullptr;
  }

  internal::PendingSpans pending_;
};

ParseResult Parse(std::string_view json, bool padded, SpanBatch& out) {
  element root;
  if (const char* error = internal::ParseJsonDocument(json, padded, root)) {
    ParseResult result;
    result.error = "otlp json: " + std::string(error);
    return result;
  }
  ParseResult result = OtlpJsonReader(out).Read(root);
  internal::TrimJsonParser();
  return result;
}

}  // namespace

ParseResult ParseOtlpJson(std::string_view json, SpanBatch& out) { return Parse(json, false, out); }

ParseResult ParseOtlpJson(PaddedJson json, SpanBatch& out) { return Parse(json.json, true, out); }

}  // namespace exporter::spans
