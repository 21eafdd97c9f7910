#include "recommender/output/external_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "rapidjson/document.h"
#include "tests/recommender/output/kubernetes_api.h"
#include "tests/recommender/output/snapshot_fixture.h"

namespace recommender::output {
namespace {

using ::testing::ElementsAre;

constexpr char kMetricsPath[] = "/apis/external.metrics.k8s.io/v1beta1/namespaces/";

// FixedSnapshot plus signals for shop/cart and a third workload, shop/checkout, whose spans come
// from two trace services.
Snapshot TestSnapshot() {
  Snapshot s = FixedSnapshot();
  WorkloadView& cart = s.workloads[1];
  cart.signals.queue_length = 2.3456;
  cart.signals.inflight = 12.5;
  cart.signals.runqueue_wait_per_timeslice_seconds = 0.00005;
  WorkloadView checkout = cart;
  checkout.config.key = {"shop", "checkout"};
  checkout.config.services = {"checkout-api", "payments"};
  checkout.recommendation.replicas = 2;
  checkout.signals.queue_length = 0.5;
  s.workloads = {s.workloads[0], s.workloads[1],
                 checkout};  // hotel/search, shop/cart, shop/checkout
  return s;
}

TEST(ExternalMetricsDiscoveryTest, ApiGroupList) {
  for (const char* path : {"/apis", "/apis/"}) {
    const common::HttpResponse r = HandleExternalMetrics(TestSnapshot(), Get(path));
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_EQ(
        r.body,
        R"({"kind":"APIGroupList","apiVersion":"v1","groups":[{"name":"external.metrics.k8s.io",)"
        R"("versions":[{"groupVersion":"external.metrics.k8s.io/v1beta1","version":"v1beta1"}],)"
        R"("preferredVersion":{"groupVersion":"external.metrics.k8s.io/v1beta1",)"
        R"("version":"v1beta1"}}]})");
  }
}

TEST(ExternalMetricsDiscoveryTest, AggregatedDiscoveryIsNotAcceptable) {
  common::HttpRequest r = Get("/apis");
  r.headers = {{"accept",
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                "application/json"}};
  ExpectStatus(HandleExternalMetrics(TestSnapshot(), r), 406, "NotAcceptable");
  r.headers = {{"accept", "application/json, */*"}};
  EXPECT_EQ(HandleExternalMetrics(TestSnapshot(), r).status, 200);
}

TEST(ExternalMetricsDiscoveryTest, ApiGroup) {
  const common::HttpResponse r =
      HandleExternalMetrics(TestSnapshot(), Get("/apis/external.metrics.k8s.io"));
  ASSERT_EQ(r.status, 200);
  const rapidjson::Document d = Parse(r);
  EXPECT_STREQ(d["kind"].GetString(), "APIGroup");
  EXPECT_STREQ(d["apiVersion"].GetString(), "v1");
  EXPECT_STREQ(d["name"].GetString(), "external.metrics.k8s.io");
  ASSERT_EQ(d["versions"].Size(), 1u);
  EXPECT_STREQ(d["versions"][0]["groupVersion"].GetString(), "external.metrics.k8s.io/v1beta1");
  EXPECT_STREQ(d["preferredVersion"]["version"].GetString(), "v1beta1");
}

TEST(ExternalMetricsDiscoveryTest, ResourceListHasOneNamespacedEntryPerMetric) {
  const common::HttpResponse r =
      HandleExternalMetrics(TestSnapshot(), Get("/apis/external.metrics.k8s.io/v1beta1"));
  ASSERT_EQ(r.status, 200);
  const rapidjson::Document d = Parse(r);
  EXPECT_STREQ(d["kind"].GetString(), "APIResourceList");
  EXPECT_STREQ(d["apiVersion"].GetString(), "v1");
  EXPECT_STREQ(d["groupVersion"].GetString(), "external.metrics.k8s.io/v1beta1");
  std::vector<std::string> names;
  for (const auto& resource : d["resources"].GetArray()) {
    names.emplace_back(resource["name"].GetString());
    EXPECT_STREQ(resource["singularName"].GetString(), "");
    EXPECT_TRUE(resource["namespaced"].GetBool());
    EXPECT_STREQ(resource["kind"].GetString(), "ExternalMetricValueList");
    ASSERT_EQ(resource["verbs"].Size(), 1u);
    EXPECT_STREQ(resource["verbs"][0].GetString(), "get");
  }
  EXPECT_THAT(names, ElementsAre("queuelens-recommended-replicas", "queuelens-queue-length",
                                 "queuelens-inflight-requests", "queuelens-runqueue-wait-seconds"));
}

TEST(ExternalMetricsDiscoveryTest, OpenApiAndUnknownPathsAre404Status) {
  for (const char* path : {"/openapi/v2", "/openapi/v3", "/", "/api", "/apis/other.k8s.io",
                           "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop",
                           "/apis/external.metrics.k8s.io/v1beta1/namespaces/shop/x/y",
                           "/apis/external.metrics.k8s.io/v1beta1/queuelens-queue-length"}) {
    SCOPED_TRACE(path);
    ExpectStatus(HandleExternalMetrics(TestSnapshot(), Get(path)), 404, "NotFound");
  }
}

TEST(ExternalMetricsDiscoveryTest, OnlyGet) {
  common::HttpRequest r = Get("/apis");
  r.method = "POST";
  ExpectStatus(HandleExternalMetrics(TestSnapshot(), r), 405, "MethodNotAllowed");
  r.method = "HEAD";
  EXPECT_EQ(HandleExternalMetrics(TestSnapshot(), r).status, 200);
}

TEST(ExternalMetricsValuesTest, RecommendedReplicasOfTheSelectedWorkload) {
  const common::HttpResponse r = HandleExternalMetrics(
      TestSnapshot(), Get(std::string(kMetricsPath) + "shop/queuelens-recommended-replicas",
                          "labelSelector=workload%3Dcart"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(r.body,
            R"({"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1",)"
            R"("metadata":{},"items":[{"metricName":"queuelens-recommended-replicas",)"
            R"("metricLabels":{"namespace":"shop","workload":"cart","service":"cart"},)"
            R"("timestamp":"2026-08-22T10:00:00.250Z","value":"5"}]})");
}

TEST(ExternalMetricsValuesTest, SignalsAsQuantitiesWithTheirObservationTime) {
  const auto value = [](const std::string& metric, const std::string& query) {
    const common::HttpResponse r = HandleExternalMetrics(
        TestSnapshot(),
        Get(std::string(kMetricsPath) + "shop/" + metric, "labelSelector=" + query));
    EXPECT_EQ(r.status, 200) << r.body;
    const rapidjson::Document d = Parse(r);
    EXPECT_EQ(d["items"].Size(), 1u) << r.body;
    EXPECT_STREQ(d["items"][0]["timestamp"].GetString(), "2026-08-22T09:59:58.250Z");
    return std::string(d["items"][0]["value"].GetString());
  };
  EXPECT_EQ(value("queuelens-queue-length", "service%3Dcart"), "2346m");
  EXPECT_EQ(value("queuelens-inflight-requests", "workload%3Dcart"), "12500m");
  EXPECT_EQ(value("queuelens-runqueue-wait-seconds", "workload%3Dcart"), "50u");
}

TEST(ExternalMetricsValuesTest, SelectorsOverNamespaceWorkloadAndService) {
  const auto workloads = [](const std::string& query) {
    const common::HttpResponse r = HandleExternalMetrics(
        TestSnapshot(), Get(std::string(kMetricsPath) + "shop/queuelens-queue-length", query));
    std::vector<std::string> out;
    if (r.status != 200) return out;
    const rapidjson::Document d = Parse(r);
    for (const auto& item : d["items"].GetArray()) {
      out.push_back(std::string(item["metricLabels"]["workload"].GetString()) + "/" +
                    item["metricLabels"]["service"].GetString() + "=" + item["value"].GetString());
    }
    return out;
  };
  // No selector: every workload of the URL's namespace, none of hotel's.
  EXPECT_THAT(workloads(""), ElementsAre("cart/cart=2346m", "checkout/checkout-api=500m"));
  // Either trace service selects checkout, and the item names the one that matched.
  EXPECT_THAT(workloads("labelSelector=service%3Dpayments"), ElementsAre("checkout/payments=500m"));
  EXPECT_THAT(workloads("labelSelector=service+in+%28payments%2Ccart%29"),
              ElementsAre("cart/cart=2346m", "checkout/payments=500m"));
  EXPECT_THAT(workloads("labelSelector=namespace%3Dshop,workload!%3Dcart"),
              ElementsAre("checkout/checkout-api=500m"));
  EXPECT_THAT(workloads("limit=5&labelSelector=workload+notin+(cart)&watch=false"),
              ElementsAre("checkout/checkout-api=500m"));
}

TEST(ExternalMetricsValuesTest, EmptyMatchIsNotFound) {
  const std::string path = std::string(kMetricsPath) + "shop/queuelens-recommended-replicas";
  ExpectStatus(HandleExternalMetrics(TestSnapshot(), Get(path, "labelSelector=workload%3Dnope")),
               404, "NotFound",
               "no workload in namespace \"shop\" matches labelSelector \"workload=nope\"");
  // search lives in hotel, not shop.
  ExpectStatus(HandleExternalMetrics(TestSnapshot(), Get(path, "labelSelector=workload%3Dsearch")),
               404, "NotFound");
  ExpectStatus(HandleExternalMetrics(
                   TestSnapshot(),
                   Get(std::string(kMetricsPath) + "elsewhere/queuelens-recommended-replicas")),
               404, "NotFound");
  // An empty snapshot, before the first pass.
  ExpectStatus(HandleExternalMetrics(Snapshot{}, Get(path)), 404, "NotFound");
}

TEST(ExternalMetricsValuesTest, UnknownMetricIsNotFound) {
  ExpectStatus(
      HandleExternalMetrics(TestSnapshot(), Get(std::string(kMetricsPath) + "shop/s0-rabbitmq")),
      404, "NotFound", "unknown metric \"s0-rabbitmq\"");
}

TEST(ExternalMetricsValuesTest, AMatchWithoutValueIsUnavailable) {
  // hotel/search has no replicas yet; shop/cart no run-queue wait once it is unset.
  ExpectStatus(HandleExternalMetrics(TestSnapshot(), Get(std::string(kMetricsPath) +
                                                         "hotel/queuelens-recommended-replicas")),
               503, "ServiceUnavailable",
               "queuelens-recommended-replicas has no value yet for hotel/{search}");
  Snapshot s = TestSnapshot();
  s.workloads[1].signals.runqueue_wait_per_timeslice_seconds =
      std::numeric_limits<double>::quiet_NaN();
  // Summing only checkout's value would understate the total: the whole answer fails.
  ExpectStatus(HandleExternalMetrics(
                   s, Get(std::string(kMetricsPath) + "shop/queuelens-runqueue-wait-seconds")),
               503, "ServiceUnavailable", "shop/{cart}");
}

TEST(ExternalMetricsValuesTest, BadSelectorIsBadRequest) {
  const std::string path = std::string(kMetricsPath) + "shop/queuelens-queue-length";
  ExpectStatus(HandleExternalMetrics(TestSnapshot(), Get(path, "labelSelector=workload+in+cart")),
               400, "BadRequest", "invalid labelSelector \"workload in cart\": at character 13");
  ExpectStatus(HandleExternalMetrics(TestSnapshot(), Get(path, "labelSelector=workload%3")), 400,
               "BadRequest", "percent-encoded");
}

}  // namespace
}  // namespace recommender::output
