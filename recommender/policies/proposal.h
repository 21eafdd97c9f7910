#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace recommender::policies {

// Named intermediate values of a policy's formula, exported as queuelens_policy_term.
using Terms = std::vector<std::pair<std::string, double>>;

// What one policy proposes for one workload. A policy that cannot decide (missing inputs)
// leaves both values empty and says why in `reason`.
struct Proposal {
  std::string policy;
  std::optional<int> replicas;
  std::optional<double> cpu_cores;  // per-pod CPU limit
  Terms terms;
  std::string reason;

  void Term(std::string_view name, double value) { terms.emplace_back(std::string(name), value); }
};

}  // namespace recommender::policies
