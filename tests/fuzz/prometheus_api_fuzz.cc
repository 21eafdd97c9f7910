// Prometheus HTTP API answers to the recommender's instant queries (GET /api/v1/query).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "recommender/input/prometheus_client.h"
#include "tests/fuzz/fuzz_check.h"

namespace input = recommender::input;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  // 200, and the statuses Prometheus sends its error objects with.
  for (const int status : {200, 400, 422, 503}) {
    const input::QueryResult r = input::ParseQueryResponse(body, status);
    QL_FUZZ_CHECK(r.http_status == status);
    QL_FUZZ_CHECK(r.ok == r.error.empty());
    if (!r.ok) {
      QL_FUZZ_CHECK(r.samples.empty());
      continue;
    }
    QL_FUZZ_CHECK(status == 200);
    QL_FUZZ_CHECK(r.result_type == "vector" || r.result_type == "scalar");
    if (r.result_type == "scalar") {
      QL_FUZZ_CHECK(r.samples.size() == 1 && r.samples[0].labels.empty());
    }
  }
  return 0;
}
