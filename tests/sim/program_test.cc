#include "sim/program.h"

#include <gtest/gtest.h>

#include <vector>

#include "sim/random.h"

namespace sim {
namespace {

TEST(CompiledDistributionTest, DrawsWhatTheDistributionDrawsBitForBit) {
  const std::vector<Distribution> dists = {
      {.kind = Distribution::Kind::kLognormal, .mean = 0.0012, .cv = 0.5},
      {.kind = Distribution::Kind::kLognormal, .mean = 3e-4, .cv = 2.0},
      {.kind = Distribution::Kind::kLognormal, .mean = 0.01, .cv = 0},
      {.kind = Distribution::Kind::kExponential, .mean = 0.002},
      {.kind = Distribution::Kind::kConstant, .mean = 0.004},
  };
  for (const Distribution& d : dists) {
    const CompiledDistribution compiled(d);
    Rng a(42), b(42);
    for (int i = 0; i < 10'000; ++i) {
      const double want = d.Sample(a);
      ASSERT_EQ(compiled.Sample(b), want) << static_cast<int>(d.kind) << " cv " << d.cv;
    }
    EXPECT_EQ(a.state(), b.state());
  }
}

}  // namespace
}  // namespace sim
