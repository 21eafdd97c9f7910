#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"

namespace recommender::input {

// One element of an instant-query answer. A scalar answer is one sample with no labels.
struct QuerySample {
  std::map<std::string, std::string> labels;
  double value = 0;
  common::TimePoint at{};
};

struct QueryResult {
  bool ok = false;
  int http_status = 0;      // 0 when no answer arrived (connection refused, timeout)
  std::string error;        // transport, HTTP or Prometheus error, with context; empty when ok
  std::string error_type;   // Prometheus' errorType (bad_data, timeout, ...) when it sent one
  std::string result_type;  // vector, scalar (others are refused as errors)
  std::vector<QuerySample> samples;
  std::vector<std::string> warnings;
};

// Pure: reads a /api/v1/query answer (status 200, or Prometheus' 400/422/503 error objects).
QueryResult ParseQueryResponse(std::string_view body, int http_status);

// Instant queries against the Prometheus HTTP API (GET /api/v1/query). The HttpGet carries the
// client-side timeout; `query_timeout` is also sent so Prometheus gives up first and says so.
class PrometheusClient {
 public:
  PrometheusClient(std::string base_url, common::HttpGet get, common::Duration query_timeout);

  // Evaluated at `at` when given, else at Prometheus' "now".
  QueryResult InstantQuery(std::string_view promql,
                           std::optional<common::TimePoint> at = std::nullopt) const;

 private:
  std::string base_url_;  // without a trailing '/'
  common::HttpGet get_;
  common::Duration query_timeout_;
};

}  // namespace recommender::input
