#include "recommender/input/prometheus_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <condition_variable>
#include <mutex>

#include "common/http_server.h"

namespace recommender::input {
namespace {

using ::testing::HasSubstr;

TEST(ParseQueryResponseTest, ReadsAVector) {
  const QueryResult r = ParseQueryResponse(
      R"({"status":"success","data":{"resultType":"vector","result":[
          {"metric":{"namespace":"shop","service":"cart"},"value":[1700000000.5,"2.25"]},
          {"metric":{"service":"gateway"},"value":[1700000000.5,"NaN"]},
          {"metric":{},"value":[1700000000.5,"+Inf"]}]},
          "warnings":["careful"]})",
      200);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.result_type, "vector");
  ASSERT_EQ(r.samples.size(), 3u);
  EXPECT_EQ(r.samples[0].labels.at("namespace"), "shop");
  EXPECT_EQ(r.samples[0].value, 2.25);
  EXPECT_EQ(r.samples[0].at, common::TimePoint{std::chrono::milliseconds{1'700'000'000'500}});
  EXPECT_TRUE(std::isnan(r.samples[1].value));
  EXPECT_TRUE(std::isinf(r.samples[2].value));
  EXPECT_THAT(r.warnings, ::testing::ElementsAre("careful"));
}

TEST(ParseQueryResponseTest, ReadsAScalarAndAnEmptyVector) {
  const QueryResult s = ParseQueryResponse(
      R"({"status":"success","data":{"resultType":"scalar","result":[1700000000,"42"]}})", 200);
  ASSERT_TRUE(s.ok) << s.error;
  ASSERT_EQ(s.samples.size(), 1u);
  EXPECT_EQ(s.samples[0].value, 42);
  EXPECT_TRUE(s.samples[0].labels.empty());
  const QueryResult e =
      ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector","result":[]}})", 200);
  ASSERT_TRUE(e.ok);
  EXPECT_TRUE(e.samples.empty());
}

TEST(ParseQueryResponseTest, ReportsPrometheusErrors) {
  const QueryResult r = ParseQueryResponse(
      R"({"status":"error","errorType":"bad_data","error":"parse error at char 5"})", 400);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error_type, "bad_data");
  EXPECT_EQ(r.http_status, 400);
  EXPECT_THAT(r.error, HasSubstr("bad_data (HTTP 400): parse error at char 5"));
  const QueryResult t = ParseQueryResponse(
      R"({"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"})",
      503);
  EXPECT_EQ(t.error_type, "timeout");
}

TEST(ParseQueryResponseTest, RefusesWhatIsNotAnInstantAnswer) {
  EXPECT_THAT(ParseQueryResponse("<html>404 page not found</html>", 404).error,
              HasSubstr("HTTP 404, not a Prometheus API answer: <html>404"));
  EXPECT_THAT(ParseQueryResponse(R"({"status":"success"})", 200).error, HasSubstr("data"));
  EXPECT_THAT(
      ParseQueryResponse(R"({"status":"success","data":{"resultType":"matrix","result":[]}})", 200)
          .error,
      HasSubstr("unexpected result type matrix"));
  EXPECT_THAT(ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector",
                                     "result":[{"metric":{},"value":[1,2]}]}})",
                                 200)
                  .error,
              HasSubstr("malformed element"));
  EXPECT_THAT(ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector",
                                     "result":[{"metric":{},"value":[1,"abc"]}]}})",
                                 200)
                  .error,
              HasSubstr("malformed element"));
  EXPECT_FALSE(ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector",
                                      "result":[]}})",
                                  500)
                   .ok);
  EXPECT_THAT(ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector",
                                     "result":[100,"42"]}})",
                                 200)
                  .error,
              HasSubstr("malformed element"));
  // Times the clock cannot hold.
  EXPECT_THAT(
      ParseQueryResponse(
          R"({"status":"success","data":{"resultType":"scalar","result":[1e13,"42"]}})", 200)
          .error,
      HasSubstr("malformed scalar"));
  EXPECT_THAT(ParseQueryResponse(R"({"status":"success","data":{"resultType":"vector",
                                     "result":[{"metric":{},"value":[-1e300,"1"]}]}})",
                                 200)
                  .error,
              HasSubstr("malformed element"));
}

TEST(PrometheusClientTest, BuildsTheQueryUrl) {
  std::string seen;
  PrometheusClient client(
      "http://prom:9090/",
      [&](const std::string& url) {
        seen = url;
        return common::HttpResult{
            .status = 200,
            .body = R"({"status":"success","data":{"resultType":"vector","result":[]}})"};
      },
      std::chrono::milliseconds{2500});
  EXPECT_TRUE(client
                  .InstantQuery("sum by (a) (rate(x[1m]))",
                                common::TimePoint{std::chrono::milliseconds{1'700'000'000'250}})
                  .ok);
  EXPECT_EQ(seen,
            "http://prom:9090/api/v1/query?query=sum%20by%20%28a%29%20%28rate%28x%5B1m%5D%29%29"
            "&timeout=2500ms&time=1700000000.250");
}

TEST(PrometheusClientTest, TransportFailuresSayWhere) {
  PrometheusClient client(
      "http://prom:9090",
      [](const std::string&) { return common::HttpResult{.error = "Connection refused"}; },
      std::chrono::seconds{1});
  const QueryResult r = client.InstantQuery("up");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_THAT(r.error, HasSubstr("query to http://prom:9090 failed: Connection refused"));
}

// A Prometheus that never answers: the client gives up after its timeout with an error.
TEST(PrometheusClientTest, TimesOutOnASilentServer) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  common::HttpServer server({.listen_address = "127.0.0.1:0", .threads = 2});
  server.Handle("/api/v1/query", [&](const common::HttpRequest&) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    return common::HttpResponse{};
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(server.Ports().front());
  PrometheusClient client(url, common::MakeCurlHttpGet({.timeout = std::chrono::milliseconds{200}}),
                          std::chrono::milliseconds{100});
  const QueryResult r = client.InstantQuery("up");
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.http_status, 0);
  EXPECT_THAT(r.error, HasSubstr("timed out"));
}

}  // namespace
}  // namespace recommender::input
