#include "recommender/output/recommender_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "common/http_client.h"
#include "common/http_server.h"
#include "common/text_serializer.h"
#include "recommender/input/prometheus_text.h"
#include "recommender/output/http_routes.h"
#include "recommender/output/status_page.h"
#include "tests/recommender/output/snapshot_fixture.h"

namespace recommender::output {
namespace {

using ::testing::HasSubstr;

// name{label=value,...} → value, through the same parser the recommender scrapes with.
std::map<std::string, double> Samples(const std::string& text) {
  const input::ParsedText p = input::ParsePrometheusText(text);
  EXPECT_EQ(p.malformed_lines, 0u);
  std::map<std::string, double> out;
  for (const input::TextSample& s : p.samples) {
    std::string key = s.name + "{";
    for (const auto& [k, v] : s.labels) key += k + "=" + v + ",";
    out[key + "}"] = s.value;
  }
  return out;
}

TEST(RecommenderMetricsTest, RendersEveryWorkloadPolicyAndTerm) {
  std::string text;
  common::AppendText(SnapshotFamilies(FixedSnapshot()), text);
  const auto m = Samples(text);
  EXPECT_EQ(m.at("queuelens_recommended_replicas{namespace=shop,workload=cart,}"), 5);
  EXPECT_FALSE(m.contains("queuelens_recommended_replicas{namespace=hotel,workload=search,}"));
  EXPECT_EQ(m.at("queuelens_recommended_cpu_cores{namespace=shop,workload=cart,container=cart,}"),
            0.75);
  EXPECT_EQ(m.at("queuelens_policy_proposal_replicas{namespace=shop,workload=cart,policy=queue_"
                 "sizing,}"),
            5);
  EXPECT_EQ(
      m.at("queuelens_policy_proposal_replicas{namespace=shop,workload=cart,policy=hpa_cpu,}"), 4);
  EXPECT_EQ(m.at("queuelens_policy_proposal_cpu_cores{namespace=shop,workload=cart,policy="
                 "throttle_target,}"),
            0.75);
  EXPECT_EQ(m.at("queuelens_policy_term{namespace=shop,workload=cart,policy=queue_sizing,term="
                 "inflight,}"),
            12.5);
  EXPECT_FALSE(
      m.contains("queuelens_policy_term{namespace=shop,workload=cart,policy=queue_sizing,term="
                 "unreached,}"));
  EXPECT_EQ(m.at("queuelens_recommendation_stale{namespace=hotel,workload=search,}"), 1);
  EXPECT_EQ(m.at("queuelens_recommendation_stale{namespace=shop,workload=cart,}"), 0);
  EXPECT_EQ(m.at("queuelens_recommendation_input_age_seconds{namespace=shop,workload=cart,}"), 2);
  EXPECT_EQ(m.at("queuelens_throttle_target_ratio{group=high_cpu,}"), 0.04);
  EXPECT_EQ(m.at("queuelens_recommender_workloads{origin=discovered,}"), 1);
  EXPECT_NEAR(m.at("queuelens_recommender_last_pass_timestamp_seconds{}"), 1'787'392'800.25, 1e-6);
  // HELP on every family.
  for (const auto& f : SnapshotFamilies(FixedSnapshot())) EXPECT_FALSE(f.help.empty()) << f.name;
}

TEST(RecommenderMetricsTest, LoopMetricsCountIntoTheRegistry) {
  prometheus::Registry registry;
  LoopMetrics metrics(registry);
  metrics.StepDuration("feed", 0.003);
  metrics.InputError("http://x/metrics", "fetch");
  metrics.InputError("http://x/metrics", "fetch");
  metrics.MalformedLines(4);
  metrics.CheckpointError("save");
  metrics.InvalidValues(input::Invalid::kCounterNegative, 3);
  std::string text;
  common::AppendText(registry.Collect(), text);
  const auto m = Samples(text);
  EXPECT_EQ(m.at("queuelens_recommender_loop_step_seconds_count{step=feed,}"), 1);
  EXPECT_EQ(m.at("queuelens_recommender_loop_step_seconds_count{step=publish,}"), 0);
  EXPECT_EQ(m.at("queuelens_recommender_input_errors_total{input=http://x/metrics,reason=fetch,}"),
            2);
  EXPECT_EQ(m.at("queuelens_recommender_input_malformed_lines_total{}"), 4);
  EXPECT_EQ(m.at("queuelens_recommender_checkpoint_errors_total{operation=save,}"), 1);
  EXPECT_EQ(m.at("queuelens_recommender_checkpoint_errors_total{operation=restore,}"), 0);
  EXPECT_EQ(m.at("queuelens_recommender_input_invalid_values_total{reason=counter_negative,}"), 3);
  // Every reason is there from the start; target_failed is an input error, not a value.
  EXPECT_EQ(m.at("queuelens_recommender_input_invalid_values_total{reason=counter_non_finite,}"),
            0);
  EXPECT_EQ(m.at("queuelens_recommender_input_invalid_values_total{reason=rate_implausible,}"), 0);
  EXPECT_FALSE(
      m.contains("queuelens_recommender_input_invalid_values_total{reason=target_failed,}"));
  EXPECT_NE(text.find("# HELP queuelens_recommender_input_invalid_values_total Input values "
                      "refused before use, by reason"),
            std::string::npos);
}

TEST(StatusPageTest, ShowsCurrentVersusRecommendedAndWhy) {
  const std::string page = RenderStatusPage(FixedSnapshot());
  EXPECT_THAT(page, HasSubstr("<td>shop/cart</td><td>3</td><td>5</td><td>queue_sizing</td>"));
  EXPECT_THAT(page, HasSubstr("hotel/search (discovered)"));
  EXPECT_THAT(page, HasSubstr("Little's law: 12.5 in flight / 2.6 per replica"));
  EXPECT_THAT(page, HasSubstr("nothing to hold &lt;no data&gt;"));  // escaped
  EXPECT_THAT(page, HasSubstr("queue_sizing (applied)"));
  EXPECT_THAT(page, HasSubstr("Connection refused"));
  EXPECT_THAT(RenderStatusPage(Snapshot{}), HasSubstr("No recommendation pass has completed yet"));
}

TEST(HttpRoutesTest, ServesTheSnapshotOverHttp) {
  SnapshotHolder holder;
  auto registry = std::make_shared<prometheus::Registry>();
  LoopMetrics metrics(*registry);
  common::HttpServer server({.listen_address = "127.0.0.1:0", .threads = 2});
  AddRecommenderRoutes(server, holder, registry);
  const std::string base = "http://127.0.0.1:" + std::to_string(server.Ports().front());
  const common::HttpGet get = common::MakeCurlHttpGet({});

  EXPECT_EQ(get(base + "/api/v1/recommendations/shop/cart").status, 404);  // nothing published
  holder.Publish(std::make_shared<const Snapshot>(FixedSnapshot()));
  const common::HttpResult keda = get(base + "/api/v1/recommendations/shop/cart");
  EXPECT_EQ(keda.status, 200);
  EXPECT_THAT(keda.body, HasSubstr("\"replicas\":5"));
  const common::HttpResult metrics_text = get(base + "/metrics");
  EXPECT_EQ(metrics_text.status, 200);
  EXPECT_THAT(metrics_text.body, HasSubstr("# HELP queuelens_recommended_replicas "));
  EXPECT_THAT(metrics_text.body, HasSubstr("queuelens_recommender_loop_step_seconds_bucket"));
  EXPECT_THAT(get(base + "/api/v1/targets").body, HasSubstr("\"throttleTarget\":0.04"));
  EXPECT_THAT(get(base + "/").body, HasSubstr("shop/cart"));
  EXPECT_EQ(get(base + "/healthz").body, "ok\n");
  EXPECT_EQ(get(base + "/nope").status, 404);
}

}  // namespace
}  // namespace recommender::output
