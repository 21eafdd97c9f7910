// Bad values through the real scrape path (ScrapeSource → Feeder → Model → policies → Combine):
// a refused value holds the workload's last good recommendation, marked stale, and good data
// afterwards gives back the recommendation the true load calls for.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <string>

#include "common/clock.h"
#include "prometheus/registry.h"
#include "recommender/input/prometheus_text.h"
#include "recommender/input/scrape_source.h"
#include "recommender/loop.h"
#include "recommender/output/keda_handler.h"
#include "recommender/output/status_page.h"
#include "tests/recommender/loop_fixture.h"
#include "tests/support/fake_clock.h"

namespace recommender {
namespace {

using ::testing::HasSubstr;

constexpr char kExporter[] = "http://node-a:8470/metrics";

// Shortest text that reads back as `v`.
std::string Num(double v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// How the simulated exporter writes its counters (and gauges) this scrape.
enum class Fault {
  kNone,
  kTimes1e300,
  kTimes1e6,
  kNaN,
  kInf,
  kNegative,
  kNaNGauges,
  kTooManySeries
};

// An exporter and kube-state-metrics in one page: shop/cart serves 300 requests/s on 3 pods,
// 30 in flight, each pod using 0.5 cores. Counters hold `seconds` of that load.
struct SimulatedExporter {
  double seconds = 0;  // of load behind the counters
  Fault fault = Fault::kNone;

  std::string Page() const {
    const auto counter = [&](double rate) {
      const double v = rate * seconds;
      switch (fault) {
        case Fault::kTimes1e300:
          return Num(v * 1e300);
        case Fault::kTimes1e6:
          return Num(v * 1e6);
        case Fault::kNaN:
          return std::string("NaN");
        case Fault::kInf:
          return std::string("+Inf");
        case Fault::kNegative:
          return Num(-v);
        default:
          return Num(v);
      }
    };
    const auto gauge = [&](double v) {
      return fault == Fault::kNaNGauges ? std::string("NaN") : Num(v);
    };
    const std::string svc = R"(namespace="shop",service="cart")";
    const std::string op = svc + R"(,operation="GET /cart")";
    std::string out;
    const auto line = [&](std::string_view name, const std::string& labels, std::string value) {
      out.append(name).append("{").append(labels).append("} ").append(value).append("\n");
    };
    line("queuelens_requests_total", op, counter(300));
    line("queuelens_request_duration_seconds_sum", op, counter(30));
    line("queuelens_exclusive_duration_seconds_sum", op, counter(15));
    line("queuelens_request_duration_seconds_bucket", op + R"(,le="0.05")", counter(100));
    line("queuelens_request_duration_seconds_bucket", op + R"(,le="0.25")", counter(290));
    line("queuelens_request_duration_seconds_bucket", op + R"(,le="+Inf")", counter(300));
    line("queuelens_queue_length", svc, gauge(2));
    line("queuelens_uncongested_service_time_seconds", svc, gauge(0.02));
    for (const char* pod : {"cart-5d9f8-aaaaa", "cart-5d9f8-bbbbb", "cart-5d9f8-ccccc"}) {
      line("queuelens_instance_requests_total", svc + R"(,instance=")" + pod + "\"", counter(100));
      const std::string c =
          std::string(R"(namespace="shop",pod=")") + pod + R"(",container="cart")";
      line("queuelens_container_cpu_usage_seconds_total", c, counter(0.5));
      line("queuelens_container_runqueue_wait_seconds_total", c, counter(0.001));
      line("queuelens_container_timeslices_total", c, counter(100));
      line("queuelens_container_cpu_periods_total", c, counter(10));
      line("queuelens_container_cpu_throttled_periods_total", c, counter(0.1));
      line("queuelens_container_cpu_limit_cores", c, gauge(1));
    }
    line("kube_deployment_status_replicas", R"(namespace="shop",deployment="cart")", gauge(3));
    line("kube_deployment_status_replicas_ready", R"(namespace="shop",deployment="cart")",
         gauge(3));
    if (fault == Fault::kTooManySeries) {
      for (int i = 0; i < 1000; ++i) line("padding", "i=\"" + std::to_string(i) + "\"", "1");
    }
    return out;
  }
};

class ValidityHarness {
 public:
  ValidityHarness() : exporter(std::make_shared<SimulatedExporter>()), metrics_(registry_) {
    WorkloadConfig cart;
    cart.key = {"shop", "cart"};
    cart.services = {"cart"};
    cart.container = "cart";
    cart.max_replicas = 50;
    model::ModelOptions mo;
    mo.interval = std::chrono::seconds{1};
    LoopOptions lo;
    // No stabilisation and no step limit: a wrong proposal shows at once in the output.
    lo.safety.replicas = {};
    input::ScrapeOptions so;
    so.window = std::chrono::seconds{5};
    so.max_series = 200;
    auto get = [page = exporter](const std::string& url) {
      return url == kExporter ? common::HttpResult{.status = 200, .body = page->Page()}
                              : common::HttpResult{.error = "Connection refused"};
    };
    loop = std::make_unique<RecommenderLoop>(input::Feeder(std::make_unique<input::ScrapeSource>(
                                                 std::vector<std::string>{kExporter}, get, so)),
                                             model::Model({cart}, mo), std::move(lo), metrics_,
                                             snapshots);
  }

  // Passes at 1 s steps, the exporter's counters following the load.
  void Run(int passes, Fault fault = Fault::kNone) {
    for (int i = 0; i < passes; ++i) {
      clock.Advance(std::chrono::seconds{1});
      exporter->seconds += 1;
      exporter->fault = fault;
      loop->RunOnce(clock.Now());
    }
  }

  const output::WorkloadView& Cart() const { return *snapshots.Get()->Find("shop", "cart"); }
  int Replicas() const { return Cart().recommendation.replicas.value_or(-1); }

  double Metric(const std::string& name, const input::Labels& labels) const {
    return RegistryMetric(registry_, name, labels);
  }
  double Invalid(const char* reason) const {
    return Metric("queuelens_recommender_input_invalid_values_total", {{"reason", reason}});
  }

  common::FakeClock clock;
  std::shared_ptr<SimulatedExporter> exporter;
  output::SnapshotHolder snapshots;
  std::unique_ptr<RecommenderLoop> loop;

 private:
  prometheus::Registry registry_;
  output::LoopMetrics metrics_;
};

// Runs to the steady recommendation of the true load and returns it.
int Settle(ValidityHarness& h) {
  h.Run(20);
  const int good = h.Replicas();
  h.Run(10);
  EXPECT_EQ(h.Replicas(), good);
  EXPECT_FALSE(h.Cart().recommendation.stale);
  // Above the minimum and below the maximum, so both a drop and a rise would show.
  EXPECT_GT(good, 1);
  EXPECT_LT(good, 50);
  return good;
}

// While inputs are refused: held at `good`, stale, and the outputs say so.
void ExpectHeld(const ValidityHarness& h, int good, std::string_view reason) {
  const output::WorkloadView& cart = h.Cart();
  EXPECT_EQ(h.Replicas(), good);
  EXPECT_TRUE(cart.recommendation.stale);
  EXPECT_EQ(cart.signals.invalid_input, reason);
  EXPECT_THAT(cart.recommendation.reason, HasSubstr("inputs invalid (" + std::string(reason)));
  EXPECT_THAT(output::RenderRecommendationJson(cart), HasSubstr("\"stale\":true"));
  EXPECT_THAT(output::RenderStatusPage(*h.snapshots.Get()),
              HasSubstr("stale: invalid input (" + std::string(reason) + ")"));
}

TEST(InputValidityTest, OneScrapeTimes1e300ThenNormalDataRecovers) {
  ValidityHarness h;
  const int good = Settle(h);
  const double cpu = *h.Cart().recommendation.cpu_cores;
  h.Run(1, Fault::kTimes1e300);
  ExpectHeld(h, good, "counter_too_large");
  EXPECT_GT(h.Invalid("counter_too_large"), 0);
  h.Run(1);
  EXPECT_FALSE(h.Cart().recommendation.stale);
  EXPECT_DOUBLE_EQ(h.Cart().signals.request_rate, 300);
  EXPECT_EQ(h.Replicas(), good);
  // Long after, with the window long past the bad scrape: still the true load's value.
  h.Run(400);
  EXPECT_FALSE(h.Cart().recommendation.stale);
  EXPECT_DOUBLE_EQ(h.Cart().signals.request_rate, 300);
  EXPECT_EQ(h.Replicas(), good);
  EXPECT_DOUBLE_EQ(*h.Cart().recommendation.cpu_cores, cpu);
}

TEST(InputValidityTest, AJumpAboveTheRateBoundThenNormalDataRecovers) {
  ValidityHarness h;
  const int good = Settle(h);
  // ×1e6 stays below 2^53 but rises far faster than --input.max-counter-rate allows.
  h.Run(2, Fault::kTimes1e6);
  ExpectHeld(h, good, "counter_implausible_increase");
  for (int i = 0; i < 30; ++i) {
    h.Run(1);
    ASSERT_FALSE(h.Cart().recommendation.stale) << i;
    ASSERT_DOUBLE_EQ(h.Cart().signals.request_rate, 300) << i;
    ASSERT_EQ(h.Replicas(), good) << i;
  }
}

TEST(InputValidityTest, NonFiniteCountersHoldAndNeverScaleDown) {
  for (const Fault fault : {Fault::kNaN, Fault::kInf}) {
    ValidityHarness h;
    const int good = Settle(h);
    for (int i = 0; i < 30; ++i) {
      h.Run(1, fault);
      ExpectHeld(h, good, "counter_non_finite");
    }
    EXPECT_GE(h.Invalid("counter_non_finite"), 30);
    h.Run(10);
    EXPECT_FALSE(h.Cart().recommendation.stale);
    EXPECT_EQ(h.Replicas(), good);
  }
}

TEST(InputValidityTest, NonFiniteGaugesHoldReplicasAndCpu) {
  ValidityHarness h;
  const int good = Settle(h);
  const double cpu = *h.Cart().recommendation.cpu_cores;
  for (int i = 0; i < 30; ++i) {
    h.Run(1, Fault::kNaNGauges);
    ExpectHeld(h, good, "gauge_non_finite");
    EXPECT_DOUBLE_EQ(*h.Cart().recommendation.cpu_cores, cpu);
  }
  EXPECT_GE(h.Invalid("gauge_non_finite"), 30);
}

TEST(InputValidityTest, NegativeCountersThenNormalDoNotScaleUp) {
  ValidityHarness h;
  const int good = Settle(h);
  h.Run(3, Fault::kNegative);
  ExpectHeld(h, good, "counter_negative");
  for (int i = 0; i < 30; ++i) {
    h.Run(1);
    ASSERT_EQ(h.Replicas(), good) << i;
    ASSERT_FALSE(h.Cart().recommendation.stale) << i;
  }
  EXPECT_GE(h.Invalid("counter_negative"), 3);
}

TEST(InputValidityTest, ACounterResetIsAReset) {
  ValidityHarness h;
  const int good = Settle(h);
  // The exporter restarts right after a scrape: its counters start again from 0.
  h.exporter->seconds = 0;
  for (int i = 0; i < 30; ++i) {
    h.Run(1);
    ASSERT_FALSE(h.Cart().recommendation.stale) << i;
    ASSERT_DOUBLE_EQ(h.Cart().signals.request_rate, 300) << i;
    ASSERT_EQ(h.Replicas(), good) << i;
  }
  for (const char* reason : {"counter_non_finite", "counter_negative", "counter_too_large",
                             "counter_implausible_increase"}) {
    EXPECT_EQ(h.Invalid(reason), 0) << reason;
  }
}

TEST(InputValidityTest, AnOversizedScrapeIsRefusedAndCounted) {
  ValidityHarness h;
  const int good = Settle(h);
  h.Run(1, Fault::kTooManySeries);
  EXPECT_EQ(h.Metric("queuelens_recommender_input_errors_total",
                     {{"input", kExporter}, {"reason", "too_many_series"}}),
            1);
  ASSERT_EQ(h.snapshots.Get()->input_errors.size(), 1u);
  EXPECT_THAT(h.snapshots.Get()->input_errors[0].message, HasSubstr("more than the limit of 200"));
  ExpectHeld(h, good, "target_failed");
  // Refused for longer than the window and the staleness limit: held and stale throughout.
  for (int i = 0; i < 90; ++i) {
    h.Run(1, Fault::kTooManySeries);
    ASSERT_TRUE(h.Cart().recommendation.stale) << i;
    ASSERT_EQ(h.Replicas(), good) << i;
  }
  h.Run(10);
  EXPECT_FALSE(h.Cart().recommendation.stale);
  EXPECT_EQ(h.Replicas(), good);
}

}  // namespace
}  // namespace recommender
