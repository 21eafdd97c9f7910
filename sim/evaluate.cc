#include "sim/evaluate.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <thread>

namespace sim {

Scoreboard Evaluate(const App& app, const RateTrace& trace, const std::string& trace_name,
                    const std::vector<PolicySpec>& policies, const EvaluateOptions& options) {
  // Every run to simulate; a tuned baseline contributes one run per grid target.
  struct Job {
    size_t policy;
    PolicySpec spec;
  };
  std::vector<Job> jobs;
  for (size_t p = 0; p < policies.size(); ++p) {
    if (options.tune && policies[p].tunable) {
      for (double target : TuneGrid()) {
        PolicySpec spec = policies[p];
        spec.target_utilization = target;
        jobs.push_back({p, spec});
      }
    } else {
      jobs.push_back({p, policies[p]});
    }
  }

  std::vector<RunResult> results(jobs.size());
  std::vector<double> done(jobs.size(), 0);
  std::mutex mu;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t j; (j = next.fetch_add(1)) < jobs.size();) {
      RunOptions run = options.run;
      run.progress = [&, j](double fraction) {
        if (!options.progress) return;
        std::lock_guard lock(mu);
        done[j] = fraction;
        double sum = 0;
        for (double d : done) sum += d;
        options.progress(sum / static_cast<double>(done.size()));
      };
      results[j] = RunOne(app, trace, jobs[j].spec, run);
    }
  };
  const int threads = std::clamp(options.jobs, 1, static_cast<int>(jobs.size()));
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();

  Scoreboard board;
  board.app = app.name;
  board.trace = trace_name;
  board.seed = options.run.seed;
  board.slo = app.slo_p99;
  for (size_t p = 0; p < policies.size(); ++p) {
    // The cheapest passing run of the policy; with none passing, the lowest P99.
    const RunResult* best = nullptr;
    size_t tried = 0;
    for (size_t j = 0; j < jobs.size(); ++j) {
      if (jobs[j].policy != p) continue;
      ++tried;
      const RunSummary& s = results[j].summary;
      if (!best) {
        best = &results[j];
        continue;
      }
      const RunSummary& b = best->summary;
      const bool better = s.pass != b.pass ? s.pass
                          : s.pass         ? s.core_hours < b.core_hours
                                           : s.p99 < b.p99;
      if (better) best = &results[j];
    }
    board.runs.push_back(*best);
    if (tried > 1 && !best->summary.pass) {
      board.notes.push_back(policies[p].name +
                            ": no utilisation target met the SLO; shown is the "
                            "one with the lowest P99");
    }
  }
  return board;
}

}  // namespace sim
