#include "recommender/loop.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <set>
#include <utility>

#include "recommender/combine/combiner.h"

namespace recommender {
namespace {

class StepTimer {
 public:
  explicit StepTimer(output::LoopMetrics& metrics)
      : metrics_(metrics), start_(std::chrono::steady_clock::now()) {}

  void Done(const char* step) {
    const auto end = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(end - start_).count();
    metrics_.StepDuration(step, seconds);
    steps_.push_back({step, seconds});
    start_ = end;
  }
  const std::vector<output::StepTiming>& steps() const { return steps_; }

 private:
  output::LoopMetrics& metrics_;
  std::vector<output::StepTiming> steps_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

RecommenderLoop::RecommenderLoop(input::Feeder feeder, model::Model model, LoopOptions options,
                                 output::LoopMetrics& metrics, output::SnapshotHolder& snapshots)
    : feeder_(std::move(feeder)),
      model_(std::move(model)),
      options_(std::move(options)),
      metrics_(metrics),
      snapshots_(snapshots),
      tower_(options_.policies.tower) {}

void RecommenderLoop::RestoreCheckpoint() {
  if (options_.checkpoint_file.empty()) return;
  std::string error;
  const std::optional<std::string> text =
      ReadSmallFile(options_.checkpoint_file, options_.checkpoint_max_bytes, &error);
  if (!text) {
    if (error.empty()) {
      spdlog::info("no checkpoint at {}: starting fresh", options_.checkpoint_file);
    } else {
      spdlog::error("checkpoint not restored, starting fresh: {}", error);
      metrics_.CheckpointError("restore");
    }
    return;
  }
  RestoreReport report;
  if (!ReadCheckpoint(*text, model_, tower_, memories_, &report, &error)) {
    spdlog::error("checkpoint {} is corrupt and was ignored, starting fresh: {}",
                  options_.checkpoint_file, error);
    metrics_.CheckpointError("restore");
    return;
  }
  spdlog::info("restored {} workload(s) from {} ({} no longer configured)", report.workloads,
               options_.checkpoint_file, report.skipped);
}

void RecommenderLoop::SaveCheckpoint(common::TimePoint now) {
  if (options_.checkpoint_file.empty()) return;
  std::string error;
  if (!WriteFileAtomically(options_.checkpoint_file,
                           WriteCheckpoint(model_, tower_, memories_, now), &error)) {
    spdlog::error("checkpoint not saved: {}", error);
    metrics_.CheckpointError("save");
    return;
  }
  last_checkpoint_ = now;
}

void RecommenderLoop::ReportInputErrors(const input::FeedReport& report) {
  std::set<std::string> failing;
  for (const input::InputError& e : report.errors) {
    metrics_.InputError(e.input, e.reason);
    failing.insert(e.input);
    auto [it, inserted] = failing_inputs_.try_emplace(e.input, e.message);
    // Log once per new or changed failure, not on every pass of a 1 s loop.
    if (inserted || it->second != e.message) {
      spdlog::warn("input {} failed ({}): {}", e.input, e.reason, e.message);
      it->second = e.message;
    }
  }
  for (auto it = failing_inputs_.begin(); it != failing_inputs_.end();) {
    if (failing.contains(it->first)) {
      ++it;
      continue;
    }
    spdlog::info("input {} recovered", it->first);
    it = failing_inputs_.erase(it);
  }
  if (report.malformed_lines > 0) metrics_.MalformedLines(report.malformed_lines);
  for (size_t r = 0; r < report.invalid_values.size(); ++r) {
    if (report.invalid_values[r] > 0) {
      metrics_.InvalidValues(static_cast<input::Invalid>(r), report.invalid_values[r]);
    }
  }
  // Logged when it starts and ends, not on every pass.
  if ((report.workloads_invalid > 0) != (invalid_workloads_ > 0)) {
    if (report.workloads_invalid > 0) {
      spdlog::warn("inputs of {} workload(s) refused as invalid; their recommendations are held",
                   report.workloads_invalid);
    } else {
      spdlog::info("inputs valid again");
    }
  }
  invalid_workloads_ = report.workloads_invalid;
}

void RecommenderLoop::RunOnce(common::TimePoint now) {
  StepTimer timer(metrics_);
  auto snapshot = std::make_shared<output::Snapshot>();

  const input::FeedReport report = feeder_.LoadInto(model_, now);
  ReportInputErrors(report);
  timer.Done("feed");

  model_.GarbageCollect(now);
  const std::vector<model::WorkloadSignals> signals = model_.Signals(now);
  const std::vector<WorkloadConfig>& configs = model_.configs();
  timer.Done("model");

  // The memories travel in a vector aligned with the model for the pass, and back after.
  std::vector<policies::PolicyMemory> policy_memory(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    policy_memory[i] = std::move(memories_[configs[i].key].policies);
  }
  std::vector<policies::WorkloadProposals> proposals = policies::EvaluatePolicies(
      options_.policies, configs, signals, options_.budget_groups, policy_memory, tower_, now);
  timer.Done("evaluate");

  snapshot->workloads.reserve(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    WorkloadMemory& memory = memories_[configs[i].key];
    memory.policies = std::move(policy_memory[i]);
    output::WorkloadView& view = snapshot->workloads.emplace_back();
    view.recommendation =
        combine::Combine(configs[i], proposals[i], signals[i], memory.safety, now, options_.safety);
    view.config = configs[i];
    view.discovered = model_.discovered(i);
    view.signals = signals[i];
    view.proposals = std::move(proposals[i].proposals);
    view.trend = trends_.Observe(signals[i], view.recommendation, now);
    view.weights = std::move(proposals[i].weights);
    view.most_interfered = std::move(proposals[i].most_interfered);
  }
  // Workloads the model dropped take their memories with them.
  std::erase_if(memories_, [&](const auto& kv) { return !model_.Find(kv.first); });
  trends_.Retain([&](const model::WorkloadKey& key) { return model_.Find(key).has_value(); });
  timer.Done("combine");

  std::sort(snapshot->workloads.begin(), snapshot->workloads.end(),
            [](const output::WorkloadView& a, const output::WorkloadView& b) {
              return a.config.key < b.config.key;
            });
  snapshot->computed_at = now;
  snapshot->pass = ++passes_;
  snapshot->input_errors = report.errors;
  snapshot->steps = timer.steps();  // the publish step itself is timed in the metrics only
  output::TowerView& tv = snapshot->tower;
  tv.has_choice = tower_.has_choice();
  tv.action = tower_.choice().action;
  tv.high_cpu_target = tower_.target1();
  tv.other_target = tower_.target2();
  tv.bucket_rps = tower_.choice().bucket_rps;
  tv.explored = tower_.choice().explored;
  tv.chosen_at = tower_.last_choice();
  snapshots_.Publish(std::move(snapshot));
  if (!options_.checkpoint_file.empty() &&
      (last_checkpoint_ == common::TimePoint{} ||
       now - last_checkpoint_ >= options_.checkpoint_interval)) {
    SaveCheckpoint(now);
  }
  timer.Done("publish");
}

void RecommenderLoop::Run(const common::Clock& clock, common::Duration interval) {
  auto next = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    RunOnce(clock.Now());
    lock.lock();
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(interval);
    next = std::max(next, std::chrono::steady_clock::now());
    wake_.wait_until(lock, next, [&] { return stop_; });
  }
}

void RecommenderLoop::Stop() {
  std::lock_guard lock(mu_);
  stop_ = true;
  wake_.notify_all();
}

}  // namespace recommender
