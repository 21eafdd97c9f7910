#include "exporter/spans/formats.h"

#include <simdjson.h>

#include <charconv>
#include <cstring>
#include <memory>
#include <string>

#include "exporter/spans/jaeger_json.h"
#include "exporter/spans/otlp_json.h"
#include "exporter/spans/otlp_proto.h"

namespace exporter::spans {

std::optional<SpanFormat> SpanFormatFromName(std::string_view name) {
  if (name == "jaeger") return SpanFormat::kJaegerJson;
  if (name == "otlp-json") return SpanFormat::kOtlpJson;
  if (name == "otlp-proto") return SpanFormat::kOtlpProto;
  return std::nullopt;
}

std::string_view SpanFormatName(SpanFormat format) {
  switch (format) {
    case SpanFormat::kJaegerJson:
      return "jaeger";
    case SpanFormat::kOtlpJson:
      return "otlp-json";
    case SpanFormat::kOtlpProto:
      return "otlp-proto";
  }
  return "unknown";
}

ParseResult ParseSpans(SpanFormat format, std::string_view payload, SpanBatch& out) {
  switch (format) {
    case SpanFormat::kJaegerJson:
      return ParseJaegerJson(payload, out);
    case SpanFormat::kOtlpJson:
      return ParseOtlpJson(payload, out);
    case SpanFormat::kOtlpProto:
      return ParseOtlpProto(payload, out);
  }
  ParseResult result;
  result.error = "unknown span format";
  return result;
}

namespace {

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::optional<SpanFormat> FormatForKey(std::string_view key) {
  if (key == "resourceSpans" || key == "result") return SpanFormat::kOtlpJson;
  if (key == "data" || key == "traceID" || key == "spans" || key == "processes") {
    return SpanFormat::kJaegerJson;
  }
  return std::nullopt;
}

}  // namespace

static_assert(kJsonPadding >= simdjson::SIMDJSON_PADDING);

std::optional<PaddedJson> AsPaddedJson(const std::string& s) {
  if (s.capacity() - s.size() < kJsonPadding) return std::nullopt;
  return PaddedJson{s};
}

std::optional<SpanFormat> DetectJsonFormat(std::string_view json) {
  // A replay file may be huge; a recognisable key is always near the top.
  constexpr size_t kScanLimit = 1 << 20;
  if (json.size() > kScanLimit) json = json.substr(0, kScanLimit);
  if (json.substr(0, 3) == "\xEF\xBB\xBF") json.remove_prefix(3);
  size_t i = 0;
  while (i < json.size() && IsJsonSpace(json[i])) ++i;
  if (i == json.size()) return std::nullopt;
  if (json[i] == '[') return SpanFormat::kJaegerJson;
  if (json[i] != '{') return std::nullopt;
  // Walk the top-level object; a string at depth 1 followed by ':' is a key.
  int depth = 0;
  for (; i < json.size(); ++i) {
    const char c = json[i];
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      if (--depth == 0) return std::nullopt;
    } else if (c == '"') {
      const size_t begin = ++i;
      while (i < json.size() && json[i] != '"') i += json[i] == '\\' ? 2 : 1;
      if (i >= json.size()) return std::nullopt;
      const std::string_view token = json.substr(begin, i - begin);
      if (depth != 1) continue;
      size_t j = i + 1;
      while (j < json.size() && IsJsonSpace(json[j])) ++j;
      if (j < json.size() && json[j] == ':') {
        if (auto format = FormatForKey(token)) return format;
      }
    }
  }
  return std::nullopt;
}

namespace internal {

void ResourceFields::Offer(std::string_view key, std::string_view value) {
  if (key == "service.name") {
    service = value;
  } else if (key == "k8s.pod.name") {
    pod = value;
  } else if (key == "host.name") {
    host_name = value;
  } else if (key == "hostname") {
    hostname = value;
  } else if (key == "service.instance.id") {
    instance_id = value;
  } else if (key == "k8s.namespace.name") {
    k8s_namespace = value;
  }
}

std::string_view ResourceFields::Instance() const {
  if (!pod.empty()) return pod;
  if (!host_name.empty()) return host_name;
  if (!hostname.empty()) return hostname;
  return instance_id;
}

namespace {

struct PendingResource {
  std::string_view service;
  std::string_view instance;
  std::string_view k8s_namespace;
  bool stored = false;
};

// Per-thread scratch of PendingSpans, kept so that steady-state parsing does not allocate.
struct PendingScratch {
  std::vector<PendingResource> resources;
  std::vector<uint32_t> resource_of;  // per accepted span of the current call
};

thread_local PendingScratch pending_scratch;

constexpr std::string_view kUnknownService = "unknown_service";

}  // namespace

PendingSpans::PendingSpans(SpanBatch& out) : out_(out), first_(out.size()) {
  pending_scratch.resources.clear();
  pending_scratch.resource_of.clear();
}

uint32_t PendingSpans::AddResource(const ResourceFields& resource) {
  auto& resources = pending_scratch.resources;
  resources.push_back(PendingResource{
      resource.service.empty() ? kUnknownService : resource.service,
      resource.Instance(),
      resource.k8s_namespace,
  });
  return static_cast<uint32_t>(resources.size() - 1);
}

void PendingSpans::Accept(uint32_t resource) { pending_scratch.resource_of.push_back(resource); }

void PendingSpans::Reject(const char* reason) {
  out_.PopBack();
  if (result_.rejected_spans++ == 0) result_.rejection = reason;
}

ParseResult PendingSpans::Finish() {
  auto& resources = pending_scratch.resources;
  const auto& resource_of = pending_scratch.resource_of;
  std::vector<Span>& spans = out_.mutable_spans();
  // Consecutive resources often repeat (a process per span in Jaeger arrays, one batch per pod),
  // so the last stored copy is reused when the text matches.
  const PendingResource* last = nullptr;
  for (size_t i = first_; i < spans.size(); ++i) {
    PendingResource& r = resources[resource_of[i - first_]];
    if (!r.stored) {
      if (last != nullptr && last->service == r.service && last->instance == r.instance &&
          last->k8s_namespace == r.k8s_namespace) {
        r.service = last->service;
        r.instance = last->instance;
        r.k8s_namespace = last->k8s_namespace;
      } else {
        if (r.service.data() != kUnknownService.data()) r.service = out_.Store(r.service);
        r.instance = out_.Store(r.instance);
        r.k8s_namespace = out_.Store(r.k8s_namespace);
      }
      r.stored = true;
    }
    last = &r;
    Span& span = spans[i];
    span.service = r.service;
    span.instance = r.instance;
    span.k8s_namespace = r.k8s_namespace;
    span.operation = out_.Store(span.operation);
  }
  result_.accepted_spans = spans.size() - first_;
  return std::move(result_);
}

ParseResult PendingSpans::Fail(std::string error) {
  out_.mutable_spans().resize(first_);
  ParseResult result;
  result.error = std::move(error);
  return result;
}

namespace {

// Jaeger and OTLP documents nest about 8 levels; attribute values may add a few more.
constexpr size_t kMaxJsonDepth = 64;
constexpr size_t kMaxJsonBytes = size_t{256} << 20;
// Buffers grown past this by a rare huge document are given back after it.
constexpr size_t kKeepJsonBytes = size_t{32} << 20;

struct JsonScratch {
  JsonScratch() : parser(kMaxJsonBytes) {}
  simdjson::dom::parser parser;
  bool allocated = false;
  std::unique_ptr<char[]> padded;
  size_t padded_capacity = 0;
};

thread_local JsonScratch json_scratch;

}  // namespace

const char* ParseJsonDocument(std::string_view json, bool padded, simdjson::dom::element& root) {
  JsonScratch& s = json_scratch;
  if (json.size() > kMaxJsonBytes) return "document larger than 256 MiB";
  if (!s.allocated) {
    // Sets the depth limit; later growth keeps it.
    if (s.parser.allocate(64 * 1024, kMaxJsonDepth) != simdjson::SUCCESS) {
      return "cannot allocate the JSON parser";
    }
    s.allocated = true;
  }
  if (padded) {
    const simdjson::error_code error = s.parser.parse(json.data(), json.size(), false).get(root);
    return error == simdjson::SUCCESS ? nullptr : simdjson::error_message(error);
  }
  const size_t needed = json.size() + simdjson::SIMDJSON_PADDING;
  if (s.padded_capacity < needed) {
    s.padded_capacity = needed < 64 * 1024 ? 64 * 1024 : needed + needed / 2;
    s.padded = std::make_unique<char[]>(s.padded_capacity);
  }
  if (!json.empty()) std::memcpy(s.padded.get(), json.data(), json.size());
  std::memset(s.padded.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);
  const simdjson::error_code error = s.parser.parse(s.padded.get(), json.size(), false).get(root);
  return error == simdjson::SUCCESS ? nullptr : simdjson::error_message(error);
}

IntStatus ReadJsonInt64(const simdjson::dom::element& value, int64_t& out) {
  switch (value.type()) {
    case simdjson::dom::element_type::INT64:
      return value.get_int64().get(out) == simdjson::SUCCESS ? IntStatus::kOk
                                                             : IntStatus::kWrongType;
    case simdjson::dom::element_type::UINT64:
      return IntStatus::kOutOfRange;  // only values past INT64_MAX are typed UINT64
    case simdjson::dom::element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS || text.empty()) {
        return IntStatus::kWrongType;
      }
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
      if (ec == std::errc::result_out_of_range) return IntStatus::kOutOfRange;
      if (ec != std::errc() || end != text.data() + text.size()) return IntStatus::kWrongType;
      return IntStatus::kOk;
    }
    default:
      return IntStatus::kWrongType;
  }
}

void TrimJsonParser() {
  JsonScratch& s = json_scratch;
  if (s.padded_capacity > kKeepJsonBytes) {
    s.padded.reset();
    s.padded_capacity = 0;
  }
  if (s.parser.capacity() > kKeepJsonBytes) {
    s.parser = simdjson::dom::parser(kMaxJsonBytes);
    s.allocated = false;
  }
}

}  // namespace internal
}  // namespace exporter::spans
