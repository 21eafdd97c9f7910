#include "control/captain.h"

#include <algorithm>
#include <span>

#include "control/stats.h"

namespace control {
namespace {

double ThrottledRatio(const CaptainState& s) {
  double sum = 0;
  for (double d : s.throttled) sum += d;
  return sum / kCaptainThrottleRing;
}

void ZeroThrottled(CaptainState& s) {
  s.throttled.fill(0);
  s.throttled_next = 0;
}

}  // namespace

const char* CaptainActionName(CaptainAction action) {
  switch (action) {
    case CaptainAction::kHold:
      return "hold";
    case CaptainAction::kScaleUp:
      return "scale_up";
    case CaptainAction::kScaleDown:
      return "scale_down";
    case CaptainAction::kRollback:
      return "rollback";
  }
  return "hold";
}

CaptainState MakeCaptainState(const CaptainOptions& options) {
  CaptainState s;
  s.limit = options.initial_limit_cores;
  s.last_limit = options.initial_limit_cores;
  s.margin = options.initial_margin;
  return s;
}

CaptainDecision CaptainStep(CaptainState& s, const CaptainSample& sample, double target,
                            const CaptainOptions& options) {
  CaptainDecision d;
  if (!s.started) {
    s.started = true;
    s.previous = sample;
    s.last_decision = sample.t;
    d.limit = s.limit;
    d.margin = s.margin;
    return d;
  }

  const double dt = common::ToSeconds(sample.t - s.previous.t);
  const double d_throttled = sample.nr_throttled_total - s.previous.nr_throttled_total;
  s.throttled[s.throttled_next] = std::max(0.0, d_throttled);
  s.throttled_next = (s.throttled_next + 1) % kCaptainThrottleRing;
  const double d_usage = sample.cpu_usage_seconds_total - s.previous.cpu_usage_seconds_total;
  if (dt > 0 && d_usage >= 0) {
    s.usage[s.usage_next] = d_usage / dt;
    s.usage_next = (s.usage_next + 1) % kCaptainUsageRing;
    s.usage_count = std::min(s.usage_count + 1, kCaptainUsageRing);
  }
  s.previous = sample;

  double r = ThrottledRatio(s);
  d.throttled_ratio = r;
  if (r > 3 * target && s.last_scale_down) {
    s.limit = 2 * s.last_limit - s.limit;
    s.margin += r - target;
    ZeroThrottled(s);
    s.last_scale_down = false;
    d.action = CaptainAction::kRollback;
  }
  if (sample.t - s.last_decision < options.decision_interval) {
    d.limit = s.limit;
    d.margin = s.margin;
    return d;
  }

  d.decided = true;
  s.last_limit = s.limit;
  r = ThrottledRatio(s);
  d.throttled_ratio = r;
  const Summary usage =
      Summarize(std::span<const double>(s.usage.data(), static_cast<size_t>(s.usage_count)));
  s.margin = std::max(0.0, s.margin + (r - target));
  s.last_scale_down = false;
  if (r > 3 * target) {
    s.limit *= 1 + (r - 3 * target);
    d.action = CaptainAction::kScaleUp;
  } else if (usage.count > 0) {
    d.usage_max = usage.max;
    d.usage_stdev = usage.SampleStdev();
    d.usage_limit = d.usage_max + d.usage_stdev * s.margin;
    if (d.usage_limit <= 0.9 * s.limit) {
      s.limit = std::max(0.5 * s.limit, d.usage_limit);
      s.last_scale_down = true;
      d.action = CaptainAction::kScaleDown;
    }
  }
  ZeroThrottled(s);
  s.limit = std::max(options.min_limit_cores, s.limit);
  s.last_decision = sample.t;
  d.limit = s.limit;
  d.margin = s.margin;
  return d;
}

}  // namespace control
