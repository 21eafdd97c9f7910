#include "sim/dataset.h"

#include <map>
#include <string>
#include <utility>

namespace sim {
namespace rp = recommender::predict;

MinuteSampler::MinuteSampler(const App& app)
    : alloc_(app.services.size(), 0), usage_(app.services.size(), 0), start_(app.services.size()) {
  for (const Service& s : app.services) series_.services.push_back(s.name);
}

void MinuteSampler::Sample(Simulation& sim) {
  constexpr int64_t kTicksPerSecond = 10, kTicksPerMinute = 600;
  ++tick_;
  if (tick_ % kTicksPerSecond != 0) return;
  // Each second: CPU used and the limits allocated, per service.
  const auto& replicas = sim.replicas();
  last_usage_.resize(replicas.size(), 0);
  for (uint32_t i = 0; i < replicas.size(); ++i) {
    const Replica& r = replicas[i];
    if (r.state == ReplicaState::kGone) continue;
    const double used = sim.Counters(i).usage_seconds;
    usage_[r.service] += used - last_usage_[i];
    last_usage_[i] = used;
    const double limit = sim.cpu().Limit(r.container);
    alloc_[r.service] += limit > 0 ? limit : sim.cpu().NodeCores(r.node);
  }
  if (tick_ % kTicksPerMinute == 0) CloseMinute(sim);
}

void MinuteSampler::CloseMinute(Simulation& sim) {
  const int n = static_cast<int>(series_.services.size());
  const int m = series_.minutes++;
  series_.values.resize(static_cast<size_t>(series_.minutes) * static_cast<size_t>(n) *
                        rp::kFeatures);
  for (int s = 0; s < n; ++s) {
    const auto u = static_cast<uint32_t>(s);
    const ServiceTruth now = sim.Truth(u);
    const ServiceTruth& was = start_[u];
    const double done = static_cast<double>(now.completions - was.completions);
    series_.At(m, s, rp::kReplicas) = static_cast<float>(sim.Replicas(u));
    series_.At(m, s, rp::kCpuUtilization) =
        static_cast<float>(alloc_[u] > 0 ? usage_[u] / alloc_[u] : 0);
    series_.At(m, s, rp::kResponseSeconds) =
        static_cast<float>(done > 0 ? (now.sojourn_sum - was.sojourn_sum) / done : 0);
    series_.At(m, s, rp::kRequestRate) =
        static_cast<float>(static_cast<double>(now.arrivals - was.arrivals) / 60);
    start_[u] = now;
    alloc_[u] = usage_[u] = 0;
  }
}

namespace {

const Operation* Find(const App& app, const std::string& service, const std::string& name) {
  const int s = app.FindService(service);
  if (s < 0) return nullptr;
  for (const Operation& o : app.services[static_cast<size_t>(s)].operations) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

// Adds `factor` × the expected calls of `steps` (run by `service`) to `calls`.
void AddCalls(const App& app, const std::string& service, const std::vector<Step>& steps,
              double factor, std::map<std::pair<std::string, std::string>, double>& calls) {
  for (const Step& step : steps) {
    const double f = factor * step.probability * step.repeat;
    if (step.kind == Step::Kind::kCall) {
      calls[{service, step.service}] += f;
      // ParseApp has checked that the operation exists and the graph has no cycle.
      if (const Operation* op = Find(app, step.service, step.operation)) {
        AddCalls(app, step.service, op->steps, f, calls);
      }
    } else if (step.kind == Step::Kind::kParallel || step.kind == Step::Kind::kSequence) {
      AddCalls(app, service, step.steps, f, calls);
    }
  }
}

}  // namespace

std::vector<rp::Edge> CallGraphEdges(const App& app, double requests) {
  double weights = 0;
  for (const RequestType& r : app.requests) weights += r.weight;
  std::map<std::pair<std::string, std::string>, double> calls;
  for (const RequestType& r : app.requests) {
    if (const Operation* op = Find(app, r.service, r.operation)) {
      AddCalls(app, r.service, op->steps, requests * r.weight / weights, calls);
    }
  }
  std::vector<rp::Edge> edges;
  edges.reserve(calls.size());
  for (const auto& [edge, n] : calls) edges.push_back({edge.first, edge.second, n});
  return edges;
}

Dataset RecordDataset(const App& app, const RateTrace& trace,
                      const std::vector<PolicySpec>& policies, int seeds, const RunOptions& options,
                      const std::function<void(double)>& progress) {
  Dataset d;
  double requests = 0;
  const int total = static_cast<int>(policies.size()) * seeds;
  int done = 0;
  for (const PolicySpec& policy : policies) {
    for (int k = 0; k < seeds; ++k) {
      RunOptions o = options;
      o.seed = options.seed + static_cast<uint64_t>(k);
      MinuteSampler sampler(app);
      uint64_t started = 0;
      o.observe = [&](Simulation& sim, double) {
        sampler.Sample(sim);
        started = sim.requests_started();
      };
      if (progress) {
        o.progress = [&](double x) { progress((done + x) / total); };
      }
      RunOne(app, trace, policy, o);
      d.runs.push_back(sampler.series());
      requests += static_cast<double>(started);
      ++done;
    }
  }
  d.edges = CallGraphEdges(app, requests);
  return d;
}

}  // namespace sim
