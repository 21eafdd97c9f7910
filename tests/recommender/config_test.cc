#include "recommender/config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>

#include "tests/support/temp_dir.h"

namespace recommender {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kYaml[] = R"(
defaults:
  slo_p99: 300ms
  max_replicas: 30
budget_groups:
  - {name: shop, extra_pods: 16}
workloads:
  - namespace: shop
    workload: cart
    services: [cart, cart-worker]
    container: app
    slo_p99: 0.2
    min_replicas: 2
    max_cpu: 1500m
    min_cpu: 0.25
    replica_policy: showar
    cpu_policy: k8s_cpu_fast
    budget_group: shop
    tower_high_cpu_group: true
    allow_zero: true
  - namespace: shop
    workload: gateway
)";

TEST(WorkloadFileTest, ReadsYamlWithDefaults) {
  std::vector<std::string> problems;
  const WorkloadFile f = ParseWorkloadFile(kYaml, &problems);
  ASSERT_THAT(problems, IsEmpty());
  ASSERT_EQ(f.workloads.size(), 2u);
  const WorkloadConfig& cart = f.workloads[0];
  EXPECT_EQ(cart.key, (model::WorkloadKey{"shop", "cart"}));
  EXPECT_THAT(cart.services, ElementsAre("cart", "cart-worker"));
  EXPECT_EQ(cart.container, "app");
  EXPECT_DOUBLE_EQ(cart.slo_p99_seconds, 0.2);
  EXPECT_EQ(cart.min_replicas, 2);
  EXPECT_EQ(cart.max_replicas, 30);  // from defaults
  EXPECT_DOUBLE_EQ(cart.min_cpu_cores, 0.25);
  EXPECT_DOUBLE_EQ(cart.max_cpu_cores, 1.5);
  EXPECT_EQ(cart.replica_policy, "showar");
  EXPECT_EQ(cart.cpu_policy, "k8s_cpu_fast");
  EXPECT_EQ(cart.budget_group, "shop");
  EXPECT_TRUE(cart.tower_high_cpu_group);
  EXPECT_TRUE(cart.allow_zero);
  const WorkloadConfig& gw = f.workloads[1];
  EXPECT_FALSE(gw.allow_zero);
  EXPECT_THAT(gw.services, ElementsAre("gateway"));  // default: the workload name
  EXPECT_EQ(gw.container, "gateway");
  EXPECT_DOUBLE_EQ(gw.slo_p99_seconds, 0.3);
  EXPECT_EQ(gw.replica_policy, "queue_sizing");
  EXPECT_FALSE(gw.budget_group);
  ASSERT_EQ(f.budget_groups.size(), 1u);
  EXPECT_EQ(f.budget_groups[0].extra_pods, 16);
  EXPECT_DOUBLE_EQ(f.defaults.slo_p99_seconds, 0.3);
}

TEST(WorkloadFileTest, ReadsJson) {
  std::vector<std::string> problems;
  const WorkloadFile f = ParseWorkloadFile(
      R"({"workloads": [{"namespace": "hotel", "workload": "search", "slo_p99": "150ms",
                         "max_replicas": 8}]})",
      &problems);
  ASSERT_THAT(problems, IsEmpty());
  ASSERT_EQ(f.workloads.size(), 1u);
  EXPECT_DOUBLE_EQ(f.workloads[0].slo_p99_seconds, 0.15);
  EXPECT_EQ(f.workloads[0].max_replicas, 8);
}

TEST(WorkloadFileTest, ListsEveryProblem) {
  std::vector<std::string> problems;
  ParseWorkloadFile(R"(
budget_groups:
  - {name: a, extra_pods: -1}
  - {name: a}
workloads:
  - namespace: Shop_1
    workload: cart
    slo_p99: fast
    min_replicas: 0
    max_replicas: 1.5
    min_cpu: 2
    max_cpu: 1
    replica_policy: magic
    cpu_policy: queue_balancing
    budget_group: nope
    colour: blue
  - namespace: shop
  - namespace: shop
    workload: cart
    services: [cart]
  - namespace: shop
    workload: cart
  - namespace: shop
    workload: cart2
    services: cart
extra: 1
)",
                    &problems);
  const std::vector<std::string> expected = {
      "extra: unknown top-level key",
      "budget_groups[0].extra_pods: must not be negative",
      "budget_groups[1].name: \"a\" is defined twice",
      "workloads[0].slo_p99: \"fast\" is neither seconds nor a duration",
      "workloads[0].max_replicas: \"1.5\" is not an integer",
      "workloads[0].colour: unknown setting",
      "workloads[0].namespace: \"Shop_1\" is not a Kubernetes name",
      "workloads[0].min_replicas: must be at least 1",
      "workloads[0].max_cpu: must not be below min_cpu",
      "workloads[0].replica_policy: \"magic\" is not one of queue_balancing, queue_sizing, hab, "
      "showar, hpa_cpu",
      "workloads[0].cpu_policy: \"queue_balancing\" is not one of throttle_target, showar, "
      "k8s_cpu, k8s_cpu_fast",
      "workloads[0].budget_group: \"nope\" is not in budget_groups",
      "workloads[1].workload: is required",
      "workloads[3]: shop/cart is listed twice",
      "workloads[4].services: service \"cart\" already belongs to shop/cart",
  };
  for (const std::string& e : expected) {
    EXPECT_THAT(problems, testing::Contains(HasSubstr(e))) << e;
  }
  EXPECT_EQ(problems.size(), expected.size()) << testing::PrintToString(problems);
}

TEST(WorkloadFileTest, ReadsSafetyOverrides) {
  std::vector<std::string> problems;
  const WorkloadFile f = ParseWorkloadFile(R"(
defaults:
  cpu_stabilization_window: 20s
workloads:
  - {namespace: shop, workload: cart, replica_stabilization_window: 60, replica_max_step: 0,
     cpu_max_step_factor: 1.5}
  - {namespace: shop, workload: bad, replica_stabilization_window: -1, replica_max_step: 1.5,
     cpu_max_step_factor: 1}
)",
                                           &problems);
  ASSERT_EQ(f.workloads.size(), 2u);
  const WorkloadConfig& cart = f.workloads[0];
  EXPECT_EQ(cart.replica_safety.stabilization_window, std::chrono::seconds{60});
  EXPECT_EQ(cart.replica_safety.max_step, 0);
  EXPECT_EQ(cart.cpu_safety.stabilization_window, std::chrono::seconds{20});  // from defaults
  EXPECT_EQ(cart.cpu_safety.max_step, 1.5);
  EXPECT_FALSE(f.defaults.replica_safety.max_step);  // unset: the policy's own
  const std::vector<std::string> expected = {
      "workloads[1].replica_stabilization_window: must not be negative",
      "workloads[1].replica_max_step: must be a whole number, 0 for no limit",
      "workloads[1].cpu_max_step_factor: must be above 1, or 0 for no limit",
  };
  EXPECT_EQ(problems, expected);
}

TEST(WorkloadFileTest, SyntaxErrorsSayWhere) {
  std::vector<std::string> problems;
  ParseWorkloadFile("workloads:\n  - namespace: [shop\n", &problems);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("line 3"));
  problems.clear();
  ParseWorkloadFile("- just\n- a list\n", &problems);
  EXPECT_THAT(problems, ElementsAre(HasSubstr("expected a mapping")));
  problems.clear();
  EXPECT_TRUE(ParseWorkloadFile("", &problems).workloads.empty());
  EXPECT_THAT(problems, IsEmpty());
}

TEST(RecommenderConfigTest, ValidatesFlagsAndReadsTheFile) {
  RecommenderConfig c;
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("no input"), HasSubstr("no workloads")));
  c.prometheus_url = "prometheus:9090";
  c.exporter_urls = {"http://a/metrics"};
  c.window = -std::chrono::seconds{1};
  c.log_level = "loud";
  c.discover = true;
  const std::vector<std::string> problems = c.Validate();
  EXPECT_THAT(problems, testing::Contains(HasSubstr("exclude each other")));
  EXPECT_THAT(problems, testing::Contains(HasSubstr("--prometheus.url must start with http")));
  EXPECT_THAT(problems, testing::Contains(HasSubstr("--model.window")));
  EXPECT_THAT(problems, testing::Contains(HasSubstr("--log.level")));

  RecommenderConfig ok;
  ok.exporter_urls = {"http://a/metrics"};
  const testing_support::ScopedTempDir dir("config_test");
  ok.config_file = dir.File("workloads.yaml");
  std::ofstream(ok.config_file) << kYaml;
  EXPECT_THAT(ok.Validate(), IsEmpty());
  EXPECT_THAT(ok.LoadWorkloads(), IsEmpty());
  EXPECT_EQ(ok.workloads.workloads.size(), 2u);
  EXPECT_EQ(ok.EffectiveInterval(), std::chrono::seconds{1});  // scraping: the fast path
  EXPECT_EQ(ok.EffectiveWindow(), std::chrono::seconds{5});
  EXPECT_EQ(ok.ToModelOptions().discovered_defaults.max_replicas, 30);
  std::filesystem::remove(ok.config_file);

  RecommenderConfig missing;
  missing.config_file = "/nonexistent/workloads.yaml";
  EXPECT_THAT(missing.LoadWorkloads(), ElementsAre(HasSubstr("cannot read /nonexistent")));
  missing.prometheus_url = "http://prometheus:9090";
  EXPECT_EQ(missing.EffectiveInterval(), std::chrono::seconds{15});
  EXPECT_EQ(missing.EffectiveWindow(), std::chrono::minutes{1});
}

TEST(WorkloadFileTest, ReadsResizeSettings) {
  std::vector<std::string> problems;
  WorkloadFile f = ParseWorkloadFile(R"(
defaults: {resize: limits}
workloads:
  - {namespace: shop, workload: cart}
  - {namespace: shop, workload: search, resize: both, pod_selector: "tier=search"}
)",
                                     &problems);
  ASSERT_THAT(problems, IsEmpty());
  EXPECT_EQ(f.workloads[0].resize, ResizeFields::kLimits);
  EXPECT_EQ(f.workloads[0].pod_selector, "");
  EXPECT_EQ(f.workloads[1].resize, ResizeFields::kBoth);
  EXPECT_EQ(f.workloads[1].pod_selector, "tier=search");
  ParseWorkloadFile(R"({"workloads": [{"namespace": "a", "workload": "b", "resize": "cpu"}]})",
                    &problems);
  EXPECT_THAT(problems, ElementsAre(HasSubstr("workloads[0].resize")));
}

TEST(RecommenderConfigTest, ActuatorFlags) {
  RecommenderConfig c;
  c.exporter_urls = {"http://a/metrics"};
  c.discover = true;
  c.actuate.leader_elect = true;
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("--leader-elect needs")));
  c.actuate.vpa = true;
  if (std::getenv("KUBERNETES_SERVICE_HOST") == nullptr) {
    EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("need --kubernetes.api-url")));
  }
  c.actuate.resize = true;
  c.actuate.resize_hysteresis = 1;
  c.actuate.resize_rate = 0;
  c.actuate.kube.api_url = "localhost:6443";
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("--kubernetes.resize-hysteresis"),
                                        HasSubstr("--kubernetes.resize-rate"),
                                        HasSubstr("--kubernetes.api-url")));
  c.actuate.resize_hysteresis = 0.1;
  c.actuate.resize_rate = 5;
  c.actuate.kube.api_url = "https://localhost:6443";
  EXPECT_THAT(c.Validate(), IsEmpty());
}

TEST(RecommenderConfigTest, InputLimitFlags) {
  RecommenderConfig c;
  c.exporter_urls = {"http://a/metrics"};
  c.discover = true;
  EXPECT_THAT(c.Validate(), IsEmpty());
  EXPECT_EQ(c.ToScrapeOptions().max_series, 200'000u);
  EXPECT_EQ(c.ToScrapeOptions().max_counter_rate, 1e7);
  c.exporter_max_series = 500;
  c.max_counter_rate = 1e6;
  const input::ScrapeOptions o = c.ToScrapeOptions();
  EXPECT_EQ(o.max_series, 500u);
  EXPECT_EQ(o.max_counter_rate, 1e6);
  EXPECT_EQ(o.window, c.EffectiveWindow());
  c.exporter_max_series = 0;
  c.max_counter_rate = std::numeric_limits<double>::infinity();
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("--exporter.max-series"),
                                        HasSubstr("--input.max-counter-rate")));
}

TEST(RecommenderConfigTest, ExternalMetricsApiFlags) {
  RecommenderConfig c;
  c.exporter_urls = {"http://a/metrics"};
  c.discover = true;
  EXPECT_THAT(c.Validate(), IsEmpty());  // off by default
  c.apiserver_listen_address = ":6443";
  c.tls_cert_file = "/tls/tls.crt";
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("needs --tls.cert-file, --tls.key-file and "
                                                  "--requestheader.client-ca-file")));
  c.tls_key_file = "/tls/tls.key";
  c.requestheader_client_ca_file = "/ca/requestheader-client-ca-file";
  EXPECT_THAT(c.Validate(), IsEmpty());
  EXPECT_THAT(c.AllowedNames(), IsEmpty());
  c.requestheader_allowed_names = "front-proxy-client, aggregator,,";
  EXPECT_THAT(c.AllowedNames(), ElementsAre("front-proxy-client", "aggregator"));
  c.apiserver_listen_address.clear();
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("only apply with --apiserver.listen-address")));
}

TEST(RecommenderConfigTest, KedaGrpcFlags) {
  RecommenderConfig c;
  c.exporter_urls = {"http://a/metrics"};
  c.discover = true;
  c.grpc_tls_cert_file = "/tls/tls.crt";
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("only apply with --grpc.listen-address"),
                                        HasSubstr("go together")));
  c.grpc_listen_address = ":9098";
  c.grpc_tls_key_file = "/tls/tls.key";
  EXPECT_THAT(c.Validate(), IsEmpty());
  c.grpc_tls_require_client_cert = true;
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("needs --grpc.tls-client-ca-file")));
  c.grpc_tls_client_ca_file = "/tls/ca.crt";
  c.grpc_max_streams = 0;
  EXPECT_THAT(c.Validate(), ElementsAre(HasSubstr("--grpc.max-streams")));
  c.grpc_max_streams = 5;
  EXPECT_THAT(c.Validate(), IsEmpty());
  const output::KedaGrpcOptions o = c.ToKedaGrpcOptions();
  EXPECT_EQ(o.max_streams, 5);
  EXPECT_TRUE(o.require_client_cert);
  EXPECT_EQ(o.max_age, c.staleness + 2 * c.EffectiveInterval());
}

}  // namespace
}  // namespace recommender
