// The KEDA metrics-api answer for a fixed snapshot is compared with
// tests/golden/keda_response.json; run with UPDATE_GOLDEN=1 to rewrite it after an intended change,
// and review the diff.
#include "recommender/output/keda_handler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "rapidjson/document.h"
#include "tests/recommender/output/snapshot_fixture.h"

namespace recommender::output {
namespace {

using ::testing::HasSubstr;

constexpr char kGolden[] = QL_SOURCE_DIR "/tests/golden/keda_response.json";

common::HttpRequest Get(std::string path) {
  common::HttpRequest r;
  r.method = "GET";
  r.path = std::move(path);
  return r;
}

TEST(KedaHandlerTest, MatchesTheGoldenFile) {
  const common::HttpResponse r =
      HandleRecommendations(FixedSnapshot(), Get("/api/v1/recommendations/shop/cart"));
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  const std::string actual = r.body + "\n";
  if (std::getenv("UPDATE_GOLDEN") != nullptr) {
    std::ofstream(kGolden, std::ios::binary) << actual;
    GTEST_SKIP() << "rewrote " << kGolden;
  }
  std::ifstream in(kGolden, std::ios::binary);
  ASSERT_TRUE(in) << kGolden << " is missing; run with UPDATE_GOLDEN=1";
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str());
}

// The contract KEDA relies on, independent of formatting: valueLocation "replicas" is a number.
TEST(KedaHandlerTest, ShapeIsTheMetricsApiContract) {
  rapidjson::Document d;
  d.Parse(RenderRecommendationJson(FixedSnapshot().workloads[1]).c_str());
  ASSERT_TRUE(d.IsObject());
  for (const char* key : {"namespace", "workload", "replicas", "cpuCores", "policy", "reason",
                          "computedAt", "stale", "lastChange"}) {
    EXPECT_TRUE(d.HasMember(key)) << key;
  }
  EXPECT_EQ(d.MemberCount(), 9u);
  EXPECT_TRUE(d["replicas"].IsInt());
  EXPECT_EQ(d["replicas"].GetInt(), 5);
  EXPECT_DOUBLE_EQ(d["cpuCores"].GetDouble(), 0.75);
  EXPECT_STREQ(d["computedAt"].GetString(), "2026-08-22T10:00:00.250Z");
  EXPECT_FALSE(d["stale"].GetBool());
  ASSERT_TRUE(d["lastChange"].IsObject());
  EXPECT_STREQ(d["lastChange"]["channel"].GetString(), "replicas");
  EXPECT_DOUBLE_EQ(d["lastChange"]["to"].GetDouble(), 5);
}

TEST(KedaHandlerTest, ListsEveryWorkload) {
  const common::HttpResponse r =
      HandleRecommendations(FixedSnapshot(), Get("/api/v1/recommendations"));
  ASSERT_EQ(r.status, 200);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_TRUE(d["recommendations"].IsArray());
  ASSERT_EQ(d["recommendations"].Size(), 2u);
  EXPECT_STREQ(d["recommendations"][0]["workload"].GetString(), "search");
  EXPECT_TRUE(d["recommendations"][0]["replicas"].IsNull());
  EXPECT_TRUE(d["recommendations"][0]["stale"].GetBool());
  EXPECT_TRUE(d["recommendations"][0]["lastChange"].IsNull());  // never changed
  EXPECT_EQ(HandleRecommendations(FixedSnapshot(), Get("/api/v1/recommendations/")).status, 200);
}

TEST(KedaHandlerTest, UnknownNotReadyAndBadRequests) {
  const Snapshot s = FixedSnapshot();
  common::HttpResponse r = HandleRecommendations(s, Get("/api/v1/recommendations/shop/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.content_type, "application/json");
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_TRUE(d.IsObject());
  EXPECT_THAT(d["error"].GetString(), HasSubstr("unknown workload shop/nope"));

  // Known but without replicas yet: not 200, so KEDA keeps the current scale.
  r = HandleRecommendations(s, Get("/api/v1/recommendations/hotel/search"));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.body, HasSubstr("\"replicas\":null"));

  for (const char* path : {"/api/v1/recommendations/shop", "/api/v1/recommendations/shop/cart/x",
                           "/api/v1/recommendations//cart", "/api/v1/recommendations/shop/"}) {
    EXPECT_EQ(HandleRecommendations(s, Get(path)).status, 404) << path;
  }
  common::HttpRequest post = Get("/api/v1/recommendations/shop/cart");
  post.method = "POST";
  EXPECT_EQ(HandleRecommendations(s, post).status, 405);
}

TEST(KedaHandlerTest, TargetsPerGroupAndWorkload) {
  const common::HttpResponse r = HandleTargets(FixedSnapshot(), Get("/api/v1/targets"));
  ASSERT_EQ(r.status, 200);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  EXPECT_TRUE(d["chosen"].GetBool());
  EXPECT_EQ(d["action"].GetInt(), 21);
  EXPECT_DOUBLE_EQ(d["groups"]["high_cpu"].GetDouble(), 0.04);
  EXPECT_DOUBLE_EQ(d["groups"]["other"].GetDouble(), 0.06);
  ASSERT_EQ(d["targets"].Size(), 2u);
  EXPECT_STREQ(d["targets"][1]["workload"].GetString(), "cart");
  EXPECT_STREQ(d["targets"][1]["container"].GetString(), "cart");
  EXPECT_DOUBLE_EQ(d["targets"][1]["throttleTarget"].GetDouble(), 0.04);
  EXPECT_DOUBLE_EQ(d["targets"][0]["throttleTarget"].GetDouble(), 0.06);
}

TEST(KedaHandlerTest, Rfc3339) {
  EXPECT_EQ(FormatRfc3339(common::TimePoint{}), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339(common::TimePoint{std::chrono::milliseconds{1'787'392'800'999}}),
            "2026-08-22T10:00:00.999Z");
}

}  // namespace
}  // namespace recommender::output
