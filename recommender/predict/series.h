#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

// The per-service, per-minute series DeepScaler learns from, the call graph's edge counts, and
// the prior service graph built from both. No dependency on a learning library: the simulator
// writes these files and the trainer reads them.
namespace recommender::predict {

// Features of one service in one minute, in DeepScaler's order (its pod, cpu, res, req).
enum Feature : int { kReplicas = 0, kCpuUtilization, kResponseSeconds, kRequestRate };
inline constexpr int kFeatures = 4;
inline constexpr std::array<std::string_view, kFeatures> kFeatureNames = {
    "replicas", "cpu_utilization", "response_seconds", "request_rate"};

// values[(minute * services.size() + service) * kFeatures + feature]
struct Series {
  std::vector<std::string> services;
  int minutes = 0;
  std::vector<float> values;

  float At(int minute, int service, int feature) const {
    return values[(static_cast<size_t>(minute) * services.size() + static_cast<size_t>(service)) *
                      kFeatures +
                  static_cast<size_t>(feature)];
  }
  float& At(int minute, int service, int feature) {
    return values[(static_cast<size_t>(minute) * services.size() + static_cast<size_t>(service)) *
                      kFeatures +
                  static_cast<size_t>(feature)];
  }
};

// Calls from `caller` to `callee` (queuelens_calls_total's labels) over the series' span.
struct Edge {
  std::string caller, callee;
  double calls = 0;
};

// CSV with the header "run,minute,service,replicas,cpu_utilization,response_seconds,
// request_rate": one row per run, minute and service, minutes from 0 within each run.
std::string FormatSeriesCsv(const std::vector<Series>& runs);
// The runs of a series CSV, in order of first appearance; every run must have every service of
// the first run in every minute. Returns false and sets `error` (with the line) otherwise.
bool ParseSeriesCsv(std::string_view csv, std::vector<Series>* runs, std::string* error);

// CSV with the header "caller,callee,calls".
std::string FormatEdgesCsv(const std::vector<Edge>& edges);
bool ParseEdgesCsv(std::string_view csv, std::vector<Edge>* edges, std::string* error);

// The prior service graph DeepScaler starts from (its missing adj_mx_distance and adj_mx_corr),
// row-major N×N over `services`: entry [i][j] = max(call share, load correlation), where the call
// share is calls(i→j) / Σ_k calls(i→k) (edges naming other services are ignored) and the load
// correlation is the Pearson correlation of i's and j's request rate over every run, kept when
// above `min_correlation` and 0 otherwise (also for a constant series). The diagonal is 0: the
// normalisation adds the self-loops.
std::vector<float> PriorGraph(const std::vector<std::string>& services,
                              const std::vector<Edge>& edges, const std::vector<Series>& runs,
                              double min_correlation = 0.5);

// DeepScaler's "gcn" normalisation of an initial graph: D⁻¹A + I, then D^{-½}·A·D^{-½} with D the
// row sums. Rows of zeros stay the identity's.
std::vector<float> GcnNormalize(const std::vector<float>& adjacency, int n);

}  // namespace recommender::predict
