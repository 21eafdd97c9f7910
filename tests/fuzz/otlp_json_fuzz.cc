// OTLP/JSON bodies (the receiver) and Jaeger api_v3 answers (the poller), which share a reader.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/spans/otlp_json.h"
#include "tests/fuzz/span_checks.h"

namespace spans = exporter::spans;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  spans::fuzz::CheckJsonPayload(spans::SpanFormat::kOtlpJson,
                                std::string_view(reinterpret_cast<const char*>(data), size),
                                [](spans::PaddedJson padded, spans::SpanBatch& out) {
                                  return spans::ParseOtlpJson(padded, out);
                                });
  return 0;
}
