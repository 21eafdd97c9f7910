#include "exporter/spans/jaeger_json.h"

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "exporter/spans/formats.h"
#include "exporter/spans/ids.h"

namespace exporter::spans {
namespace {

using simdjson::SUCCESS;
using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

constexpr int64_t kMaxMicros = std::numeric_limits<int64_t>::max() / 1000;

SpanKind KindFromTag(std::string_view value) {
  if (value == "server") return SpanKind::kServer;
  if (value == "client") return SpanKind::kClient;
  if (value == "producer") return SpanKind::kProducer;
  if (value == "consumer") return SpanKind::kConsumer;
  if (value == "internal") return SpanKind::kInternal;
  return SpanKind::kUnspecified;
}

// Tags are {"key","type","value"}; malformed entries carry nothing we use and are skipped.
template <typename Visit>
void ForEachTag(array tags, Visit&& visit) {
  for (element tag : tags) {
    object fields;
    if (tag.get_object().get(fields) != SUCCESS) continue;
    std::string_view key;
    element value;
    bool has_value = false;
    for (simdjson::dom::key_value_pair field : fields) {
      if (field.key == "key") {
        if (field.value.get_string().get(key) != SUCCESS) key = {};
      } else if (field.key == "value") {
        value = field.value;
        has_value = true;
      }
    }
    if (!key.empty() && has_value) visit(key, value);
  }
}

struct Process {
  std::string_view id;  // key in the trace's processes table
  uint32_t resource = 0;
  bool has_service = false;
};

class JaegerReader {
 public:
  explicit JaegerReader(SpanBatch& out) : pending_(out) { processes_.clear(); }

  ParseResult Read(element root) {
    array spans;
    if (root.get_array().get(spans) == SUCCESS) {
      if (const char* error = ReadSpans(spans)) return Fail(error);
      return pending_.Finish();
    }
    object doc;
    if (root.get_object().get(doc) != SUCCESS) {
      return Fail("top level is neither an object nor an array");
    }
    element data;
    if (doc.at_key("data").get(data) == SUCCESS) return ReadEnvelope(doc, data);
    if (doc.at_key("spans").error() == SUCCESS) {
      if (const char* error = ReadTrace(doc)) return Fail(error);
      return pending_.Finish();
    }
    return Fail("object has neither \"data\" nor \"spans\"");
  }

 private:
  ParseResult Fail(std::string_view error) {
    return pending_.Fail("jaeger json: " + std::string(error));
  }

  ParseResult ReadEnvelope(object doc, element data) {
    if (data.type() == element_type::NULL_VALUE) return ReadErrors(doc);
    array traces;
    if (data.get_array().get(traces) != SUCCESS) return Fail("\"data\" is not an array");
    if (traces.size() == 0) return ReadErrors(doc);
    for (element trace : traces) {
      object fields;
      if (trace.get_object().get(fields) != SUCCESS) return Fail("\"data\" holds a non-object");
      if (const char* error = ReadTrace(fields)) return Fail(error);
    }
    return pending_.Finish();
  }

  // An envelope without data may carry the query's failure, e.g. trace not found.
  ParseResult ReadErrors(object doc) {
    array errors;
    if (doc.at_key("errors").get_array().get(errors) == SUCCESS && errors.size() > 0) {
      std::string_view message;
      if (errors.at(0).at_key("msg").get_string().get(message) != SUCCESS) message = "no message";
      return Fail("query failed: " + std::string(message));
    }
    return pending_.Finish();
  }

  const char* ReadTrace(object trace) {
    processes_.clear();
    element processes;
    if (trace.at_key("processes").get(processes) == SUCCESS &&
        processes.type() != element_type::NULL_VALUE) {
      object table;
      if (processes.get_object().get(table) != SUCCESS) return "\"processes\" is not an object";
      for (simdjson::dom::key_value_pair entry : table) {
        object process;
        if (entry.value.get_object().get(process) != SUCCESS) return "a process is not an object";
        Process p;
        p.id = entry.key;
        p.has_service = ReadProcess(process, p.resource);
        processes_.push_back(p);
      }
    }
    element spans;
    if (trace.at_key("spans").get(spans) != SUCCESS || spans.type() == element_type::NULL_VALUE) {
      return nullptr;
    }
    array list;
    if (spans.get_array().get(list) != SUCCESS) return "\"spans\" is not an array";
    return ReadSpans(list);
  }

  const char* ReadSpans(array spans) {
    for (element value : spans) {
      object span;
      if (value.get_object().get(span) != SUCCESS) return "a span is not an object";
      Span& s = pending_.Begin();
      uint32_t resource = 0;
      if (const char* reason = ReadSpan(span, s, resource)) {
        pending_.Reject(reason);
      } else {
        pending_.Accept(resource);
      }
    }
    return nullptr;
  }

  // Adds the process as a resource; false when it has no service name.
  bool ReadProcess(object process, uint32_t& resource) {
    internal::ResourceFields fields;
    std::string_view service;
    for (simdjson::dom::key_value_pair field : process) {
      if (field.key == "serviceName") {
        if (field.value.get_string().get(service) != SUCCESS) service = {};
      } else if (field.key == "tags") {
        array tags;
        if (field.value.get_array().get(tags) != SUCCESS) continue;
        ForEachTag(tags, [&](std::string_view key, element value) {
          std::string_view text;
          if (value.get_string().get(text) == SUCCESS) fields.Offer(key, text);
        });
      }
    }
    // serviceName is authoritative; a service.name tag does not override it.
    fields.service = service;
    resource = pending_.AddResource(fields);
    return !service.empty();
  }

  // Fills `s` and the resource it belongs to; returns the reason when the span is unusable.
  const char* ReadSpan(object span, Span& s, uint32_t& resource) {
    std::string_view trace_id, span_id, parent_id, process_id;
    array references;
    object process;
    bool has_references = false, has_process = false, has_start = false, has_duration = false;
    int64_t start_us = 0, duration_us = 0;
    for (simdjson::dom::key_value_pair field : span) {
      const std::string_view key = field.key;
      const element value = field.value;
      if (key == "traceID") {
        if (value.get_string().get(trace_id) != SUCCESS) return "traceID is not a string";
      } else if (key == "spanID") {
        if (value.get_string().get(span_id) != SUCCESS) return "spanID is not a string";
      } else if (key == "operationName") {
        if (value.get_string().get(s.operation) != SUCCESS) return "operationName is not a string";
      } else if (key == "references") {
        if (value.type() == element_type::NULL_VALUE) continue;
        if (value.get_array().get(references) != SUCCESS) return "references is not an array";
        has_references = true;
      } else if (key == "startTime") {
        const auto status = internal::ReadJsonInt64(value, start_us);
        if (status == internal::IntStatus::kWrongType) return "startTime is not an integer";
        if (status != internal::IntStatus::kOk || start_us < 0 || start_us > kMaxMicros) {
          return "startTime out of range";
        }
        has_start = true;
      } else if (key == "duration") {
        const auto status = internal::ReadJsonInt64(value, duration_us);
        if (status == internal::IntStatus::kWrongType) return "duration is not an integer";
        if (status != internal::IntStatus::kOk) return "duration out of range";
        has_duration = true;
      } else if (key == "tags") {
        if (value.type() == element_type::NULL_VALUE) continue;
        array tags;
        if (value.get_array().get(tags) != SUCCESS) return "tags is not an array";
        ReadSpanTags(tags, s);
      } else if (key == "processID") {
        if (value.get_string().get(process_id) != SUCCESS) return "processID is not a string";
      } else if (key == "process") {
        if (value.get_object().get(process) != SUCCESS) return "process is not an object";
        has_process = true;
      } else if (key == "parentSpanID") {
        if (value.get_string().get(parent_id) != SUCCESS) return "parentSpanID is not a string";
      }
    }

    if (trace_id.empty()) return "missing traceID";
    const auto trace = CachedTraceId(trace_id);
    if (!trace) return "unreadable traceID";
    if (trace->IsZero()) return "zero traceID";
    s.trace_id = *trace;
    if (span_id.empty()) return "missing spanID";
    const auto id = ParseSpanId(span_id);
    if (!id) return "unreadable spanID";
    if (*id == 0) return "zero spanID";
    s.span_id = *id;
    if (!has_start || start_us == 0) return "missing startTime";
    if (!has_duration) return "missing duration";
    // A negative duration is kept for the validation step to count (spans/validate.h).
    if (duration_us > kMaxMicros - start_us || duration_us < -start_us) {
      return "duration out of range";
    }
    s.start_unix_nano = start_us * 1000;
    s.end_unix_nano = (start_us + duration_us) * 1000;

    if (has_references) {
      if (const char* reason = ReadReferences(references, s)) return reason;
    }
    if (s.parent_span_id == 0 && !parent_id.empty()) {
      const auto parent = ParseSpanId(parent_id);
      if (!parent) return "unreadable parentSpanID";
      s.parent_span_id = *parent;
    }

    if (!process_id.empty()) {
      for (const Process& p : processes_) {
        if (p.id == process_id) {
          if (!p.has_service) return "process has no serviceName";
          resource = p.resource;
          return nullptr;
        }
      }
      if (!has_process) return "processID not in processes";
    }
    if (!has_process) return "missing process";
    if (!ReadProcess(process, resource)) return "process has no serviceName";
    return nullptr;
  }

  static void ReadSpanTags(array tags, Span& s) {
    std::string_view sampler_type;
    double sampler_param = 0;
    ForEachTag(tags, [&](std::string_view key, element value) {
      if (key.starts_with("sampler.")) {
        ReadSamplerTag(key, value, sampler_type, sampler_param);
        return;
      }
      if (key == "span.kind") {
        std::string_view kind;
        if (value.get_string().get(kind) == SUCCESS) s.kind = KindFromTag(kind);
      } else if (key == "error") {
        bool flag = false;
        std::string_view text;
        if (value.get_bool().get(flag) == SUCCESS) {
          s.error = flag;
        } else if (value.get_string().get(text) == SUCCESS) {
          s.error = text == "true";
        }
      }
    });
    s.SetSampling(ParseJaegerSampler(sampler_type, sampler_param));
  }

  // Jaeger clients tag the root span with sampler.type and sampler.param (a number, or a string
  // from clients that stringify tags).
  static void ReadSamplerTag(std::string_view key, element value, std::string_view& type,
                             double& param) {
    std::string_view text;
    if (key == "sampler.type") {
      if (value.get_string().get(text) == SUCCESS) type = text;
    } else if (key == "sampler.param") {
      double number = 0;
      if (value.get_double().get(number) == SUCCESS) {
        param = number;
      } else if (value.get_string().get(text) == SUCCESS) {
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
        param = ec == std::errc{} && end == text.data() + text.size() ? number : 0;
      }
    }
  }

  // Spans of a trace, and their references, repeat one trace id; reading it once per trace
  // instead of twice per span is a measurable share of the parse.
  std::optional<TraceId> CachedTraceId(std::string_view text) {
    if (text != last_trace_text_) {
      last_trace_ = ParseTraceId(text);
      last_trace_text_ = text;
    }
    return last_trace_;
  }

  // Sets the parent from the first CHILD_OF reference within the span's trace, else the first
  // reference of any type within it; references to other traces are links, not parents.
  const char* ReadReferences(array references, Span& s) {
    uint64_t first_any = 0;
    for (element value : references) {
      object ref;
      if (value.get_object().get(ref) != SUCCESS) return "a reference is not an object";
      std::string_view type, trace_text, span_text;
      for (simdjson::dom::key_value_pair field : ref) {
        std::string_view* target = field.key == "refType"   ? &type
                                   : field.key == "traceID" ? &trace_text
                                   : field.key == "spanID"  ? &span_text
                                                            : nullptr;
        if (target != nullptr && field.value.get_string().get(*target) != SUCCESS) {
          return "a reference field is not a string";
        }
      }
      const auto trace = CachedTraceId(trace_text);
      const auto span = ParseSpanId(span_text);
      if (!trace || !span) return "unreadable reference id";
      if (!(*trace == s.trace_id) || *span == 0) continue;
      if (type == "CHILD_OF") {
        s.parent_span_id = *span;
        return nullptr;
      }
      if (first_any == 0) first_any = *span;
    }
    s.parent_span_id = first_any;
    return nullptr;
  }

  internal::PendingSpans pending_;
  std::string_view last_trace_text_;
  std::optional<TraceId> last_trace_;
  // The current trace's processes table; a trace holds a handful, so a scan beats a map.
  static thread_local std::vector<Process> processes_;
};

thread_local std::vector<Process> JaegerReader::processes_;

ParseResult Parse(std::string_view json, bool padded, SpanBatch& out) {
  element root;
  if (const char* error = internal::ParseJsonDocument(json, padded, root)) {
    ParseResult result;
    result.error = "jaeger json: " + std::string(error);
    return result;
  }
  ParseResult result = JaegerReader(out).Read(root);
  internal::TrimJsonParser();
  return result;
}

}  // namespace

ParseResult ParseJaegerJson(std::string_view json, SpanBatch& out) {
  return Parse(json, false, out);
}

ParseResult ParseJaegerJson(PaddedJson json, SpanBatch& out) { return Parse(json.json, true, out); }

}  // namespace exporter::spans
