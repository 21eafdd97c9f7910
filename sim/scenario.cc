#include "sim/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sim/yaml_fields.h"

namespace sim {
namespace {

Holding ParseHolding(const YAML::Node& node, const std::string& where) {
  Holding h;
  if (!node) Fail(where, "required");
  if (node.IsScalar()) {
    h.kind = Holding::Kind::kConstant;
    h.mean = Seconds(node, where);
  } else {
    CheckKeys(node, where, {"dist", "mean", "shape", "cv"});
    if (!node["mean"]) Fail(where + ".mean", "required");
    h.mean = Seconds(node["mean"], where + ".mean");
    if (node["dist"]) {
      const std::string kind = Scalar(node["dist"], where + ".dist");
      if (kind == "pareto") {
        h.kind = Holding::Kind::kPareto;
      } else if (kind == "lognormal") {
        h.kind = Holding::Kind::kLognormal;
      } else if (kind == "constant") {
        h.kind = Holding::Kind::kConstant;
      } else {
        Fail(where + ".dist",
             "unknown distribution \"" + kind + "\" (pareto, lognormal, constant)");
      }
    }
    if (node["shape"]) {
      if (h.kind != Holding::Kind::kPareto) Fail(where + ".shape", "only for dist: pareto");
      h.shape = Number(node["shape"], where + ".shape");
      if (h.shape <= 1) Fail(where + ".shape", "must be > 1 (a finite mean)");
    }
    if (node["cv"]) {
      if (h.kind != Holding::Kind::kLognormal) Fail(where + ".cv", "only for dist: lognormal");
      h.cv = NonNegative(node["cv"], where + ".cv");
      if (h.cv <= 0) Fail(where + ".cv", "must be positive");
    }
  }
  if (h.mean <= 0) Fail(where + ".mean", "must be positive");
  return h;
}

Antagonist ParseAntagonist(const YAML::Node& node, const std::string& where) {
  CheckKeys(
      node, where,
      {"kind", "node", "start", "on", "off", "threads", "core_fraction", "slowdown", "move_every"});
  Antagonist a;
  if (!node["kind"]) Fail(where + ".kind", "required (cpu or membw)");
  const std::string kind = Scalar(node["kind"], where + ".kind");
  if (kind == "cpu") {
    a.kind = Antagonist::Kind::kCpu;
  } else if (kind == "membw") {
    a.kind = Antagonist::Kind::kMembw;
  } else {
    Fail(where + ".kind", "unknown kind \"" + kind + "\" (cpu or membw)");
  }
  if (node["node"]) a.node = Scalar(node["node"], where + ".node");
  if (node["start"]) a.start = Seconds(node["start"], where + ".start");
  a.on = ParseHolding(node["on"], where + ".on");
  a.off = ParseHolding(node["off"], where + ".off");
  if (node["move_every"]) {
    a.move_every = Seconds(node["move_every"], where + ".move_every");
    if (a.move_every <= 0) Fail(where + ".move_every", "must be positive");
  }
  if (a.kind == Antagonist::Kind::kCpu) {
    if (node["slowdown"]) Fail(where + ".slowdown", "only for kind: membw");
    if (!node["threads"] == !node["core_fraction"]) {
      Fail(where, "a cpu antagonist needs exactly one of threads and core_fraction");
    }
    if (node["threads"]) {
      a.threads = Number(node["threads"], where + ".threads");
      if (a.threads <= 0) Fail(where + ".threads", "must be positive");
    } else {
      const YAML::Node f = node["core_fraction"];
      const std::string at = where + ".core_fraction";
      if (f.IsSequence()) {
        if (f.size() != 2) Fail(at, "expected a number or [min, max]");
        a.core_fraction_min = Number(f[0], at + "[0]");
        a.core_fraction_max = Number(f[1], at + "[1]");
      } else {
        a.core_fraction_min = a.core_fraction_max = Number(f, at);
      }
      if (a.core_fraction_min <= 0 || a.core_fraction_max < a.core_fraction_min) {
        Fail(at, "needs 0 < min ≤ max");
      }
    }
  } else {
    if (node["threads"]) Fail(where + ".threads", "only for kind: cpu");
    if (node["core_fraction"]) Fail(where + ".core_fraction", "only for kind: cpu");
    if (!node["slowdown"]) Fail(where + ".slowdown", "required for kind: membw");
    a.slowdown = Number(node["slowdown"], where + ".slowdown");
    if (a.slowdown < 1) Fail(where + ".slowdown", "must be ≥ 1");
  }
  return a;
}

// The app's nodes in CpuModel order, as Simulation creates them.
struct NodeList {
  std::vector<std::string> names;
  std::vector<int> cores;
};

NodeList Nodes(const App& app) {
  NodeList out;
  for (const NodeGroup& g : app.nodes) {
    for (int i = 0; i < g.count; ++i) {
      out.names.push_back(g.name + "-" + std::to_string(i));
      out.cores.push_back(g.cores);
    }
  }
  return out;
}

int ResolveNode(const std::string& selector, const NodeList& nodes, const std::string& where) {
  const auto it = std::find(nodes.names.begin(), nodes.names.end(), selector);
  if (it != nodes.names.end()) return static_cast<int>(it - nodes.names.begin());
  if (!selector.empty() &&
      std::all_of(selector.begin(), selector.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    const size_t index = selector.size() > 9 ? nodes.names.size() : std::stoul(selector);
    if (index < nodes.names.size()) return static_cast<int>(index);
  }
  if (nodes.names.empty()) Fail(where, "the app has no nodes");
  Fail(where, "the app has no node \"" + selector + "\" (0…" +
                  std::to_string(nodes.names.size() - 1) + " or a name such as " +
                  nodes.names.front() + ")");
}

// One antagonist's state from `time` on; node < 0 is off.
struct Segment {
  double time;
  int node;
  double threads;
  double slowdown;
};

std::vector<Segment> Segments(const Antagonist& a, int first_node, const NodeList& nodes,
                              uint64_t seed, double end) {
  Rng rng(seed);
  const auto count = static_cast<int64_t>(nodes.names.size());
  std::vector<Segment> out;
  for (double t = a.start; t < end;) {
    const double on_end = t + a.on.Sample(rng);
    // Drawn for every on-period, used or not, so the stream does not depend on the node.
    const double fraction =
        a.core_fraction_min + (a.core_fraction_max - a.core_fraction_min) * rng.Uniform();
    int64_t move =
        a.move_every > 0 ? static_cast<int64_t>(std::floor((t - a.start) / a.move_every)) : 0;
    for (double s = t; s < std::min(on_end, end);) {
      const int node = static_cast<int>((first_node + move) % count);
      double threads = 0;
      if (a.kind == Antagonist::Kind::kCpu) {
        threads =
            a.threads > 0
                ? a.threads
                : std::max(1.0, std::round(fraction * nodes.cores[static_cast<size_t>(node)]));
      }
      out.push_back({s, node, threads, a.kind == Antagonist::Kind::kMembw ? a.slowdown : 1});
      ++move;
      s = a.move_every > 0 ? std::min(on_end, a.start + static_cast<double>(move) * a.move_every)
                           : on_end;
    }
    if (on_end < end) out.push_back({on_end, -1, 0, 1});
    t = on_end + a.off.Sample(rng);
  }
  return out;
}

}  // namespace

double Holding::Sample(Rng& rng) const {
  switch (kind) {
    case Kind::kPareto: {
      // Scale x_m from the mean α x_m / (α − 1); inverse CDF x_m · U^(−1/α).
      const double scale = mean * (shape - 1) / shape;
      return scale * std::pow(rng.UniformOpen(), -1 / shape);
    }
    case Kind::kLognormal: {
      const double sigma2 = std::log1p(cv * cv);
      return std::exp(std::log(mean) - sigma2 / 2 + std::sqrt(sigma2) * rng.Normal());
    }
    case Kind::kConstant:
      return mean;
  }
  return mean;
}

Scenario ParseScenario(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(std::string("not valid YAML: ") + e.what());
  }
  CheckKeys(root, "scenario", {"name", "description", "antagonists"});
  Scenario s;
  if (!root["name"]) Fail("name", "required");
  s.name = Scalar(root["name"], "name");
  if (root["description"]) s.description = Scalar(root["description"], "description");
  if (const YAML::Node list = root["antagonists"]) {
    if (!list.IsSequence()) Fail("antagonists", "expected a list");
    for (size_t i = 0; i < list.size(); ++i) {
      s.antagonists.push_back(ParseAntagonist(list[i], "antagonists[" + std::to_string(i) + "]"));
    }
  }
  return s;
}

Scenario LoadScenario(const std::string& spec, const std::string& app_path) {
  namespace fs = std::filesystem;
  const bool is_path = spec.find('/') != std::string::npos || spec.ends_with(".yaml");
  const fs::path path =
      is_path ? fs::path(spec)
              : fs::path(app_path).parent_path() / ".." / "scenarios" / (spec + ".yaml");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (spec == "none") return Scenario{};
    throw std::invalid_argument("cannot read scenario " + path.string());
  }
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return ParseScenario(text.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path.string() + ": " + e.what());
  }
}

void CheckScenario(const Scenario& scenario, const App& app) {
  const NodeList nodes = Nodes(app);
  for (size_t i = 0; i < scenario.antagonists.size(); ++i) {
    ResolveNode(scenario.antagonists[i].node, nodes, "antagonists[" + std::to_string(i) + "].node");
  }
}

std::vector<InterferenceChange> InterferenceTimeline(const Scenario& scenario, const App& app,
                                                     uint64_t seed, double end) {
  const NodeList nodes = Nodes(app);
  std::vector<InterferenceChange> out;
  if (scenario.antagonists.empty() || nodes.names.empty()) return out;
  std::vector<std::vector<Segment>> segments;
  std::vector<double> times;
  for (size_t i = 0; i < scenario.antagonists.size(); ++i) {
    const Antagonist& a = scenario.antagonists[i];
    const int first = ResolveNode(a.node, nodes, "antagonists[" + std::to_string(i) + "].node");
    segments.push_back(Segments(a, first, nodes, DeriveSeed(seed, i + 1), end));
    for (const Segment& s : segments.back()) times.push_back(s.time);
  }
  std::sort(times.begin(), times.end());
  times.erase(std::unique(times.begin(), times.end()), times.end());

  // Sweep the breakpoints; each antagonist's current segment is the last one that has begun.
  const size_t n = nodes.names.size();
  std::vector<double> threads(n), slowdown(n), last_threads(n, 0), last_slowdown(n, 1);
  std::vector<size_t> next(segments.size(), 0);
  for (const double t : times) {
    std::fill(threads.begin(), threads.end(), 0.0);
    std::fill(slowdown.begin(), slowdown.end(), 1.0);
    for (size_t a = 0; a < segments.size(); ++a) {
      const std::vector<Segment>& seg = segments[a];
      while (next[a] < seg.size() && seg[next[a]].time <= t) ++next[a];
      if (next[a] == 0) continue;
      const Segment& s = seg[next[a] - 1];
      if (s.node < 0) continue;
      threads[static_cast<size_t>(s.node)] += s.threads;
      slowdown[static_cast<size_t>(s.node)] *= s.slowdown;
    }
    for (size_t k = 0; k < n; ++k) {
      if (threads[k] == last_threads[k] && slowdown[k] == last_slowdown[k]) continue;
      out.push_back({t, static_cast<int>(k), threads[k], slowdown[k]});
      last_threads[k] = threads[k];
      last_slowdown[k] = slowdown[k];
    }
  }
  return out;
}

}  // namespace sim
