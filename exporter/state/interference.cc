#include "exporter/state/interference.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>

namespace exporter::state {
namespace {

double Median(std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  if (v.size() % 2 == 1) return v[mid];
  const double upper = v[mid];
  const double lower = *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid));
  return (lower + upper) / 2;
}

}  // namespace

std::vector<InstanceImbalance> ComputeInstanceImbalance(const StateSnapshot& spans) {
  std::vector<InstanceImbalance> out;
  std::vector<double> means;
  // Instances are sorted by (namespace, service, instance): one run per service.
  for (size_t i = 0; i < spans.instances.size();) {
    const StateSnapshot::Instance& first = spans.instances[i];
    means.clear();
    size_t j = i;
    for (; j < spans.instances.size() && spans.instances[j].k8s_namespace == first.k8s_namespace &&
           spans.instances[j].service == first.service;
         ++j) {
      if (std::isfinite(spans.instances[j].window_mean_exclusive)) {
        means.push_back(spans.instances[j].window_mean_exclusive);
      }
    }
    if (means.size() >= 2) {
      const double max = *std::max_element(means.begin(), means.end());
      const size_t n = means.size();
      const double median = Median(means);
      if (median > 0) out.push_back({first.k8s_namespace, first.service, max / median, n});
    }
    i = j;
  }
  return out;
}

std::vector<PodView> JoinPods(const StateSnapshot& spans, const KernelSnapshot& kernel) {
  std::map<std::tuple<std::string_view, std::string_view>, PodView> pods;
  std::unordered_multimap<std::string_view, PodView*> by_name;
  for (const KernelSnapshot::Container& c : kernel.containers) {
    if (c.pod_uid.empty()) continue;  // not a Kubernetes container
    auto [it, inserted] = pods.try_emplace({c.k8s_namespace, c.pod});
    if (inserted) {
      it->second.k8s_namespace = c.k8s_namespace;
      it->second.pod = c.pod;
      by_name.emplace(c.pod, &it->second);
    }
    it->second.containers.push_back(&c);
  }
  for (const StateSnapshot::Instance& i : spans.instances) {
    const auto [begin, end] = by_name.equal_range(i.instance);
    for (auto it = begin; it != end; ++it) {
      PodView& pod = *it->second;
      if (i.k8s_namespace.empty() || pod.k8s_namespace.empty() ||
          i.k8s_namespace == pod.k8s_namespace) {
        pod.instances.push_back(&i);
      }
    }
  }
  std::vector<PodView> out;
  for (auto& [key, pod] : pods) {
    if (!pod.instances.empty()) out.push_back(std::move(pod));
  }
  return out;
}

}  // namespace exporter::state
