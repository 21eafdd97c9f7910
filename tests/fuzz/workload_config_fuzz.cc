// The recommender's --config file (YAML, or JSON with the same keys).
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "recommender/config.h"
#include "recommender/policies/all_policies.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// What validation promises of every workload of a file without problems.
void CheckValid(const recommender::WorkloadConfig& c) {
  QL_FUZZ_CHECK(c.min_replicas >= 1 && c.min_replicas <= c.max_replicas);
  QL_FUZZ_CHECK(c.min_cpu_cores > 0 && c.min_cpu_cores <= c.max_cpu_cores);
  QL_FUZZ_CHECK(c.slo_p99_seconds > 0);
  QL_FUZZ_CHECK(recommender::policies::ProposesReplicas(c.replica_policy));
  QL_FUZZ_CHECK(recommender::policies::ProposesCpu(c.cpu_policy));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> problems;
  const recommender::WorkloadFile file = recommender::ParseWorkloadFile(text, &problems);
  for (const std::string& p : problems) QL_FUZZ_CHECK(!p.empty());
  if (!problems.empty()) return 0;
  std::set<std::string> groups;
  for (const recommender::BudgetGroup& g : file.budget_groups) {
    QL_FUZZ_CHECK(g.extra_pods >= 0);
    groups.insert(g.name);
  }
  std::set<std::pair<std::string, std::string>> keys;
  for (const recommender::WorkloadConfig& c : file.workloads) {
    CheckValid(c);
    QL_FUZZ_CHECK(!c.key.workload.empty());
    QL_FUZZ_CHECK(keys.insert({c.key.k8s_namespace, c.key.workload}).second);
    if (c.budget_group) QL_FUZZ_CHECK(groups.contains(*c.budget_group));
  }
  return 0;
}
