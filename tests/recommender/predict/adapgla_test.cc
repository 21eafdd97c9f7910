#include "recommender/predict/adapgla.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

namespace recommender::predict {
namespace {

std::vector<std::string> Names(int n) {
  std::vector<std::string> names;
  for (int i = 0; i < n; ++i) names.push_back("s" + std::to_string(i));
  return names;
}

ModelShape Small(int nodes) {
  return {.nodes = nodes,
          .steps = 6,
          .blocks = 2,
          .cheb_order = 3,
          .cheb_filters = 4,
          .time_filters = 8,
          .kernel = 3,
          .graph_dim = 4};
}

std::vector<float> Identity(int n) {
  std::vector<float> a(static_cast<size_t>(n * n), 0);
  for (int i = 0; i < n; ++i) a[static_cast<size_t>(i * n + i)] = 1;
  return a;
}

TEST(AdapGla, ParametersAndOutputHaveTheShapesOfTheConfiguration) {
  const ModelShape s = Small(3);
  AdapGla model(s, Names(3), 1);
  using Dims = std::vector<int64_t>;
  EXPECT_EQ(model.ParameterShape("predictor.block0.theta_a"), (Dims{3, kFeatures, 4}));
  EXPECT_EQ(model.ParameterShape("predictor.block1.theta_t"), (Dims{3, 8, 4}));
  EXPECT_EQ(model.ParameterShape("predictor.block0.attention.ve"), (Dims{6, 6}));
  EXPECT_EQ(model.ParameterShape("predictor.block0.time_conv.weight"), (Dims{8, 8, 1, 3}));
  EXPECT_EQ(model.ParameterShape("predictor.block0.residual.weight"), (Dims{8, kFeatures, 1, 1}));
  EXPECT_EQ(model.ParameterShape("predictor.block1.norm.weight"), (Dims{8}));
  EXPECT_EQ(model.ParameterShape("predictor.head.weight"), (Dims{1, 6, 1, 8}));
  EXPECT_EQ(model.ParameterShape("graph.w1"), (Dims{3, 4}));
  EXPECT_EQ(model.ParameterShape("graph.beta"), (Dims{3}));
  EXPECT_EQ(model.ParameterShape("graph.gate.weight"), (Dims{1, 2, 1, 1}));
  EXPECT_TRUE(model.ParameterShape("predictor.block2.theta_a").empty());

  const int batch = 5;
  std::vector<float> x(static_cast<size_t>(batch * s.steps * s.nodes * kFeatures));
  for (size_t k = 0; k < x.size(); ++k) x[k] = std::sin(static_cast<float>(k));
  const std::vector<float> y = model.Forward(x, batch, Identity(3));
  ASSERT_EQ(y.size(), static_cast<size_t>(batch * s.nodes));
  for (float v : y) EXPECT_TRUE(std::isfinite(v));
  EXPECT_THROW(model.Forward(x, batch + 1, Identity(3)), std::invalid_argument);
  EXPECT_THROW(AdapGla(s, Names(2), 1), std::invalid_argument);
  EXPECT_THROW(AdapGla({.nodes = 2, .kernel = 4}, Names(2), 1), std::invalid_argument);
}

// One block on one minute (the attention is then 1), K = 2, one filter per direction, three time
// filters of width 1, two services: every step by hand.
TEST(AdapGla, ForwardMatchesTheHandComputedTinyGraph) {
  AdapGla model({.nodes = 2,
                 .steps = 1,
                 .blocks = 1,
                 .cheb_order = 2,
                 .cheb_filters = 1,
                 .time_filters = 3,
                 .kernel = 1,
                 .graph_dim = 1},
                Names(2), 7);
  const auto set = [&](const std::string& name, const std::vector<float>& v) {
    ASSERT_TRUE(model.SetParameter(name, v)) << name;
  };
  // Θ_A picks feature 0 in T_0 and T_1, Θ_Aᵀ feature 1; theta is [K][F][filters].
  set("predictor.block0.theta_a", {1, 0, 0, 0, 1, 0, 0, 0});
  set("predictor.block0.theta_t", {0, 1, 0, 0, 0, 1, 0, 0});
  // Time filters: g_A, g_Aᵀ and g_A − g_Aᵀ; the residual adds feature 2 to the first and 1 to the
  // second.
  set("predictor.block0.time_conv.weight", {1, 0, 0, 1, 1, -1});
  set("predictor.block0.time_conv.bias", {0, 0, 0});
  set("predictor.block0.residual.weight", {0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  set("predictor.block0.residual.bias", {0, 1, 0});
  set("predictor.head.weight", {1, 2, -1});
  set("predictor.head.bias", {0.5f});
  // x: node 0 = (1, 2, 0.5, 0), node 1 = (3, −1, −2, 0); A = [[0.5, 0.5], [0, 1]].
  const std::vector<float> x = {1, 2, 0.5f, 0, 3, -1, -2, 0};
  const std::vector<float> y = model.Forward(x, 1, {0.5f, 0.5f, 0, 1});
  // A·x, feature 0: (2, 3), so g_A = x + A·x = (3, 6). Aᵀ·x, feature 1: (1, 0), so
  // g_Aᵀ = (3, −1), ReLU (3, 0). Time conv + residual, ReLU: node 0 (3.5, 4, 0), node 1 (4, 1, 6).
  const auto head = [](double a, double b, double c) {
    const double mean = (a + b + c) / 3;
    const double var =
        ((a - mean) * (a - mean) + (b - mean) * (b - mean) + (c - mean) * (c - mean)) / 3;
    const double sd = std::sqrt(var + 1e-5);  // LayerNorm's ε
    return 1 * (a - mean) / sd + 2 * (b - mean) / sd - 1 * (c - mean) / sd + 0.5;
  };
  ASSERT_EQ(y.size(), 2u);
  EXPECT_NEAR(y[0], head(3.5, 4, 0), 1e-4);
  EXPECT_NEAR(y[1], head(4, 1, 6), 1e-4);
  // With Aᵀ for A the directions swap: g_A = (1.5, 6.5), g_Aᵀ = (2.5, −2), ReLU (2.5, 0); after
  // the time conv, residual and ReLU node 0 (2, 3.5, 0), node 1 (4.5, 1, 6.5).
  const std::vector<float> swapped = model.Forward(x, 1, {0.5f, 0, 0.5f, 1});
  EXPECT_NEAR(swapped[0], head(2, 3.5, 0), 1e-4);
  EXPECT_NEAR(swapped[1], head(4.5, 1, 6.5), 1e-4);
}

std::vector<float> SymNorm(const std::vector<float>& a, int n) {
  std::vector<double> d(static_cast<size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) d[static_cast<size_t>(i)] += a[static_cast<size_t>(i * n + j)];
  }
  std::vector<float> out(a.size());
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const double di = d[static_cast<size_t>(i)], dj = d[static_cast<size_t>(j)];
      out[static_cast<size_t>(i * n + j)] =
          di > 0 && dj > 0
              ? static_cast<float>(a[static_cast<size_t>(i * n + j)] / std::sqrt(di * dj))
              : 0;
    }
  }
  return out;
}

TEST(GraphLearner, IsAntisymmetricSparseAndNormalised) {
  const int n = 6;
  AdapGla model({.nodes = n, .steps = 2, .graph_dim = 3}, Names(n), 3);
  std::vector<float> prior(n * n, 0);
  prior[0 * n + 1] = prior[1 * n + 2] = prior[3 * n + 4] = 1;
  prior = GcnNormalize(prior, n);
  const GraphStages g = model.LearnGraph(prior);
  int zeros = 0, pairs = 0;
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) {
      const size_t ij = static_cast<size_t>(i * n + j), ji = static_cast<size_t>(j * n + i);
      EXPECT_NEAR(g.antisymmetric[ij], -g.antisymmetric[ji], 1e-6);
      if (i < j) {
        // Directed: of the two directions at most one survives the ReLU.
        EXPECT_FALSE(g.learned[ij] > 0 && g.learned[ji] > 0);
        pairs += g.learned[ij] > 0 || g.learned[ji] > 0;
      }
    }
  }
  EXPECT_GT(pairs, 0);
  const float epsilon = 0.5f / n;
  const std::vector<float> normalised = SymNorm(g.gated, n);
  for (size_t k = 0; k < normalised.size(); ++k) {
    EXPECT_NEAR(g.sparsified[k], std::max(0.0f, normalised[k] - epsilon), 1e-5);
    zeros += g.sparsified[k] == 0 && g.gated[k] > 0;
  }
  EXPECT_GT(zeros, 0) << "ε removed no weak edge";
  const std::vector<float> again = SymNorm(g.sparsified, n);
  for (size_t k = 0; k < again.size(); ++k) EXPECT_NEAR(g.graph[k], again[k], 1e-5);
}

// s0's and s1's replicas follow s0's load a minute later, s2's its own; s3 is constant. Loads are
// independent draws, so only the edge between s0 and s1 predicts s1.
Series LeadLag(int minutes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> load(10, 90);
  Series s;
  s.services = Names(4);
  s.minutes = minutes;
  s.values.assign(static_cast<size_t>(minutes) * 4 * kFeatures, 0);
  float prev0 = 50, prev2 = 50;
  for (int m = 0; m < minutes; ++m) {
    const float l0 = load(rng), l1 = load(rng), l2 = load(rng), l3 = load(rng);
    const float rate[] = {l0, l1, l2, l3};
    const float replicas[] = {prev0 / 10, prev0 / 10, prev2 / 10, 5};
    for (int i = 0; i < 4; ++i) {
      s.At(m, i, kReplicas) = replicas[i];
      s.At(m, i, kCpuUtilization) = rate[i] / 100;
      s.At(m, i, kResponseSeconds) = 0.05f;
      s.At(m, i, kRequestRate) = rate[i];
    }
    prev0 = l0;
    prev2 = l2;
  }
  return s;
}

TEST(AdapGlaTraining, LowersTheLossOnALeadLagStructureDeterministically) {
  const ModelShape s = {.nodes = 4,
                        .steps = 4,
                        .blocks = 2,
                        .cheb_order = 3,
                        .cheb_filters = 8,
                        .time_filters = 8,
                        .kernel = 5,
                        .graph_dim = 8};
  AdapGla model(s, Names(4), 2021);
  TrainOptions o;
  o.iterations = 3;
  o.epochs = 4;
  o.batch = 16;
  o.learning_rate = 0.01;
  std::vector<double> losses;
  o.on_epoch = [&](const EpochReport& r) {
    if (std::string_view(r.phase) == "predictor") losses.push_back(r.train_loss);
  };
  const std::vector<Series> runs = {LeadLag(240, 5)};
  // No prior edge: the graph must come from the data.
  const TrainResult r = model.Train(runs, GcnNormalize(std::vector<float>(16, 0), 4), o);
  ASSERT_FALSE(losses.empty());
  // Predicting the mean scores about 0.8 in normalised units; the lead-lag structure allows far
  // less.
  EXPECT_GT(losses.front(), 0.7);
  EXPECT_LT(r.best_validation_loss, 0.6);
  // The same seed trains the same model (one short iteration suffices to show it).
  o.iterations = 1;
  o.epochs = 1;
  o.on_epoch = nullptr;
  AdapGla a1(s, Names(4), 7), a2(s, Names(4), 7);
  const TrainResult r1 = a1.Train(runs, GcnNormalize(std::vector<float>(16, 0), 4), o);
  const TrainResult r2 = a2.Train(runs, GcnNormalize(std::vector<float>(16, 0), 4), o);
  EXPECT_EQ(r1.best_validation_loss, r2.best_validation_loss);
  EXPECT_EQ(a1.graph(), a2.graph());
  EXPECT_EQ(a1.Parameter("predictor.head.weight"), a2.Parameter("predictor.head.weight"));

  // A prediction from the last minutes, in replicas: s1's is s0's load a minute ago / 10.
  const std::vector<float> next = model.Predict(runs[0]);
  ASSERT_EQ(next.size(), 4u);
  for (float v : next) EXPECT_TRUE(std::isfinite(v));
}

TEST(ModelFile, RoundTripsAndRefusesCorruptOrMismatchedFiles) {
  const ModelShape s = Small(3);
  AdapGla model(s, Names(3), 11);
  model.set_normalization({.mean = {1, 2, 3, 4}, .stddev = {5, 6, 7, 8}});
  model.set_graph({0, 0.5f, 0, 0, 1, 0, 0.25f, 0, 1});
  const std::string bytes = model.Serialize();
  std::string error;
  const std::unique_ptr<AdapGla> back = AdapGla::Deserialize(bytes, &error);
  ASSERT_NE(back, nullptr) << error;
  EXPECT_EQ(back->shape(), s);
  EXPECT_EQ(back->services(), Names(3));
  EXPECT_EQ(back->normalization().stddev[3], 8);
  EXPECT_EQ(back->graph(), model.graph());
  for (const std::string& name : model.ParameterNames()) {
    EXPECT_EQ(back->Parameter(name), model.Parameter(name)) << name;
  }
  std::vector<float> x(static_cast<size_t>(s.steps * s.nodes * kFeatures), 0.3f);
  EXPECT_EQ(back->Forward(x, 1, model.graph()), model.Forward(x, 1, model.graph()));

  EXPECT_EQ(AdapGla::Deserialize("hello", &error), nullptr);
  EXPECT_EQ(error, "not a queuelens DeepScaler model file");
  EXPECT_EQ(AdapGla::Deserialize(bytes.substr(0, bytes.size() - 9), &error), nullptr);
  EXPECT_EQ(error, "truncated model file");
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  EXPECT_EQ(AdapGla::Deserialize(flipped, &error), nullptr);
  EXPECT_EQ(error, "corrupt model file (checksum mismatch)");
  std::string other_version = bytes;
  other_version[8] = 2;
  EXPECT_EQ(AdapGla::Deserialize(other_version, &error), nullptr);
  EXPECT_EQ(error, "model format version 2, expected 1");
  // A well-formed file whose shape promises more filters than its parameters hold.
  std::string mismatched = bytes;
  const size_t body = 8 + 4 + 8, cheb_filters = body + 4 * 4;
  mismatched[cheb_filters] = 5;
  const uint32_t crc =
      static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(mismatched.data() + body),
                                  static_cast<uInt>(mismatched.size() - body - 4)));
  std::memcpy(mismatched.data() + mismatched.size() - 4, &crc, 4);
  EXPECT_EQ(AdapGla::Deserialize(mismatched, &error), nullptr);
  EXPECT_EQ(error, "parameter predictor.block0.theta_a is missing or has another size");
}

}  // namespace
}  // namespace recommender::predict
