#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "recommender/model/signals.h"
#include "recommender/model/workload_state.h"
#include "recommender/workload_config.h"

namespace recommender::model {

struct ModelOptions {
  common::Duration interval = std::chrono::seconds{15};  // spacing of samples: sizes the windows
  common::Duration history = std::chrono::minutes{5};    // how far the windows reach back
  common::Duration staleness = std::chrono::minutes{1};  // older values read as missing
  bool discover = false;
  size_t max_discovered = 1000;
  // Settings of a discovered workload; key, services and container are filled in per service.
  WorkloadConfig discovered_defaults;
};

// Every workload the recommender sizes (configured ones first, in config order, then discovered
// ones in order of discovery) with its windows. Owned by the loop's thread; not thread-safe.
class Model {
 public:
  Model(std::vector<WorkloadConfig> configured, ModelOptions options);

  // Workloads whose trace services include `service`: those in `ns`, or in any namespace when
  // the spans carry none. With discovery an unclaimed service becomes a workload of its own:
  // workload = service, namespace = `ns`, else "default".
  std::vector<size_t> ResolveService(std::string_view ns, std::string_view service);

  // The workload a pod belongs to by the names its controller gives pods: Deployment pods are
  // "<workload>-<replicaset hash>-<pod hash>", StatefulSet and DaemonSet pods "<workload>-<id>".
  // The longest matching workload name wins.
  std::optional<size_t> ResolvePod(std::string_view ns, std::string_view pod) const;

  std::optional<size_t> Find(const WorkloadKey& key) const;

  void Record(size_t workload, const WorkloadSample& sample);
  // The workload's inputs of this round were refused (`reason`): nothing is recorded, and its
  // signals say so until a sample is recorded again.
  void MarkInvalid(size_t workload, std::string_view reason, common::TimePoint at);

  // Drops discovered workloads without a sample for `history`; configured ones stay.
  void GarbageCollect(common::TimePoint now);

  // For checkpoint restore: the workload with this key, discovering it if discovery is on and
  // the key is unknown (services = container = workload name). nullopt when neither applies.
  std::optional<size_t> Restore(const WorkloadKey& key);

  size_t size() const { return workloads_.size(); }
  const std::vector<WorkloadConfig>& configs() const { return configs_; }
  bool discovered(size_t workload) const { return workloads_[workload].discovered; }
  const WorkloadState& state(size_t workload) const { return workloads_[workload].state; }
  WorkloadState& state(size_t workload) { return workloads_[workload].state; }
  const ModelOptions& options() const { return options_; }

  // The policies' inputs at `now`, aligned with configs().
  std::vector<WorkloadSignals> Signals(common::TimePoint now) const;

 private:
  struct Entry {
    bool discovered = false;
    WorkloadState state;
  };

  size_t Discover(WorkloadKey key, std::string_view service);
  void Reindex();

  ModelOptions options_;
  size_t history_samples_;
  size_t discovered_count_ = 0;
  std::vector<WorkloadConfig> configs_;
  std::vector<Entry> workloads_;  // aligned with configs_
  std::map<std::string, std::vector<size_t>, std::less<>> by_service_;
  std::map<WorkloadKey, size_t> by_key_;
};

}  // namespace recommender::model
