#include "recommender/model/model.h"

#include <gtest/gtest.h>

#include <cmath>

namespace recommender::model {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const common::TimePoint kT0{seconds{1'700'000'000}};

WorkloadConfig Workload(std::string ns, std::string name) {
  WorkloadConfig c;
  c.key = {std::move(ns), name};
  c.services = {name};
  c.container = name;
  return c;
}

WorkloadSample Sample(common::TimePoint at, double rate) {
  WorkloadSample x;
  x.at = at;
  x.request_rate = rate;
  x.inflight = rate / 10;
  x.cpu_usage_per_pod_now = rate / 100;
  return x;
}

TEST(ModelTest, ResolvesPodsByControllerNaming) {
  Model m({Workload("shop", "cart"), Workload("shop", "cart-api"), Workload("db", "redis")}, {});
  EXPECT_EQ(m.ResolvePod("shop", "cart-5d9f8b7c6-x7k2q"), 0u);      // Deployment
  EXPECT_EQ(m.ResolvePod("shop", "cart-api-5d9f8b7c6-x7k2q"), 1u);  // longest name wins
  EXPECT_EQ(m.ResolvePod("shop", "cart-api-x7k2q"), 1u);            // DaemonSet
  EXPECT_EQ(m.ResolvePod("db", "redis-0"), 2u);                     // StatefulSet
  EXPECT_FALSE(m.ResolvePod("shop", "redis-0"));                    // other namespace
  EXPECT_FALSE(m.ResolvePod("shop", "cart"));                       // no generated suffix
  EXPECT_FALSE(m.ResolvePod("shop", "cart-a-b-c"));                 // three segments
  EXPECT_FALSE(m.ResolvePod("shop", "cart-5D9F-x7k2q"));            // not generated
}

TEST(ModelTest, AnInvalidRoundRecordsNothingAndIsReportedUntilTheNextRecord) {
  ModelOptions o;
  o.interval = seconds{1};
  o.staleness = seconds{30};
  Model m({Workload("shop", "cart")}, o);
  m.Record(0, Sample(kT0, 10));
  m.MarkInvalid(0, "counter_negative", kT0 + seconds{1});
  WorkloadSignals s = m.Signals(kT0 + seconds{1}).front();
  EXPECT_EQ(s.invalid_input, "counter_negative");
  EXPECT_EQ(s.request_rate, 10);  // the last good values, untouched
  EXPECT_EQ(s.observed_at, kT0);
  // Past the staleness limit the inputs are simply too old.
  EXPECT_EQ(m.Signals(kT0 + seconds{32}).front().invalid_input, "");
  m.MarkInvalid(0, "gauge_non_finite", kT0 + seconds{2});
  m.Record(0, Sample(kT0 + seconds{3}, 20));
  s = m.Signals(kT0 + seconds{3}).front();
  EXPECT_EQ(s.invalid_input, "");
  EXPECT_EQ(s.request_rate, 20);
}

TEST(ModelTest, SignalsReadStaleSeriesAsMissing) {
  ModelOptions o;
  o.interval = seconds{1};
  o.staleness = seconds{30};
  Model m({Workload("shop", "cart")}, o);
  m.Record(0, Sample(kT0, 10));
  WorkloadSample kernel;
  kernel.at = kT0 + seconds{20};
  kernel.cpu_usage_cores = 2;
  m.Record(0, kernel);

  WorkloadSignals s = m.Signals(kT0 + seconds{25}).front();
  EXPECT_EQ(s.request_rate, 10);
  EXPECT_EQ(s.cpu_usage_cores, 2);
  EXPECT_EQ(s.observed_at, kT0 + seconds{20});

  s = m.Signals(kT0 + seconds{40}).front();  // the span view is 40 s old
  EXPECT_TRUE(std::isnan(s.request_rate));
  EXPECT_TRUE(std::isnan(s.mean_latency_seconds));
  EXPECT_EQ(s.cpu_usage_cores, 2);
  EXPECT_EQ(s.observed_at, kT0 + seconds{20});

  s = m.Signals(kT0 + minutes{5}).front();  // everything is old
  EXPECT_TRUE(std::isnan(s.cpu_usage_cores));
  EXPECT_EQ(s.observed_at, kT0 + seconds{20});  // how old, for the staleness decision
  EXPECT_TRUE(s.cpu_usage_history.empty());
}

TEST(ModelTest, CpuHistoryCoversTheHistoryWindow) {
  ModelOptions o;
  o.interval = seconds{1};
  o.history = seconds{10};
  Model m({Workload("shop", "cart")}, o);
  for (int i = 0; i < 30; ++i) m.Record(0, Sample(kT0 + seconds{i}, 100.0 * i));
  const WorkloadSignals s = m.Signals(kT0 + seconds{29}).front();
  ASSERT_EQ(s.cpu_usage_history.size(), 11u);  // t = 19..29
  EXPECT_EQ(s.cpu_usage_history.front(), 19);
  EXPECT_EQ(s.cpu_usage_history.back(), 29);
  EXPECT_EQ(s.cpu_usage_sample_interval, seconds{1});
}

TEST(ModelTest, DiscoveryIsCappedAndForgetsIdleWorkloads) {
  ModelOptions o;
  o.discover = true;
  o.max_discovered = 2;
  o.history = minutes{5};
  o.discovered_defaults.slo_p99_seconds = 0.2;
  Model m({Workload("shop", "cart")}, o);
  EXPECT_EQ(m.ResolveService("shop", "cart"), (std::vector<size_t>{0}));
  EXPECT_EQ(m.ResolveService("shop", "a"), (std::vector<size_t>{1}));
  EXPECT_EQ(m.ResolveService("", "b"), (std::vector<size_t>{2}));
  EXPECT_TRUE(m.ResolveService("shop", "c").empty());  // over the cap
  EXPECT_EQ(m.configs()[1].slo_p99_seconds, 0.2);
  EXPECT_EQ(m.configs()[2].key.k8s_namespace, "default");

  m.Record(1, Sample(kT0, 1));
  m.Record(2, Sample(kT0 + minutes{4}, 1));
  m.GarbageCollect(kT0 + minutes{6});
  ASSERT_EQ(m.size(), 2u);  // "a" was idle for 6 min; configured cart stays
  EXPECT_EQ(m.configs()[1].key.workload, "b");
  EXPECT_EQ(m.Find({"default", "b"}), 1u);
  EXPECT_FALSE(m.Find({"shop", "a"}));
  EXPECT_EQ(m.ResolveService("shop", "c"), (std::vector<size_t>{2}));  // room again
}

TEST(ModelTest, RestoreFindsOrRediscovers) {
  ModelOptions o;
  Model fixed({Workload("shop", "cart")}, o);
  EXPECT_EQ(fixed.Restore({"shop", "cart"}), 0u);
  EXPECT_FALSE(fixed.Restore({"shop", "gone"}));
  o.discover = true;
  Model discovering({}, o);
  EXPECT_EQ(discovering.Restore({"hotel", "search"}), 0u);
  EXPECT_EQ(discovering.ResolveService("hotel", "search"), (std::vector<size_t>{0}));
}

}  // namespace
}  // namespace recommender::model
