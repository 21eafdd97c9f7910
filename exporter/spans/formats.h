#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "exporter/spans/span.h"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace exporter::spans {

enum class SpanFormat { kJaegerJson, kOtlpJson, kOtlpProto };

// simdjson may read up to kJsonPadding bytes past the end of a JSON payload. The JSON readers
// copy a plain string_view into a per-thread padded buffer first; a caller that owns the buffer
// can reserve the padding and pass a PaddedJson to skip that copy (~7 % of a Jaeger parse).
inline constexpr size_t kJsonPadding = 64;
struct PaddedJson {
  std::string_view json;  // the kJsonPadding bytes after json's end must be readable
};

// The string as a PaddedJson if its spare capacity holds the padding, else nullopt.
std::optional<PaddedJson> AsPaddedJson(const std::string& s);

// "jaeger", "otlp-json", "otlp-proto": the names flags and file suffixes use.
std::optional<SpanFormat> SpanFormatFromName(std::string_view name);
std::string_view SpanFormatName(SpanFormat format);

// Appends the spans of one payload to `out`; see ParseResult for the error contract.
ParseResult ParseSpans(SpanFormat format, std::string_view payload, SpanBatch& out);

// Tells a Jaeger document (`{"data":…}`, a trace object, or an array of spans) from OTLP JSON
// (`{"resourceSpans":…}` or api_v3's `{"result":…}`) by the first known key at the top level,
// without parsing the whole file. nullopt when neither shape is recognised.
std::optional<SpanFormat> DetectJsonFormat(std::string_view json);

// Plumbing shared by the span readers.
namespace internal {

// The resource (OTLP) or process (Jaeger) attributes the span model keeps.
struct ResourceFields {
  std::string_view service;
  std::string_view pod;          // k8s.pod.name
  std::string_view host_name;    // host.name
  std::string_view hostname;     // Jaeger client tag
  std::string_view instance_id;  // service.instance.id
  std::string_view k8s_namespace;

  // Keeps `value` if `key` is one of the attributes above (service.name included).
  void Offer(std::string_view key, std::string_view value);
  std::string_view Instance() const;
};

// Spans are appended to the batch while a payload is read, with strings still pointing into the
// input or the JSON parser. Finish() copies the strings into the batch's arena (resource strings
// once per resource), Fail() drops every span of the call, so a payload found unreadable half-way
// leaves the batch as it was. One per thread at a time; its buffers are reused across calls.
class PendingSpans {
 public:
  explicit PendingSpans(SpanBatch& out);
  PendingSpans(const PendingSpans&) = delete;
  PendingSpans& operator=(const PendingSpans&) = delete;

  // Returns the resource's index for Accept(). An empty service becomes "unknown_service".
  uint32_t AddResource(const ResourceFields& resource);

  // Starts a span; end it with Accept() or Reject(), or Fail() the whole call.
  Span& Begin() { return out_.Add(); }
  void Accept(uint32_t resource);
  void Reject(const char* reason);

  ParseResult Finish();
  ParseResult Fail(std::string error);

 private:
  SpanBatch& out_;
  size_t first_;  // index in out_ of the first span of this call
  ParseResult result_;
};

// Parses `json` with the calling thread's simdjson parser (bounded depth), in place when it is
// `padded`, else from a padded copy. `root` stays valid until the next call on this thread.
// Returns nullptr or the error text.
const char* ParseJsonDocument(std::string_view json, bool padded, simdjson::dom::element& root);

// Reads a JSON integer, or the decimal string that proto3 JSON and Jaeger use for 64-bit values.
enum class IntStatus { kOk, kWrongType, kOutOfRange };
IntStatus ReadJsonInt64(const simdjson::dom::element& value, int64_t& out);

// Frees the thread's parser buffers if one huge document grew them past what is worth keeping.
void TrimJsonParser();

}  // namespace internal
}  // namespace exporter::spans
