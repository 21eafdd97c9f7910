#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/spans/formats.h"
#include "exporter/spans/otlp_json.h"
#include "exporter/spans/otlp_proto.h"
#include "exporter/spans/otlp_proto_writer.h"
#include "exporter/spans/span.h"
#include "exporter/spans/validate.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/span_batch.h"

namespace exporter::spans::fuzz {

// What every span reader promises about its result: a readable payload appends exactly the
// accepted spans, each with ids, times and a service; an unreadable one appends nothing.
inline void CheckParseResult(const ParseResult& result, const SpanBatch& batch, size_t before) {
  if (!result.ok()) {
    QL_FUZZ_CHECK(batch.size() == before);
    return;
  }
  QL_FUZZ_CHECK(batch.size() == before + result.accepted_spans);
  QL_FUZZ_CHECK((result.rejected_spans == 0) == result.rejection.empty());
  for (size_t i = before; i < batch.size(); ++i) {
    const Span& s = batch.spans()[i];
    QL_FUZZ_CHECK(!s.trace_id.IsZero());
    QL_FUZZ_CHECK(s.span_id != 0);
    QL_FUZZ_CHECK(s.start_unix_nano > 0);
    QL_FUZZ_CHECK(!s.service.empty());
    QL_FUZZ_CHECK(static_cast<int>(s.kind) <= static_cast<int>(SpanKind::kConsumer));
  }
}

// The validation every source applies next, as replay does (no age limit): what is left spans
// forward in time, within the duration limit, with clean label values.
inline void ValidateAndCheck(SpanBatch& batch) {
  const SpanLimits limits;
  const size_t before = batch.size();
  const ValidationCounts counts = ValidateSpans(batch, limits, std::nullopt);
  QL_FUZZ_CHECK(batch.size() + counts.TotalDropped() == before);
  std::string scratch;
  for (const Span& s : batch.spans()) {
    QL_FUZZ_CHECK(s.end_unix_nano >= s.start_unix_nano);
    QL_FUZZ_CHECK(s.end_unix_nano - s.start_unix_nano <= limits.max_duration_nano);
    for (const std::string_view v : {s.service, s.operation, s.instance, s.k8s_namespace}) {
      LabelFixes fixes = 0;
      QL_FUZZ_CHECK(SanitizeLabel(v, limits.max_label_bytes, scratch, fixes) == v && fixes == 0);
    }
  }
}

inline bool SameSpan(const Span& a, const Span& b) {
  return a.trace_id == b.trace_id && a.span_id == b.span_id &&
         a.parent_span_id == b.parent_span_id && a.start_unix_nano == b.start_unix_nano &&
         a.end_unix_nano == b.end_unix_nano && a.service == b.service &&
         a.operation == b.operation && a.instance == b.instance &&
         a.k8s_namespace == b.k8s_namespace && a.kind == b.kind && a.error == b.error;
}

// The spans as an OTLP request: one resource per span, carrying its service, its instance as
// k8s.pod.name and its namespace.
inline std::vector<OtlpResourceSpans> ToOtlp(const std::vector<Span>& spans) {
  std::vector<OtlpResourceSpans> resources;
  for (const Span& s : spans) {
    OtlpResourceSpans& r = resources.emplace_back();
    r.resource.push_back({"service.name", std::string(s.service)});
    if (!s.instance.empty()) r.resource.push_back({"k8s.pod.name", std::string(s.instance)});
    if (!s.k8s_namespace.empty()) {
      r.resource.push_back({"k8s.namespace.name", std::string(s.k8s_namespace)});
    }
    OtlpSpan& o = r.spans.emplace_back();
    o.trace_id = s.trace_id;
    o.span_id = s.span_id;
    o.parent_span_id = s.parent_span_id;
    o.name = std::string(s.operation);
    o.kind = s.kind;
    o.start_unix_nano = s.start_unix_nano;
    o.end_unix_nano = s.end_unix_nano;
    o.status = s.error ? OtlpStatusCode::kError : OtlpStatusCode::kUnset;
  }
  return resources;
}

// Every span a reader accepts survives being written as OTLP protobuf and OTLP/JSON and read
// back unchanged, with nothing rejected.
inline void CheckOtlpRoundTrip(const SpanBatch& batch) {
  if (batch.empty()) return;
  const std::vector<OtlpResourceSpans> resources = ToOtlp(batch.spans());
  for (const bool json : {false, true}) {
    SpanBatch again;
    const ParseResult r = json ? ParseOtlpJson(std::string_view(ToOtlpJson(resources)), again)
                               : ParseOtlpProto(ToOtlpProto(resources), again);
    if (!r.ok()) std::fprintf(stderr, "round trip: %s\n", r.error.c_str());
    QL_FUZZ_CHECK(r.ok());
    QL_FUZZ_CHECK(r.rejected_spans == 0);
    QL_FUZZ_CHECK(again.size() == batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      QL_FUZZ_CHECK(SameSpan(batch.spans()[i], again.spans()[i]));
    }
  }
}

// The whole check of a JSON span target: `format` through ParseSpans as the sources call it,
// the same bytes through `parse_in_place` from a padded buffer (the same spans must come out),
// then validation and the OTLP round trip.
template <typename ParseInPlace>
void CheckJsonPayload(SpanFormat format, std::string_view payload, ParseInPlace parse_in_place) {
  SpanBatch& batch = FreshBatch();
  const ParseResult result = ParseSpans(format, payload, batch);
  CheckParseResult(result, batch, 1);

  std::string buffer;
  SpanBatch in_place;
  const ParseResult padded = parse_in_place(Padded(payload, buffer), in_place);
  QL_FUZZ_CHECK(padded.error == result.error);
  QL_FUZZ_CHECK(in_place.size() + 1 == batch.size());
  for (size_t i = 0; i < in_place.size(); ++i) {
    QL_FUZZ_CHECK(SameSpan(in_place.spans()[i], batch.spans()[i + 1]));
  }
  (void)DetectJsonFormat(payload);

  ValidateAndCheck(batch);
  CheckOtlpRoundTrip(batch);
}

}  // namespace exporter::spans::fuzz
