// Jaeger v1 query-API answers as the poller and replay parse them.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/spans/jaeger_json.h"
#include "tests/fuzz/span_checks.h"

namespace spans = exporter::spans;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  spans::fuzz::CheckJsonPayload(spans::SpanFormat::kJaegerJson,
                                std::string_view(reinterpret_cast<const char*>(data), size),
                                [](spans::PaddedJson padded, spans::SpanBatch& out) {
                                  return spans::ParseJaegerJson(padded, out);
                                });
  return 0;
}
