#include "sim/app.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "sim/yaml_fields.h"

namespace sim {
namespace {

Distribution ParseDistribution(const YAML::Node& node, const std::string& where) {
  Distribution d;
  if (node.IsScalar()) {
    d.mean = Seconds(node, where);
    return d;
  }
  CheckKeys(node, where, {"dist", "mean", "cv"});
  if (!node["mean"]) Fail(where, "needs a mean");
  d.mean = Seconds(node["mean"], where + ".mean");
  if (node["cv"]) d.cv = NonNegative(node["cv"], where + ".cv");
  d.kind = d.cv > 0 ? Distribution::Kind::kLognormal : Distribution::Kind::kConstant;
  if (node["dist"]) {
    const std::string kind = Scalar(node["dist"], where + ".dist");
    if (kind == "constant") {
      d.kind = Distribution::Kind::kConstant;
    } else if (kind == "exponential") {
      d.kind = Distribution::Kind::kExponential;
    } else if (kind == "lognormal") {
      d.kind = Distribution::Kind::kLognormal;
    } else {
      Fail(where + ".dist",
           "unknown distribution \"" + kind + "\" (constant, exponential, lognormal)");
    }
  }
  if (d.kind == Distribution::Kind::kLognormal && d.cv <= 0) Fail(where, "lognormal needs cv > 0");
  return d;
}

std::vector<Step> ParseSteps(const YAML::Node& node, const std::string& where);

Step ParseStep(const YAML::Node& node, const std::string& where) {
  CheckKeys(
      node, where,
      {"cpu", "call", "store", "parallel", "sequence", "delay", "probability", "repeat", "async"});
  Step s;
  int kinds = 0;
  if (node["cpu"]) {
    ++kinds;
    s.kind = Step::Kind::kCpu;
    s.cpu = ParseDistribution(node["cpu"], where + ".cpu");
  }
  if (node["call"]) {
    ++kinds;
    s.kind = Step::Kind::kCall;
    const std::string target = Scalar(node["call"], where + ".call");
    const size_t slash = target.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == target.size()) {
      Fail(where + ".call", "expected service/operation, got \"" + target + "\"");
    }
    s.service = target.substr(0, slash);
    s.operation = target.substr(slash + 1);
    if (node["async"]) s.async = Bool(node["async"], where + ".async");
  }
  if (node["store"]) {
    ++kinds;
    s.kind = Step::Kind::kStore;
    s.store = Scalar(node["store"], where + ".store");
    if (!node["delay"]) Fail(where, "a store step needs a delay");
    s.delay = Seconds(node["delay"], where + ".delay");
  }
  if (node["parallel"]) {
    ++kinds;
    s.kind = Step::Kind::kParallel;
    s.steps = ParseSteps(node["parallel"], where + ".parallel");
  }
  if (node["sequence"]) {
    ++kinds;
    s.kind = Step::Kind::kSequence;
    s.steps = ParseSteps(node["sequence"], where + ".sequence");
  }
  if (kinds != 1) Fail(where, "needs exactly one of cpu, call, store, parallel, sequence");
  if (node["delay"] && s.kind != Step::Kind::kStore) Fail(where, "delay belongs to store steps");
  if (node["async"] && s.kind != Step::Kind::kCall) Fail(where, "async belongs to call steps");
  if (node["probability"]) {
    s.probability = Number(node["probability"], where + ".probability");
    if (s.probability < 0 || s.probability > 1) Fail(where + ".probability", "must be in [0, 1]");
  }
  if (node["repeat"]) s.repeat = Count(node["repeat"], where + ".repeat", 1);
  return s;
}

std::vector<Step> ParseSteps(const YAML::Node& node, const std::string& where) {
  if (!node.IsSequence() || node.size() == 0) Fail(where, "expected a non-empty list of steps");
  std::vector<Step> steps;
  for (size_t i = 0; i < node.size(); ++i) {
    steps.push_back(ParseStep(node[i], where + "[" + std::to_string(i) + "]"));
  }
  return steps;
}

// Service fields, applied over `base` (the file's defaults).
Service ParseServiceFields(const YAML::Node& node, const std::string& where, Service base) {
  if (node["threads"]) base.threads = Count(node["threads"], where + ".threads", 1);
  if (node["replicas"]) base.replicas = Count(node["replicas"], where + ".replicas", 1);
  if (node["cpu_limit"]) base.cpu_limit = NonNegative(node["cpu_limit"], where + ".cpu_limit");
  if (node["cpu_request"]) {
    base.cpu_request = NonNegative(node["cpu_request"], where + ".cpu_request");
  }
  if (node["min_replicas"]) {
    base.min_replicas = Count(node["min_replicas"], where + ".min_replicas", 1);
  }
  if (node["max_replicas"]) {
    base.max_replicas = Count(node["max_replicas"], where + ".max_replicas", 1);
  }
  if (node["min_cpu"]) base.min_cpu = NonNegative(node["min_cpu"], where + ".min_cpu");
  if (node["max_cpu"]) base.max_cpu = NonNegative(node["max_cpu"], where + ".max_cpu");
  if (node["high_cpu_group"]) {
    base.high_cpu_group = Bool(node["high_cpu_group"], where + ".high_cpu_group");
  }
  if (node["connection_lifetime"]) {
    base.connection_lifetime = Seconds(node["connection_lifetime"], where + ".connection_lifetime");
  }
  if (node["connections"]) base.connections = Count(node["connections"], where + ".connections", 1);
  return base;
}

const std::set<std::string> kServiceFields = {
    "threads", "replicas", "cpu_limit",      "cpu_request",         "min_replicas", "max_replicas",
    "min_cpu", "max_cpu",  "high_cpu_group", "connection_lifetime", "connections"};

NodeAutoscaler ParseNodeAutoscaler(const YAML::Node& node, const std::vector<NodeGroup>& groups) {
  const std::string where = "node_autoscaler";
  CheckKeys(node, where,
            {"group", "min_nodes", "max_nodes", "provisioning_delay", "scale_down_unneeded_time"});
  NodeAutoscaler a;
  a.group = node["group"] ? Scalar(node["group"], where + ".group") : groups.front().name;
  const NodeGroup* group = nullptr;
  for (const NodeGroup& g : groups) {
    if (g.name == a.group) group = &g;
  }
  if (!group) Fail(where + ".group", "no node group named \"" + a.group + "\"");
  a.min_nodes =
      node["min_nodes"] ? Count(node["min_nodes"], where + ".min_nodes", 0) : group->count;
  if (!node["max_nodes"]) Fail(where + ".max_nodes", "required");
  a.max_nodes = Count(node["max_nodes"], where + ".max_nodes", 1);
  if (a.max_nodes < group->count || a.min_nodes > group->count) {
    Fail(where, "needs min_nodes ≤ the group's count ≤ max_nodes");
  }
  if (node["provisioning_delay"]) {
    a.provisioning_delay = Seconds(node["provisioning_delay"], where + ".provisioning_delay");
  }
  if (node["scale_down_unneeded_time"]) {
    a.scale_down_unneeded_time =
        Seconds(node["scale_down_unneeded_time"], where + ".scale_down_unneeded_time");
  }
  return a;
}

Background ParseBackground(const YAML::Node& node, const std::string& where) {
  CheckKeys(node, where, {"mean", "amplitude", "period", "phase", "step"});
  Background b;
  if (node["mean"]) b.mean = NonNegative(node["mean"], where + ".mean");
  if (node["amplitude"]) b.amplitude = NonNegative(node["amplitude"], where + ".amplitude");
  if (node["period"]) b.period = Seconds(node["period"], where + ".period");
  if (node["phase"]) b.phase = Seconds(node["phase"], where + ".phase");
  if (node["step"]) b.step = Seconds(node["step"], where + ".step");
  if (b.period <= 0) Fail(where + ".period", "must be positive");
  if (b.step <= 0) Fail(where + ".step", "must be positive");
  return b;
}

const Operation* FindOperation(const App& app, std::string_view service, std::string_view op) {
  const int s = app.FindService(service);
  if (s < 0) return nullptr;
  for (const Operation& o : app.services[static_cast<size_t>(s)].operations) {
    if (o.name == op) return &o;
  }
  return nullptr;
}

// Every call names an existing operation, and no operation reaches itself (the simulation would
// never finish a request).
void CheckCalls(const App& app) {
  std::map<const Operation*, int> state;  // 1 = on the current path, 2 = done
  std::function<void(const Operation*, const std::string&)> visit;
  std::function<void(const std::vector<Step>&, const std::string&)> walk =
      [&](const std::vector<Step>& steps, const std::string& where) {
        for (size_t i = 0; i < steps.size(); ++i) {
          const Step& s = steps[i];
          const std::string at = where + "[" + std::to_string(i) + "]";
          if (s.kind == Step::Kind::kCall) {
            const Operation* target = FindOperation(app, s.service, s.operation);
            if (!target) Fail(at + ".call", "unknown operation " + s.service + "/" + s.operation);
            visit(target, at + ".call");
          }
          walk(s.steps, at + (s.kind == Step::Kind::kParallel ? ".parallel" : ".sequence"));
        }
      };
  visit = [&](const Operation* op, const std::string& where) {
    int& st = state[op];
    if (st == 1) Fail(where, "the call graph has a cycle through " + op->name);
    if (st == 2) return;
    st = 1;
    for (const Service& svc : app.services) {
      for (const Operation& o : svc.operations) {
        if (&o == op) walk(o.steps, "services." + svc.name + ".operations." + o.name);
      }
    }
    st = 2;
  };
  for (const Service& svc : app.services) {
    for (const Operation& o : svc.operations) visit(&o, "services." + svc.name);
  }
}

}  // namespace

double SystemReservedAllocatable(int cores) {
  // (cores up to which the share applies, share)
  static constexpr std::pair<double, double> kTiers[] = {
      {1, 0.06}, {2, 0.01}, {4, 0.005}, {std::numeric_limits<double>::infinity(), 0.0025}};
  double reserved = 0, below = 0;
  for (const auto& [upto, share] : kTiers) {
    reserved += share * std::max(0.0, std::min<double>(cores, upto) - below);
    below = upto;
  }
  return cores - reserved;
}

double Distribution::Sample(Rng& rng) const {
  switch (kind) {
    case Kind::kConstant:
      return mean;
    case Kind::kExponential:
      return rng.Exponential(mean);
    case Kind::kLognormal: {
      const double sigma2 = std::log1p(cv * cv);
      return mean * std::exp(std::sqrt(sigma2) * rng.Normal() - sigma2 / 2);
    }
  }
  return mean;
}

int App::FindService(std::string_view name) const {
  for (size_t i = 0; i < services.size(); ++i) {
    if (services[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

App ParseApp(std::string_view yaml) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw std::invalid_argument(std::string("not valid YAML: ") + e.what());
  }
  CheckKeys(root, "app",
            {"name", "namespace", "slo_p99", "network_delay", "pod_startup", "trace_multiplier",
             "constant_rps", "budget_extra_pods", "tower_rate_bucket", "nodes", "node_autoscaler",
             "defaults", "services", "requests"});
  App app;
  if (!root["name"]) Fail("name", "required");
  app.name = Scalar(root["name"], "name");
  app.k8s_namespace = root["namespace"] ? Scalar(root["namespace"], "namespace") : app.name;
  if (!root["slo_p99"]) Fail("slo_p99", "required");
  app.slo_p99 = Seconds(root["slo_p99"], "slo_p99");
  if (app.slo_p99 <= 0) Fail("slo_p99", "must be positive");
  if (root["network_delay"]) app.network_delay = Seconds(root["network_delay"], "network_delay");
  if (root["pod_startup"]) app.pod_startup = Seconds(root["pod_startup"], "pod_startup");
  if (root["trace_multiplier"]) {
    app.trace_multiplier = NonNegative(root["trace_multiplier"], "trace_multiplier");
  }
  if (root["constant_rps"]) app.constant_rps = NonNegative(root["constant_rps"], "constant_rps");
  if (root["budget_extra_pods"]) {
    app.budget_extra_pods = Count(root["budget_extra_pods"], "budget_extra_pods", 0);
  }

  if (root["tower_rate_bucket"]) {
    app.tower_rate_bucket = NonNegative(root["tower_rate_bucket"], "tower_rate_bucket");
    if (app.tower_rate_bucket <= 0) Fail("tower_rate_bucket", "must be positive");
  }

  if (!root["nodes"] || !root["nodes"].IsSequence() || root["nodes"].size() == 0) {
    Fail("nodes", "expected a non-empty list");
  }
  for (size_t i = 0; i < root["nodes"].size(); ++i) {
    const std::string where = "nodes[" + std::to_string(i) + "]";
    const YAML::Node n = root["nodes"][i];
    CheckKeys(n, where, {"name", "count", "cores", "allocatable", "background"});
    NodeGroup g;
    if (n["name"]) g.name = Scalar(n["name"], where + ".name");
    if (n["count"]) g.count = Count(n["count"], where + ".count", 1);
    if (!n["cores"]) Fail(where + ".cores", "required");
    g.cores = Count(n["cores"], where + ".cores", 1);
    g.allocatable = SystemReservedAllocatable(g.cores);
    if (n["allocatable"]) {
      g.allocatable = Number(n["allocatable"], where + ".allocatable");
      if (g.allocatable <= 0 || g.allocatable > g.cores) {
        Fail(where + ".allocatable", "must be in (0, cores]");
      }
    }
    if (n["background"]) g.background = ParseBackground(n["background"], where + ".background");
    for (const NodeGroup& other : app.nodes) {
      if (other.name == g.name) Fail(where + ".name", "two node groups named " + g.name);
    }
    app.nodes.push_back(g);
  }
  if (root["node_autoscaler"]) {
    app.node_autoscaler = ParseNodeAutoscaler(root["node_autoscaler"], app.nodes);
  }

  Service defaults;
  if (root["defaults"]) {
    CheckKeys(root["defaults"], "defaults", kServiceFields);
    defaults = ParseServiceFields(root["defaults"], "defaults", defaults);
  }
  if (!root["services"] || !root["services"].IsMap() || root["services"].size() == 0) {
    Fail("services", "expected a non-empty map");
  }
  for (const auto& kv : root["services"]) {
    const std::string name = kv.first.as<std::string>();
    const std::string where = "services." + name;
    if (name.find('/') != std::string::npos) Fail(where, "service names cannot contain '/'");
    if (app.FindService(name) >= 0) Fail(where, "defined twice");
    std::set<std::string> known = kServiceFields;
    known.insert("operations");
    CheckKeys(kv.second, where, known);
    Service svc = ParseServiceFields(kv.second, where, defaults);
    svc.name = name;
    if (svc.min_replicas > svc.max_replicas) Fail(where, "min_replicas > max_replicas");
    if (svc.min_cpu > svc.max_cpu) Fail(where, "min_cpu > max_cpu");
    const YAML::Node ops = kv.second["operations"];
    if (!ops || !ops.IsMap() || ops.size() == 0) Fail(where + ".operations", "expected a map");
    for (const auto& op : ops) {
      Operation o;
      o.name = op.first.as<std::string>();
      o.steps = ParseSteps(op.second, where + ".operations." + o.name);
      svc.operations.push_back(std::move(o));
    }
    app.services.push_back(std::move(svc));
  }

  if (!root["requests"] || !root["requests"].IsSequence() || root["requests"].size() == 0) {
    Fail("requests", "expected a non-empty list");
  }
  for (size_t i = 0; i < root["requests"].size(); ++i) {
    const std::string where = "requests[" + std::to_string(i) + "]";
    const YAML::Node r = root["requests"][i];
    CheckKeys(r, where, {"name", "weight", "call"});
    RequestType t;
    if (!r["call"]) Fail(where + ".call", "required");
    const std::string target = Scalar(r["call"], where + ".call");
    const size_t slash = target.find('/');
    if (slash == std::string::npos) Fail(where + ".call", "expected service/operation");
    t.service = target.substr(0, slash);
    t.operation = target.substr(slash + 1);
    if (!FindOperation(app, t.service, t.operation)) {
      Fail(where + ".call", "unknown operation " + target);
    }
    t.name = r["name"] ? Scalar(r["name"], where + ".name") : t.operation;
    if (r["weight"]) t.weight = NonNegative(r["weight"], where + ".weight");
    if (t.weight <= 0) Fail(where + ".weight", "must be positive");
    app.requests.push_back(std::move(t));
  }
  CheckCalls(app);
  return app;
}

App LoadApp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read app file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  try {
    return ParseApp(text.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(path + ": " + e.what());
  }
}

}  // namespace sim
