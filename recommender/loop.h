#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/checkpoint/checkpoint.h"
#include "recommender/combine/post_processors.h"
#include "recommender/input/feeder.h"
#include "recommender/model/model.h"
#include "recommender/output/recommender_metrics.h"
#include "recommender/output/snapshot.h"
#include "recommender/policies/all_policies.h"
#include "recommender/workload_config.h"

namespace recommender {

struct LoopOptions {
  policies::PolicyOptions policies;
  combine::SafetyOptions safety;
  std::vector<BudgetGroup> budget_groups;
  std::string checkpoint_file;  // empty: no checkpoint
  size_t checkpoint_max_bytes = 256 << 20;
  // Least time between two checkpoint saves; a pass saves once this much has passed.
  common::Duration checkpoint_interval = std::chrono::seconds{10};
};

// Owns the model, the policies' memories and the Tower, and runs the recommendation passes on
// one thread. Each pass reads like the data flow and times every step:
//   feed      inputs → observations → model windows (input::Feeder)
//   model     discovery clean-up, windows → WorkloadSignals
//   evaluate  every policy on every workload (policies::EvaluatePolicies)
//   combine   the configured policies' proposals through the safety post-processors
//   publish   an immutable snapshot for the HTTP handlers, then the checkpoint when due
class RecommenderLoop {
 public:
  RecommenderLoop(input::Feeder feeder, model::Model model, LoopOptions options,
                  output::LoopMetrics& metrics, output::SnapshotHolder& snapshots);

  // Restores the checkpoint file if there is one. A missing file is a fresh start; an unreadable
  // or corrupt one is logged, counted and ignored. Call before the first pass.
  void RestoreCheckpoint();

  void RunOnce(common::TimePoint now);

  // Saves the checkpoint now (at shutdown); failures are logged and counted.
  void SaveCheckpoint(common::TimePoint now);

  // Runs a pass every `interval` on the calling thread until Stop(). A pass that overruns the
  // interval delays the next one instead of queueing passes.
  void Run(const common::Clock& clock, common::Duration interval);
  void Stop();

  const model::Model& model() const { return model_; }
  const Memories& memories() const { return memories_; }
  const policies::Tower& tower() const { return tower_; }
  // To seed the Tower with a learned model (checkpoint::ReadTowerModel) before the first pass.
  policies::Tower& mutable_tower() { return tower_; }

 private:
  void ReportInputErrors(const input::FeedReport& report);

  input::Feeder feeder_;
  model::Model model_;
  LoopOptions options_;
  output::LoopMetrics& metrics_;
  output::SnapshotHolder& snapshots_;
  policies::Tower tower_;
  Memories memories_;
  output::TrendRecorder trends_;
  uint64_t passes_ = 0;
  common::TimePoint last_checkpoint_{};
  std::map<std::string, std::string> failing_inputs_;  // input → last message, for logs
  size_t invalid_workloads_ = 0;                       // in the last pass, for logs

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
};

}  // namespace recommender
