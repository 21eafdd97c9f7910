// The recorder's SLO verdicts against a brute-force sort of every latency.
#include "sim/recorder.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/random.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

// The nearest-rank percentile by sorting: the ⌈p·n/100⌉-th smallest, in integers.
double SortedPercentile(std::vector<double> values, int percent) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  const size_t rank = std::max<size_t>(1, (static_cast<size_t>(percent) * n + 99) / 100);
  return values[rank - 1];
}

TEST(NearestRankQuantileTest, MatchesASortForEverySizeAndPercentile) {
  Rng rng(7);
  for (size_t n : {1, 2, 3, 99, 100, 101, 199, 200, 1000, 12345}) {
    std::vector<double> values;
    for (size_t i = 0; i < n; ++i) values.push_back(rng.Exponential(0.05));
    for (int percent : {1, 50, 90, 99, 100}) {
      std::vector<double> copy = values;
      EXPECT_EQ(NearestRankQuantile(copy, percent / 100.0), SortedPercentile(values, percent))
          << "n " << n << " p" << percent;
    }
  }
}

TEST(NearestRankQuantileTest, IsAnObservedValueAtTheExactRank) {
  // 100 values 1…100: P99 is the 99th, not an interpolation towards 100.
  std::vector<double> values;
  for (int i = 100; i >= 1; --i) values.push_back(i);
  EXPECT_EQ(NearestRankQuantile(values, 0.99), 99);
  EXPECT_EQ(NearestRankQuantile(values, 0.5), 50);
  std::vector<double> empty;
  EXPECT_TRUE(std::isnan(NearestRankQuantile(empty, 0.99)));
}

// Hands every finished request to the recorder and keeps it for the brute-force check.
class Tee final : public RequestListener {
 public:
  explicit Tee(Recorder& recorder) : recorder_(recorder) {}
  void OnRequestDone(uint32_t type, double start, double end) override {
    recorder_.OnRequestDone(type, start, end);
    done.push_back({start, end - start});
  }
  struct Request {
    double start, latency;
  };
  std::vector<Request> done;

 private:
  Recorder& recorder_;
};

TEST(RecorderTest, VerdictsAreExactOrderStatisticsWithUnfinishedRequestsAtTheirAge) {
  // 2.4 cores of demand on one 1-core pod: the queue grows and requests are left unfinished.
  App app = testing::SingleServiceApp(
      64, 16, {.kind = Distribution::Kind::kExponential, .mean = 0.004, .cv = 0}, 1);
  app.slo_p99 = 0.5;
  const double warmup = 30, end = 150;  // the warm-up ends inside minute 0
  Simulation sim(app, testing::ConstantTrace(600, end), {.seed = 3, .emit_spans = false});
  Recorder recorder(sim, warmup, 10);
  Tee tee(recorder);
  sim.set_listener(&tee);
  for (int k = 1; k <= static_cast<int>(std::lround(end / kTick)); ++k) {
    sim.RunUntil(k * kTick);
    recorder.Tick(k * kTick);
  }
  recorder.AddUnfinished(end);
  std::vector<Tee::Request> all = tee.done;
  size_t unfinished = 0;
  sim.ForEachPendingRequest([&](uint32_t, double start) {
    all.push_back({start, end - start});
    ++unfinished;
  });
  ASSERT_GT(unfinished, 100u);

  std::vector<double> whole, finished;
  std::vector<std::vector<double>> minutes(3);
  for (const Tee::Request& r : all) minutes[static_cast<size_t>(r.start / 60)].push_back(r.latency);
  for (const Tee::Request& r : all) {
    if (r.start >= warmup) whole.push_back(r.latency);
  }
  for (const Tee::Request& r : tee.done) {
    if (r.start >= warmup) finished.push_back(r.latency);
  }

  const RunSummary s = recorder.Summary(end);
  EXPECT_EQ(s.requests, whole.size());
  EXPECT_EQ(s.p99, SortedPercentile(whole, 99));
  EXPECT_EQ(s.p50, SortedPercentile(whole, 50));
  // The unfinished requests move the P99 (here down: they are the young ones).
  EXPECT_NE(s.p99, SortedPercentile(finished, 99));
  EXPECT_FALSE(s.pass);

  const RunSeries series = recorder.Series();
  ASSERT_EQ(series.p99_minutes.size(), 3u);
  int violations = 0;
  for (size_t m = 0; m < 3; ++m) {
    const double p99 = SortedPercentile(minutes[m], 99);
    EXPECT_EQ(series.p99_minutes[m], p99) << "minute " << m;
    if (m == 1 && p99 > app.slo_p99) ++violations;
  }
  EXPECT_EQ(s.minutes, 1);  // minute 1 only: 0 holds the warm-up, 2 is cut at 150 s
  EXPECT_EQ(s.violation_minutes, violations);
}

TEST(RecorderTest, PassesExactlyAtTheSlo) {
  // 5 requests/s on an idle service. The verdict flips between an SLO at the P99 and the next
  // smaller double.
  App app = testing::SingleServiceApp(
      4, 4, {.kind = Distribution::Kind::kExponential, .mean = 0.01, .cv = 0});
  const double end = 600;
  auto run = [&](double slo) {
    app.slo_p99 = slo;
    Simulation sim(app, testing::ConstantTrace(5, end), {.seed = 9, .emit_spans = false});
    Recorder recorder(sim, 0, 10);
    sim.set_listener(&recorder);
    for (int k = 1; k <= static_cast<int>(std::lround(end / kTick)); ++k) {
      sim.RunUntil(k * kTick);
      recorder.Tick(k * kTick);
    }
    recorder.AddUnfinished(end);
    return recorder.Summary(end);
  };
  const double p99 = run(1).p99;
  EXPECT_TRUE(run(p99).pass);
  EXPECT_FALSE(run(std::nextafter(p99, 0.0)).pass);
}

}  // namespace
}  // namespace sim
