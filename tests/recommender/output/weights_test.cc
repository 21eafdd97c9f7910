#include "recommender/output/weights.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/text_serializer.h"
#include "rapidjson/document.h"
#include "recommender/input/prometheus_text.h"
#include "tests/recommender/output/snapshot_fixture.h"

namespace recommender::output {
namespace {

Snapshot WithWeights() {
  Snapshot s = FixedSnapshot();
  WorkloadView* cart = nullptr;
  for (WorkloadView& v : s.workloads) {
    if (v.config.key.workload == "cart") cart = &v;
  }
  cart->weights = {{.instance = "cart-1",
                    .weight = 0.7,
                    .deletion_cost = 1,
                    .terms = {{"slope", 2e-4}, {"interference_ratio", std::nan("")}}},
                   {.instance = "cart-2", .weight = 0.3, .deletion_cost = 0, .terms = {}}};
  cart->most_interfered = "cart-2";
  return s;
}

TEST(WeightsTest, MetricsPerInstance) {
  std::string text;
  common::AppendText(WeightFamilies(WithWeights()), text);
  EXPECT_NE(text.find("# HELP queuelens_instance_weight "), std::string::npos);
  std::map<std::string, double> m;
  const input::ParsedText p = input::ParsePrometheusText(text);
  EXPECT_EQ(p.malformed_lines, 0u);
  for (const input::TextSample& s : p.samples) {
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "," + k + "=" + v;
    m[key] = s.value;
  }
  EXPECT_EQ(m.at("queuelens_instance_weight,namespace=shop,service=cart,instance=cart-1"), 0.7);
  EXPECT_EQ(m.at("queuelens_instance_weight,namespace=shop,service=cart,instance=cart-2"), 0.3);
  EXPECT_EQ(m.at("queuelens_instance_deletion_cost,namespace=shop,service=cart,instance=cart-2"),
            0);
  EXPECT_EQ(
      m.at("queuelens_instance_policy_term,namespace=shop,service=cart,instance=cart-1,term=slope"),
      2e-4);
  // A NaN term is left out, and workloads without weights have no series.
  EXPECT_EQ(m.size(), 5u);
}

TEST(WeightsTest, JsonApi) {
  const Snapshot s = WithWeights();
  common::HttpRequest req;
  req.method = "GET";
  req.path = "/api/v1/weights/shop/cart";
  const common::HttpResponse r = HandleWeights(s, req);
  ASSERT_EQ(r.status, 200);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  ASSERT_FALSE(d.HasParseError());
  EXPECT_STREQ(d["service"].GetString(), "cart");
  EXPECT_STREQ(d["policy"].GetString(), "load_shifting");
  EXPECT_STREQ(d["mostInterfered"].GetString(), "cart-2");
  ASSERT_EQ(d["weights"].Size(), 2u);
  EXPECT_STREQ(d["weights"][0]["instance"].GetString(), "cart-1");
  EXPECT_DOUBLE_EQ(d["weights"][0]["weight"].GetDouble(), 0.7);
  EXPECT_EQ(d["weights"][1]["deletionCost"].GetInt(), 0);

  req.path = "/api/v1/weights/shop/nope";
  EXPECT_EQ(HandleWeights(s, req).status, 404);
  req.path = "/api/v1/weights/shop";
  EXPECT_EQ(HandleWeights(s, req).status, 404);
  req.path = "/api/v1/weights/shop/cart";
  req.method = "POST";
  EXPECT_EQ(HandleWeights(s, req).status, 405);
}

}  // namespace
}  // namespace recommender::output
