#include "recommender/policies/k8s_cpu.h"

#include <algorithm>
#include <cmath>

#include "control/stats.h"

namespace recommender::policies {
namespace {

void AppendTerms(const K8sCpuMemory& memory, Proposal& p) {
  const double limit =
      *std::max_element(memory.recommendations.begin(), memory.recommendations.end());
  p.Term("usage_cores", memory.last_usage_cores);
  p.Term("recommendation_cores", memory.recommendations.back());
  p.Term("window_count", static_cast<double>(memory.recommendations.size()));
  p.Term("limit_cores", limit);
  p.cpu_cores = limit;
}

}  // namespace

Proposal EvaluateK8sCpu(std::string_view policy_name, const model::WorkloadSignals& signals,
                        K8sCpuMemory& memory, common::TimePoint now, const K8sCpuOptions& o) {
  Proposal p;
  p.policy = std::string(policy_name);
  p.terms.reserve(4);
  if (memory.started && now - memory.last_period < o.period) {
    AppendTerms(memory, p);
    p.reason = "between periods";
    return p;
  }
  control::Summary usage = control::Summarize(control::RecentSamples(
      signals.cpu_usage_history, signals.cpu_usage_sample_interval, o.period));
  if (usage.count == 0 && std::isfinite(signals.cpu_usage_cores) && signals.current_replicas > 0) {
    const double per_pod = signals.cpu_usage_cores / signals.current_replicas;
    usage = control::Summarize(std::span<const double>(&per_pod, 1));
  }
  if (usage.count == 0) {
    if (memory.started) {
      AppendTerms(memory, p);
      p.reason = "no CPU usage this period; previous limit";
    } else {
      p.reason = "no CPU usage";
    }
    return p;
  }
  const double mean = usage.mean;
  const auto capacity = static_cast<size_t>(std::max<int64_t>(1, o.window / o.period));
  memory.recommendations.push_back(mean / o.target_utilization);
  while (memory.recommendations.size() > capacity) memory.recommendations.pop_front();
  memory.last_usage_cores = mean;
  memory.last_period = now;
  memory.started = true;
  AppendTerms(memory, p);
  p.reason = "max of " + std::to_string(memory.recommendations.size()) +
             " recommendations at utilization target " +
             control::FormatNumber(o.target_utilization);
  return p;
}

}  // namespace recommender::policies
