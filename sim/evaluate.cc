#include "sim/evaluate.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "control/stats.h"

namespace sim {
namespace {

// Notes on the reference candidates that are not in this build or were not evaluated.
void NoteMissingCandidates(const std::vector<PolicySpec>& policies,
                           std::vector<std::string>& notes) {
  for (std::string_view name : kReferenceCandidates) {
    if (!FindPolicy(name)) {
      notes.push_back(std::string(name) +
                      " is not a policy of this build: left out of the reference");
    } else if (std::none_of(policies.begin(), policies.end(),
                            [&](const PolicySpec& p) { return p.name == name; })) {
      notes.push_back(std::string(name) + " was not evaluated: left out of the reference");
    }
  }
}

}  // namespace

Scoreboard Evaluate(const App& app, const RateTrace& trace, const std::string& trace_name,
                    const std::vector<PolicySpec>& policies, const EvaluateOptions& options) {
  std::vector<uint64_t> seeds;
  for (int i = 0; i < std::max(1, options.seeds); ++i) {
    seeds.push_back(options.run.seed + static_cast<uint64_t>(i));
  }
  const std::vector<double>& grid = TuneGrid();
  auto tuned = [&](size_t p) { return options.tune && policies[p].tunable; };

  // Every setting simulated so far, each with every seed: run j is setting j / seeds, seed
  // j % seeds. A tuned baseline walks the grid from its highest target down and stops at the
  // first target that passes in every seed: a lower utilisation target only adds headroom, so that
  // target is also the cheapest passing one.
  struct Setting {
    size_t policy;
    PolicySpec spec;
  };
  const size_t n_seeds = seeds.size();
  std::vector<Setting> settings;
  std::vector<RunResult> results;
  std::vector<double> done;                       // each run's progress fraction
  std::vector<size_t> unfinished;                 // per setting, its runs not done yet
  std::vector<size_t> lower(policies.size(), 0);  // grid targets not tried yet, per tuned policy
  std::deque<size_t> ready;                       // runs not started, the next first
  // A new setting's runs go to the front when they continue a walk: a walk's targets run one
  // after another, so it is the longest chain, and the other runs fill the cores around it.
  auto add = [&](size_t p, std::optional<double> target, bool front) {
    PolicySpec spec = policies[p];
    if (target) spec.target_utilization = *target;
    const size_t k = settings.size();
    settings.push_back({p, std::move(spec)});
    unfinished.push_back(n_seeds);
    results.resize(settings.size() * n_seeds);
    done.resize(results.size(), 0);
    for (size_t i = 0; i < n_seeds; ++i) {
      if (front) {
        ready.push_front(k * n_seeds + (n_seeds - 1 - i));
      } else {
        ready.push_back(k * n_seeds + i);
      }
    }
  };
  auto runs_of = [&](size_t setting) {
    PolicyRuns out;
    const auto first = results.begin() + static_cast<std::ptrdiff_t>(setting * n_seeds);
    out.seeds.assign(first, first + static_cast<std::ptrdiff_t>(n_seeds));
    return out;
  };
  // Walks first, so that their next targets are known early.
  for (size_t p = 0; p < policies.size(); ++p) {
    if (tuned(p)) {
      add(p, grid.back(), false);
      lower[p] = grid.size() - 1;
    }
  }
  for (size_t p = 0; p < policies.size(); ++p) {
    if (!tuned(p)) add(p, std::nullopt, false);
  }

  // Workers take runs as they come free, with no barrier between a walk's targets.
  std::mutex mu;
  std::condition_variable changed;
  size_t running = 0;
  auto worker = [&] {
    std::unique_lock lock(mu);
    for (;;) {
      // A running walk may still add runs: wait for it before giving up.
      changed.wait(lock, [&] { return !ready.empty() || running == 0; });
      if (ready.empty()) return;
      const size_t j = ready.front();
      ready.pop_front();
      ++running;
      const PolicySpec spec = settings[j / n_seeds].spec;
      RunOptions run = options.run;
      run.seed = seeds[j % n_seeds];
      run.progress = [&, j](double fraction) {
        if (!options.progress) return;
        std::lock_guard progress_lock(mu);
        done[j] = fraction;
        // Progress counts the runs the remaining grid targets could still need.
        double sum = 0;
        for (double d : done) sum += d;
        size_t planned = done.size();
        for (size_t p = 0; p < policies.size(); ++p) planned += lower[p] * n_seeds;
        options.progress(sum / static_cast<double>(planned));
      };
      lock.unlock();
      RunResult result = RunOne(app, trace, spec, run);
      lock.lock();
      results[j] = std::move(result);
      --running;
      const size_t k = j / n_seeds;
      const size_t p = settings[k].policy;
      if (--unfinished[k] == 0 && lower[p] > 0) {
        if (runs_of(k).pass()) {
          lower[p] = 0;
        } else {
          --lower[p];
          add(p, grid[lower[p]], true);
        }
      }
      changed.notify_all();
    }
  };
  const int threads = std::clamp(options.jobs, 1, static_cast<int>(ready.size()));
  std::vector<std::thread> pool;
  for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();

  Scoreboard board;
  board.app = app.name;
  board.trace = trace_name;
  board.scenario = options.run.scenario.name;
  board.actuation = std::string(CpuActuationName(options.run.actuation.mode));
  board.sampling = options.run.sampling;
  board.seeds = seeds;
  board.slo = app.slo_p99;
  board.tuned = options.tune;
  auto mean = [](const PolicyRuns& p, auto field) {
    double sum = 0;
    for (const RunResult& r : p.seeds) sum += r.summary.*field;
    return sum / static_cast<double>(p.seeds.size());
  };
  for (size_t p = 0; p < policies.size(); ++p) {
    // The cheapest setting that passes in every seed; with none, the one passing in the most
    // seeds, then the lowest mean P99.
    std::optional<PolicyRuns> best;
    size_t tried = 0;
    std::string walk;  // a tuned baseline's targets as tried, with their passes
    for (size_t k = 0; k < settings.size(); ++k) {
      if (settings[k].policy != p) continue;
      ++tried;
      PolicyRuns candidate = runs_of(k);
      if (tuned(p)) {
        walk += (walk.empty() ? "" : ", ") +
                control::FormatNumber(*settings[k].spec.target_utilization) + " (" +
                std::to_string(candidate.passes()) + "/" + std::to_string(seeds.size()) + ")";
      }
      if (!best) {
        best = std::move(candidate);
        continue;
      }
      const bool better =
          candidate.passes() != best->passes() ? candidate.passes() > best->passes()
          : candidate.pass()
              ? mean(candidate, &RunSummary::core_hours) < mean(*best, &RunSummary::core_hours)
              : mean(candidate, &RunSummary::p99) < mean(*best, &RunSummary::p99);
      if (better) best = std::move(candidate);
    }
    if (tried > 1 && !best->pass()) {
      board.notes.push_back(policies[p].name +
                            ": no utilisation target met the SLO in every seed; shown is the "
                            "one passing in the most seeds, then with the lowest mean P99");
    }
    if (tuned(p)) {
      board.notes.push_back(policies[p].name + " tuned: targets tried (seeds passed) " + walk);
    }
    board.policies.push_back(std::move(*best));
  }
  NoteMissingCandidates(policies, board.notes);
  if (!board.Reference()) {
    board.notes.push_back("no Kubernetes baseline met the SLO in every seed: no reference ratio");
  }
  return board;
}

}  // namespace sim
