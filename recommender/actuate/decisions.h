#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "recommender/actuate/kube_objects.h"
#include "recommender/output/snapshot.h"

// The pure decisions of the actuators: whether to resize a pod, how fast, what to write to a VPA
// and who leads. Time is passed in.
namespace recommender::actuate {

// The CPU to resize a container to: `recommended` clamped to [min_cpu, max_cpu], when it differs
// from `current` by more than `hysteresis` (a fraction of current); nullopt to leave it. An
// unknown current value is always set.
std::optional<double> ResizeTarget(std::optional<double> current, double recommended,
                                   double min_cpu, double max_cpu, double hysteresis);

// A token bucket: `per_second` tokens a second, at most `burst` saved.
class RateLimiter {
 public:
  RateLimiter(double per_second, double burst);
  bool TryTake(common::TimePoint now);

 private:
  double per_second_;
  double burst_;
  double tokens_;
  std::optional<common::TimePoint> last_;
};

// Remembers the resizes the kubelet called Infeasible so that they are not sent again every
// pass: a pod is asked again only for a smaller value than the refused one, or after `retry`.
class InfeasibleMemory {
 public:
  explicit InfeasibleMemory(common::Duration retry) : retry_(retry) {}
  // Records that `pod_uid`, patched to `target`, reports PodResizePending/Infeasible.
  void Refused(const std::string& pod_uid, double target, common::TimePoint now);
  // Whether patching `pod_uid` to `target` now would repeat a refused resize.
  bool Holds(const std::string& pod_uid, double target, common::TimePoint now) const;
  void Forget(const std::string& pod_uid) { refused_.erase(pod_uid); }
  // Drops pods not in `live` (deleted pods).
  void Keep(const std::vector<std::string>& live);

 private:
  struct Entry {
    double target;
    common::TimePoint since;
  };
  common::Duration retry_;
  std::map<std::string, Entry> refused_;
};

// The values a workload's CPU recommendation took within `window`, oldest first.
class RecentRange {
 public:
  explicit RecentRange(common::Duration window) : window_(window) {}
  void Add(common::TimePoint now, double cores);
  bool empty() const { return values_.empty(); }
  // The smallest and largest value kept; {NaN, NaN} when empty.
  std::pair<double, double> Range() const;

 private:
  common::Duration window_;
  std::deque<std::pair<common::TimePoint, double>> values_;
};

// Where a CPU policy places normal demand around its recommendation, for a VPA's bounds.
struct CpuSpread {
  double low = 0;
  double high = 0;
  std::string source;  // "showar_3sigma", "vpa_bounds", "recent_range" or "default_band"
};

// The spread of `w`'s CPU policy, from the terms of its proposal:
//   showar           μ ± 3σ of the usage its size is μ + 3σ of (mean_cores, stdev_cores)
//   vpa              its own estimator's lower and upper bound (when finite)
//   throttle_target  the recent range of the recommendation, i.e. of the Captains' limits
//   otherwise        recommendation · (1 ± default_band)
// `recent` is the workload's RecentRange; a policy without its terms falls back to the default.
CpuSpread PolicySpread(const output::WorkloadView& w, const RecentRange& recent,
                       double default_band);

// A VPA container recommendation in cores.
struct VpaCores {
  double target = 0;
  double lower = 0;
  double upper = 0;
  double uncapped = 0;
};

// A workload's CPU recommendation as a VPA container recommendation: uncappedTarget is the
// recommendation, lower/upper bounds the spread widened to include it; then target and bounds
// are capped by the container policy's minAllowed/maxAllowed, as VPA's recommender caps them.
VpaCores VpaBoundsCores(double target, const CpuSpread& spread, const VpaContainerPolicy* policy);
// The same as the quantities written to the VPA's status.
VpaRecommendation VpaBounds(const std::string& container, double target, const CpuSpread& spread,
                            const VpaContainerPolicy* policy);

// Leader election on a coordination.k8s.io/v1 Lease, as a state machine: each step takes the
// Lease as read (nullopt: none exists) and says what to write. Expiry is judged by when this
// replica saw the lease change, not by the holder's clock.
class LeaseElector {
 public:
  enum class Action { kNone, kCreate, kUpdate };
  struct Step {
    Action action = Action::kNone;
    Lease lease;  // to write
  };

  LeaseElector(std::string identity, common::Duration lease_duration);

  Step Observe(const std::optional<Lease>& current, common::TimePoint now);
  // The outcome of the write Observe asked for.
  void Written(bool ok, common::TimePoint now);
  // Leader while the last successful write is younger than 2/3 of the lease duration, so that
  // leadership ends before another replica may take the lease over.
  bool IsLeader(common::TimePoint now) const;
  const std::string& holder() const { return holder_; }
  const std::string& identity() const { return identity_; }

 private:
  std::string identity_;
  common::Duration duration_;
  std::string holder_;  // as last read
  std::optional<Lease> seen_;
  common::TimePoint seen_changed_{};
  std::optional<common::TimePoint> renewed_;
  bool pending_write_ = false;
};

}  // namespace recommender::actuate
