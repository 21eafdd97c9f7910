#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"

namespace sim {

// An autoscaler the simulator can run: which recommender policy sizes replicas and which sizes
// the per-pod CPU limit (empty: that value stays as the app file declares it), and how often the
// recommendation is taken.
struct PolicySpec {
  std::string name;
  std::string replica_policy;  // a recommender policy that proposes replicas, or ""
  std::string cpu_policy;      // a recommender policy that proposes CPU, or ""
  common::Duration interval = std::chrono::seconds{1};
  // The utilisation-target baselines; --tune searches this target.
  bool tunable = false;
  std::optional<double> target_utilization;  // overrides the policy's default
  std::string description;
};

// Every policy, in scoreboard order; the first is the baseline (kBaselinePolicy).
const std::vector<PolicySpec>& AllPolicies();

// The policy called `name` (as in AllPolicies()), or nullopt.
std::optional<PolicySpec> FindPolicy(std::string_view name);

// "all" or a comma-separated list; throws std::invalid_argument naming an unknown policy.
std::vector<PolicySpec> ParsePolicyList(std::string_view list);

// The baseline the scoreboard's ratios are taken against.
inline constexpr std::string_view kBaselinePolicy = "hpa_cpu";

// Utilisation targets --tune tries, as in Autothrottle's grid.
const std::vector<double>& TuneGrid();

}  // namespace sim
