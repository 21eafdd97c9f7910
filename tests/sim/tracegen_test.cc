// Generated traces: deterministic per seed, readable as Autothrottle traces, shaped as documented.
#include "sim/tracegen.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

namespace sim {
namespace {

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

// Means over consecutive windows of `seconds`.
std::vector<double> WindowMeans(const std::vector<double>& rates, size_t seconds) {
  std::vector<double> out;
  for (size_t i = 0; i + seconds <= rates.size(); i += seconds) {
    double sum = 0;
    for (size_t k = i; k < i + seconds; ++k) sum += rates[k];
    out.push_back(sum / static_cast<double>(seconds));
  }
  return out;
}

constexpr TraceKind kKinds[] = {TraceKind::kDiurnal, TraceKind::kBursty, TraceKind::kSpiky,
                                TraceKind::kRamp};

TEST(TraceGenTest, SameSeedSameFileOtherSeedOtherFile) {
  for (TraceKind kind : kKinds) {
    const std::string a = FormatAutothrottleTrace(GenerateTrace(kind, 11, 30));
    EXPECT_EQ(a, FormatAutothrottleTrace(GenerateTrace(kind, 11, 30)));
    EXPECT_NE(a, FormatAutothrottleTrace(GenerateTrace(kind, 12, 30)));
    // The file reads back as the trace it was written from.
    const TraceParseResult back = ParseTrace(a, TraceFormat::kAutothrottle);
    ASSERT_EQ(back.error, "");
    EXPECT_EQ(back.trace.rates, GenerateTrace(kind, 11, 30).rates);
    EXPECT_EQ(back.trace.rates.size(), 30u * 60);
  }
  EXPECT_EQ(ParseTraceKind("spiky"), TraceKind::kSpiky);
  EXPECT_FALSE(ParseTraceKind("noisy"));
}

TEST(TraceGenTest, StatisticsOfEveryKindStayInTheirDocumentedRanges) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    for (TraceKind kind : kKinds) {
      const std::vector<double> r = GenerateTrace(kind, seed, 60).rates;
      const double mean = RateTrace{1, r}.Mean();
      const double median = Percentile(r, 0.5);
      const std::vector<double> minutes = WindowMeans(r, 60);
      const double minute_lo = *std::min_element(minutes.begin(), minutes.end());
      const double minute_hi = *std::max_element(minutes.begin(), minutes.end());
      const auto above = [&](double level) {
        return static_cast<double>(
                   std::count_if(r.begin(), r.end(), [&](double v) { return v > level; })) /
               static_cast<double>(r.size());
      };
      SCOPED_TRACE(testing::Message() << "kind " << static_cast<int>(kind) << " seed " << seed);
      EXPECT_GE(*std::min_element(r.begin(), r.end()), 1);
      EXPECT_GE(mean, 100);
      EXPECT_LE(mean, 450);
      switch (kind) {
        case TraceKind::kDiurnal:
          // Deep, smooth cycles: minute means span ≥ 2×, no second far above its neighbours.
          EXPECT_GE(minute_hi / minute_lo, 2.0);
          EXPECT_LE(Percentile(r, 0.999) / minute_hi, 1.25);
          break;
        case TraceKind::kBursty:
          EXPECT_GE(Percentile(r, 0.99) / median, 2.0);
          EXPECT_GE(above(1.5 * median), 0.03);
          EXPECT_LE(above(1.5 * median), 0.35);
          break;
        case TraceKind::kSpiky: {
          // Short flash crowds on a flat base: rare seconds far above it, minute means flat.
          EXPECT_GE(Percentile(r, 0.995) / median, 1.7);
          EXPECT_GE(above(1.6 * median), 0.005);
          EXPECT_LE(above(1.6 * median), 0.08);
          EXPECT_LE(Percentile(minutes, 0.9) / Percentile(minutes, 0.1), 1.4);
          break;
        }
        case TraceKind::kRamp:
          // From half the base up to 1.8× it and back to half.
          EXPECT_GE(minute_hi / minutes.front(), 3.0);
          EXPECT_LE(minutes.back() / minute_hi, 0.35);
          break;
      }
    }
  }
}

}  // namespace
}  // namespace sim
