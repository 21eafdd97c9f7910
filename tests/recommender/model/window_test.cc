#include "recommender/model/window.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace recommender::model {
namespace {

using std::chrono::seconds;

const common::TimePoint kT0{seconds{1'700'000'000}};

TEST(WindowTest, StatisticsOverTheSamplesSince) {
  Window w(10);
  for (int i = 0; i < 5; ++i) w.Add(kT0 + seconds{i}, 2.0 * i);  // 0 2 4 6 8
  EXPECT_DOUBLE_EQ(w.Mean(kT0), 4);
  EXPECT_DOUBLE_EQ(w.Mean(kT0 + seconds{3}), 7);
  EXPECT_DOUBLE_EQ(w.Stddev(kT0), std::sqrt(8.0));  // population
  EXPECT_DOUBLE_EQ(w.Max(kT0), 8);
  EXPECT_DOUBLE_EQ(w.Percentile(0.5, kT0), 4);
  EXPECT_DOUBLE_EQ(w.Percentile(0.9, kT0), 7.2);
  EXPECT_DOUBLE_EQ(w.Slope(kT0), 2);
  EXPECT_EQ(w.Latest()->v, 8);
  EXPECT_TRUE(std::isnan(w.Mean(kT0 + seconds{10})));
  EXPECT_TRUE(std::isnan(w.Slope(kT0 + seconds{4})));  // one sample has no slope
}

TEST(WindowTest, DropsTheOldestAtCapacity) {
  Window w(3);
  for (int i = 0; i < 5; ++i) w.Add(kT0 + seconds{i}, i);
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.Values(), (std::vector<double>{2, 3, 4}));
  EXPECT_EQ(w.Points().front().t, kT0 + seconds{2});
}

TEST(WindowTest, DiscardsInvalidDuplicateAndOutOfOrderSamples) {
  Window w(5);
  EXPECT_TRUE(w.Add(kT0 + seconds{2}, 1));
  EXPECT_FALSE(w.Add(kT0 + seconds{2}, 5));  // duplicate time
  EXPECT_FALSE(w.Add(kT0 + seconds{1}, 5));  // older
  EXPECT_FALSE(w.Add(kT0 + seconds{3}, std::numeric_limits<double>::quiet_NaN()));
  EXPECT_FALSE(w.Add(kT0 + seconds{3}, std::numeric_limits<double>::infinity()));
  EXPECT_EQ(w.Values(), (std::vector<double>{1}));
}

TEST(WindowTest, EmptyWindowAnswersNothing) {
  const Window w(4);
  EXPECT_TRUE(w.empty());
  EXPECT_FALSE(w.Latest());
  EXPECT_TRUE(std::isnan(w.Mean(kT0)));
  EXPECT_TRUE(std::isnan(w.Percentile(0.5, kT0)));
  EXPECT_TRUE(w.Points().empty());
}

}  // namespace
}  // namespace recommender::model
