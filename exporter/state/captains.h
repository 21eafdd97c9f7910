#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "control/captain.h"
#include "exporter/state/kernel_snapshot.h"
#include "exporter/state/kernel_state.h"

namespace exporter::state {

// The throttle targets queuelens-recommender's Tower serves at GET /api/v1/targets
// (sources::ParseThrottleTargets reads them):
//   {"targets":[{"namespace":N,"workload":W,"container":C,"throttleTarget":T}, ...], ...}
struct ThrottleTargets {
  struct Entry {
    std::string k8s_namespace, workload, container;
    double target = 0;
  };
  std::vector<Entry> entries;

  // The target of a pod's container: the entry of its namespace whose workload is the longest
  // prefix of `pod` followed by '-' (Deployment pods are <workload>-<hash>-<suffix>), the one
  // naming `container` before one naming another container; `fallback` when none matches.
  double For(std::string_view k8s_namespace, std::string_view pod, std::string_view container,
             double fallback) const;
};

struct CaptainsOptions {
  control::CaptainOptions captain;
  double default_target = 0;  // until the recommender has answered, and for unknown workloads
  // A container not sampled for this long is forgotten (its cgroup is gone).
  common::Duration idle = std::chrono::seconds{30};
};

// One Autothrottle Captain (control/captain.h) per container of this node, fed with
// the cgroup counters of every 100 ms CPU sample. Each decision starts from the container's
// applied limit (cpu.max) rather than the Captain's previous proposal, because the throttling it
// sees was produced by the applied limit; an unlimited container starts from the node's CPUs.
// A new cgroup under the same labels (a restart) starts a new Captain. Single-threaded.
class Captains {
 public:
  explicit Captains(CaptainsOptions options) : options_(options) {}

  void Step(const kernel::KernelSample& sample, const ThrottleTargets& targets,
            common::TimePoint now);
  // Sorted by (namespace, pod, container).
  std::vector<KernelSnapshot::Captain> Snapshot() const;

  // The limit the container's Captain decided last, in cores; nullopt without a Captain.
  std::optional<double> Limit(std::string_view k8s_namespace, std::string_view pod,
                              std::string_view container);
  // Forgets the container's Captain: the next sample starts a new one from the applied limit
  // (after a pod resize changed it under the Captain).
  void Restart(std::string_view k8s_namespace, std::string_view pod, std::string_view container);

 private:
  const std::string& Key(std::string_view k8s_namespace, std::string_view pod,
                         std::string_view container);

  struct Entry {
    std::string k8s_namespace, pod, container, cgroup;
    uint64_t inode = 0;
    control::CaptainState state;
    control::CaptainAction action = control::CaptainAction::kHold;
    double throttled_ratio = 0;
    double target = 0;
    common::TimePoint last_seen;
  };

  CaptainsOptions options_;
  std::unordered_map<std::string, Entry> entries_;
  std::string key_;  // scratch
};

}  // namespace exporter::state
