#include "sim/policies.h"

#include <stdexcept>

#include "recommender/policies/all_policies.h"

namespace sim {

namespace rp = recommender::policies;
using std::chrono::seconds;

const std::vector<PolicySpec>& AllPolicies() {
  // Intervals are each policy's own: the HPA sync period and Autothrottle's K8s-CPU periods, the
  // VPA's 1 min recommender and updater intervals, the Captain's 1 s decisions (its limits reach
  // the containers every 100 ms in ClosedLoop, as Autothrottle writes the cgroups), ScalerEval's
  // 3 s SHOWAR loop; queue_balancing holds each 90 s allocation and HAB times its own 10 s
  // probes, so both are applied as soon as they change; queuelens runs at the recommender's 1 s
  // tick (performance.md G6); deepscaler holds each prediction for its own 55 s.
  static const std::vector<PolicySpec> kPolicies = {
      {.name = std::string(rp::kHpaCpu),
       .replica_policy = std::string(rp::kHpaCpu),
       .interval = seconds{15},
       .tunable = true,
       .description = "Kubernetes HPA on CPU utilisation (15 s sync, 300 s scale-down window)"},
      {.name = std::string(rp::kK8sCpu),
       .cpu_policy = std::string(rp::kK8sCpu),
       .interval = seconds{15},
       .tunable = true,
       .description = "Autothrottle's K8s-CPU: limit = max usage/target over 300 s, every 15 s"},
      {.name = std::string(rp::kK8sCpuFast),
       .cpu_policy = std::string(rp::kK8sCpuFast),
       .interval = seconds{1},
       .tunable = true,
       .description = "Autothrottle's K8s-CPU-Fast: the same every 1 s over 20 s"},
      {.name = std::string(rp::kVpa),
       .cpu_policy = std::string(rp::kVpa),
       .interval = seconds{60},
       .description = "Kubernetes VPA: P90 of a decaying usage histogram × 1.15, applied in "
                      "place only outside its bounds (1 min recommender and updater)"},
      {.name = std::string(rp::kThrottleTarget),
       .cpu_policy = std::string(rp::kThrottleTarget),
       .interval = seconds{1},
       .description = "Autothrottle: per-container Captains, throttle targets from the Tower"},
      {.name = std::string(rp::kShowar),
       .replica_policy = std::string(rp::kShowar),
       .cpu_policy = std::string(rp::kShowar),
       .interval = seconds{3},
       .description = "SHOWAR: PID on run-queue wait for replicas, μ + 3σ for CPU"},
      {.name = std::string(rp::kQueueBalancing),
       .replica_policy = std::string(rp::kQueueBalancing),
       .interval = seconds{1},
       .description = "QueueFlower: the app's pod budget by queue and SLA violation, every 90 s"},
      {.name = std::string(rp::kHab),
       .replica_policy = std::string(rp::kHab),
       .interval = seconds{1},
       .description = "QueueFlower's HAB baseline: offered-load staffing, bisection on latency"},
      {.name = std::string(rp::kQueueSizing),
       .replica_policy = std::string(rp::kQueueSizing),
       .interval = seconds{1},
       .description = "queuelens: M/M/1-PS sizing against each hop's share of the SLO"},
      {.name = "queuelens",
       .replica_policy = std::string(rp::kQueueSizing),
       .cpu_policy = std::string(rp::kThrottleTarget),
       .interval = seconds{1},
       .description = "queuelens defaults: queue sizing for replicas, throttle target for CPU"},
      {.name = std::string(rp::kLoadShifting),
       .replica_policy = std::string(rp::kLoadShifting),
       .cpu_policy = std::string(rp::kThrottleTarget),
       .interval = seconds{1},
       .description = "queuelens defaults plus load shifting: per-pod routing weights from "
                      "latency gradients, scaling coupled (our design after Imbres)"},
      {.name = std::string(rp::kDeepScaler),
       .replica_policy = std::string(rp::kDeepScaler),
       .interval = seconds{1},
       .description = "DeepScaler: next-minute replicas of every service from a graph network "
                      "over the last minutes (sim/models/<app>.model), every 55 s"},
      {.name = "static",
       .description = "no autoscaling: replicas and limits as the app file declares them"},
  };
  return kPolicies;
}

std::optional<PolicySpec> FindPolicy(std::string_view name) {
  for (const PolicySpec& p : AllPolicies()) {
    if (p.name == name) return p;
  }
  return std::nullopt;
}

std::vector<PolicySpec> ParsePolicyList(std::string_view list) {
  if (list == "all") return AllPolicies();
  std::vector<PolicySpec> out;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string_view name = list.substr(0, comma);
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
    if (name.empty()) continue;
    const auto p = FindPolicy(name);
    if (!p) {
      std::string known;
      for (const PolicySpec& q : AllPolicies()) known += (known.empty() ? "" : ", ") + q.name;
      throw std::invalid_argument("unknown policy \"" + std::string(name) + "\" (known: " + known +
                                  ", all)");
    }
    out.push_back(*p);
  }
  if (out.empty()) throw std::invalid_argument("no policy named");
  return out;
}

const std::vector<double>& TuneGrid() {
  static const std::vector<double> kGrid = {0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9};
  return kGrid;
}

}  // namespace sim
