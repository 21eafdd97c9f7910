#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>

#include "sim/app.h"
#include "sim/evaluate.h"
#include "sim/run.h"
#include "sim/scoreboard.h"
#include "sim/simulation.h"
#include "sim/workload.h"

namespace sim::testing {

// One service with one operation that burns `cpu`, `threads` worker threads per replica, on one
// node of `cores` cores: M/G/c when threads = c ≤ cores, processor sharing when threads > cores.
inline App SingleServiceApp(int threads, int cores, Distribution cpu, double cpu_limit = 0) {
  App app;
  app.name = "single";
  app.k8s_namespace = "test";
  app.slo_p99 = 1;
  app.network_delay = 0;
  app.pod_startup = 0;
  NodeGroup node;
  node.cores = cores;
  app.nodes = {node};
  Service svc;
  svc.name = "svc";
  svc.threads = threads;
  svc.cpu_limit = cpu_limit;
  Step step;
  step.kind = Step::Kind::kCpu;
  step.cpu = cpu;
  svc.operations = {{.name = "op", .steps = {step}}};
  app.services = {svc};
  app.requests = {{.name = "op", .weight = 1, .service = "svc", .operation = "op"}};
  return app;
}

// One service whose 2.4 cores of demand (600 req/s × 4 ms) do not fit its single 1-core pod: the
// closed-loop tests' app that every scaling policy must act on.
inline App OverloadedApp() {
  App app = SingleServiceApp(64, 16,
                             {.kind = Distribution::Kind::kExponential, .mean = 0.004, .cv = 0}, 1);
  app.pod_startup = 2;
  app.slo_p99 = 0.1;
  app.services[0].max_replicas = 10;
  return app;
}

inline RateTrace ConstantTrace(double rate, double seconds) {
  RateTrace t;
  t.rates.assign(static_cast<size_t>(seconds), rate);
  return t;
}

// A run of `seconds` of trace with no warm-up ramp before it.
inline RunOptions Short(double seconds) {
  RunOptions o;
  o.warmup = 0;
  o.duration = seconds;
  return o;
}

// `policies` (a --policies list) on OverloadedApp() at 600 req/s for `seconds`, the baselines'
// targets tuned, on `jobs` workers.
inline Scoreboard TunedOverloaded(std::string_view policies, double slo, double seconds, int seeds,
                                  int jobs = 2, std::function<void(double)> progress = {}) {
  App app = OverloadedApp();
  app.slo_p99 = slo;
  EvaluateOptions options;
  options.run = Short(seconds);
  options.tune = true;
  options.seeds = seeds;
  options.jobs = jobs;
  options.progress = std::move(progress);
  return Evaluate(app, ConstantTrace(600, seconds), "constant",
                  ParsePolicyList(std::string(policies)), options);
}

// The board's note on `policy`'s tuning walk, or "" without one.
inline std::string WalkNote(const Scoreboard& board, std::string_view policy) {
  const std::string prefix = std::string(policy) + " tuned:";
  const auto it = std::find_if(board.notes.begin(), board.notes.end(),
                               [&](const std::string& n) { return n.starts_with(prefix); });
  return it == board.notes.end() ? "" : *it;
}

// Mean and count of end-to-end latencies of requests that started at or after `from`.
class LatencyMean final : public RequestListener {
 public:
  explicit LatencyMean(double from) : from_(from) {}
  void OnRequestDone(uint32_t, double start, double end) override {
    if (start < from_) return;
    sum_ += end - start;
    ++count_;
  }
  double mean() const { return sum_ / static_cast<double>(count_); }
  uint64_t count() const { return count_; }

 private:
  double from_;
  double sum_ = 0;
  uint64_t count_ = 0;
};

}  // namespace sim::testing
