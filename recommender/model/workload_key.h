#pragma once

#include <compare>
#include <string>

namespace recommender::model {

// A scaled workload: a Deployment in a namespace.
struct WorkloadKey {
  std::string k8s_namespace;
  std::string workload;
  // clang-tidy 14 takes the literal 0 the defaulted <=> compares with for a null pointer.
  // NOLINTNEXTLINE(modernize-use-nullptr)
  friend auto operator<=>(const WorkloadKey&, const WorkloadKey&) = default;
};

}  // namespace recommender::model
