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
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const common::TimePoint kT0{seconds{1'700'000'000}};
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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

// Rounds at 1 s steps of one raw series "a" feeding aggregate "svc"; returns what each said.
std::vector<Invalid> Feed(CounterTracker& t, int first_round, const std::vector<double>& values) {
  std::vector<Invalid> out;
  for (size_t i = 0; i < values.size(); ++i) {
    t.BeginRound(kT0 + seconds{first_round + static_cast<int>(i)});
    std::optional<Invalid> r = t.Observe("a", values[i]);
    if (!r) r = t.Track("a", "svc", values[i]);
    out.push_back(*r);
    t.EndRound();
  }
  return out;
}

TEST(CounterTrackerTest, AHugeValueIsRefusedAndNormalDataResumesFromTheLastCountedValue) {
  CounterTracker t(seconds{5});
  // 10/s, then one scrape with the counter ×1e300, then 10/s again from where it was.
  const std::vector<Invalid> said = Feed(t, 0, {1000, 1010, 1020, 1.03e303, 1040, 1050, 1060});
  EXPECT_EQ(said[3], Invalid::kCounterTooLarge);
  for (size_t i : {0, 1, 2, 4, 5, 6}) EXPECT_EQ(said[i], Invalid::kNone) << i;
  EXPECT_DOUBLE_EQ(*t.Rate("svc"), 10);
  EXPECT_DOUBLE_EQ(*t.LastRate("svc"), 10);
  // The refused round's rise came with the next value: nothing was lost or invented.
  EXPECT_DOUBLE_EQ(*t.Increase("svc"), 50);
}

TEST(CounterTrackerTest, NonFiniteAndNegativeValuesAreRefused) {
  CounterTracker t(seconds{10});
  const std::vector<Invalid> said = Feed(t, 0, {100, kNaN, kInf, -kInf, -50, 150});
  EXPECT_EQ(said[1], Invalid::kCounterNonFinite);
  EXPECT_EQ(said[2], Invalid::kCounterNonFinite);
  EXPECT_EQ(said[3], Invalid::kCounterNonFinite);
  EXPECT_EQ(said[4], Invalid::kCounterNegative);
  EXPECT_EQ(said[5], Invalid::kNone);
  // 100 → 150 over 5 s: the negative value was not read as a reset to 0 and a rise of 150.
  EXPECT_DOUBLE_EQ(*t.Increase("svc"), 50);
  EXPECT_DOUBLE_EQ(*t.Rate("svc"), 10);
  // A new series that starts out bad is not tracked at all.
  t.BeginRound(kT0 + seconds{6});
  EXPECT_FALSE(t.Observe("b", kNaN));
  EXPECT_EQ(t.Track("b", "other", kNaN), Invalid::kCounterNonFinite);
  EXPECT_EQ(t.Track("c", "other", -1), Invalid::kCounterNegative);
  t.EndRound();
  EXPECT_EQ(t.raw_series(), 1u);
}

TEST(CounterTrackerTest, ADecreaseIsAResetNotAnError) {
  CounterTracker t(seconds{60});
  const std::vector<Invalid> said = Feed(t, 0, {5000, 5100, 40, 140});  // restart after 5100
  EXPECT_THAT(said, Each(Invalid::kNone));
  EXPECT_DOUBLE_EQ(*t.Increase("svc"), 100 + 40 + 100);
}

TEST(CounterTrackerTest, ARiseAboveTheRateBoundIsRefused) {
  CounterTracker t(seconds{60}, /*max_rate=*/1000);
  // A blip: +1e6 in 1 s, then back on track. Only the regular +10/s counts.
  std::vector<Invalid> said = Feed(t, 0, {100, 110, 1e6, 130, 140});
  EXPECT_EQ(said[2], Invalid::kCounterIncrease);
  EXPECT_DOUBLE_EQ(*t.Increase("svc"), 40);
  // A reset to more than the bound allows since the last count is refused as well.
  said = Feed(t, 5, {5000});
  EXPECT_EQ(said[0], Invalid::kCounterIncrease);
  // A jump that stays: once the next value rises plausibly from the new level, only that rise
  // counts, not the jump.
  CounterTracker u(seconds{60}, 1000);
  said = Feed(u, 0, {100, 110, 1e7, 1e7 + 10, 1e7 + 20});
  EXPECT_EQ(said[2], Invalid::kCounterIncrease);
  EXPECT_EQ(said[3], Invalid::kNone);
  EXPECT_DOUBLE_EQ(*u.Increase("svc"), 10 + 10 + 10);
}

TEST(CounterTrackerTest, ALargeRiseLeavesTheWindowAndSwallowsNoLaterRise) {
  // Series a rises by 8e15 once (plausible under this bound), series b by 0.25/s throughout.
  // A running total of the aggregate would sit at 8e15, where doubles are 1 apart, and lose
  // every later 0.25; per-round rises keep them, and the big one leaves with the window.
  CounterTracker t(seconds{5}, 1e16);
  for (int i = 0; i <= 12; ++i) {
    t.BeginRound(kT0 + seconds{i});
    const double a = i < 2 ? 0 : 8e15;
    const double b = 0.25 * i;
    if (!t.Observe("a", a)) t.Track("a", "svc", a);
    if (!t.Observe("b", b)) t.Track("b", "svc", b);
    t.EndRound();
    if (i == 2) {
      EXPECT_GT(*t.Rate("svc"), 1e15);
    }
  }
  EXPECT_DOUBLE_EQ(*t.Rate("svc"), 0.25);
  EXPECT_DOUBLE_EQ(*t.LastRate("svc"), 0.25);
}

TEST(CounterTrackerTest, ASeriesRefusedForAWholeWindowLeavesItsSiblingsCounted) {
  CounterTracker t(seconds{5});
  // a turns NaN for good at round 3; b keeps rising 2/s. The aggregate gets no point while a is
  // refused, then a leaves the window and b's rises are all that count.
  for (int i = 0; i < 20; ++i) {
    t.BeginRound(kT0 + seconds{i});
    const double a = i < 3 ? 10.0 * i : kNaN;
    if (!t.Observe("a", a)) t.Track("a", "svc", a);
    if (!t.Observe("b", 2.0 * i)) t.Track("b", "svc", 2.0 * i);
    t.EndRound();
  }
  EXPECT_EQ(t.raw_series(), 1u);
  EXPECT_EQ(t.aggregates(), 1u);
  EXPECT_DOUBLE_EQ(*t.Rate("svc"), 2);
}

TEST(CounterTrackerTest, GivesBackTableSpaceWhenSeriesGoAway) {
  CounterTracker t(seconds{2});
  t.BeginRound(kT0);
  for (int i = 0; i < 100'000; ++i) t.Track("raw" + std::to_string(i), "svc", 1);
  t.EndRound();
  const size_t grown = t.raw_buckets();
  EXPECT_GE(grown, 100'000u);
  for (int i = 1; i <= 4; ++i) Feed(t, i, {1 + 1.0 * i});
  EXPECT_EQ(t.raw_series(), 1u);
  EXPECT_LT(t.raw_buckets(), grown / 100);
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
         "queuelens_requests_sampled_total{namespace=\"shop\",service=\"cart\"} " +
         std::to_string(requests / 10) +  // sampled at 10 %
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
  EXPECT_DOUBLE_EQ(s.sampled_requests, 5);  // the effective sample size: spans, not requests
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

TEST(ScrapeSourceTest, RefusedValuesMarkTheirObservationsAndAreCounted) {
  FakeTargets targets;
  const std::string a = "http://node-a:8470/metrics", b = "http://node-b:8470/metrics";
  const std::string ksm = "http://ksm:8080/metrics";
  ScrapeSource source({a, b, ksm}, targets.Get(), {.window = seconds{30}});
  targets.text[a] = SpanText(100, 10, 90, 10);
  targets.text[b] = KernelText(50, 1, 1000, 500, 50);
  targets.text[ksm] = kKsm;
  const FetchResult good = source.Fetch(kT0);
  EXPECT_THAT(good.invalid_values, Each(0u));

  // A NaN request counter, a negative CPU counter and a NaN replica count.
  targets.text[a] = SpanText(kNaN, 15, 130, 20);
  targets.text[b] = KernelText(-75, 1.5, 1500, 600, 80);
  std::string ksm_nan = kKsm;
  ksm_nan.replace(ksm_nan.find("} 3\n"), 4, "} NaN\n");
  targets.text[ksm] = ksm_nan;
  const FetchResult f = source.Fetch(kT0 + seconds{10});
  ASSERT_EQ(f.observations.services.size(), 1u);
  EXPECT_EQ(f.observations.services[0].invalid, Invalid::kCounterNonFinite);
  ASSERT_EQ(f.observations.containers.size(), 1u);
  EXPECT_EQ(f.observations.containers[0].invalid, Invalid::kCounterNegative);
  ASSERT_EQ(f.observations.deployments.size(), 1u);
  EXPECT_EQ(f.observations.deployments[0].invalid, Invalid::kGaugeNonFinite);
  const auto count = [&](Invalid r) { return f.invalid_values[static_cast<size_t>(r)]; };
  // requests_total and _count share a value in SpanText, but _count is not read.
  // requests_total, requests_sampled_total, the instance's counter.
  EXPECT_EQ(count(Invalid::kCounterNonFinite), 3u);
  EXPECT_EQ(count(Invalid::kCounterNegative), 1u);
  EXPECT_EQ(count(Invalid::kGaugeNonFinite), 1u);
  EXPECT_TRUE(f.errors.empty());  // values, not the inputs, were wrong
}

TEST(ScrapeSourceTest, ATargetWithTooManySeriesIsRefusedUnparsed) {
  FakeTargets targets;
  const std::string a = "http://node-a:8470/metrics", big = "http://big:8470/metrics";
  ScrapeSource source({a, big}, targets.Get(), {.max_series = 20});
  targets.text[a] = SpanText(100, 10, 90, 10);
  std::string text = "# TYPE queuelens_requests_total counter\n\n";
  for (int i = 0; i < 21; ++i) {
    text += "queuelens_requests_total{namespace=\"x\",service=\"s" + std::to_string(i) + "\"} 1\n";
  }
  targets.text[big] = text;
  const FetchResult f = source.Fetch(kT0);
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].input, big);
  EXPECT_EQ(f.errors[0].reason, "too_many_series");
  EXPECT_THAT(f.errors[0].message, HasSubstr("21 sample lines"));
  ASSERT_EQ(f.observations.services.size(), 1u);  // nothing of the big target was read
  EXPECT_EQ(f.observations.services[0].service, "cart");
  // At the limit, a target is read.
  text.resize(text.rfind("queuelens_requests_total"));
  targets.text[big] = text;
  EXPECT_TRUE(source.Fetch(kT0 + seconds{1}).errors.empty());
}

TEST(ScrapeSourceTest, ALargeAnswerIsParsedInSlicesAsOne) {
  FakeTargets targets;
  const std::string a = "http://node-a:8470/metrics";
  ScrapeSource source({a}, targets.Get(), {.window = seconds{30}});
  // Enough services that the text spans several parse slices, with a malformed line late in it.
  constexpr int kServices = 30'000;
  const auto page = [&](int round) {
    std::string text;
    for (int i = 0; i < kServices; ++i) {
      text += "queuelens_requests_total{namespace=\"x\",service=\"service-" + std::to_string(i) +
              "\",operation=\"op\"} " + std::to_string(100 + 7 * round) + "\n";
    }
    text += "not a sample\n";
    return text;
  };
  targets.text[a] = page(0);
  ASSERT_GT(targets.text[a].size(), 2 * kParseSliceBytes);
  source.Fetch(kT0);
  targets.text[a] = page(1);
  const FetchResult f = source.Fetch(kT0 + seconds{1});
  ASSERT_EQ(f.observations.services.size(), static_cast<size_t>(kServices));
  for (const ServiceObservation& s : f.observations.services) {
    ASSERT_DOUBLE_EQ(s.request_rate, 7) << s.service;
  }
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_THAT(f.errors[0].message, HasSubstr("first: line " + std::to_string(kServices + 1) + ":"));
}

TEST(ScrapeSourceTest, AFailedTargetHoldsWhatItFedInsteadOfAPartialSum) {
  FakeTargets targets;
  const std::string a = "http://node-a:8470/metrics", b = "http://node-b:8470/metrics";
  ScrapeSource source({a, b}, targets.Get(), {.window = seconds{30}});
  // Each node serves cart at 10 requests/s.
  const auto serve = [&](const std::string& url, int t) {
    targets.text[url] = SpanText(10.0 * t, 1.0 * t, 9.0 * t, 1.0 * t);
  };
  FetchResult f;
  for (int t = 0; t < 3; ++t) {
    serve(a, t);
    serve(b, t);
    f = source.Fetch(kT0 + seconds{t});
  }
  ASSERT_EQ(f.observations.services.size(), 1u);
  EXPECT_DOUBLE_EQ(f.observations.services[0].request_rate, 20);
  // node-b is down for two rounds: cart is held, not read as 10 requests/s.
  targets.text.erase(b);
  for (int t = 3; t < 5; ++t) {
    serve(a, t);
    f = source.Fetch(kT0 + seconds{t});
    ASSERT_EQ(f.observations.services.size(), 1u);
    EXPECT_EQ(f.observations.services[0].invalid, Invalid::kTargetFailed);
    EXPECT_EQ(f.invalid_values[static_cast<size_t>(Invalid::kTargetFailed)], 0u);  // an error
    ASSERT_EQ(f.errors.size(), 1u);
  }
  // Back: its rise over the outage lands in a point that spans the outage, so no spike.
  serve(a, 5);
  serve(b, 5);
  f = source.Fetch(kT0 + seconds{5});
  ASSERT_EQ(f.observations.services.size(), 1u);
  EXPECT_EQ(f.observations.services[0].invalid, Invalid::kNone);
  EXPECT_DOUBLE_EQ(f.observations.services[0].request_rate, 20);
}

TEST(ScrapeSourceTest, AFailedTargetIsForgottenAfterTheWindow) {
  FakeTargets targets;
  const std::string a = "http://node-a:8470/metrics", b = "http://node-b:8470/metrics";
  ScrapeSource source({a, b}, targets.Get(), {.window = seconds{5}});
  targets.text[a] = SpanText(1, 1, 1, 0);
  targets.text[b] = SpanText(1, 1, 1, 0);
  source.Fetch(kT0);
  targets.text.erase(b);
  FetchResult f = source.Fetch(kT0 + seconds{1});
  EXPECT_EQ(f.observations.services[0].invalid, Invalid::kTargetFailed);
  // Its series left the window: what the remaining targets send is all there is.
  f = source.Fetch(kT0 + seconds{7});
  EXPECT_EQ(f.observations.services[0].invalid, Invalid::kNone);
}

TEST(ScrapeSourceTest, CountsEachSeriesRightWhenATargetReordersOrReplacesItsSeries) {
  FakeTargets targets;
  const std::string a = "http://node-a:8470/metrics";
  ScrapeSource source({a}, targets.Get(), {.window = seconds{30}});
  auto text = [](double cart, double shop, std::string_view first, std::string_view second) {
    const std::string cart_line = "queuelens_requests_total{namespace=\"n\",service=\"" +
                                  std::string(first) + "\"} " + std::to_string(cart) + "\n";
    const std::string shop_line = "queuelens_requests_total{namespace=\"n\",service=\"" +
                                  std::string(second) + "\"} " + std::to_string(shop) + "\n";
    return cart_line + shop_line;
  };
  auto rates = [&](common::TimePoint t) {
    std::map<std::string, double> out;
    for (const ServiceObservation& s : source.Fetch(t).observations.services) {
      out[s.service] = s.request_rate;
    }
    return out;
  };
  targets.text[a] = text(100, 1000, "cart", "shop");
  rates(kT0);
  targets.text[a] = text(110, 1100, "cart", "shop");
  EXPECT_THAT(rates(kT0 + seconds{10}), UnorderedElementsAre(Pair("cart", 1), Pair("shop", 10)));
  // The same series in the other order: each value still goes to its own series.
  targets.text[a] = text(1200, 120, "shop", "cart");
  EXPECT_THAT(rates(kT0 + seconds{20}), UnorderedElementsAre(Pair("cart", 1), Pair("shop", 10)));
  // A new series where an old one was: it starts counting from its first value.
  targets.text[a] = text(1300, 5, "shop", "cache");
  const std::map<std::string, double> r = rates(kT0 + seconds{30});
  EXPECT_DOUBLE_EQ(r.at("shop"), 10);
  EXPECT_TRUE(std::isnan(r.at("cache")));
  targets.text[a] = text(1400, 25, "shop", "cache");
  EXPECT_DOUBLE_EQ(rates(kT0 + seconds{40}).at("cache"), 2);
}

TEST(CountSampleLinesTest, CountsSamplesNotBlanksOrComments) {
  EXPECT_EQ(CountSampleLines(""), 0u);
  EXPECT_EQ(CountSampleLines("# HELP a b\n# TYPE a counter\n\n  \n\t# x\na 1\nb 2"), 2u);
  EXPECT_EQ(CountSampleLines("a 1\r\n\r\n  b{x=\"#\"} 2\n"), 2u);
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
