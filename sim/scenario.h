#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/app.h"
#include "sim/random.h"

// Interference scenarios (sim/scenarios/*.yaml): antagonists that compete with the app's pods on
// chosen nodes, for CPU (runnable threads, like the app's background load) or for memory
// bandwidth (a slowdown of the pods' work). Durations are seconds.
namespace sim {

// How long an antagonist stays on, or off.
struct Holding {
  // Pareto by default: batch jobs' run times and the gaps between them are heavy-tailed, and
  // on/off sources with Pareto periods (shape 1 < α < 2: finite mean, infinite variance) are the
  // classic model of bursty, self-similar load (Willinger et al., 1997).
  enum class Kind { kPareto, kLognormal, kConstant };
  Kind kind = Kind::kPareto;
  double mean = 60;
  double shape = 1.5;  // Pareto α > 1
  double cv = 1;       // lognormal: standard deviation / mean

  double Sample(Rng& rng) const;
};

struct Antagonist {
  enum class Kind { kCpu, kMembw };
  Kind kind = Kind::kCpu;
  std::string node = "0";  // the app's node: its index (0 = the first) or its name (worker-1)
  double start = 0;        // the first on-period begins here
  Holding on, off;
  // kCpu: runnable threads while on, `threads`, or a fraction of the node's cores drawn
  // uniformly in [core_fraction_min, core_fraction_max] for each on-period (at least 1 thread).
  double threads = 0;
  double core_fraction_min = 0, core_fraction_max = 0;
  double slowdown = 1;    // kMembw: work takes this many times longer while on
  double move_every = 0;  // > 0: moves to the next node (by index, wrapping) this often
};

struct Scenario {
  std::string name = "none";
  std::string description;
  std::vector<Antagonist> antagonists;
};

// Parses and validates a scenario file. Throws std::invalid_argument naming the offending field
// ("antagonists[0].on.shape: must be > 1").
Scenario ParseScenario(std::string_view yaml);

// `spec` is a path (it contains '/' or ends in .yaml) or a name looked up as
// <dir of app_path>/../scenarios/NAME.yaml, i.e. sim/scenarios beside sim/apps. "none" without
// such a file is the empty scenario. Throws std::invalid_argument.
Scenario LoadScenario(const std::string& spec, const std::string& app_path);

// From `time` on, `node` runs `threads` antagonist threads and its pods' work is `slowdown`
// times slower.
struct InterferenceChange {
  double time = 0;
  int node = 0;
  double threads = 0;
  double slowdown = 1;

  bool operator==(const InterferenceChange&) const = default;
};

// Throws std::invalid_argument if an antagonist names a node the app does not have.
void CheckScenario(const Scenario& scenario, const App& app);

// The scenario's changes on [0, end), by time, then node; a node's entries differ from its
// previous one. Antagonists on one node add their threads and multiply their slowdowns. Depends
// only on the scenario, the app's nodes, `seed` and `end`; a longer `end` extends the same
// timeline. Throws as CheckScenario.
std::vector<InterferenceChange> InterferenceTimeline(const Scenario& scenario, const App& app,
                                                     uint64_t seed, double end);

}  // namespace sim
