// OTLP/HTTP protobuf bodies as the receiver parses them (after gunzip).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/spans/formats.h"
#include "tests/fuzz/span_batch.h"
#include "tests/fuzz/span_checks.h"

namespace spans = exporter::spans;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  spans::SpanBatch& batch = spans::fuzz::FreshBatch();
  const spans::ParseResult result =
      spans::ParseSpans(spans::SpanFormat::kOtlpProto, payload, batch);
  spans::fuzz::CheckParseResult(result, batch, 1);
  spans::fuzz::ValidateAndCheck(batch);
  spans::fuzz::CheckOtlpRoundTrip(batch);
  return 0;
}
