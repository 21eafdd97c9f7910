// The simulator against queueing theory, before any of its numbers are believed.
#include <gtest/gtest.h>

#include <cmath>

#include "sim/simulation.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

using testing::ConstantTrace;
using testing::LatencyMean;
using testing::SingleServiceApp;

constexpr double kServiceTime = 0.001;  // 1 ms: short runs in simulated time
constexpr double kWarmup = 10;          // seconds of requests left out (the queue starts empty)

// Erlang C: mean response time of M/M/c with arrival rate λ and service rate μ per server.
double MmcResponseTime(int c, double lambda, double mu) {
  const double a = lambda / mu;
  double term = 1, sum = 0;  // a^k / k!
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  const double tail = term * c / (c - a);
  const double wait_probability = tail / (sum + tail);
  return 1 / mu + wait_probability / (c * mu - lambda);
}

// Mean response time of `requests` requests (after the warm-up) at utilisation rho.
double SimulatedMean(int threads, int cores, int servers, double rho, double requests) {
  const double lambda = rho * servers / kServiceTime;
  const App app = SingleServiceApp(
      threads, cores, {.kind = Distribution::Kind::kExponential, .mean = kServiceTime, .cv = 0});
  const double seconds = kWarmup + requests / lambda;
  Simulation sim(app, ConstantTrace(lambda, std::ceil(seconds)), {.seed = 7, .emit_spans = false});
  LatencyMean latency(kWarmup);
  sim.set_listener(&latency);
  sim.RunUntil(sim.end() + 10);
  EXPECT_GT(latency.count(), requests * 0.95);
  return latency.mean();
}

// Request counts give a standard error of the mean of about 1.5 % (the variance of a sample mean
// of M/M/1 response times grows like 1/(1 − ρ)^4), so 5 % is more than three standard errors.
TEST(QueueingTest, MM1MeanResponseTimeAtHalfLoad) {
  const double expected = MmcResponseTime(1, 0.5 / kServiceTime, 1 / kServiceTime);
  EXPECT_NEAR(SimulatedMean(1, 1, 1, 0.5, 100'000), expected, 0.05 * expected);
}

TEST(QueueingTest, MM1MeanResponseTimeAtHighLoad) {
  const double expected = MmcResponseTime(1, 0.8 / kServiceTime, 1 / kServiceTime);
  EXPECT_NEAR(SimulatedMean(1, 1, 1, 0.8, 400'000), expected, 0.05 * expected);
}

TEST(QueueingTest, MMcMeanResponseTimeAtHalfLoad) {
  const double expected = MmcResponseTime(4, 2 / kServiceTime, 1 / kServiceTime);
  EXPECT_NEAR(SimulatedMean(4, 4, 4, 0.5, 60'000), expected, 0.05 * expected);
}

TEST(QueueingTest, MMcMeanResponseTimeAtHighLoad) {
  const double expected = MmcResponseTime(4, 3.2 / kServiceTime, 1 / kServiceTime);
  EXPECT_NEAR(SimulatedMean(4, 4, 4, 0.8, 300'000), expected, 0.05 * expected);
}

// Many threads on one core: the CPU is shared (M/M/1-PS), whose mean response time equals
// M/M/1's 1/(μ − λ).
TEST(QueueingTest, ProcessorSharingMatchesMM1Mean) {
  const double expected = MmcResponseTime(1, 0.8 / kServiceTime, 1 / kServiceTime);
  EXPECT_NEAR(SimulatedMean(64, 1, 1, 0.8, 400'000), expected, 0.05 * expected);
}

}  // namespace
}  // namespace sim
