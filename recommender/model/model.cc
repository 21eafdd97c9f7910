#include "recommender/model/model.h"

#include <algorithm>

namespace recommender::model {
namespace {

// Pod-name suffixes Kubernetes generates: lower-case letters and digits.
bool IsGeneratedSegment(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

}  // namespace

Model::Model(std::vector<WorkloadConfig> configured, ModelOptions options)
    : options_(std::move(options)) {
  const auto interval = std::max(options_.interval, common::Duration{std::chrono::milliseconds{1}});
  history_samples_ = static_cast<size_t>(options_.history / interval) + 1;
  for (WorkloadConfig& c : configured) {
    configs_.push_back(std::move(c));
    workloads_.push_back({false, WorkloadState(history_samples_)});
  }
  Reindex();
}

void Model::Reindex() {
  by_service_.clear();
  by_key_.clear();
  for (size_t i = 0; i < configs_.size(); ++i) {
    by_key_[configs_[i].key] = i;
    for (const std::string& s : configs_[i].services) by_service_[s].push_back(i);
  }
}

std::vector<size_t> Model::ResolveService(std::string_view ns, std::string_view service) {
  std::vector<size_t> out;
  if (auto it = by_service_.find(service); it != by_service_.end()) {
    for (size_t i : it->second) {
      if (ns.empty() || configs_[i].key.k8s_namespace == ns) out.push_back(i);
    }
  }
  if (!out.empty() || !options_.discover || service.empty()) return out;
  WorkloadKey key{ns.empty() ? "default" : std::string(ns), std::string(service)};
  // A configured workload of that name that lists other services keeps its name.
  if (by_key_.contains(key) || discovered_count_ >= options_.max_discovered) return out;
  out.push_back(Discover(std::move(key), service));
  return out;
}

size_t Model::Discover(WorkloadKey key, std::string_view service) {
  WorkloadConfig c = options_.discovered_defaults;
  c.key = std::move(key);
  c.services = {std::string(service)};
  c.container = std::string(service);
  configs_.push_back(std::move(c));
  workloads_.push_back({true, WorkloadState(history_samples_)});
  ++discovered_count_;
  const size_t i = configs_.size() - 1;
  by_key_[configs_[i].key] = i;
  by_service_[configs_[i].services.front()].push_back(i);
  return i;
}

std::optional<size_t> Model::ResolvePod(std::string_view ns, std::string_view pod) const {
  // Strip one generated segment (StatefulSet, DaemonSet), then a second (Deployment).
  std::string_view name = pod;
  for (int segments = 1; segments <= 2; ++segments) {
    const size_t dash = name.rfind('-');
    if (dash == std::string_view::npos || !IsGeneratedSegment(name.substr(dash + 1))) break;
    name = name.substr(0, dash);
    auto it = by_key_.find(WorkloadKey{std::string(ns), std::string(name)});
    if (it != by_key_.end()) return it->second;
  }
  return std::nullopt;
}

std::optional<size_t> Model::Find(const WorkloadKey& key) const {
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return std::nullopt;
  return it->second;
}

void Model::Record(size_t workload, const WorkloadSample& sample) {
  workloads_[workload].state.Record(sample);
}

void Model::MarkInvalid(size_t workload, std::string_view reason, common::TimePoint at) {
  workloads_[workload].state.MarkInvalid(reason, at);
}

void Model::GarbageCollect(common::TimePoint now) {
  bool removed = false;
  for (size_t i = configs_.size(); i-- > 0;) {
    if (!workloads_[i].discovered || now - workloads_[i].state.LastObserved() <= options_.history) {
      continue;
    }
    configs_.erase(configs_.begin() + static_cast<std::ptrdiff_t>(i));
    workloads_.erase(workloads_.begin() + static_cast<std::ptrdiff_t>(i));
    --discovered_count_;
    removed = true;
  }
  if (removed) Reindex();
}

std::optional<size_t> Model::Restore(const WorkloadKey& key) {
  if (auto i = Find(key)) return i;
  if (!options_.discover || discovered_count_ >= options_.max_discovered) return std::nullopt;
  return Discover(key, key.workload);
}

std::vector<WorkloadSignals> Model::Signals(common::TimePoint now) const {
  std::vector<WorkloadSignals> out;
  out.reserve(configs_.size());
  for (size_t i = 0; i < configs_.size(); ++i) {
    out.push_back(
        workloads_[i].state.Signals(configs_[i].key, now, options_.staleness, options_.history));
  }
  return out;
}

}  // namespace recommender::model
