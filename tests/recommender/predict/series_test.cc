#include "recommender/predict/series.h"

#include <gtest/gtest.h>

#include <cmath>

namespace recommender::predict {
namespace {

Series TwoServices(int minutes) {
  Series s;
  s.services = {"front", "back"};
  s.minutes = minutes;
  s.values.assign(static_cast<size_t>(minutes) * 2 * kFeatures, 0);
  for (int m = 0; m < minutes; ++m) {
    for (int i = 0; i < 2; ++i) {
      s.At(m, i, kReplicas) = static_cast<float>(1 + i);
      s.At(m, i, kCpuUtilization) = 0.25f * static_cast<float>(m % 4);
      s.At(m, i, kResponseSeconds) = 0.01f;
      s.At(m, i, kRequestRate) = static_cast<float>(10 * m + i);
    }
  }
  return s;
}

TEST(SeriesCsv, RoundTripsRunsAndKeepsServiceOrder) {
  const std::vector<Series> runs = {TwoServices(3), TwoServices(2)};
  const std::string csv = FormatSeriesCsv(runs);
  EXPECT_TRUE(
      csv.starts_with("run,minute,service,replicas,cpu_utilization,response_seconds,request_rate\n"
                      "0,0,front,1,0,0.01,0\n0,0,back,2,0,0.01,1\n"));
  std::vector<Series> back;
  std::string error;
  ASSERT_TRUE(ParseSeriesCsv(csv, &back, &error)) << error;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].services, runs[0].services);
  EXPECT_EQ(back[0].minutes, 3);
  EXPECT_EQ(back[1].minutes, 2);
  EXPECT_EQ(back[0].values, runs[0].values);
  EXPECT_EQ(back[1].values, runs[1].values);
}

TEST(SeriesCsv, RefusesBadInputWithTheLine) {
  std::vector<Series> runs;
  std::string error;
  EXPECT_FALSE(ParseSeriesCsv("minute,service\n", &runs, &error));
  EXPECT_NE(error.find("header"), std::string::npos);
  const std::string header =
      "run,minute,service,replicas,cpu_utilization,response_seconds,request_rate\n";
  EXPECT_FALSE(ParseSeriesCsv(header + "0,0,a,1,x,0,0\n", &runs, &error));
  EXPECT_EQ(error, "line 2: bad cpu_utilization");
  EXPECT_FALSE(ParseSeriesCsv(header + "0,0,a,1,0,0\n", &runs, &error));
  EXPECT_EQ(error, "line 2: expected 7 fields");
  // Minute 1 lacks service b.
  EXPECT_FALSE(
      ParseSeriesCsv(header + "0,0,a,1,0,0,0\n0,0,b,1,0,0,0\n0,1,a,1,0,0,0\n", &runs, &error));
  EXPECT_NE(error.find("misses a service"), std::string::npos);
  EXPECT_FALSE(ParseSeriesCsv(header, &runs, &error));
  EXPECT_EQ(error, "no rows");
}

TEST(EdgesCsv, RoundTripsAndRefusesNegativeCounts) {
  const std::vector<Edge> edges = {{"front", "back", 120}, {"back", "db", 3.5}};
  std::vector<Edge> back;
  std::string error;
  ASSERT_TRUE(ParseEdgesCsv(FormatEdgesCsv(edges), &back, &error)) << error;
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].callee, "db");
  EXPECT_EQ(back[1].calls, 3.5);
  EXPECT_FALSE(ParseEdgesCsv("caller,callee,calls\na,b,-1\n", &back, &error));
  EXPECT_EQ(error, "line 2: expected caller,callee,calls ≥ 0");
}

TEST(PriorGraph, TakesTheCallShareAndTheStrongLoadCorrelations) {
  Series s;
  s.services = {"a", "b", "c"};
  s.minutes = 4;
  s.values.assign(4 * 3 * kFeatures, 0);
  const float a[] = {1, 2, 3, 4}, b[] = {2, 4, 6, 8.5f}, c[] = {4, 1, 3, 2};
  for (int m = 0; m < 4; ++m) {
    s.At(m, 0, kRequestRate) = a[m];
    s.At(m, 1, kRequestRate) = b[m];
    s.At(m, 2, kRequestRate) = c[m];
  }
  // a calls b three times as often as c; an edge to an unknown service and a self-call count not.
  const std::vector<Edge> edges = {{"a", "b", 30}, {"a", "c", 10}, {"a", "zz", 100}, {"b", "b", 5}};
  const std::vector<float> g = PriorGraph(s.services, edges, {s}, 0.5);
  ASSERT_EQ(g.size(), 9u);
  // a and b correlate almost perfectly, which beats a's call share 0.75 to b.
  const double r_ab = 0.998381;
  EXPECT_NEAR(g[0 * 3 + 1], r_ab, 1e-4);
  EXPECT_NEAR(g[1 * 3 + 0], r_ab, 1e-4);
  // c's load correlates with a's at −0.4, below the threshold: the call share alone.
  EXPECT_NEAR(g[0 * 3 + 2], 0.25, 1e-6);
  EXPECT_EQ(g[2 * 3 + 0], 0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(g[static_cast<size_t>(i * 4)], 0);
}

TEST(GcnNormalize, MatchesTheHandComputedTwoNodeGraph) {
  // A = [[0, 2], [0, 0]]: D⁻¹A + I = [[1, 1], [0, 1]], row sums 2 and 1.
  const std::vector<float> g = GcnNormalize({0, 2, 0, 0}, 2);
  EXPECT_NEAR(g[0], 0.5, 1e-6);
  EXPECT_NEAR(g[1], 1 / std::sqrt(2.0), 1e-6);
  EXPECT_EQ(g[2], 0);
  EXPECT_NEAR(g[3], 1, 1e-6);
}

}  // namespace
}  // namespace recommender::predict
