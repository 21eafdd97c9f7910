#include "recommender/policies/throttle_target.h"

#include <algorithm>
#include <cmath>
#include <span>

#include "control/stats.h"
#include "recommender/policies/all_policies.h"

namespace recommender::policies {
namespace {

// Captain's usage ring covers 5 s; the fallback reads the same span of the model's history.
constexpr common::Duration kUsageWindow = std::chrono::seconds{5};

void AppendCaptainTerms(const control::CaptainDecision& d, Proposal& p) {
  p.Term("throttled_ratio", d.throttled_ratio);
  p.Term("usage_max_cores", d.usage_max);
  p.Term("usage_stdev_cores", d.usage_stdev);
  p.Term("usage_limit_cores", d.usage_limit);
  p.Term("margin", d.margin);
  p.Term("action", static_cast<double>(d.action));
  p.Term("limit_cores", d.limit);
}

}  // namespace

Proposal EvaluateThrottleTarget(const model::WorkloadSignals& signals, const WorkloadConfig& config,
                                double target, ThrottleTargetMemory& memory, common::TimePoint now,
                                const control::CaptainOptions& options) {
  Proposal p;
  p.policy = std::string(kThrottleTarget);
  p.terms.reserve(10);
  p.Term("target", target);
  if (std::isfinite(signals.node_recommended_cpu_cores) && signals.node_recommended_cpu_cores > 0) {
    p.Term("node_recommended_cpu_cores", signals.node_recommended_cpu_cores);
    p.cpu_cores = signals.node_recommended_cpu_cores;
    p.reason = "exporters' Captain at throttle target " + control::FormatNumber(target);
    return p;
  }

  // Fallback: one Captain decision over the model's window.
  const control::Summary recent = control::Summarize(control::RecentSamples(
      signals.cpu_usage_history, signals.cpu_usage_sample_interval, kUsageWindow));
  control::CaptainDecision d;
  if (recent.count > 0) {
    d.usage_max = recent.max;
    d.usage_stdev = recent.SampleStdev();
  } else if (std::isfinite(signals.cpu_usage_cores) && signals.current_replicas > 0) {
    d.usage_max = signals.cpu_usage_cores / signals.current_replicas;
    d.usage_stdev = 0;
  } else {
    p.reason = "no Captain recommendation and no CPU usage";
    return p;
  }
  if (!std::isfinite(signals.throttled_ratio)) {
    p.reason = "no Captain recommendation and no throttled ratio";
    return p;
  }
  const double r = signals.throttled_ratio;
  d.throttled_ratio = r;

  double limit = config.max_cpu_cores;
  if (std::isfinite(signals.cpu_limit_cores) && signals.cpu_limit_cores > 0) {
    limit = signals.cpu_limit_cores;
  } else if (std::isfinite(memory.limit)) {
    limit = memory.limit;
  }
  p.Term("limit_in_cores", limit);
  if (!std::isfinite(memory.margin)) memory.margin = options.initial_margin;

  const bool due = memory.last_decision == common::TimePoint{} ||
                   now - memory.last_decision >= options.decision_interval;
  if (r > 3 * target && memory.last_scale_down && std::isfinite(memory.last_limit)) {
    limit = 2 * memory.last_limit - limit;
    memory.margin += r - target;
    memory.last_scale_down = false;
    d.action = control::CaptainAction::kRollback;
    memory.last_decision = now;
  } else if (due) {
    memory.last_limit = limit;
    memory.margin = std::max(0.0, memory.margin + (r - target));
    memory.last_scale_down = false;
    if (r > 3 * target) {
      limit *= 1 + (r - 3 * target);
      d.action = control::CaptainAction::kScaleUp;
    } else {
      d.usage_limit = d.usage_max + d.usage_stdev * memory.margin;
      if (d.usage_limit <= 0.9 * limit) {
        limit = std::max(0.5 * limit, d.usage_limit);
        memory.last_scale_down = true;
        d.action = control::CaptainAction::kScaleDown;
      }
    }
    memory.last_decision = now;
  } else if (std::isfinite(memory.limit)) {
    limit = memory.limit;
  }
  limit = std::max(options.min_limit_cores, limit);
  memory.limit = limit;
  d.limit = limit;
  d.margin = memory.margin;
  d.decided = due || d.action == control::CaptainAction::kRollback;
  AppendCaptainTerms(d, p);
  p.cpu_cores = limit;
  p.reason = std::string("window Captain ") + control::CaptainActionName(d.action) +
             " at throttle target " + control::FormatNumber(target);
  return p;
}

}  // namespace recommender::policies
