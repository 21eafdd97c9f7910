#include "sim/workload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace sim {
namespace {

using ::testing::HasSubstr;

std::string Fixture(const std::string& path) { return std::string(QL_SOURCE_DIR "/") + path; }

TEST(WorkloadTest, ParsesTheThreeTraceFormats) {
  TraceParseResult at = ParseTrace("81\n82\r\n\n90\n", TraceFormat::kAutothrottle);
  ASSERT_EQ(at.error, "");
  EXPECT_EQ(at.trace.rates, (std::vector<double>{81, 82, 90}));
  EXPECT_DOUBLE_EQ(at.trace.step, 1);

  TraceParseResult ds = ParseTrace("25\n30\n", TraceFormat::kDeepScaler);
  ASSERT_EQ(ds.error, "");
  EXPECT_DOUBLE_EQ(ds.trace.step, 5);  // users held for 5 s
  EXPECT_DOUBLE_EQ(ds.trace.duration(), 10);

  TraceParseResult wiki = ParseTrace(",count\n0,400\n1,1800.5\n", TraceFormat::kWikiCsv);
  ASSERT_EQ(wiki.error, "");
  EXPECT_EQ(wiki.trace.rates, (std::vector<double>{400, 1800.5}));
}

TEST(WorkloadTest, ReportsTheBadLine) {
  EXPECT_THAT(ParseTrace("1\n2\nx\n", TraceFormat::kAutothrottle).error, HasSubstr("line 3"));
  EXPECT_THAT(ParseTrace("1\n-2\n", TraceFormat::kAutothrottle).error, HasSubstr("line 2"));
  EXPECT_THAT(ParseTrace(",count\n7\n", TraceFormat::kWikiCsv).error, HasSubstr("index,count"));
  EXPECT_EQ(ParseTrace("\n\n", TraceFormat::kAutothrottle).error, "no rates");
}

TEST(WorkloadTest, LoadsTheShippedTraces) {
  const RateTrace bursty = LoadTrace(Fixture("sim/traces/bursty.txt"), 10, 0);
  EXPECT_EQ(bursty.rates.size(), 3600u);
  EXPECT_NEAR(bursty.Mean(), 1633, 1);  // mean 163.3 req/s, x10 as Autothrottle runs hotel
  const RateTrace wiki = LoadTrace(Fixture("sim/traces/wiki.csv"), 1, 0);
  EXPECT_EQ(wiki.rates.size(), 3600u);
  const RateTrace users = LoadTrace(Fixture("tests/fixtures/sim/random-100max.req"), 1, 0);
  EXPECT_EQ(users.rates.size(), 903u);
  EXPECT_DOUBLE_EQ(users.duration(), 4515);
  EXPECT_THROW(LoadTrace(Fixture("sim/traces/missing.txt"), 1, 0), std::invalid_argument);
}

TEST(WorkloadTest, ConstantTraces) {
  const RateTrace app_rate = LoadTrace("constant", 10, 2000);
  EXPECT_EQ(app_rate.rates.size(), 3600u);
  EXPECT_DOUBLE_EQ(app_rate.rates[0], 2000);  // the multiplier applies to trace files only
  const RateTrace custom = LoadTrace("constant:50:2m", 10, 2000);
  EXPECT_EQ(custom.rates.size(), 120u);
  EXPECT_DOUBLE_EQ(custom.rates[119], 50);
  EXPECT_THROW(LoadTrace("constant:fast", 1, 1), std::invalid_argument);
}

TEST(WorkloadTest, WarmupRampsUpToTheFirstRate) {
  RateTrace t;
  t.rates = {2000, 1000};
  const RateTrace w = WithWarmup(t, 180);
  ASSERT_EQ(w.rates.size(), 182u);
  EXPECT_DOUBLE_EQ(w.rates[0], std::round(2000 * std::pow(1.1, -36)));  // x1.1 every 5 s
  EXPECT_DOUBLE_EQ(w.rates[175], std::round(2000 * std::pow(1.1, -1)));
  EXPECT_DOUBLE_EQ(w.rates[180], 2000);
  RateTrace small;
  small.rates = {3};
  EXPECT_DOUBLE_EQ(WithWarmup(small, 180).rates[0], 1);  // floored at 1
}

TEST(WorkloadTest, ArrivalsFollowTheRateAndTheMix) {
  RateTrace t;
  t.rates = {1000, 0, 3000};  // a silent second in the middle
  ArrivalProcess arrivals(t, {1, 3}, 9);
  int per_second[3] = {0, 0, 0};
  int type1 = 0, total = 0;
  double last = 0;
  for (auto a = arrivals.Next(); std::isfinite(a.time); a = arrivals.Next()) {
    ASSERT_GE(a.time, last);
    last = a.time;
    ++per_second[static_cast<int>(a.time)];
    type1 += a.type == 1 ? 1 : 0;
    ++total;
  }
  // Poisson counts: within 4 standard deviations.
  EXPECT_NEAR(per_second[0], 1000, 4 * std::sqrt(1000));
  EXPECT_EQ(per_second[1], 0);
  EXPECT_NEAR(per_second[2], 3000, 4 * std::sqrt(3000));
  EXPECT_NEAR(static_cast<double>(type1) / total, 0.75, 0.03);
}

TEST(WorkloadTest, SameSeedSameArrivals) {
  RateTrace t;
  t.rates = {500, 500};
  ArrivalProcess a(t, {1, 1}, 4), b(t, {1, 1}, 4), c(t, {1, 1}, 5);
  bool differs = false;
  for (int i = 0; i < 500; ++i) {
    const auto x = a.Next(), y = b.Next(), z = c.Next();
    EXPECT_EQ(x.time, y.time);
    EXPECT_EQ(x.type, y.type);
    EXPECT_EQ(x.seed, y.seed);
    differs |= x.time != z.time;
  }
  EXPECT_TRUE(differs);
}

}  // namespace
}  // namespace sim
