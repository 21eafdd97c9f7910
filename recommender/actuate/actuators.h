#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "common/clock.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "recommender/actuate/decisions.h"
#include "recommender/actuate/kube_client.h"
#include "recommender/output/snapshot.h"

// actuate/ follows output/ in the data flow: it takes the published snapshot to the cluster.
namespace recommender::actuate {

struct ActuatorOptions {
  KubeClientOptions kube;
  bool resize = false;
  double resize_hysteresis = 0.1;
  double resize_rate = 5;  // patches per second, over all workloads
  common::Duration resize_infeasible_retry = std::chrono::minutes{10};
  bool vpa = false;
  // PATCH each pod's controller.kubernetes.io/pod-deletion-cost with load_shifting's cost.
  bool deletion_cost = false;
  std::string vpa_recommender_name = "queuelens";
  common::Duration vpa_bounds_window = std::chrono::hours{1};
  // The bounds' half-width, as a fraction of the recommendation, for a CPU policy that reports
  // no spread of its own (PolicySpread): the resize hysteresis, so that a VPA updater acts on
  // the changes an in-place resize would.
  double vpa_default_band = 0.1;
  common::Duration vpa_watch_timeout = std::chrono::minutes{5};
  bool leader_elect = false;
  std::string lease_name = "queuelens-recommender";
  std::string lease_namespace;  // empty: the service account's namespace
  std::string identity;         // empty: the host name (the pod's name)
  common::Duration lease_duration = std::chrono::seconds{15};
  common::Duration interval = std::chrono::seconds{15};

  bool any() const { return resize || vpa || deletion_cost; }
};

// Applies published CPU recommendations to a cluster: in-place pod resizes and VPA status, from
// one thread per pass, with a VPA watch and the leader election on threads of their own.
class Actuators {
 public:
  Actuators(ActuatorOptions options, prometheus::Registry& registry, const common::Clock& clock);
  ~Actuators();
  Actuators(const Actuators&) = delete;
  Actuators& operator=(const Actuators&) = delete;

  // Starts the threads; each pass reads the latest snapshot of `snapshots`.
  void Start(const output::SnapshotHolder& snapshots);
  // Joins the threads, then hands a held Lease back (holderIdentity emptied).
  void Stop();

  // The status page section: leader, VPAs, resize states and the last failures.
  std::string StatusHtml() const;

 private:
  struct Failure {
    uint64_t count = 0;
    std::string last;  // "<time> <reason>: <message>"
  };

  bool Leading(common::TimePoint now) const;
  void Pass(const output::Snapshot& snapshot, common::TimePoint now);
  void Resize(const output::WorkloadView& w, common::TimePoint now);
  std::optional<double> ResizeOne(const output::WorkloadView& w, const PodState& pod,
                                  common::TimePoint now);
  void WriteVpas(const output::Snapshot& snapshot, common::TimePoint now);
  // Annotates the pods of every workload with weights whose cost changed since its last patch.
  void WriteDeletionCosts(const output::Snapshot& snapshot);
  void WatchVpas();
  void ElectLeader();
  void ReleaseLease();  // at Stop(), when leading
  // Counts a failed call and keeps its message for the status page.
  void Failed(std::string_view operation, const KubeResponse& r, std::string_view detail = {});
  void Retried(std::string_view operation, const KubeResponse& r);
  void SleepFor(common::Duration d);  // wakes early on Stop()
  void SetVpaCount();

  ActuatorOptions options_;
  const common::Clock& clock_;
  KubeClient client_;
  std::string namespace_;  // the service account's, for the Lease

  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& retries_;
  prometheus::Family<prometheus::Counter>& patches_;
  prometheus::Family<prometheus::Counter>& skipped_;
  prometheus::Family<prometheus::Gauge>& resize_pods_;
  prometheus::Gauge& vpa_objects_;
  prometheus::Family<prometheus::Counter>& vpa_writes_;
  prometheus::Family<prometheus::Counter>& relists_;
  prometheus::Family<prometheus::Counter>& cost_patches_;
  prometheus::Gauge& leader_;

  // Only the pass thread touches these.
  RateLimiter limiter_;
  InfeasibleMemory infeasible_;
  std::map<model::WorkloadKey, RecentRange> recent_cpu_;
  uint64_t last_pass_ = 0;
  std::map<std::string, int> applied_costs_;  // "namespace/pod" → the cost last patched

  mutable std::mutex mu_;            // guards what follows
  std::map<std::string, Vpa> vpas_;  // "namespace/name", the selected ones
  std::unique_ptr<LeaseElector> elector_;
  std::map<std::string, Failure> failures_by_op_;
  std::map<std::string, std::string> resize_states_;  // "ns/workload" → "2 infeasible, ..."
  bool stop_ = false;
  std::condition_variable wake_;

  std::atomic<bool> stopping_{false};
  std::thread passes_, watch_, election_;
};

}  // namespace recommender::actuate
