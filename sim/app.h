#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/random.h"

// The application a simulation runs, as read from an app YAML file (sim/apps/*.yaml). Durations
// are seconds, CPU amounts are cores.
namespace sim {

// CPU cost of one step of an operation.
struct Distribution {
  enum class Kind { kConstant, kExponential, kLognormal };
  Kind kind = Kind::kConstant;
  double mean = 0;  // seconds of CPU at full speed
  double cv = 0;    // lognormal: standard deviation / mean

  double Sample(Rng& rng) const;
};

// One step of an operation. Steps of a list run one after the other; a parallel step runs its
// children side by side and finishes when the last one does.
struct Step {
  enum class Kind { kCpu, kCall, kStore, kParallel, kSequence };
  Kind kind = Kind::kCpu;
  Distribution cpu;                // kCpu
  std::string service, operation;  // kCall
  bool async = false;              // kCall: the caller does not wait (a queue publish)
  std::string store;               // kStore: a backing store, modelled as a fixed delay
  double delay = 0;                // kStore
  double probability = 1;          // the step runs with this probability (cache misses, 10 % book)
  int repeat = 1;  // runs this many times: one after the other, or inside a parallel step, side by
                   // side
  std::vector<Step> steps;  // kParallel: the branches; kSequence: the body
};

struct Operation {
  std::string name;
  std::vector<Step> steps;
};

struct Service {
  std::string name;
  int threads = 64;        // worker threads per replica: requests beyond them wait for a free one
  int replicas = 1;        // at start
  double cpu_limit = 0;    // per pod at start; 0 = no CFS quota
  double cpu_request = 0;  // per pod
  int min_replicas = 1;
  int max_replicas = 10;
  double min_cpu = 0.01;  // bounds for CPU recommendations, per pod
  double max_cpu = 4;
  bool high_cpu_group = false;  // Autothrottle's target1 group
  // Calls to this service travel over long-lived connections that each stay with one replica
  // until they are this many seconds old (±10 %, gRPC's MaxConnectionAge jitter) or the replica
  // goes; 0 balances every request.
  double connection_lifetime = 0;
  int connections = 64;  // long-lived connections to the service, all callers together
  std::vector<Operation> operations;
};

// An entry point of the request mix.
struct RequestType {
  std::string name;
  double weight = 1;
  std::string service, operation;
};

// Other tenants' runnable threads on a node: mean + amplitude · sin(2π (t + phase) / period),
// never below 0, re-evaluated every `step`.
struct Background {
  double mean = 0;
  double amplitude = 0;
  double period = 600;
  double phase = 0;
  double step = 1;
};

// `count` identical nodes named name-0, name-1, …
struct NodeGroup {
  std::string name = "node";
  int count = 1;
  int cores = 32;
  double allocatable = 0;  // cores pods may request; 0 = SystemReservedAllocatable(cores)
  Background background;
};

// The CPU a node leaves to pods after the system reservation of GKE and the EKS AMI: 6 % of the
// first core, 1 % of the second, 0.5 % of the third and fourth, 0.25 % of every further core
// (32 cores: 31.85).
double SystemReservedAllocatable(int cores);

// Cluster Autoscaler for one node group: a node is added `provisioning_delay` after a pod became
// Pending that an empty node of the group would fit (one node at a time); a node empty for
// `scale_down_unneeded_time` is removed while the group has more than `min_nodes`.
struct NodeAutoscaler {
  std::string group;  // a NodeGroup's name
  int min_nodes = 0;  // default: the group's count
  int max_nodes = 0;
  double provisioning_delay = 60;
  double scale_down_unneeded_time = 600;  // Cluster Autoscaler's default; 0 = never scale down
};

struct App {
  std::string name;
  std::string k8s_namespace;
  double slo_p99 = 0.1;
  double network_delay = 100e-6;  // one way, per call
  double pod_startup = 5;         // from scheduling to ready
  double trace_multiplier = 1;    // applied to trace files (not to constant rates)
  double constant_rps = 100;      // the rate of the "constant" trace
  int budget_extra_pods = 0;      // queue balancing's pod budget C; 0 = Little's-law sizing
  double tower_rate_bucket = 20;  // requests/s per Tower context bucket (Autothrottle's agg)
  std::vector<NodeGroup> nodes;
  std::optional<NodeAutoscaler> node_autoscaler;
  std::vector<Service> services;
  std::vector<RequestType> requests;

  // Index of the service named `name`, or -1.
  int FindService(std::string_view name) const;
};

// Parses and validates an app file. Throws std::invalid_argument naming the offending field
// ("services.frontend.operations.search.steps[1].call: unknown operation geo/Near").
App ParseApp(std::string_view yaml);

// Reads and parses `path`; throws std::invalid_argument (unreadable file, or as ParseApp).
App LoadApp(const std::string& path);

}  // namespace sim
