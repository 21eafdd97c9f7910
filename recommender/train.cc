// queuelens-train: trains DeepScaler's AdapGLA model on the series `queuelens-sim dataset`
// writes, from a prior graph built from the call graph and the services' load correlation, and
// writes the model file DeepScaler's policy loads.
#include <cmath>
#include <cstdio>
#include <optional>
#include <string>

#include "common/flags.h"
#include "recommender/checkpoint/checkpoint.h"
#include "recommender/predict/adapgla.h"
#include "recommender/predict/series.h"

namespace {

namespace rp = recommender::predict;

constexpr char kSummary[] =
    "Trains DeepScaler's model (AdapGLA) on per-service, per-minute series and writes the model "
    "file.\n\n"
    "  queuelens-train --series FILE.csv [--edges FILE.csv] --out MODEL [shape and training "
    "flags]\n";

struct Flags {
  std::string series, edges, out;
  double min_correlation = 0.5;
  rp::ModelShape shape;
  rp::TrainOptions train;
  int64_t steps = shape.steps, blocks = shape.blocks, cheb_order = shape.cheb_order,
          cheb_filters = 16, time_filters = 32, kernel = shape.kernel, graph_dim = 16;
  int64_t seed = static_cast<int64_t>(train.seed), iterations = train.iterations,
          epochs = train.epochs, batch = train.batch, cosine_period = train.cosine_period,
          max_graphs = train.max_graphs;

  void Register(common::FlagSet& f) {
    f.String("series", &series, "Series CSV (queuelens-sim dataset --out).");
    f.String("edges", &edges,
             "Call-graph edge counts CSV (caller,callee,calls); empty: the prior graph comes from "
             "the load correlation alone.");
    f.String("out", &out, "The model file to write.");
    f.Double("min-correlation", &min_correlation,
             "Prior graph: load correlations at or below this are no edge.");
    f.Int("steps", &steps, "Minutes of history per prediction (DeepScaler: 80).");
    f.Int("blocks", &blocks, "Spatiotemporal blocks (DeepScaler: 2).");
    f.Int("cheb-order", &cheb_order, "Chebyshev terms K (DeepScaler: 3).");
    f.Int("cheb-filters", &cheb_filters,
          "Graph-convolution filters per direction (DeepScaler: 64; 16 trains in minutes on two "
          "cores).");
    f.Int("time-filters", &time_filters,
          "Time-convolution filters (DeepScaler: 128; 32 trains in minutes on two cores).");
    f.Int("kernel", &kernel, "Time-convolution width, odd (DeepScaler: 5).");
    f.Int("graph-dim", &graph_dim,
          "Graph learner's embedding size (DeepScaler: 64; 16 for the 10-30 services of the "
          "bundled apps).");
    f.Int("seed", &seed, "Seed of the initialisation and the batch order (DeepScaler: 2021).");
    f.Int("iterations", &iterations, "Alternations of predictor and graph learner.");
    f.Int("epochs", &epochs,
          "Epochs per phase; the predictor gets 5 more from iteration iterations/2 + 1 on.");
    f.Int("batch", &batch, "Batch size (DeepScaler: 64).");
    f.Double("learning-rate", &train.learning_rate, "Adam's learning rate (DeepScaler: 1e-3).");
    f.Double("graph-learning-rate", &train.graph_learning_rate,
             "The graph learner's Adam learning rate, constant (DeepScaler: 1e-3).");
    f.Double("weight-decay", &train.weight_decay, "Adam's weight decay (DeepScaler: 1e-4).");
    f.Int("cosine-period", &cosine_period,
          "Cosine schedule's period in predictor epochs (DeepScaler: 15).");
    f.Double("min-learning-rate", &train.min_learning_rate,
             "Cosine schedule's floor (DeepScaler: 1e-5).");
    f.Int("max-graphs", &max_graphs, "Graph pool size (DeepScaler: 3).");
    f.Double("new-edge-share", &train.new_edge_share,
             "δ: share of new edges beyond which the graph loss is penalised (DeepScaler: 0.05).");
    f.Double("validation-share", &train.validation_share,
             "Share of each run's last minutes held out for validation.");
  }
};

std::string Bar(double fraction) {
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(std::lround(fraction * kWidth));
  return "[" + std::string(filled, '#') + std::string(kWidth - filled, '.') + "]";
}

int Main(Flags& f) {
  if (f.series.empty() || f.out.empty()) {
    std::fprintf(stderr, "queuelens-train: --series and --out are required\n");
    return 2;
  }
  std::string error;
  const auto series_text = recommender::ReadSmallFile(f.series, 1 << 30, &error);
  std::vector<rp::Series> runs;
  if (!series_text || !rp::ParseSeriesCsv(*series_text, &runs, &error)) {
    std::fprintf(stderr, "queuelens-train: --series %s: %s\n", f.series.c_str(),
                 error.empty() ? "no such file" : error.c_str());
    return 1;
  }
  std::vector<rp::Edge> edges;
  if (!f.edges.empty()) {
    const auto text = recommender::ReadSmallFile(f.edges, 64 << 20, &error);
    if (!text || !rp::ParseEdgesCsv(*text, &edges, &error)) {
      std::fprintf(stderr, "queuelens-train: --edges %s: %s\n", f.edges.c_str(),
                   error.empty() ? "no such file" : error.c_str());
      return 1;
    }
  }
  const std::vector<std::string>& services = runs[0].services;
  const int n = static_cast<int>(services.size());
  f.shape = {.nodes = n,
             .steps = static_cast<int>(f.steps),
             .blocks = static_cast<int>(f.blocks),
             .cheb_order = static_cast<int>(f.cheb_order),
             .cheb_filters = static_cast<int>(f.cheb_filters),
             .time_filters = static_cast<int>(f.time_filters),
             .kernel = static_cast<int>(f.kernel),
             .graph_dim = static_cast<int>(f.graph_dim)};
  if (const std::string e = f.shape.Check(); !e.empty()) {
    std::fprintf(stderr, "queuelens-train: %s\n", e.c_str());
    return 2;
  }
  if (f.iterations < 1 || f.epochs < 1 || f.batch < 1 || f.cosine_period < 1 || f.max_graphs < 1) {
    std::fprintf(stderr,
                 "queuelens-train: --iterations, --epochs, --batch, --cosine-period and "
                 "--max-graphs must be ≥ 1\n");
    return 2;
  }
  f.train.seed = static_cast<uint64_t>(f.seed);
  f.train.iterations = static_cast<int>(f.iterations);
  f.train.epochs = static_cast<int>(f.epochs);
  f.train.batch = static_cast<int>(f.batch);
  f.train.cosine_period = static_cast<int>(f.cosine_period);
  f.train.max_graphs = static_cast<int>(f.max_graphs);
  f.train.on_epoch = [](const rp::EpochReport& r) {
    std::fprintf(stderr, "%s %3.0f%% iteration %d/%d %-9s epoch %2d/%d  L1 %.4f  lr %.2e\n",
                 Bar(r.done).c_str(), r.done * 100, r.iteration, r.iterations, r.phase, r.epoch,
                 r.epochs, r.train_loss, r.learning_rate);
  };

  const std::vector<float> prior =
      rp::GcnNormalize(rp::PriorGraph(services, edges, runs, f.min_correlation), n);
  rp::AdapGla model(f.shape, services, f.train.seed);
  const rp::TrainResult result = model.Train(runs, prior, f.train);
  if (!recommender::WriteFileAtomically(f.out, model.Serialize(), &error)) {
    std::fprintf(stderr, "queuelens-train: --out %s: %s\n", f.out.c_str(), error.c_str());
    return 1;
  }
  std::printf(
      "trained on %d windows (%d held out) of %zu run(s), %d services: best validation L1 %.4f "
      "(normalised; %.3f replicas) at iteration %d\n",
      result.train_samples, result.validation_samples, runs.size(), n, result.best_validation_loss,
      result.best_validation_loss * model.normalization().stddev[rp::kReplicas],
      result.best_iteration);
  // The strongest learned edges, the first thing to check in a new model.
  const std::vector<float>& a = model.graph();
  std::vector<std::pair<float, int>> order;
  for (int k = 0; k < n * n; ++k) {
    if (k / n != k % n && a[static_cast<size_t>(k)] > 0)
      order.emplace_back(a[static_cast<size_t>(k)], k);
  }
  std::sort(order.rbegin(), order.rend());
  for (size_t k = 0; k < std::min<size_t>(order.size(), 5); ++k) {
    std::printf("  edge %s → %s  %.3f\n",
                services[static_cast<size_t>(order[k].second / n)].c_str(),
                services[static_cast<size_t>(order[k].second % n)].c_str(), order[k].first);
  }
  std::printf("wrote %s\n", f.out.c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  common::FlagSet set("queuelens-train", kSummary);
  flags.Register(set);
  if (const std::optional<int> code = set.ParseOrExitCode(argc, argv)) return *code;
  try {
    return Main(flags);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "queuelens-train: %s\n", e.what());
    return 1;
  }
}
