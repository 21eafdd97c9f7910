#include "recommender/output/quantity.h"

#include <gtest/gtest.h>

namespace recommender::output {
namespace {

TEST(FormatQuantityTest, MilliPrecisionLikeTheHpaReads) {
  EXPECT_EQ(FormatQuantity(3), "3");
  EXPECT_EQ(FormatQuantity(0), "0");
  EXPECT_EQ(FormatQuantity(1.5), "1500m");
  EXPECT_EQ(FormatQuantity(0.1), "100m");
  EXPECT_EQ(FormatQuantity(2.3456), "2346m");
  EXPECT_EQ(FormatQuantity(-0.25), "-250m");
  EXPECT_EQ(FormatQuantity(1234567), "1234567");
  // Below half a milli-unit a value would read as 0: micro or nano units keep it.
  EXPECT_EQ(FormatQuantity(0.00005), "50u");
  EXPECT_EQ(FormatQuantity(-0.0000004), "-400n");
  EXPECT_EQ(FormatQuantity(7e-9), "7n");
  EXPECT_EQ(FormatQuantity(1e-12), "0");
  EXPECT_EQ(FormatQuantity(1e300), "9000000000000000");  // clamped, not overflowed
}

}  // namespace
}  // namespace recommender::output
