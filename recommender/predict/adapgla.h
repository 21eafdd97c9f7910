#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "recommender/predict/series.h"

// DeepScaler's spatiotemporal predictor, AdapGLA, on libtorch (kept out of this header, so only
// adapgla.cc compiles against it): temporal attention, Chebyshev graph convolution on A and Aᵀ,
// time convolution with a residual and layer norm, `blocks` times, then a head that predicts every
// service's replicas in the next minute; and the graph learner that adapts A.
namespace recommender::predict {

// Sizes. The defaults are DeepScaler's configuration (80 minutes in, 2 blocks, K = 3, 64 + 64
// Chebyshev filters, 128 time filters of width 5, graph embedding 64).
struct ModelShape {
  int nodes = 0;  // services
  int steps = 80;
  int blocks = 2;
  int cheb_order = 3;     // Chebyshev terms T_0 … T_{K−1}
  int cheb_filters = 64;  // per direction (A and Aᵀ); the block concatenates both
  int time_filters = 128;
  int kernel = 5;  // time convolution width, odd
  int graph_dim = 64;

  bool operator==(const ModelShape&) const = default;
  // Empty when the shape can be built, else why not.
  std::string Check() const;
};

// StandardScaler per feature over every minute and service of the training runs.
struct Normalization {
  std::array<float, kFeatures> mean{}, stddev{};
};

struct TrainOptions {
  uint64_t seed = 2021;
  int iterations = 4;  // alternations of predictor and graph learner
  int epochs = 5;      // per phase; the predictor gets 5 more from iteration iterations/2 + 1 on
  int batch = 64;
  double learning_rate = 1e-3;
  double weight_decay = 1e-4;
  double graph_learning_rate = 1e-3;  // the graph learner's Adam, without the cosine schedule
  int cosine_period = 15;             // CosineAnnealingLR's T_max, in predictor epochs
  double min_learning_rate = 1e-5;
  int max_graphs = 3;             // the graph pool
  double new_edge_share = 0.05;   // δ: new edges beyond this share of the prior's are penalised
  double validation_share = 0.2;  // the last minutes of each run
  // One line per epoch (phase "predictor" or "graph"), for the loss and a progress bar.
  std::function<void(const struct EpochReport&)> on_epoch;
};

struct EpochReport {
  int iteration = 0, iterations = 0;
  const char* phase = "";
  int epoch = 0, epochs = 0;
  double train_loss = 0;  // L1 in normalised units (the graph phase's includes its penalty)
  double learning_rate = 0;
  double done = 0;  // fraction of all epochs
};

struct TrainResult {
  double best_validation_loss = 0;  // L1, normalised units
  int best_iteration = 0;
  int train_samples = 0, validation_samples = 0;
};

// The graph learner's stages for one prior (row-major N×N), for inspection and tests.
struct GraphStages {
  std::vector<float> antisymmetric;  // W1·W2ᵀ − W2·W1ᵀ (before diag(β) and the ReLU)
  std::vector<float> learned;        // ReLU(… + diag(β))
  std::vector<float> gated;          // g⊙learned + (1−g)⊙prior
  std::vector<float> sparsified;     // ReLU(D^{-½}·gated·D^{-½} − 0.5/N)
  std::vector<float> graph;          // D^{-½}·sparsified·D^{-½}
};

class AdapGla {
 public:
  // Parameters initialised from `seed`. Throws std::invalid_argument for a bad shape.
  AdapGla(const ModelShape& shape, std::vector<std::string> services, uint64_t seed);
  ~AdapGla();
  AdapGla(const AdapGla&) = delete;
  AdapGla& operator=(const AdapGla&) = delete;

  const ModelShape& shape() const;
  const std::vector<std::string>& services() const;
  const Normalization& normalization() const;
  void set_normalization(const Normalization& n);
  // The graph the predictor uses (N×N, row-major): the prior until training learns one.
  const std::vector<float>& graph() const;
  void set_graph(std::vector<float> graph);

  // Named parameters of the predictor and the graph learner, in a fixed order.
  std::vector<std::string> ParameterNames() const;
  std::vector<int64_t> ParameterShape(const std::string& name) const;
  std::vector<float> Parameter(const std::string& name) const;
  // False when the name is unknown or the size differs.
  bool SetParameter(const std::string& name, const std::vector<float>& values);

  // The predictor on normalised inputs: `windows` is [batch][steps][nodes][kFeatures], the
  // result [batch][nodes] (normalised replicas), with `graph` (N×N) as A.
  std::vector<float> Forward(const std::vector<float>& windows, int batch,
                             const std::vector<float>& graph) const;
  // Next-minute replicas per service from the last `steps` minutes of `series` (raw units).
  std::vector<float> Predict(const Series& series) const;

  GraphStages LearnGraph(const std::vector<float>& prior) const;

  // DeepScaler's alternating training on `runs` starting from `prior` (already normalised, e.g.
  // GcnNormalize(PriorGraph(…))). Sets the normalisation, the parameters and graph() to those
  // of the iteration with the lowest validation loss. Throws std::invalid_argument when the runs
  // are too short for one training and one validation window or name other services.
  TrainResult Train(const std::vector<Series>& runs, const std::vector<float>& prior,
                    const TrainOptions& options);

  // The model file: format version, shape, services, normalisation, graph and parameters, with a
  // CRC-32 over all of it.
  std::string Serialize() const;
  // nullptr with `error` set for a file that is truncated, corrupt, of another format version or
  // whose parameters do not match its shape.
  static std::unique_ptr<AdapGla> Deserialize(std::string_view bytes, std::string* error);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

inline constexpr uint32_t kModelFormatVersion = 1;

}  // namespace recommender::predict
