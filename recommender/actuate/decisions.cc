#include "recommender/actuate/decisions.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "recommender/output/quantity.h"
#include "recommender/policies/all_policies.h"

namespace recommender::actuate {

std::optional<double> ResizeTarget(std::optional<double> current, double recommended,
                                   double min_cpu, double max_cpu, double hysteresis) {
  if (!std::isfinite(recommended)) return std::nullopt;
  const double target = std::clamp(recommended, min_cpu, max_cpu);
  if (!current || *current <= 0) return target;
  if (std::abs(target - *current) <= hysteresis * *current) return std::nullopt;
  return target;
}

RateLimiter::RateLimiter(double per_second, double burst)
    : per_second_(per_second), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

bool RateLimiter::TryTake(common::TimePoint now) {
  if (last_ && now > *last_) {
    tokens_ = std::min(burst_,
                       tokens_ + per_second_ * std::chrono::duration<double>(now - *last_).count());
  }
  if (!last_ || now > *last_) last_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void InfeasibleMemory::Refused(const std::string& pod_uid, double target, common::TimePoint now) {
  auto [it, inserted] = refused_.try_emplace(pod_uid, Entry{target, now});
  if (!inserted && it->second.target != target) it->second = Entry{target, now};
}

bool InfeasibleMemory::Holds(const std::string& pod_uid, double target,
                             common::TimePoint now) const {
  const auto it = refused_.find(pod_uid);
  if (it == refused_.end()) return false;
  return target >= it->second.target && now - it->second.since < retry_;
}

void InfeasibleMemory::Keep(const std::vector<std::string>& live) {
  const std::set<std::string> keep(live.begin(), live.end());
  std::erase_if(refused_, [&](const auto& kv) { return !keep.contains(kv.first); });
}

void RecentRange::Add(common::TimePoint now, double cores) {
  values_.emplace_back(now, cores);
  while (!values_.empty() && now - values_.front().first > window_) values_.pop_front();
}

std::pair<double, double> RecentRange::Range() const {
  if (values_.empty()) return {std::nan(""), std::nan("")};
  double low = values_.front().second, high = low;
  for (const auto& [t, v] : values_) {
    low = std::min(low, v);
    high = std::max(high, v);
  }
  return {low, high};
}

CpuSpread PolicySpread(const output::WorkloadView& w, const RecentRange& recent,
                       double default_band) {
  const double target = w.recommendation.cpu_cores.value_or(std::nan(""));
  const policies::Proposal* proposal = nullptr;
  for (const policies::Proposal& p : w.proposals) {
    if (p.policy == w.config.cpu_policy) proposal = &p;
  }
  const auto term = [&](std::string_view name) -> std::optional<double> {
    if (proposal == nullptr) return std::nullopt;
    for (const auto& [n, v] : proposal->terms) {
      if (n == name && std::isfinite(v)) return v;
    }
    return std::nullopt;
  };
  const std::string& policy = w.config.cpu_policy;
  if (policy == policies::kShowar) {
    const auto mean = term("mean_cores"), stdev = term("stdev_cores");
    if (mean && stdev) {
      return {std::max(0.0, *mean - 3 * *stdev), *mean + 3 * *stdev, "showar_3sigma"};
    }
  } else if (policy == policies::kVpa) {
    const auto low = term("lower_bound_cores"), high = term("upper_bound_cores");
    if (low && high) return {*low, *high, "vpa_bounds"};
  } else if (policy == policies::kThrottleTarget && !recent.empty()) {
    const auto [low, high] = recent.Range();
    return {low, high, "recent_range"};
  }
  return {target * (1 - default_band), target * (1 + default_band), "default_band"};
}

VpaCores VpaBoundsCores(double target, const CpuSpread& spread, const VpaContainerPolicy* policy) {
  const auto cap = [&](double v) {
    if (policy != nullptr && policy->min_cpu) v = std::max(v, *policy->min_cpu);
    if (policy != nullptr && policy->max_cpu) v = std::min(v, *policy->max_cpu);
    return v;
  };
  // A NaN bound (no spread) collapses to the target.
  const double lower = std::isnan(spread.low) ? target : std::min(spread.low, target);
  const double upper = std::isnan(spread.high) ? target : std::max(spread.high, target);
  return {cap(target), cap(lower), cap(upper), target};
}

VpaRecommendation VpaBounds(const std::string& container, double target, const CpuSpread& spread,
                            const VpaContainerPolicy* policy) {
  const VpaCores c = VpaBoundsCores(target, spread, policy);
  return {container, output::FormatQuantity(c.target), output::FormatQuantity(c.lower),
          output::FormatQuantity(c.upper), output::FormatQuantity(c.uncapped)};
}

LeaseElector::LeaseElector(std::string identity, common::Duration lease_duration)
    : identity_(std::move(identity)), duration_(lease_duration) {}

LeaseElector::Step LeaseElector::Observe(const std::optional<Lease>& current,
                                         common::TimePoint now) {
  const int seconds = static_cast<int>(std::chrono::ceil<std::chrono::seconds>(duration_).count());
  Step step;
  pending_write_ = false;
  if (!current) {
    holder_.clear();
    step.action = Action::kCreate;
    step.lease = {.holder = identity_,
                  .duration_seconds = seconds,
                  .acquire_time = now,
                  .renew_time = now,
                  .transitions = 0};
    pending_write_ = true;
    return step;
  }
  if (!seen_ || *seen_ != *current) {
    seen_ = current;
    seen_changed_ = now;
  }
  holder_ = current->holder;
  const common::Duration held_for =
      current->duration_seconds > 0 ? std::chrono::seconds{current->duration_seconds} : duration_;
  Lease next = *current;
  if (current->holder == identity_) {
    next.renew_time = now;
    next.duration_seconds = seconds;
  } else if (current->holder.empty() || now - seen_changed_ >= held_for) {
    next.holder = identity_;
    next.acquire_time = now;
    next.renew_time = now;
    next.duration_seconds = seconds;
    next.transitions = current->transitions + 1;
  } else {
    renewed_.reset();  // someone else holds it
    return step;
  }
  step.action = Action::kUpdate;
  step.lease = std::move(next);
  pending_write_ = true;
  return step;
}

void LeaseElector::Written(bool ok, common::TimePoint now) {
  if (!pending_write_) return;
  pending_write_ = false;
  if (ok) {
    renewed_ = now;
    holder_ = identity_;
  } else {
    // A conflict or failure: another replica may have won; leadership lapses with the deadline.
    seen_.reset();
  }
}

bool LeaseElector::IsLeader(common::TimePoint now) const {
  return renewed_ && holder_ == identity_ && now - *renewed_ < duration_ * 2 / 3;
}

}  // namespace recommender::actuate
