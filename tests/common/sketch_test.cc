#include "common/sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/clock.h"
#include "tests/support/fake_clock.h"

namespace common {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr double kQuantiles[] = {0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};

// The rank Quantile() estimates: floor(q * (n - 1)) of the sorted data.
double ExactQuantile(std::vector<double> sorted, double q) {
  std::sort(sorted.begin(), sorted.end());
  return sorted[static_cast<size_t>(q * static_cast<double>(sorted.size() - 1))];
}

double RelativeError(double estimate, double exact) {
  return std::abs(estimate - exact) / std::abs(exact);
}

// Floating-point slack on top of the proven bound.
double Bound(double alpha) { return alpha * (1 + 1e-9); }

std::vector<double> Uniform(size_t n, double lo, double hi, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = dist(rng);
  return v;
}

std::vector<double> Lognormal(size_t n, double median, double sigma, uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> dist(std::log(median), sigma);
  std::vector<double> v(n);
  for (double& x : v) x = std::clamp(dist(rng), 50e-6, 60.0);
  return v;
}

std::vector<double> Bimodal(size_t n, uint32_t seed) {
  // Cache hits around 200 us, misses around 80 ms.
  std::vector<double> fast = Lognormal(n * 7 / 10, 200e-6, 0.3, seed);
  std::vector<double> slow = Lognormal(n - fast.size(), 80e-3, 0.5, seed + 1);
  fast.insert(fast.end(), slow.begin(), slow.end());
  std::shuffle(fast.begin(), fast.end(), std::mt19937_64(seed + 2));
  return fast;
}

void ExpectAccurate(const std::vector<double>& data, double alpha, const std::string& name) {
  SketchMapping mapping(alpha);
  LatencySketch sketch(&mapping);
  for (double x : data) sketch.Add(x);
  ASSERT_EQ(sketch.count(), data.size());
  for (double q : kQuantiles) {
    const double exact = ExactQuantile(data, q);
    EXPECT_LE(RelativeError(sketch.Quantile(q), exact), Bound(alpha))
        << name << " alpha=" << alpha << " q=" << q << " exact=" << exact
        << " got=" << sketch.Quantile(q);
  }
}

TEST(SketchMappingTest, RejectsBadAccuracy) {
  for (double alpha : {0.0, -0.01, 0.21, 1.0, 1e-6, std::numeric_limits<double>::quiet_NaN()}) {
    EXPECT_THROW(SketchMapping{alpha}, std::invalid_argument) << alpha;
  }
  EXPECT_NO_THROW(SketchMapping{0.2});
  EXPECT_DOUBLE_EQ(SketchMapping::Default().relative_accuracy(), 0.01);
}

// The guarantee of the mapping itself, on a dense log grid that also lands next to bucket edges.
TEST(SketchMappingTest, EveryValueIsWithinAlphaOfItsBucket) {
  for (double alpha : {1e-4, 0.005, 0.01, 0.02, 0.05, 0.2}) {
    const SketchMapping mapping(alpha);
    double worst = 0;
    for (double x = LatencySketch::kMinIndexable * 1.0000001; x <= LatencySketch::kMaxIndexable;
         x *= 1.0001) {
      worst = std::max(worst, RelativeError(mapping.Value(mapping.Index(x)), x));
    }
    EXPECT_LE(worst, Bound(alpha)) << alpha;
    // The bound is not loose: where the grid is fine enough, errors come close to alpha.
    if (alpha >= 0.005) {
      EXPECT_GE(worst, 0.9 * alpha) << alpha;
    }
  }
}

TEST(SketchMappingTest, ValueMapsBackToItsIndexAndIsMonotonic) {
  const SketchMapping& mapping = SketchMapping::Default();
  const int lo = mapping.Index(LatencySketch::kMinIndexable * 1.0000001);
  const int hi = mapping.Index(LatencySketch::kMaxIndexable);
  double previous = 0;
  for (int i = lo; i <= hi; ++i) {
    const double v = mapping.Value(i);
    ASSERT_EQ(mapping.Index(v), i);
    ASSERT_GT(v, previous);
    previous = v;
    // Both neighbours of an octave boundary: L is continuous there.
    const double octave = std::ldexp(1.0, std::ilogb(v));
    ASSERT_LE(mapping.Index(std::nextafter(octave, 0)), mapping.Index(octave));
  }
}

TEST(LatencySketchTest, AccurateOnTypicalShapes) {
  for (double alpha : {0.01, 0.02}) {
    ExpectAccurate(Uniform(100'000, 50e-6, 60.0, 1), alpha, "uniform");
    ExpectAccurate(Lognormal(100'000, 0.02, 1.0, 2), alpha, "lognormal");
    ExpectAccurate(Lognormal(100'000, 0.5, 2.5, 3), alpha, "wide lognormal");
    ExpectAccurate(Bimodal(100'000, 4), alpha, "bimodal");
    ExpectAccurate(std::vector<double>(1000, 0.0421), alpha, "constant");
    ExpectAccurate({3.5}, alpha, "single");
  }
}

TEST(LatencySketchTest, EmptyIsNaN) {
  LatencySketch sketch;
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(std::isnan(sketch.Quantile(0.5)));
  EXPECT_TRUE(std::isnan(sketch.min()));
  EXPECT_TRUE(std::isnan(sketch.max()));
  EXPECT_EQ(sketch.sum(), 0);
  sketch.Add(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(sketch.count(), 0u);
  sketch.Add(1);
  EXPECT_TRUE(std::isnan(sketch.Quantile(std::numeric_limits<double>::quiet_NaN())));
}

TEST(LatencySketchTest, TracksCountSumMinMax) {
  LatencySketch sketch;
  for (double x : {0.5, 0.25, 2.0, 0.125}) sketch.Add(x);
  EXPECT_EQ(sketch.count(), 4u);
  EXPECT_DOUBLE_EQ(sketch.sum(), 2.875);
  EXPECT_EQ(sketch.min(), 0.125);
  EXPECT_EQ(sketch.max(), 2.0);
  EXPECT_EQ(sketch.Quantile(0), 0.125);
  EXPECT_EQ(sketch.Quantile(1), 2.0);
  EXPECT_EQ(sketch.Quantile(-3), 0.125);
  EXPECT_EQ(sketch.Quantile(7), 2.0);
}

TEST(LatencySketchTest, TinyNegativeAndHugeValues) {
  LatencySketch sketch;
  sketch.Add(0);
  sketch.Add(-0.002);  // clock skew in a trace
  sketch.Add(1e-12);
  sketch.Add(0.010);
  sketch.Add(std::numeric_limits<double>::infinity());
  EXPECT_EQ(sketch.count(), 5u);
  EXPECT_EQ(sketch.min(), -0.002);
  EXPECT_EQ(sketch.max(), LatencySketch::kMaxIndexable);
  EXPECT_EQ(sketch.Quantile(0.25), 0.0);  // rank 1: in the zero bucket
  EXPECT_EQ(sketch.Quantile(0.5), 0.0);
  EXPECT_LE(RelativeError(sketch.Quantile(0.75), 0.010), Bound(0.01));
  EXPECT_TRUE(std::isfinite(sketch.sum()));

  LatencySketch tiny;
  for (int i = 0; i < 10; ++i) tiny.Add(5e-10);
  EXPECT_EQ(tiny.Quantile(0.5), 5e-10);  // clamped into [min, max]
}

TEST(LatencySketchTest, MergeEqualsAddingEverything) {
  const std::vector<double> data = Bimodal(30'000, 7);
  LatencySketch all;
  LatencySketch parts[3];
  for (size_t i = 0; i < data.size(); ++i) {
    all.Add(data[i]);
    parts[i % 3].Add(data[i]);
  }
  parts[1].Add(0);  // zero buckets merge too
  all.Add(0);
  LatencySketch merged;
  for (const LatencySketch& p : parts) merged.Merge(p);
  EXPECT_EQ(merged.count(), all.count());
  EXPECT_NEAR(merged.sum(), all.sum(), 1e-9 * all.sum());
  EXPECT_EQ(merged.min(), all.min());
  EXPECT_EQ(merged.max(), all.max());
  for (double q = 0; q <= 1; q += 0.001) {
    ASSERT_EQ(merged.Quantile(q), all.Quantile(q)) << q;
  }
  merged.Merge(LatencySketch{});
  EXPECT_EQ(merged.count(), all.count());
}

TEST(LatencySketchTest, SixteenBitBucketsWidenWithoutLoss) {
  LatencySketch hot;
  LatencySketch cold;
  for (int i = 0; i < 70'000; ++i) hot.Add(0.003);
  for (int i = 0; i < 60'000; ++i) cold.Add(i % 2 ? 0.003 : 0.9);
  EXPECT_EQ(hot.count(), 70'000u);
  EXPECT_LE(RelativeError(hot.Quantile(0.5), 0.003), Bound(0.01));

  // Two narrow sketches whose sum overflows 16 bits, merged in both orders.
  LatencySketch a = cold;
  a.Merge(cold);
  EXPECT_EQ(a.count(), 120'000u);
  EXPECT_LE(RelativeError(a.Quantile(0.25), 0.003), Bound(0.01));
  EXPECT_LE(RelativeError(a.Quantile(0.75), 0.9), Bound(0.01));
  LatencySketch b = cold;
  b.Merge(hot);
  LatencySketch c = hot;
  c.Merge(cold);
  for (double q : kQuantiles) EXPECT_EQ(b.Quantile(q), c.Quantile(q)) << q;
}

TEST(LatencySketchTest, ResetKeepsCapacity) {
  const std::vector<double> data = Lognormal(10'000, 0.02, 1.0, 9);
  LatencySketch sketch;
  for (double x : data) sketch.Add(x);
  const size_t bytes = sketch.MemoryBytes();
  const double p99 = sketch.Quantile(0.99);
  sketch.Reset();
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(std::isnan(sketch.Quantile(0.5)));
  EXPECT_EQ(sketch.MemoryBytes(), bytes);
  // The same range again reuses the same buckets, in any order.
  for (auto it = data.rbegin(); it != data.rend(); ++it) sketch.Add(*it);
  EXPECT_EQ(sketch.MemoryBytes(), bytes);
  EXPECT_EQ(sketch.Quantile(0.99), p99);
  // After a reset, a different range slides into the existing array.
  sketch.Reset();
  for (int i = 0; i < 100; ++i) sketch.Add(30.0 + i * 0.01);
  EXPECT_EQ(sketch.MemoryBytes(), bytes);
  EXPECT_LE(RelativeError(sketch.Quantile(0.5), 30.49), Bound(0.01));
}

TEST(LatencySketchTest, CopyAndMoveKeepContents) {
  LatencySketch original;
  for (double x : Lognormal(1000, 0.02, 1.0, 11)) original.Add(x);
  LatencySketch copy = original;
  LatencySketch moved = std::move(copy);
  EXPECT_EQ(copy.count(), 0u);  // a moved-from sketch is empty and usable
  copy.Add(1.0);
  EXPECT_EQ(copy.Quantile(0.5), 1.0);
  LatencySketch assigned;
  assigned = moved;
  for (double q : kQuantiles) {
    EXPECT_EQ(moved.Quantile(q), original.Quantile(q));
    EXPECT_EQ(assigned.Quantile(q), original.Quantile(q));
  }
}

// Realistic per-service traffic: 200 requests/s, lognormal with p1..p99 spanning two decades,
// kept as 60 s in 4 x 15 s sub-windows after running for several minutes.
TEST(WindowedSketchTest, RealisticWindowFitsInFourKiB) {
  FakeClock clock;
  WindowedSketch window(seconds{60}, 4);
  const double sigma = std::log(100.0) / (2 * 2.326);
  const std::vector<double> data = Lognormal(200 * 300, 0.02, sigma, 12);
  for (size_t i = 0; i < data.size(); ++i) {
    window.At(clock.Now()).Add(data[i]);
    clock.Advance(milliseconds{5});
  }
  EXPECT_LE(window.MemoryBytes(), 4096u);
  RecordProperty("window_bytes", static_cast<int>(window.MemoryBytes()));
}

TEST(WindowedSketchTest, QuantileCoversOnlyLiveSubWindows) {
  FakeClock clock(TimePoint{seconds{1'700'000'010}});  // on a 15 s boundary
  WindowedSketch window(seconds{60}, 4);
  std::vector<double> live;
  // 90 s of traffic; the latency level changes every 15 s.
  for (int second = 0; second < 90; ++second) {
    for (int i = 0; i < 50; ++i) {
      const double latency = 0.001 * (1 + second / 15) * (1 + i % 7);
      window.At(clock.Now()).Add(latency);
      if (second >= 30) live.push_back(latency);
    }
    clock.Advance(seconds{1});
  }
  const TimePoint now = clock.Now() - seconds{1};
  LatencySketch scratch;
  for (double q : {0.5, 0.9, 0.99}) {
    EXPECT_LE(RelativeError(WindowQuantile(window, now, q, scratch), ExactQuantile(live, q)),
              Bound(0.01))
        << q;
  }
  EXPECT_EQ(scratch.count(), live.size());
  // A reader far in the future sees an empty window.
  EXPECT_TRUE(std::isnan(WindowQuantile(window, now + seconds{3600}, 0.5, scratch)));
}

TEST(LatencySketchTest, BucketThenAddToBucketMatchesAdd) {
  const SketchMapping mapping(0.01);
  LatencySketch added(&mapping), first(&mapping), second(&mapping);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (const double v : {0.0012, 0.5, 3e-10, 0.0, -1.0, nan, 2e9, 0.0012, 7.25, 1e-6}) {
    added.Add(v);
    const int bucket = first.Bucket(v);
    first.AddToBucket(v, bucket);
    second.AddToBucket(v, bucket);
  }
  for (const LatencySketch* s : {&first, &second}) {
    EXPECT_EQ(s->count(), added.count());
    EXPECT_EQ(s->sum(), added.sum());
    for (const double q : {0.0, 0.1, 0.5, 0.9, 1.0}) EXPECT_EQ(s->Quantile(q), added.Quantile(q));
  }
}

// A weight w counts like w separate adds, also across the 16-bit widening and out of range.
TEST(LatencySketchTest, WeightedAddMatchesRepeatedAdds) {
  const SketchMapping mapping(0.01);
  LatencySketch weighted(&mapping), repeated(&mapping);
  const std::vector<std::pair<double, uint32_t>> values = {{0.002, 10}, {0.5, 3},        {0.0, 4},
                                                           {2e9, 2},    {0.002, 70'000}, {0.03, 1}};
  for (const auto& [v, w] : values) {
    weighted.AddToBucket(v, weighted.Bucket(v), w);
    for (uint32_t i = 0; i < w; ++i) repeated.Add(v);
  }
  EXPECT_EQ(weighted.count(), repeated.count());
  EXPECT_NEAR(weighted.sum(), repeated.sum(), 1e-9 * repeated.sum());  // summed in another order
  for (const double q : {0.0, 0.01, 0.3, 0.5, 0.99, 0.9999, 1.0}) {
    EXPECT_EQ(weighted.Quantile(q), repeated.Quantile(q)) << q;
  }
  // Weights shift quantiles: one value at weight 9 outweighs nine at weight 1.
  LatencySketch mixed(&mapping);
  for (int i = 0; i < 9; ++i) mixed.Add(0.001);
  mixed.AddToBucket(1.0, mixed.Bucket(1.0), 10);
  EXPECT_NEAR(mixed.Quantile(0.5), 1.0, 0.01);
}

}  // namespace
}  // namespace common
