#include "recommender/input/scrape_source.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>

#include "recommender/input/histogram.h"

namespace recommender::input {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

const common::TimePoint kT0{seconds{1'700'000'000}};
constexpr double kInf = std::numeric_limits<double>::infinity();

// How ScrapeSource reports a sample: the aggregate is named only for a series not seen before.
void See(CounterTracker& t, std::string_view raw, std::string_view aggregate, double value) {
  if (!t.Observe(raw, value)) t.Track(raw, aggregate, value);
}

TEST(CounterTrackerTest, RatesOverTheWindowSumRawSeries) {
  CounterTracker t(seconds{10});
  for (int i = 0; i <= 3; ++i) {
    t.BeginRound(kT0 + seconds{i});
    See(t, "a", "svc", 100 + 10 * i);  // +10/s
    See(t, "b", "svc", 5 + 2 * i);     // +2/s
    t.EndRound();
  }
  EXPECT_DOUBLE_EQ(*t.Rate("svc"), 12);
  EXPECT_DOUBLE_EQ(*t.LastRate("svc"), 12);
  EXPECT_DOUBLE_EQ(*t.Increase("svc"), 36);
  EXPECT_FALSE(t.Rate("other"));
}

TEST(CounterTrackerTest, NeedsTwoRoundsAndIgnoresTheFirstValue) {
  CounterTracker t(seconds{10});
  t.BeginRound(kT0);
  See(t, "a", "svc", 1e6);  // accumulated before we watched: not an increase
  t.EndRound();
  EXPECT_FALSE(t.Rate("svc"));
  t.BeginRound(kT0 + seconds{2});
  See(t, "a", "svc", 1e6 + 4);
  t.EndRound();
  EXPECT_DOUBLE_EQ(*t.Rate("svc"), 2);
}

TEST(CounterTrackerTest, ResetsCountTheNewValueAndNeverGoNegative) {
  CounterTracker t(seconds{60});
  const double values[] = {100, 110, 3, 8};  // the exporter restarted between 110 and 3
  for (int i = 0; i < 4; ++i) {
    t.BeginRound(kT0 + seconds{i});
    See(t, "a", "svc", values[i]);
    t.EndRound();
  }
  EXPECT_DOUBLE_EQ(*t.Increase("svc"), 10 + 3 + 5);
}

TEST(CounterTrackerTest, AVanishingSeriesKeepsTheAggregateMonotonic) {
  CounterTracker t(seconds{60});
  t.BeginRound(kT0);
  See(t, "a", "svc", 50);
  See(t, "b", "svc", 50);
  t.EndRound();
  t.BeginRound(kT0 + seconds{1});
  See(t, "a", "svc", 60);  // b is gone (its exporter is down)
  t.EndRound();
  t.BeginRound(kT0 + seconds{2});
  See(t, "a", "svc", 70);
  See(t, "b", "svc", 55);  // and back
  t.EndRound();
  EXPECT_DOUBLE_EQ(*t.Increase("svc"), 10 + 10 + 5);
}

TEST(CounterTrackerTest, ForgetsWhatLeftTheWindow) {
  CounterTracker t(seconds{5});
  for (int i = 0; i < 20; ++i) {
    t.BeginRound(kT0 + seconds{i});
    See(t, "a", "svc", i < 10 ? 100.0 * i : 900.0 + (i - 9));  // fast, then 1/s
    t.EndRound();
  }
  EXPECT_DOUBLE_EQ(*t.Rate("svc"), 1);
  // An aggregate not seen for a whole window is dropped, and so is its raw series.
  for (int i = 20; i < 27; ++i) {
    t.BeginRound(kT0 + seconds{i});
    t.EndRound();
  }
  EXPECT_EQ(t.aggregates(), 0u);
  EXPECT_EQ(t.raw_series(), 0u);
}

TEST(HistogramQuantileTest, MatchesPromQL) {
  const std::vector<HistogramBucket> b = {{0.1, 10}, {0.2, 20}, {0.5, 40}, {kInf, 40}};
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.5, b), 0.2);     // rank 20: end of the second bucket
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.25, b), 0.1);    // rank 10
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.125, b), 0.05);  // halfway into [0, 0.1]
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.75, b), 0.35);   // rank 30: halfway into [0.2, 0.5]
  // Rank in the +Inf bucket: the highest finite bound.
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.99, {{0.1, 1}, {kInf, 100}}), 0.1);
  // Order does not matter; decreasing counts are raised.
  EXPECT_DOUBLE_EQ(HistogramQuantile(0.5, {{kInf, 40}, {0.5, 40}, {0.1, 10}, {0.2, 9}}), 0.3);
  EXPECT_TRUE(std::isnan(HistogramQuantile(0.5, {{0.1, 0}, {kInf, 0}})));
  EXPECT_TRUE(std::isnan(HistogramQuantile(0.5, {{0.1, 1}, {0.2, 2}})));  // no +Inf
  EXPECT_TRUE(std::isnan(HistogramQuantile(0.5, {})));
  EXPECT_EQ(HistogramQuantile(1.5, b), kInf);
  EXPECT_EQ(HistogramQuantile(-1, b), -kInf);
}

// Serves whatever text the test puts at each URL; a missing URL is refused.
class FakeTargets {
 public:
  std::map<std::string, std::string> text;
  common::HttpGet Get() {
    return [this](const std::string& url) {
      auto it = text.find(url);
      if (it == text.end()) return common::HttpResult{.error = "Connection refused"};
      return common::HttpResult{.status = 200, .body = it->second};
    };
  }
};

std::string SpanText(double requests, double duration_sum, double fast, double slow) {
  const std::string l = "namespace=\"shop\",service=\"cart\",operation=\"Get\"";
  return "# TYPE queuelens_requests_total counter\n"
         "queuelens_requests_total{" +
         l + "} " + std::to_string(requests) +
         "\n"
         "# TYPE queuelens_request_duration_seconds histogram\n"
         "queuelens_request_duration_seconds_bucket{" +
         l + ",le=\"0.1\"} " + std::to_string(fast) +
         "\n"
         "queuelens_request_duration_seconds_bucket{" +
         l + ",le=\"1\"} " + std::to_string(fast + slow) +
         "\n"
         "queuelens_request_duration_seconds_bucket{" +
         l + ",le=\"+Inf\"} " + std::to_string(fast + slow) +
         "\n"
         "queuelens_request_duration_seconds_sum{" +
         l + "} " + std::to_string(duration_sum) +
         "\n"
         "queuelens_request_duration_seconds_count{" +
         l + "} " + std::to_string(requests) +
         "\n"
         "queuelens_exclusive_duration_seconds_sum{" +
         l + "} " + std::to_string(duration_sum / 2) +
         "\n"
         "queuelens_queue_length{namespace=\"shop\",service=\"cart\"} 1.5\n"
         "queuelens_uncongested_service_time_seconds{namespace=\"shop\",service=\"cart\"} 0.01\n"
         "queuelens_instance_requests_total{namespace=\"shop\",service=\"cart\",instance=\"cart-"
         "0\"} " +
         std::to_string(requests) +
         "\n"
         "queuelens_instance_requests_total{namespace=\"shop\",service=\"cart\",instance=\"cart-"
         "old\"} 7\n";
}

std::string KernelText(double usage, double wait, double slices, double periods, double throttled) {
  const std::string l = "namespace=\"shop\",pod=\"cart-5d9f8-x7k2q\",container=\"cart\"";
  return "queuelens_container_cpu_usage_seconds_total{" + l + "} " + std::to_string(usage) +
         "\n"
         "queuelens_container_runqueue_wait_seconds_total{" +
         l + "} " + std::to_string(wait) +
         "\n"
         "queuelens_container_timeslices_total{" +
         l + "} " + std::to_string(slices) +
         "\n"
         "queuelens_container_cpu_periods_total{" +
         l + "} " + std::to_string(periods) +
         "\n"
         "queuelens_container_cpu_throttled_periods_total{" +
         l + "} " + std::to_string(throttled) +
         "\n"
         "queuelens_container_cpu_limit_cores{" +
         l +
         "} 0.5\n"
         "queuelens_container_interference_ratio{" +
         l +
         "} 0.25\n"
         "queuelens_container_recommended_cpu_cores{" +
         l + "} 0.75\n";
}

constexpr char kKsm[] =
    "kube_deployment_status_replicas{namespace=\"shop\",deployment=\"cart\"} 3\n"
    "kube_deployment_status_replicas_ready{namespace=\"shop\",deployment=\"cart\"} 2\n"
    "kube_pod_container_resource_requests{namespace=\"shop\",pod=\"cart-5d9f8-x7k2q\","
    "container=\"cart\",resource=\"cpu\",unit=\"core\"} 0.25\n"
    "kube_pod_container_resource_requests{namespace=\"shop\",pod=\"cart-5d9f8-x7k2q\","
    "container=\"cart\",resource=\"memory\",unit=\"byte\"} 1e9\n"
    "kube_pod_container_resource_limits{namespace=\"shop\",pod=\"cart-5d9f8-x7k2q\","
    "container=\"cart\",resource=\"cpu\",unit=\"core\"} 1\n";

TEST(ScrapeSourceTest, ComputesWhatTheQueriesComputeFromTwoScrapes) {
  FakeTargets targets;
  const std::string a = "http://node-a:8470/metrics", b = "http://node-b:8470/metrics";
  const std::string ksm = "http://ksm:8080/metrics";
  ScrapeSource source({a, b, ksm}, targets.Get(), {.window = seconds{30}});

  targets.text[a] = SpanText(100, 10, 90, 10);
  targets.text[b] = KernelText(50, 1, 1000, 500, 50);
  targets.text[ksm] = kKsm;
  FetchResult first = source.Fetch(kT0);
  EXPECT_TRUE(first.errors.empty());
  ASSERT_EQ(first.observations.services.size(), 1u);
  EXPECT_TRUE(std::isnan(first.observations.services[0].request_rate));  // one scrape: no rate

  // 10 s later: 50 more requests (40 fast, 10 slow), 5 s more in flight, 2.5 cores used.
  targets.text[a] = SpanText(150, 15, 130, 20);
  targets.text[b] = KernelText(75, 1.5, 1500, 600, 80);
  const FetchResult f = source.Fetch(kT0 + seconds{10});
  EXPECT_TRUE(f.errors.empty());
  ASSERT_EQ(f.observations.services.size(), 1u);
  const ServiceObservation& s = f.observations.services[0];
  EXPECT_EQ(s.k8s_namespace, "shop");
  EXPECT_EQ(s.at, kT0 + seconds{10});
  EXPECT_DOUBLE_EQ(s.request_rate, 5);
  EXPECT_DOUBLE_EQ(s.inflight, 0.5);
  EXPECT_DOUBLE_EQ(s.busy, 0.25);
  EXPECT_DOUBLE_EQ(s.queue_length, 1.5);
  EXPECT_DOUBLE_EQ(s.uncongested_seconds, 0.01);
  // 50 new requests: 40 ≤ 0.1 s, 10 in (0.1, 1]. p95 → rank 47.5: 7.5/10 into (0.1, 1].
  EXPECT_DOUBLE_EQ(s.p95_seconds, 0.1 + 0.9 * 0.75);
  EXPECT_THAT(s.instances, UnorderedElementsAre("cart-0"));  // cart-old served nothing new

  ASSERT_EQ(f.observations.containers.size(), 1u);
  const ContainerObservation& c = f.observations.containers[0];
  EXPECT_EQ(c.pod, "cart-5d9f8-x7k2q");
  EXPECT_DOUBLE_EQ(c.cpu_usage_cores, 2.5);
  EXPECT_DOUBLE_EQ(c.cpu_usage_now_cores, 2.5);
  EXPECT_DOUBLE_EQ(c.runqueue_wait_rate / c.timeslice_rate, 0.5 / 500);
  EXPECT_DOUBLE_EQ(c.throttled_periods_rate / c.periods_rate, 0.3);
  EXPECT_DOUBLE_EQ(c.cpu_limit_cores, 0.5);  // the cgroup's, not the spec's 1
  EXPECT_DOUBLE_EQ(c.cpu_request_cores, 0.25);
  EXPECT_DOUBLE_EQ(c.interference_ratio, 0.25);
  EXPECT_DOUBLE_EQ(c.recommended_cpu_cores, 0.75);

  ASSERT_EQ(f.observations.deployments.size(), 1u);
  EXPECT_EQ(f.observations.deployments[0].replicas, 3);
  EXPECT_EQ(f.observations.deployments[0].ready_replicas, 2);
}

TEST(ScrapeSourceTest, UnreachableAndMalformedTargetsAreReportedAndTheRestIsUsed) {
  FakeTargets targets;
  const std::string good = "http://good/metrics", down = "http://down/metrics";
  const std::string broken = "http://broken/metrics";
  ScrapeSource source({good, down, broken}, targets.Get(), {});
  targets.text[good] = SpanText(1, 1, 1, 0);
  targets.text[broken] = "garbage here\nqueuelens_queue_length{namespace=\"x\",service=\"y\"} 2\n";
  const FetchResult f = source.Fetch(kT0);
  ASSERT_EQ(f.errors.size(), 2u);
  EXPECT_EQ(f.errors[0].input, down);
  EXPECT_EQ(f.errors[0].reason, "fetch");
  EXPECT_THAT(f.errors[0].message, HasSubstr("Connection refused"));
  EXPECT_EQ(f.errors[1].input, broken);
  EXPECT_EQ(f.errors[1].reason, "parse");
  EXPECT_THAT(f.errors[1].message, HasSubstr("1 malformed line(s), first: line 1"));
  EXPECT_EQ(f.malformed_lines, 1u);
  // The broken target's gauge alone is not a request stream: only cart is observed.
  ASSERT_EQ(f.observations.services.size(), 1u);
  EXPECT_EQ(f.observations.services[0].service, "cart");
}

TEST(ScrapeSourceTest, AnHttpErrorIsAFetchError) {
  ScrapeSource source({"http://x/metrics"},
                      [](const std::string&) { return common::HttpResult{.status = 503}; }, {});
  const FetchResult f = source.Fetch(kT0);
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].message, "HTTP 503");
}

}  // namespace
}  // namespace recommender::input
