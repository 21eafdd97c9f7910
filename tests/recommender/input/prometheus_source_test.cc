#include "recommender/input/prometheus_source.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "recommender/input/queries.h"

namespace recommender::input {
namespace {

namespace q = queries;
const common::TimePoint kT0{std::chrono::seconds{1'700'000'000}};

// Answers each query with one sample for shop/cart (and its pod) valued by `values` (the query
// text as Prometheus would write it, e.g. "NaN"); other queries get an empty vector.
class FakePrometheus {
 public:
  std::map<std::string, std::string> values;  // query name → value text

  common::HttpGet Get() {
    return [this](const std::string& url) {
      std::string result;
      for (const q::Query* query :
           {&q::kServiceRequestRate, &q::kServiceInflight, &q::kServiceQueueLength, &q::kServiceP99,
            &q::kContainerCpuUsage, &q::kDeploymentReplicas}) {
        const std::string encoded =
            common::UrlEncode(q::Expand(query->promql, std::chrono::seconds{60}));
        auto it = values.find(std::string(query->name));
        if (it == values.end() || url.find("query=" + encoded + "&") == std::string::npos) continue;
        result = R"({"metric":{"namespace":"shop","service":"cart","deployment":"cart",)"
                 R"("pod":"cart-5d9f8-x7k2q","container":"cart"},"value":[1700000000,")" +
                 it->second + R"("]})";
      }
      return common::HttpResult{
          .status = 200,
          .body =
              R"({"status":"success","data":{"resultType":"vector","result":[)" + result + "]}}"};
    };
  }
};

PrometheusSource Source(FakePrometheus& prometheus, double max_rate = 1e6) {
  return PrometheusSource(
      PrometheusClient("http://prom:9090", prometheus.Get(), std::chrono::seconds{5}),
      std::chrono::seconds{60}, max_rate);
}

size_t Count(const FetchResult& f, Invalid reason) {
  return f.invalid_values[static_cast<size_t>(reason)];
}

TEST(PrometheusSourceTest, UsableAnswersPassAndANaNQuantileIsOnlyAbsent) {
  FakePrometheus prometheus;
  prometheus.values = {{"service_request_rate", "300"},
                       {"service_p99", "NaN"},
                       {"container_cpu_usage", "1.5"},
                       {"deployment_replicas", "3"}};
  PrometheusSource source = Source(prometheus);
  const FetchResult f = source.Fetch(kT0);
  ASSERT_TRUE(f.errors.empty());
  ASSERT_EQ(f.observations.services.size(), 1u);
  EXPECT_EQ(f.observations.services[0].request_rate, 300);
  EXPECT_TRUE(std::isnan(f.observations.services[0].p99_seconds));
  EXPECT_EQ(f.observations.services[0].invalid, Invalid::kNone);
  ASSERT_EQ(f.observations.containers.size(), 1u);
  EXPECT_EQ(f.observations.containers[0].invalid, Invalid::kNone);
  EXPECT_EQ(f.observations.deployments[0].invalid, Invalid::kNone);
  for (size_t n : f.invalid_values) EXPECT_EQ(n, 0u);
}

TEST(PrometheusSourceTest, NonFiniteNegativeAndImplausibleAnswersAreRefused) {
  FakePrometheus prometheus;
  prometheus.values = {{"service_request_rate", "3e300"},
                       {"service_inflight", "+Inf"},
                       {"service_queue_length", "NaN"},
                       {"container_cpu_usage", "-2"},
                       {"deployment_replicas", "NaN"}};
  PrometheusSource source = Source(prometheus);
  const FetchResult f = source.Fetch(kT0);
  ASSERT_EQ(f.observations.services.size(), 1u);
  const ServiceObservation& s = f.observations.services[0];
  EXPECT_EQ(s.invalid, Invalid::kRateImplausible);  // the first refused value names it
  EXPECT_TRUE(std::isnan(s.request_rate));
  EXPECT_TRUE(std::isnan(s.inflight));
  EXPECT_TRUE(std::isnan(s.queue_length));
  EXPECT_EQ(f.observations.containers[0].invalid, Invalid::kRateNegative);
  EXPECT_EQ(f.observations.deployments[0].invalid, Invalid::kGaugeNonFinite);
  EXPECT_EQ(Count(f, Invalid::kRateImplausible), 1u);
  EXPECT_EQ(Count(f, Invalid::kRateNonFinite), 1u);
  EXPECT_EQ(Count(f, Invalid::kRateNegative), 1u);
  EXPECT_EQ(Count(f, Invalid::kGaugeNonFinite), 2u);
}

}  // namespace
}  // namespace recommender::input
