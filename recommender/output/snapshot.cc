#include "recommender/output/snapshot.h"

#include <algorithm>
#include <tuple>

namespace recommender::output {

const WorkloadView* Snapshot::Find(std::string_view k8s_namespace,
                                   std::string_view workload) const {
  const auto key = [](const WorkloadView& v) {
    return std::tie(v.config.key.k8s_namespace, v.config.key.workload);
  };
  auto it =
      std::lower_bound(workloads.begin(), workloads.end(), std::make_tuple(k8s_namespace, workload),
                       [&](const WorkloadView& v, const auto& k) {
                         return std::tuple<std::string_view, std::string_view>(key(v)) < k;
                       });
  if (it == workloads.end() || it->config.key.k8s_namespace != k8s_namespace ||
      it->config.key.workload != workload) {
    return nullptr;
  }
  return &*it;
}

}  // namespace recommender::output
