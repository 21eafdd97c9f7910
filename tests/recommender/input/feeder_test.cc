#include "recommender/input/feeder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

namespace recommender::input {
namespace {

using std::chrono::seconds;

const common::TimePoint kT0{seconds{1'700'000'000}};

WorkloadConfig Workload(std::string ns, std::string name, std::vector<std::string> services,
                        std::string container) {
  WorkloadConfig c;
  c.key = {std::move(ns), std::move(name)};
  c.services = std::move(services);
  c.container = std::move(container);
  return c;
}

ServiceObservation Service(std::string ns, std::string name, double rate, double inflight,
                           double p99) {
  ServiceObservation s;
  s.k8s_namespace = std::move(ns);
  s.service = std::move(name);
  s.at = kT0;
  s.request_rate = rate;
  s.inflight = inflight;
  s.busy = inflight / 2;
  s.queue_length = 1;
  s.p99_seconds = p99;
  s.instances = {s.service + "-0"};
  return s;
}

ContainerObservation Container(std::string pod, std::string container, double usage) {
  ContainerObservation c;
  c.k8s_namespace = "shop";
  c.pod = std::move(pod);
  c.container = std::move(container);
  c.at = kT0;
  c.cpu_usage_cores = usage;
  c.cpu_usage_now_cores = usage;
  c.periods_rate = 10;
  c.throttled_periods_rate = usage;  // so the ratio tells which containers were summed
  c.runqueue_wait_rate = 0.01;
  c.timeslice_rate = 100;
  c.cpu_limit_cores = 1;
  return c;
}

model::ModelOptions Options(bool discover = false) {
  model::ModelOptions o;
  o.interval = seconds{1};
  o.discover = discover;
  return o;
}

TEST(FeederTest, SumsAServiceSetAndItsPodsOntoTheWorkload) {
  model::Model m({Workload("shop", "checkout", {"checkout-api", "checkout-worker"}, "app")},
                 Options());
  Observations obs;
  obs.services = {Service("shop", "checkout-api", 10, 2, 0.3),
                  Service("", "checkout-worker", 5, 1, 0.5),     // spans without a namespace
                  Service("other", "checkout-api", 99, 99, 9)};  // another namespace's service
  obs.containers = {Container("checkout-5d9f8-x7k2q", "app", 1),
                    Container("checkout-5d9f8-p2m4n", "app", 3),
                    Container("checkout-5d9f8-p2m4n", "istio-proxy", 5),  // not the sized one
                    Container("checkoutv2-5d9f8-p2m4n", "app", 7)};       // another workload
  EXPECT_EQ(Feeder::Apply(obs, m, kT0), 1u);

  const model::WorkloadSignals s = m.Signals(kT0).front();
  EXPECT_EQ(s.observed_at, kT0);
  EXPECT_DOUBLE_EQ(s.request_rate, 15);
  EXPECT_DOUBLE_EQ(s.inflight, 3);
  EXPECT_DOUBLE_EQ(s.mean_latency_seconds, 0.2);    // Little: 3 / 15
  EXPECT_DOUBLE_EQ(s.mean_exclusive_seconds, 0.1);  // 1.5 / 15
  EXPECT_DOUBLE_EQ(s.queue_length, 2);
  EXPECT_DOUBLE_EQ(s.p99_latency_seconds, 0.5);  // max, quantiles do not add
  EXPECT_DOUBLE_EQ(s.cpu_usage_cores, 4);
  EXPECT_DOUBLE_EQ(s.throttled_ratio, 4.0 / 20);
  EXPECT_DOUBLE_EQ(s.runqueue_wait_per_timeslice_seconds, 0.02 / 200);
  EXPECT_DOUBLE_EQ(s.cpu_limit_cores, 1);
  EXPECT_DOUBLE_EQ(s.current_replicas, 2);  // pods seen, without kube-state-metrics
  ASSERT_EQ(s.cpu_usage_history.size(), 1u);
  EXPECT_DOUBLE_EQ(s.cpu_usage_history[0], 2);  // per pod
}

TEST(FeederTest, JoinsInstancesWithTheirPodsContainers) {
  model::Model m({Workload("shop", "cart", {"cart"}, "cart")}, Options());
  Observations obs;
  ServiceObservation svc = Service("shop", "cart", 30, 3, 0.1);
  svc.instance_rates = {
      {.instance = "cart-5d9f8-aaaaa", .request_rate = 20, .duration_rate = 2, .exclusive_rate = 1},
      {.instance = "cart-5d9f8-bbbbb",
       .request_rate = 10,
       .duration_rate = 1,
       .exclusive_rate = 0.2}};
  obs.services = {svc};
  ContainerObservation a = Container("cart-5d9f8-aaaaa", "cart", 2);
  a.interference_ratio = 0.4;
  a.cpu_pressure_rate = 0.3;
  ContainerObservation idle = Container("cart-5d9f8-ccccc", "cart", 0.1);  // no spans: no load
  obs.containers = {a, Container("cart-5d9f8-aaaaa", "istio-proxy", 9), idle};
  Feeder::Apply(obs, m, kT0);
  const model::WorkloadSignals s = m.Signals(kT0).front();
  ASSERT_EQ(s.instances.size(), 2u);
  const model::InstanceSignals& ia = s.instances[0];
  EXPECT_EQ(ia.instance, "cart-5d9f8-aaaaa");
  EXPECT_DOUBLE_EQ(ia.request_rate, 20);
  EXPECT_DOUBLE_EQ(ia.mean_latency_seconds, 0.1);
  EXPECT_DOUBLE_EQ(ia.mean_exclusive_seconds, 0.05);
  EXPECT_DOUBLE_EQ(ia.interference_ratio, 0.4);
  EXPECT_DOUBLE_EQ(ia.cpu_pressure_ratio, 0.3);
  EXPECT_DOUBLE_EQ(ia.throttled_ratio, 2.0 / 10);  // the sized container only
  EXPECT_DOUBLE_EQ(ia.runqueue_wait_per_timeslice_seconds, 0.01 / 100);
  const model::InstanceSignals& ib = s.instances[1];
  EXPECT_DOUBLE_EQ(ib.mean_exclusive_seconds, 0.02);
  EXPECT_TRUE(std::isnan(ib.interference_ratio));  // no kernel view of that pod
  // Past the staleness limit the instances are gone with the other values.
  EXPECT_TRUE(m.Signals(kT0 + std::chrono::hours{1}).front().instances.empty());
}

TEST(FeederTest, KubeStateMetricsWinForReplicasAndTheCpuRequest) {
  model::Model m({Workload("shop", "cart", {"cart"}, "cart")}, Options());
  Observations obs;
  obs.services = {Service("shop", "cart", 1, 1, 0.1)};
  ContainerObservation c = Container("cart-0", "cart", 0.5);  // a StatefulSet pod
  c.cpu_request_cores = 0.25;
  obs.containers = {c};
  obs.deployments = {{.k8s_namespace = "shop",
                      .deployment = "cart",
                      .at = kT0,
                      .replicas = 4,
                      .ready_replicas = 3}};
  Feeder::Apply(obs, m, kT0);
  const model::WorkloadSignals s = m.Signals(kT0).front();
  EXPECT_EQ(s.current_replicas, 4);
  EXPECT_EQ(s.ready_replicas, 3);
  EXPECT_EQ(s.cpu_request_cores, 0.25);
}

TEST(FeederTest, WithoutPodsTheInstancesServingCountAsReplicas) {
  model::Model m({Workload("shop", "cart", {"cart"}, "cart")}, Options());
  Observations obs;
  ServiceObservation s = Service("shop", "cart", 1, 1, 0.1);
  s.instances = {"cart-0", "cart-1", "cart-2"};
  obs.services = {s};
  Feeder::Apply(obs, m, kT0);
  EXPECT_EQ(m.Signals(kT0).front().current_replicas, 3);
}

TEST(FeederTest, DiscoversServicesAsWorkloads) {
  model::Model m({Workload("shop", "cart", {"cart"}, "cart")}, Options(/*discover=*/true));
  Observations obs;
  obs.services = {Service("shop", "cart", 1, 1, 0.1), Service("hotel", "search", 2, 1, 0.1),
                  Service("", "legacy", 3, 1, 0.1)};
  obs.containers = {Container("search-7c8d9-abcde", "search", 1)};
  obs.containers.back().k8s_namespace = "hotel";
  EXPECT_EQ(Feeder::Apply(obs, m, kT0), 3u);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.configs()[1].key, (model::WorkloadKey{"hotel", "search"}));
  EXPECT_EQ(m.configs()[1].container, "search");
  EXPECT_TRUE(m.discovered(1));
  EXPECT_EQ(m.configs()[2].key, (model::WorkloadKey{"default", "legacy"}));
  const auto signals = m.Signals(kT0);
  EXPECT_EQ(signals[1].request_rate, 2);
  EXPECT_EQ(signals[1].cpu_usage_cores, 1);
}

class FailingSource final : public Source {
 public:
  std::string_view Name() const override { return "failing"; }
  FetchResult Fetch(common::TimePoint) override {
    FetchResult r;
    r.errors.push_back({"http://x", "fetch", "Connection refused"});
    r.malformed_lines = 3;
    return r;
  }
};

TEST(FeederTest, AnInvalidObservationHoldsItsWorkloadOnly) {
  model::Model m(
      {Workload("shop", "cart", {"cart"}, "cart"), Workload("shop", "web", {"web"}, "web")},
      Options());
  Observations obs;
  obs.services = {Service("shop", "cart", 10, 2, 0.3), Service("shop", "web", 10, 2, 0.3)};
  EXPECT_EQ(Feeder::Apply(obs, m, kT0), 2u);
  obs.services[0].request_rate = 1e6;
  obs.services[0].invalid = Invalid::kCounterIncrease;
  obs.services[1].request_rate = 20;
  obs.containers = {Container("web-5d9f8-x7k2q", "web", 1)};
  obs.containers[0].invalid = Invalid::kGaugeNonFinite;  // web's pod: web is held too
  size_t invalid = 0;
  EXPECT_EQ(Feeder::Apply(obs, m, kT0 + seconds{1}, &invalid), 0u);
  EXPECT_EQ(invalid, 2u);
  obs.containers.clear();
  EXPECT_EQ(Feeder::Apply(obs, m, kT0 + seconds{2}, &invalid), 1u);
  EXPECT_EQ(invalid, 1u);
  const std::vector<model::WorkloadSignals> s = m.Signals(kT0 + seconds{2});
  EXPECT_EQ(s[0].invalid_input, "counter_implausible_increase");
  EXPECT_EQ(s[0].request_rate, 10);  // the refused 1e6 was not recorded
  EXPECT_EQ(s[1].invalid_input, "");
  EXPECT_EQ(s[1].request_rate, 20);
}

TEST(FeederTest, ReportsWhatTheSourceReported) {
  model::Model m({Workload("shop", "cart", {"cart"}, "cart")}, Options());
  Feeder feeder(std::make_unique<FailingSource>());
  const FeedReport r = feeder.LoadInto(m, kT0);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.malformed_lines, 3u);
  EXPECT_EQ(r.workloads_updated, 0u);
  EXPECT_TRUE(std::isnan(m.Signals(kT0).front().request_rate));
}

}  // namespace
}  // namespace recommender::input
