#include "recommender/policies/hpa_cpu.h"

#include <algorithm>
#include <cmath>

#include "control/stats.h"
#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

void DropBefore(std::deque<TimedValue>& values, common::TimePoint cutoff) {
  while (!values.empty() && values.front().t <= cutoff) values.pop_front();
}

}  // namespace

Proposal EvaluateHpaCpu(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                        HpaCpuMemory& memory, common::TimePoint now, const HpaCpuOptions& o) {
  Proposal p;
  p.policy = std::string(kHpaCpu);
  p.terms.reserve(7);
  if (memory.synced && now - memory.last_sync < o.sync_period) {
    p.replicas = memory.last_replicas;
    p.terms = memory.last_terms;
    p.reason = "between HPA syncs";
    return p;
  }
  const double current_d = signals.current_replicas;
  const double request = signals.cpu_request_cores;
  if (!(current_d >= 1) || !(request > 0) || !std::isfinite(signals.cpu_usage_cores)) {
    p.reason = "no current replicas, CPU request or CPU usage";
    return p;
  }
  const int current = static_cast<int>(std::lround(current_d));
  const double ready = signals.ready_replicas >= 1 ? signals.ready_replicas : current_d;
  const double utilization = signals.cpu_usage_cores / (current_d * request);
  const double ratio = utilization / o.target_utilization;
  const bool within = std::fabs(ratio - 1) <= o.tolerance;
  const int raw = within ? current : static_cast<int>(std::ceil(ready * ratio - 1e-9));

  // Stabilisation: min over the scale-up window, max over the scale-down window.
  const common::Duration longest = std::max(o.scale_up_stabilization, o.scale_down_stabilization);
  DropBefore(memory.recommendations, now - longest);
  memory.recommendations.push_back({now, static_cast<double>(raw)});
  double up = raw, down = raw;
  for (const TimedValue& r : memory.recommendations) {
    if (r.t > now - o.scale_up_stabilization) up = std::min(up, r.value);
    if (r.t > now - o.scale_down_stabilization) down = std::max(down, r.value);
  }
  int stabilized = current;
  if (stabilized < up) stabilized = static_cast<int>(up);
  if (stabilized > down) stabilized = static_cast<int>(down);

  // Rate limits relative to the replicas at the start of the period.
  DropBefore(memory.scale_events, now - o.scale_period);
  double added = 0, removed = 0;
  for (const TimedValue& e : memory.scale_events) {
    if (e.value > 0) added += e.value;
    if (e.value < 0) removed -= e.value;
  }
  const double start_up = current - added;
  const double start_down = current + removed;
  double up_limit =
      std::max(std::ceil(start_up * (1 + o.scale_up_percent / 100)), start_up + o.scale_up_pods);
  up_limit = std::max(up_limit, static_cast<double>(current));
  double down_limit = std::ceil(start_down * (1 - o.scale_down_percent / 100));
  down_limit = std::min(down_limit, static_cast<double>(current));
  int replicas = stabilized;
  if (replicas > up_limit) replicas = static_cast<int>(std::floor(up_limit));
  if (replicas < down_limit) replicas = static_cast<int>(std::ceil(down_limit));
  replicas =
      std::clamp(replicas, config.min_replicas, std::max(config.min_replicas, config.max_replicas));
  if (replicas != current)
    memory.scale_events.push_back({now, static_cast<double>(replicas - current)});

  p.Term("utilization", utilization);
  p.Term("usage_ratio", ratio);
  p.Term("raw_replicas", raw);
  p.Term("stabilized_replicas", stabilized);
  p.Term("scale_up_limit", up_limit);
  p.Term("scale_down_limit", down_limit);
  p.Term("current_replicas", current);
  p.replicas = replicas;
  p.reason = within ? "utilization " + control::FormatNumber(utilization) + " within tolerance"
                    : "utilization " + control::FormatNumber(utilization) + " vs target " +
                          control::FormatNumber(o.target_utilization);
  memory.synced = true;
  memory.last_sync = now;
  memory.last_replicas = replicas;
  memory.last_terms = p.terms;
  return p;
}

}  // namespace recommender::policies
