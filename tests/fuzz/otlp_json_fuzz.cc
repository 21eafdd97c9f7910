// OTLP/JSON bodies (the receiver) and Jaeger api_v3 answers (the poller), which share a reader.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "exporter/spans/formats.h"
#include "exporter/spans/otlp_json.h"
#include "tests/fuzz/span_batch.h"
#include "tests/fuzz/span_checks.h"

namespace spans = exporter::spans;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  spans::SpanBatch& batch = spans::fuzz::FreshBatch();
  const spans::ParseResult result = spans::ParseSpans(spans::SpanFormat::kOtlpJson, payload, batch);
  spans::fuzz::CheckParseResult(result, batch, 1);

  // Parsing in place from a padded buffer reads the same spans.
  std::string buffer;
  spans::SpanBatch in_place;
  const spans::ParseResult padded =
      spans::ParseOtlpJson(spans::fuzz::Padded(payload, buffer), in_place);
  QL_FUZZ_CHECK(padded.error == result.error);
  QL_FUZZ_CHECK(in_place.size() + 1 == batch.size());
  for (size_t i = 0; i < in_place.size(); ++i) {
    QL_FUZZ_CHECK(spans::fuzz::SameSpan(in_place.spans()[i], batch.spans()[i + 1]));
  }
  (void)spans::DetectJsonFormat(payload);

  spans::fuzz::ValidateAndCheck(batch);
  spans::fuzz::CheckOtlpRoundTrip(batch);
  return 0;
}
