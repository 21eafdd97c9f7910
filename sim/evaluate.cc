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
  // target is also the cheapest passing one. A target fails at its first failing seed: its later
  // seeds are not run (those already running finish, but are not shown), and the walk goes on.
  // Seeds start in order, so the seeds up to the first failing one always run, with one worker or
  // many. A walk that passes nowhere runs every seed of every target after all.
  struct Setting {
    size_t policy;
    PolicySpec spec;
  };
  const size_t n_seeds = seeds.size();
  std::vector<Setting> settings;
  std::vector<RunResult> results;
  std::vector<double> done;                       // each run's progress fraction
  std::vector<bool> skipped;                      // runs of a failed target that were not simulated
  std::vector<size_t> unfinished;                 // per setting, its runs not done yet
  std::vector<size_t> first_fail;                 // per setting, its first failing seed, or n_seeds
  std::vector<size_t> lower(policies.size(), 0);  // grid targets not tried yet, per tuned policy
  std::vector<bool> exhausted(policies.size(), false);  // a walk that passed at no target
  std::deque<size_t> ready;                             // runs not started, the next first
  // A new setting's runs go to the front when they continue a walk: a walk's targets run one
  // after another, so it is the longest chain, and the other runs fill the cores around it.
  auto add = [&](size_t p, std::optional<double> target, bool front) {
    PolicySpec spec = policies[p];
    if (target) spec.target_utilization = *target;
    const size_t k = settings.size();
    settings.push_back({p, std::move(spec)});
    unfinished.push_back(n_seeds);
    first_fail.push_back(n_seeds);
    results.resize(settings.size() * n_seeds);
    done.resize(results.size(), 0);
    skipped.resize(results.size(), false);
    for (size_t i = 0; i < n_seeds; ++i) {
      if (front) {
        ready.push_front(k * n_seeds + (n_seeds - 1 - i));
      } else {
        ready.push_back(k * n_seeds + i);
      }
    }
  };
  // A failed target of a walk that passed somewhere shows its seeds up to the first failing one.
  auto shown_seeds = [&](size_t setting) {
    const size_t p = settings[setting].policy;
    return tuned(p) && !exhausted[p] ? std::min(n_seeds, first_fail[setting] + 1) : n_seeds;
  };
  auto runs_of = [&](size_t setting) {
    PolicyRuns out;
    const auto first = results.begin() + static_cast<std::ptrdiff_t>(setting * n_seeds);
    out.seeds.assign(first, first + static_cast<std::ptrdiff_t>(shown_seeds(setting)));
    return out;
  };
  // The walk of `p` passed nowhere: the seeds its failed targets skipped run now.
  auto exhaust = [&](size_t p) {
    exhausted[p] = true;
    for (size_t j = results.size(); j-- > 0;) {
      if (!skipped[j] || settings[j / n_seeds].policy != p) continue;
      skipped[j] = false;
      done[j] = 0;
      ready.push_front(j);
    }
  };
  // A tuned baseline's walk once setting k is known to pass (every seed done, none failed) or to
  // fail (its first failing seed): it ends, or moves on to the next target.
  auto judge = [&](size_t k) {
    const size_t p = settings[k].policy;
    if (first_fail[k] == n_seeds) {
      lower[p] = 0;  // passed in every seed: the walk ends here
    } else if (lower[p] > 0) {
      --lower[p];
      add(p, grid[lower[p]], true);
    } else {
      exhaust(p);
    }
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
  size_t simulated = 0;
  // The fraction done, counting the runs the remaining grid targets could still need; with mu
  // held. It steps back only when a walk that passed nowhere runs the seeds it skipped.
  auto report = [&] {
    if (!options.progress) return;
    double sum = 0;
    for (double d : done) sum += d;
    size_t planned = done.size();
    for (size_t q = 0; q < policies.size(); ++q) planned += lower[q] * n_seeds;
    options.progress(sum / static_cast<double>(planned));
  };
  auto worker = [&] {
    std::unique_lock lock(mu);
    for (;;) {
      // A running walk may still add runs: wait for it before giving up.
      changed.wait(lock, [&] { return !ready.empty() || running == 0; });
      if (ready.empty()) return;
      const size_t j = ready.front();
      ready.pop_front();
      const size_t p = settings[j / n_seeds].policy;
      if (tuned(p) && !exhausted[p] && j % n_seeds > first_fail[j / n_seeds]) {
        skipped[j] = true;
        done[j] = 1;
        report();
        continue;
      }
      ++running;
      ++simulated;
      const PolicySpec spec = settings[j / n_seeds].spec;
      RunOptions run = options.run;
      run.seed = seeds[j % n_seeds];
      run.progress = [&, j](double fraction) {
        if (!options.progress) return;
        std::lock_guard progress_lock(mu);
        done[j] = fraction;
        report();
      };
      lock.unlock();
      RunResult result = RunOne(app, trace, spec, run);
      lock.lock();
      results[j] = std::move(result);
      --running;
      const size_t k = j / n_seeds;
      --unfinished[k];
      if (tuned(p)) {
        // Judged once: at its first failure, or at its last run when none failed.
        const bool failed_before = first_fail[k] < n_seeds;
        if (!results[j].summary.pass) first_fail[k] = std::min(first_fail[k], j % n_seeds);
        const bool failed = first_fail[k] < n_seeds;
        if (failed != failed_before || (!failed && unfinished[k] == 0)) judge(k);
      }
      done[j] = 1;
      report();
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
  board.runs_simulated = simulated;
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
                std::to_string(candidate.passes()) + "/" + std::to_string(candidate.seeds.size()) +
                ")";
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
      board.notes.push_back(policies[p].name + " tuned: targets tried (seeds passed/run) " + walk);
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
