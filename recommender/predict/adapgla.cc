#include "recommender/predict/adapgla.h"

#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace recommender::predict {
namespace {

namespace F = torch::nn::functional;

torch::Tensor FromVector(const std::vector<float>& v, torch::IntArrayRef shape) {
  return torch::from_blob(const_cast<float*>(v.data()), shape, torch::kFloat32).clone();
}

std::vector<float> ToVector(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().contiguous().to(torch::kFloat32);
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

// D^{-½}·A·D^{-½} with D the row sums; a row of zeros stays zero.
torch::Tensor SymmetricNormalize(const torch::Tensor& a) {
  torch::Tensor d = a.sum(1).pow(-0.5);
  d = torch::where(torch::isinf(d), torch::zeros_like(d), d);
  return d.unsqueeze(1) * a * d.unsqueeze(0);
}

// ASTGCN's temporal attention: a T×T softmax over the steps, from the whole block input.
struct TemporalAttentionImpl : torch::nn::Module {
  TemporalAttentionImpl(int n, int f, int t) {
    u1 = register_parameter("u1", torch::rand({n}) * 0.1);
    u2 = register_parameter("u2", torch::rand({f, n}) * 0.1);
    u3 = register_parameter("u3", torch::rand({f}) * 0.1);
    be = register_parameter("be", torch::zeros({1, t, t}));
    ve = register_parameter("ve", torch::rand({t, t}) * 0.1);
  }
  // x: [B, N, F, T] → x weighted over time, same shape.
  torch::Tensor forward(const torch::Tensor& x) {
    const auto b = x.size(0), n = x.size(1), f = x.size(2), t = x.size(3);
    const torch::Tensor lhs = torch::matmul(torch::matmul(x.permute({0, 3, 2, 1}), u1), u2);
    const torch::Tensor rhs = torch::matmul(u3, x);  // [B, N, T]
    const torch::Tensor e = torch::matmul(ve, torch::sigmoid(torch::matmul(lhs, rhs) + be));
    const torch::Tensor att = torch::softmax(e, 1);
    return torch::matmul(x.reshape({b, n * f, t}), att).reshape({b, n, f, t});
  }
  torch::Tensor u1, u2, u3, be, ve;
};
TORCH_MODULE(TemporalAttention);

struct BlockImpl : torch::nn::Module {
  BlockImpl(const ModelShape& s, int in_features)
      : attention(s.nodes, in_features, s.steps),
        time_conv(torch::nn::Conv2dOptions(2 * s.cheb_filters, s.time_filters, {1, s.kernel})
                      .padding({0, s.kernel / 2})),
        residual(torch::nn::Conv2dOptions(in_features, s.time_filters, 1)),
        norm(torch::nn::LayerNormOptions({s.time_filters})) {
    register_module("attention", attention);
    const double scale = 1.0 / std::sqrt(static_cast<double>(in_features));
    theta_a = register_parameter("theta_a",
                                 torch::randn({s.cheb_order, in_features, s.cheb_filters}) * scale);
    theta_t = register_parameter("theta_t",
                                 torch::randn({s.cheb_order, in_features, s.cheb_filters}) * scale);
    register_module("time_conv", time_conv);
    register_module("residual", residual);
    register_module("norm", norm);
  }
  // Σ_k T_k(A)·x·Θ_k with T_0 = x, T_1 = A·x, T_k = 2A·T_{k−1} − T_{k−2}; x: [B, N, F, T].
  static torch::Tensor Chebyshev(const torch::Tensor& x, const torch::Tensor& a,
                                 const torch::Tensor& theta) {
    torch::Tensor prev = x;
    torch::Tensor out = torch::einsum("bnft,fc->bnct", {x, theta[0]});
    torch::Tensor cur;
    for (int64_t k = 1; k < theta.size(0); ++k) {
      torch::Tensor next = torch::einsum("nm,bmft->bnft", {a, k == 1 ? x : cur});
      if (k > 1) next = 2 * next - prev;
      if (k > 1) prev = cur;
      cur = next;
      out = out + torch::einsum("bnft,fc->bnct", {cur, theta[k]});
    }
    return out;
  }
  // x: [B, N, F, T] → [B, N, time_filters, T].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& a) {
    const torch::Tensor xt = attention(x);
    const torch::Tensor g =
        torch::relu(torch::cat({Chebyshev(xt, a, theta_a), Chebyshev(xt, a.t(), theta_t)}, 2));
    const torch::Tensor y =
        torch::relu(time_conv(g.permute({0, 2, 1, 3})) + residual(x.permute({0, 2, 1, 3})));
    return norm(y.permute({0, 3, 2, 1})).permute({0, 2, 3, 1});  // norm over the filters
  }
  TemporalAttention attention;
  torch::Tensor theta_a, theta_t;
  torch::nn::Conv2d time_conv, residual;
  torch::nn::LayerNorm norm;
};
TORCH_MODULE(Block);

struct PredictorImpl : torch::nn::Module {
  explicit PredictorImpl(const ModelShape& s)
      : head(torch::nn::Conv2dOptions(s.steps, 1, {1, s.time_filters})) {
    for (int b = 0; b < s.blocks; ++b) {
      blocks.push_back(register_module("block" + std::to_string(b),
                                       Block(s, b == 0 ? kFeatures : s.time_filters)));
    }
    register_module("head", head);
  }
  // x: [B, T, N, F] → [B, N].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& a) {
    torch::Tensor h = x.permute({0, 2, 3, 1});
    for (Block& b : blocks) h = b->forward(h, a);
    return head(h.permute({0, 3, 1, 2})).squeeze(3).squeeze(1);
  }
  std::vector<Block> blocks;
  torch::nn::Conv2d head;
};
TORCH_MODULE(Predictor);

struct GraphLearnerImpl : torch::nn::Module {
  explicit GraphLearnerImpl(const ModelShape& s)
      : gate(torch::nn::Conv2dOptions(2, 1, 1)), epsilon(0.5 / s.nodes) {
    const double scale = 1.0 / std::sqrt(static_cast<double>(s.graph_dim));
    w1 = register_parameter("w1", torch::randn({s.nodes, s.graph_dim}) * scale);
    w2 = register_parameter("w2", torch::randn({s.nodes, s.graph_dim}) * scale);
    beta = register_parameter("beta", torch::rand({s.nodes}));
    register_module("gate", gate);
  }
  // The learned graph; with `stages`, every intermediate step too.
  torch::Tensor forward(const torch::Tensor& prior, GraphStages* stages = nullptr) {
    const torch::Tensor anti = torch::matmul(w1, w2.t()) - torch::matmul(w2, w1.t());
    const torch::Tensor learned = torch::relu(anti + torch::diag(beta));
    const torch::Tensor g =
        torch::sigmoid(gate(torch::stack({learned, prior}).unsqueeze(0))).squeeze(0).squeeze(0);
    const torch::Tensor gated = g * learned + (1 - g) * prior;
    const torch::Tensor sparse = torch::relu(SymmetricNormalize(gated) - epsilon);
    torch::Tensor graph = SymmetricNormalize(sparse);
    if (stages) {
      *stages = {ToVector(anti), ToVector(learned), ToVector(gated), ToVector(sparse),
                 ToVector(graph)};
    }
    return graph;
  }
  torch::Tensor w1, w2, beta;
  torch::nn::Conv2d gate;
  double epsilon;
};
TORCH_MODULE(GraphLearner);

// The training windows: inputs [S, T, N, F] normalised, targets [S, N] normalised replicas.
struct Windows {
  torch::Tensor x, y;
  int64_t size() const { return x.defined() ? x.size(0) : 0; }
};

void Append(const Series& s, int from, int to, int steps, const Normalization& norm,
            std::vector<float>* x, std::vector<float>* y) {
  const int n = static_cast<int>(s.services.size());
  for (int t = std::max(from, steps); t < to; ++t) {
    for (int m = t - steps; m < t; ++m) {
      for (int i = 0; i < n; ++i) {
        for (int f = 0; f < kFeatures; ++f) {
          x->push_back((s.At(m, i, f) - norm.mean[f]) / norm.stddev[f]);
        }
      }
    }
    for (int i = 0; i < n; ++i) {
      y->push_back((s.At(t, i, kReplicas) - norm.mean[kReplicas]) / norm.stddev[kReplicas]);
    }
  }
}

Windows MakeWindows(const std::vector<float>& x, const std::vector<float>& y, int steps, int n) {
  Windows w;
  const auto samples = static_cast<int64_t>(y.size()) / n;
  if (samples == 0) return w;
  w.x = FromVector(x, {samples, steps, n, kFeatures});
  w.y = FromVector(y, {samples, n});
  return w;
}

// Mean of loss_fn over batches (in order, without gradients).
template <typename Fn>
double Evaluate(const Windows& w, int batch, Fn&& loss_fn) {
  torch::NoGradGuard no_grad;
  double sum = 0;
  for (int64_t b = 0; b < w.size(); b += batch) {
    const int64_t e = std::min<int64_t>(w.size(), b + batch);
    const torch::Tensor loss = loss_fn(w.x.slice(0, b, e), w.y.slice(0, b, e));
    sum += loss.item<double>() * static_cast<double>(e - b);
  }
  return sum / static_cast<double>(w.size());
}

// Little-endian writers and a bounded reader for the model file.
void Put(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }
template <typename T>
void Put(std::string& out, T v) {
  Put(out, &v, sizeof v);
}
void PutString(std::string& out, const std::string& s) {
  Put(out, static_cast<uint32_t>(s.size()));
  Put(out, s.data(), s.size());
}
void PutFloats(std::string& out, const std::vector<float>& v) {
  Put(out, static_cast<uint64_t>(v.size()));
  Put(out, v.data(), v.size() * sizeof(float));
}

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool Get(void* p, size_t n) {
    if (n > in_.size()) return false;
    std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  template <typename T>
  bool Get(T* v) {
    return Get(v, sizeof *v);
  }
  bool GetString(std::string* s) {
    uint32_t n = 0;
    if (!Get(&n) || n > in_.size()) return false;
    s->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool GetFloats(std::vector<float>* v, uint64_t expected) {
    uint64_t n = 0;
    if (!Get(&n) || n != expected || n > in_.size() / sizeof(float)) return false;
    v->resize(n);
    return Get(v->data(), n * sizeof(float));
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

constexpr char kMagic[8] = {'Q', 'L', 'A', 'D', 'A', 'P', 'G', 'L'};

}  // namespace

std::string ModelShape::Check() const {
  if (nodes < 1) return "at least one service is needed";
  if (steps < 1 || blocks < 1 || cheb_order < 1 || cheb_filters < 1 || time_filters < 1 ||
      graph_dim < 1) {
    return "steps, blocks, cheb_order, cheb_filters, time_filters and graph_dim must be ≥ 1";
  }
  if (kernel < 1 || kernel % 2 == 0) return "the time kernel must be odd";
  return "";
}

struct AdapGla::Impl {
  Impl(const ModelShape& s, std::vector<std::string> names)
      : shape(s), services(std::move(names)), predictor(s), learner(s) {}
  ModelShape shape;
  std::vector<std::string> services;
  Normalization norm;
  std::vector<float> graph;
  Predictor predictor;
  GraphLearner learner;

  std::vector<std::pair<std::string, torch::Tensor>> Named() {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& p : predictor->named_parameters())
      out.emplace_back("predictor." + p.key(), p.value());
    for (const auto& p : learner->named_parameters())
      out.emplace_back("graph." + p.key(), p.value());
    return out;
  }
  torch::Tensor Find(const std::string& name) {
    for (auto& [n, t] : Named()) {
      if (n == name) return t;
    }
    return {};
  }
  torch::Tensor Graph() const { return FromVector(graph, {shape.nodes, shape.nodes}); }
};

AdapGla::AdapGla(const ModelShape& shape, std::vector<std::string> services, uint64_t seed) {
  if (const std::string e = shape.Check(); !e.empty()) throw std::invalid_argument(e);
  if (static_cast<int>(services.size()) != shape.nodes) {
    throw std::invalid_argument("the shape's nodes differ from the number of services");
  }
  // One thread: the results are then the same on every run for a seed.
  torch::set_num_threads(1);
  torch::manual_seed(seed);
  impl_ = std::make_unique<Impl>(shape, std::move(services));
  impl_->norm.stddev.fill(1);
  impl_->graph = ToVector(torch::eye(shape.nodes));
}

AdapGla::~AdapGla() = default;

const ModelShape& AdapGla::shape() const { return impl_->shape; }
const std::vector<std::string>& AdapGla::services() const { return impl_->services; }
const Normalization& AdapGla::normalization() const { return impl_->norm; }
void AdapGla::set_normalization(const Normalization& n) { impl_->norm = n; }
const std::vector<float>& AdapGla::graph() const { return impl_->graph; }
void AdapGla::set_graph(std::vector<float> graph) { impl_->graph = std::move(graph); }

std::vector<std::string> AdapGla::ParameterNames() const {
  std::vector<std::string> names;
  for (auto& [n, t] : impl_->Named()) names.push_back(n);
  return names;
}

std::vector<int64_t> AdapGla::ParameterShape(const std::string& name) const {
  const torch::Tensor t = impl_->Find(name);
  return t.defined() ? t.sizes().vec() : std::vector<int64_t>{};
}

std::vector<float> AdapGla::Parameter(const std::string& name) const {
  const torch::Tensor t = impl_->Find(name);
  return t.defined() ? ToVector(t) : std::vector<float>{};
}

bool AdapGla::SetParameter(const std::string& name, const std::vector<float>& values) {
  torch::Tensor t = impl_->Find(name);
  if (!t.defined() || t.numel() != static_cast<int64_t>(values.size())) return false;
  torch::NoGradGuard no_grad;
  t.copy_(FromVector(values, t.sizes()));
  return true;
}

std::vector<float> AdapGla::Forward(const std::vector<float>& windows, int batch,
                                    const std::vector<float>& graph) const {
  const ModelShape& s = impl_->shape;
  if (windows.size() != static_cast<size_t>(batch) * s.steps * s.nodes * kFeatures ||
      graph.size() != static_cast<size_t>(s.nodes) * s.nodes) {
    throw std::invalid_argument("Forward: the windows or the graph have the wrong size");
  }
  torch::NoGradGuard no_grad;
  impl_->predictor->eval();
  return ToVector(
      impl_->predictor->forward(FromVector(windows, {batch, s.steps, s.nodes, kFeatures}),
                                FromVector(graph, {s.nodes, s.nodes})));
}

std::vector<float> AdapGla::Predict(const Series& series) const {
  const ModelShape& s = impl_->shape;
  if (series.services != impl_->services || series.minutes < s.steps) {
    throw std::invalid_argument("Predict: other services or fewer minutes than the window");
  }
  std::vector<float> x, y;
  Series tail = series;
  // Append reads the window before minute t and the target at t; a dummy minute stands in.
  tail.minutes += 1;
  tail.values.resize(static_cast<size_t>(tail.minutes) * series.services.size() * kFeatures, 0);
  Append(tail, series.minutes, series.minutes + 1, s.steps, impl_->norm, &x, &y);
  std::vector<float> out = Forward(x, 1, impl_->graph);
  for (float& v : out) v = v * impl_->norm.stddev[kReplicas] + impl_->norm.mean[kReplicas];
  return out;
}

GraphStages AdapGla::LearnGraph(const std::vector<float>& prior) const {
  torch::NoGradGuard no_grad;
  GraphStages stages;
  impl_->learner->forward(FromVector(prior, {impl_->shape.nodes, impl_->shape.nodes}), &stages);
  return stages;
}

TrainResult AdapGla::Train(const std::vector<Series>& runs, const std::vector<float>& prior,
                           const TrainOptions& o) {
  const ModelShape& s = impl_->shape;
  const int n = s.nodes;
  torch::set_num_threads(1);
  torch::manual_seed(o.seed);

  // Normalisation from the training part of every run.
  std::array<double, kFeatures> sum{}, sq{};
  double count = 0;
  std::vector<int> split;
  for (const Series& r : runs) {
    if (r.services != impl_->services) {
      throw std::invalid_argument("Train: a run's services differ from the model's");
    }
    const int cut = r.minutes - static_cast<int>(std::lround(r.minutes * o.validation_share));
    split.push_back(cut);
    for (int m = 0; m < cut; ++m) {
      for (int i = 0; i < n; ++i) {
        for (int f = 0; f < kFeatures; ++f) {
          sum[f] += r.At(m, i, f);
          sq[f] += static_cast<double>(r.At(m, i, f)) * r.At(m, i, f);
        }
      }
      count += n;
    }
  }
  Normalization norm;
  for (int f = 0; f < kFeatures; ++f) {
    const double mean = count > 0 ? sum[f] / count : 0;
    const double var = count > 0 ? sq[f] / count - mean * mean : 0;
    norm.mean[f] = static_cast<float>(mean);
    norm.stddev[f] = static_cast<float>(var > 1e-12 ? std::sqrt(var) : 1);
  }
  std::vector<float> tx, ty, vx, vy;
  for (size_t r = 0; r < runs.size(); ++r) {
    Append(runs[r], 0, split[r], s.steps, norm, &tx, &ty);
    // Validation targets after the cut, their windows reaching back into the training part.
    Append(runs[r], split[r], runs[r].minutes, s.steps, norm, &vx, &vy);
  }
  const Windows train = MakeWindows(tx, ty, s.steps, n);
  const Windows val = MakeWindows(vx, vy, s.steps, n);
  if (train.size() == 0 || val.size() == 0) {
    throw std::invalid_argument("Train: the runs are too short for the window (--steps " +
                                std::to_string(s.steps) + ")");
  }
  impl_->norm = norm;

  Predictor& model = impl_->predictor;
  GraphLearner& learner = impl_->learner;
  torch::optim::Adam model_opt(
      model->parameters(), torch::optim::AdamOptions(o.learning_rate).weight_decay(o.weight_decay));
  torch::optim::Adam graph_opt(
      learner->parameters(),
      torch::optim::AdamOptions(o.graph_learning_rate).weight_decay(o.weight_decay));
  const torch::Tensor prior_t = FromVector(prior, {n, n});
  const torch::Tensor prior_edges = torch::sign(prior_t);
  torch::Tensor best_graph = prior_t;

  struct Pooled {
    torch::Tensor graph;
    double loss;
  };
  std::vector<Pooled> pool;
  TrainResult result;
  result.train_samples = static_cast<int>(train.size());
  result.validation_samples = static_cast<int>(val.size());
  result.best_validation_loss = std::numeric_limits<double>::infinity();
  std::vector<torch::Tensor> best_params;
  std::vector<float> best_graph_kept;

  int total_epochs = 0;
  for (int it = 0; it < o.iterations; ++it) {
    total_epochs += 2 * o.epochs + (it >= o.iterations / 2 + 1 ? 5 : 0);
  }
  int epochs_done = 0, model_epoch = 0;
  const auto run_phase = [&](const char* phase, int it, int epochs, auto&& step_batch,
                             torch::optim::Adam& opt, bool cosine) {
    for (int e = 0; e < epochs; ++e) {
      double lr = o.graph_learning_rate;
      if (cosine) {
        lr = o.min_learning_rate + (o.learning_rate - o.min_learning_rate) *
                                       (1 + std::cos(M_PI * model_epoch / o.cosine_period)) / 2;
        ++model_epoch;
      }
      for (auto& group : opt.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
      const torch::Tensor order = torch::randperm(train.size());
      double loss_sum = 0;
      for (int64_t b = 0; b < train.size(); b += o.batch) {
        const torch::Tensor idx = order.slice(0, b, std::min<int64_t>(train.size(), b + o.batch));
        opt.zero_grad();
        torch::Tensor loss = step_batch(train.x.index_select(0, idx), train.y.index_select(0, idx));
        loss.backward();
        opt.step();
        loss_sum += loss.item<double>() * static_cast<double>(idx.size(0));
      }
      ++epochs_done;
      if (o.on_epoch) {
        o.on_epoch(EpochReport{.iteration = it + 1,
                               .iterations = o.iterations,
                               .phase = phase,
                               .epoch = e + 1,
                               .epochs = epochs,
                               .train_loss = loss_sum / static_cast<double>(train.size()),
                               .learning_rate = lr,
                               .done = static_cast<double>(epochs_done) / total_epochs});
      }
    }
  };

  for (int it = 0; it < o.iterations; ++it) {
    // 1. The predictor with the graph fixed.
    model->train();
    run_phase(
        "predictor", it, o.epochs + (it >= o.iterations / 2 + 1 ? 5 : 0),
        [&](const torch::Tensor& x, const torch::Tensor& y) {
          return F::l1_loss(model->forward(x, best_graph), y);
        },
        model_opt, true);
    // 2. The graph learner with the predictor fixed (its gradients are computed, not applied).
    run_phase(
        "graph", it, o.epochs,
        [&](const torch::Tensor& x, const torch::Tensor& y) {
          const torch::Tensor a = learner->forward(best_graph);
          const torch::Tensor added = torch::relu(torch::sign(a) - prior_edges).mean();
          return F::l1_loss(model->forward(x, a), y) +
                 torch::relu(added - o.new_edge_share) / o.new_edge_share;
        },
        graph_opt, false);
    model->zero_grad();
    // 3. The new graph joins the pool, which drops its worst member beyond max_graphs.
    torch::Tensor fresh;
    {
      torch::NoGradGuard no_grad;
      fresh = learner->forward(best_graph).detach();
    }
    model->eval();
    const double loss = Evaluate(val, o.batch, [&](const torch::Tensor& x, const torch::Tensor& y) {
      return F::l1_loss(model->forward(x, fresh), y);
    });
    pool.push_back({fresh, loss});
    if (static_cast<int>(pool.size()) > o.max_graphs) {
      pool.erase(std::max_element(pool.begin(), pool.end(), [](const Pooled& a, const Pooled& b) {
        return a.loss < b.loss;
      }));
    }
    // 4. The pool's softmax(max loss − loss) blend for the first 80 % of iterations, then the
    // newest graph.
    if (it < static_cast<int>(0.8 * o.iterations)) {
      double worst = 0;
      for (const Pooled& p : pool) worst = std::max(worst, p.loss);
      double z = 0;
      for (const Pooled& p : pool) z += std::exp(worst - p.loss);
      best_graph = torch::zeros({n, n});
      for (const Pooled& p : pool)
        best_graph = best_graph + p.graph * (std::exp(worst - p.loss) / z);
    } else {
      best_graph = fresh;
    }
    // 5. Keep the best iteration: its parameters and the graph it was validated with.
    if (loss < result.best_validation_loss) {
      result.best_validation_loss = loss;
      result.best_iteration = it + 1;
      best_params.clear();
      for (auto& [name, t] : impl_->Named()) best_params.push_back(t.detach().clone());
      best_graph_kept = ToVector(fresh);
    }
  }
  {
    torch::NoGradGuard no_grad;
    auto named = impl_->Named();
    for (size_t k = 0; k < named.size(); ++k) named[k].second.copy_(best_params[k]);
  }
  impl_->graph = best_graph_kept;
  return result;
}

std::string AdapGla::Serialize() const {
  std::string body;
  const ModelShape& s = impl_->shape;
  for (int v : {s.nodes, s.steps, s.blocks, s.cheb_order, s.cheb_filters, s.time_filters, s.kernel,
                s.graph_dim}) {
    Put(body, static_cast<int32_t>(v));
  }
  for (const std::string& name : impl_->services) PutString(body, name);
  Put(body, impl_->norm.mean.data(), sizeof impl_->norm.mean);
  Put(body, impl_->norm.stddev.data(), sizeof impl_->norm.stddev);
  PutFloats(body, impl_->graph);
  const auto named = impl_->Named();
  Put(body, static_cast<uint32_t>(named.size()));
  for (const auto& [name, t] : named) {
    PutString(body, name);
    PutFloats(body, ToVector(t));
  }
  std::string out(kMagic, sizeof kMagic);
  Put(out, kModelFormatVersion);
  Put(out, static_cast<uint64_t>(body.size()));
  out += body;
  Put(out, static_cast<uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                       static_cast<uInt>(body.size()))));
  return out;
}

std::unique_ptr<AdapGla> AdapGla::Deserialize(std::string_view bytes, std::string* error) {
  Reader header(bytes);
  char magic[sizeof kMagic];
  uint32_t version = 0;
  uint64_t size = 0;
  if (!header.Get(magic, sizeof magic) || std::memcmp(magic, kMagic, sizeof kMagic) != 0) {
    *error = "not a queuelens DeepScaler model file";
    return nullptr;
  }
  if (!header.Get(&version) || version != kModelFormatVersion) {
    *error = "model format version " + std::to_string(version) + ", expected " +
             std::to_string(kModelFormatVersion);
    return nullptr;
  }
  const size_t head = sizeof kMagic + sizeof version + sizeof size;
  if (!header.Get(&size) || size != bytes.size() - head - sizeof(uint32_t) ||
      bytes.size() < head + sizeof(uint32_t)) {
    *error = "truncated model file";
    return nullptr;
  }
  const std::string_view body = bytes.substr(head, size);
  uint32_t crc = 0;
  std::memcpy(&crc, bytes.data() + head + size, sizeof crc);
  if (crc !=
      crc32(0, reinterpret_cast<const Bytef*>(body.data()), static_cast<uInt>(body.size()))) {
    *error = "corrupt model file (checksum mismatch)";
    return nullptr;
  }
  Reader r(body);
  int32_t v[8];
  for (int32_t& x : v) {
    if (!r.Get(&x)) {
      *error = "truncated shape";
      return nullptr;
    }
  }
  const ModelShape shape{v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]};
  if (const std::string e = shape.Check(); !e.empty() || shape.nodes > 100000) {
    *error = "bad shape: " + e;
    return nullptr;
  }
  std::vector<std::string> services(static_cast<size_t>(shape.nodes));
  for (std::string& name : services) {
    if (!r.GetString(&name)) {
      *error = "truncated service names";
      return nullptr;
    }
  }
  auto model = std::make_unique<AdapGla>(shape, services, 0);
  Normalization norm;
  std::vector<float> graph;
  if (!r.Get(norm.mean.data(), sizeof norm.mean) ||
      !r.Get(norm.stddev.data(), sizeof norm.stddev) ||
      !r.GetFloats(&graph, static_cast<uint64_t>(shape.nodes) * shape.nodes)) {
    *error = "bad normalisation or graph";
    return nullptr;
  }
  model->set_normalization(norm);
  model->set_graph(std::move(graph));
  uint32_t count = 0;
  const std::vector<std::string> names = model->ParameterNames();
  if (!r.Get(&count) || count != names.size()) {
    *error = "parameter count differs from the shape's";
    return nullptr;
  }
  for (const std::string& expected : names) {
    std::string name;
    std::vector<float> values;
    const torch::Tensor t = model->impl_->Find(expected);
    if (!r.GetString(&name) || name != expected ||
        !r.GetFloats(&values, static_cast<uint64_t>(t.numel())) ||
        !model->SetParameter(name, values)) {
      *error = "parameter " + expected + " is missing or has another size";
      return nullptr;
    }
  }
  if (!r.done()) {
    *error = "trailing bytes after the parameters";
    return nullptr;
  }
  return model;
}

}  // namespace recommender::predict
