#include "recommender/output/graph.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <memory>

#include "tests/recommender/predict/fixed_predictor.h"

namespace recommender::output {
namespace {

namespace rp = recommender::predict;

policies::DeepScalerOptions WithModel() {
  policies::DeepScalerOptions d;
  // a → b 0.6, b → c 0.25, c → a 0.1; the diagonal (self-loops) is not an edge.
  d.model = std::make_shared<rp::FixedPredictor>(
      std::vector<std::string>{"a", "b", "c<&>"}, 15,
      std::vector<float>{0.5f, 0.6f, 0, 0, 0.5f, 0.25f, 0.1f, 0, 0.5f},
      [](const rp::Series&) { return std::vector<float>(3, 1); });
  d.model_source = "sim/models/x.model";
  d.loaded_at = common::TimePoint{std::chrono::seconds{1'700'000'000}};
  return d;
}

common::HttpRequest Get() {
  common::HttpRequest r;
  r.method = "GET";
  r.path = "/api/v1/graph";
  return r;
}

TEST(GraphApi, ServesTheLearnedEdgesStrongestFirst) {
  const common::HttpResponse r = HandleGraph(WithModel(), Get());
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(r.body.c_str()).HasParseError()) << r.body;
  EXPECT_STREQ(doc["model"].GetString(), "sim/models/x.model");
  EXPECT_STREQ(doc["loaded_at"].GetString(), "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(doc["steps"].GetInt(), 15);
  ASSERT_EQ(doc["services"].Size(), 3u);
  EXPECT_STREQ(doc["services"][2].GetString(), "c<&>");
  const auto& edges = doc["edges"];
  ASSERT_EQ(edges.Size(), 3u);
  EXPECT_STREQ(edges[0]["from"].GetString(), "a");
  EXPECT_STREQ(edges[0]["to"].GetString(), "b");
  EXPECT_NEAR(edges[0]["weight"].GetDouble(), 0.6, 1e-6);
  EXPECT_STREQ(edges[1]["from"].GetString(), "b");
  EXPECT_STREQ(edges[2]["from"].GetString(), "c<&>");
  EXPECT_STREQ(edges[2]["to"].GetString(), "a");
}

TEST(GraphApi, SaysWhyWithoutAModel) {
  policies::DeepScalerOptions d;
  d.unavailable = "m.model: model format version 9, expected 1";
  const common::HttpResponse r = HandleGraph(d, Get());
  EXPECT_EQ(r.status, 404);
  rapidjson::Document doc;
  ASSERT_FALSE(doc.Parse(r.body.c_str()).HasParseError()) << r.body;
  EXPECT_NE(std::string(doc["error"].GetString()).find("version 9"), std::string::npos);
  common::HttpRequest post = Get();
  post.method = "POST";
  EXPECT_EQ(HandleGraph(WithModel(), post).status, 405);
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

TEST(GraphSection, DrawsEveryServiceAndEdgeWithItsWeight) {
  const std::string html = RenderGraphSection(WithModel());
  EXPECT_EQ(Count(html, "<svg"), 1u);
  EXPECT_EQ(Count(html, "<script"), 0u);
  EXPECT_EQ(Count(html, "<circle"), 3u);
  EXPECT_EQ(Count(html, "<line class=\"edge\""), 3u);
  EXPECT_NE(html.find("<title>a → b 0.6</title>"), std::string::npos) << html;
  EXPECT_NE(html.find("<title>b → c&lt;&amp;&gt; 0.25</title>"), std::string::npos);
  EXPECT_NE(html.find(">0.1</text>"), std::string::npos);
  EXPECT_NE(html.find(">c&lt;&amp;&gt;</text>"), std::string::npos);
  // The strongest edge is drawn widest.
  EXPECT_NE(html.find("stroke-width=\"4.50\""), std::string::npos);
  // Only the strongest `limit` edges.
  EXPECT_EQ(Count(RenderGraphSection(WithModel(), 1), "<line class=\"edge\""), 1u);
}

TEST(GraphSection, SaysWhyWithoutAModel) {
  policies::DeepScalerOptions d;
  d.unavailable = "queuelens was built without libtorch";
  const std::string html = RenderGraphSection(d);
  EXPECT_EQ(Count(html, "<svg"), 0u);
  EXPECT_NE(html.find("built without libtorch"), std::string::npos);
}

}  // namespace
}  // namespace recommender::output
