#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/actuate/kube_objects.h"

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

// A workload's CPU recommendation as a VPA container recommendation: target capped by the
// container policy's minAllowed/maxAllowed, uncappedTarget before that, lower/upper bounds from
// the recommendation's recent range (never past the target) capped likewise.
VpaRecommendation VpaBounds(const std::string& container, double target, double recent_low,
                            double recent_high, const VpaContainerPolicy* policy);

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
