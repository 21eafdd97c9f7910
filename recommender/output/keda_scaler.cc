#include "recommender/output/keda_scaler.h"

#include <charconv>
#include <cmath>
#include <set>

namespace recommender::output {
namespace {

std::string_view Lookup(const std::map<std::string, std::string, std::less<>>& metadata,
                        std::string_view key, std::string_view fallback) {
  auto it = metadata.find(key);
  return it == metadata.end() || it->second.empty() ? fallback : std::string_view(it->second);
}

ScalerStatus Invalid(std::string message) {
  return {ScalerCode::kInvalidArgument, std::move(message)};
}

}  // namespace

ScalerStatus ResolveTarget(std::string_view name, std::string_view k8s_namespace,
                           const std::map<std::string, std::string, std::less<>>& metadata,
                           ScalerTarget* out) {
  ScalerTarget t;
  t.key.workload = Lookup(metadata, "workload", name);
  t.key.k8s_namespace = Lookup(metadata, "namespace", k8s_namespace);
  if (t.key.workload.empty() || t.key.k8s_namespace.empty()) {
    return Invalid("no workload: set metadata workload and namespace, or name the ScaledObject");
  }
  const std::string_view metric = Lookup(metadata, "metric", "replicas");
  std::string_view slug;
  if (metric == "replicas") {
    t.metric = ScalerMetric::kReplicas;
    slug = "replicas";
  } else if (metric == "queue_length") {
    t.metric = ScalerMetric::kQueueLength;
    slug = "queue-length";
  } else if (metric == "inflight") {
    t.metric = ScalerMetric::kInflight;
    slug = "inflight";
  } else {
    return Invalid("metadata metric \"" + std::string(metric) +
                   "\": expected replicas, queue_length or inflight");
  }
  if (t.metric != ScalerMetric::kReplicas) {
    // A recommender-chosen default per replica would silently decide the scale; ask for it.
    const std::string_view text = Lookup(metadata, "target", "");
    double target = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), target);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
        !std::isfinite(target) || target <= 0) {
      return Invalid("metadata target \"" + std::string(text) + "\": metric " +
                     std::string(metric) + " needs a positive number per replica");
    }
    t.target = target;
  }
  t.metric_name =
      "queuelens-" + std::string(slug) + "-" + t.key.k8s_namespace + "-" + t.key.workload;
  *out = std::move(t);
  return {};
}

bool MatchesMetricName(std::string_view requested, const ScalerTarget& target) {
  if (requested == target.metric_name) return true;
  if (requested.size() < 3 || requested[0] != 's') return false;
  size_t i = 1;
  while (i < requested.size() && requested[i] >= '0' && requested[i] <= '9') ++i;
  return i > 1 && i < requested.size() && requested[i] == '-' &&
         requested.substr(i + 1) == target.metric_name;
}

ScalerReading ReadActivityInputs(const Snapshot& snapshot, const model::WorkloadKey& key,
                                 common::TimePoint now, common::Duration max_age) {
  ScalerReading r;
  r.view = snapshot.Find(key.k8s_namespace, key.workload);
  const std::string name = key.k8s_namespace + "/" + key.workload;
  if (r.view == nullptr) {
    r.status = {ScalerCode::kNotFound, "unknown workload " + name};
  } else if (now - snapshot.computed_at > max_age) {
    r.status = {ScalerCode::kUnavailable,
                "no recommendation pass for " +
                    std::to_string(common::ToSeconds(now - snapshot.computed_at)) + " s"};
  } else if (const model::WorkloadSignals& s = r.view->signals;
             s.observed_at == common::TimePoint{} || now - s.observed_at > max_age) {
    r.status = {ScalerCode::kUnavailable, name + " has no recent inputs"};
  } else if (!s.invalid_input.empty()) {
    r.status = {ScalerCode::kUnavailable, name + "'s inputs were refused: " + s.invalid_input};
  }
  return r;
}

ScalerReading ReadScalerMetric(const Snapshot& snapshot, const ScalerTarget& target,
                               common::TimePoint now, common::Duration max_age) {
  // Every metric needs a recent pass and fresh inputs (without them replicas are held anyway).
  ScalerReading r = ReadActivityInputs(snapshot, target.key, now, max_age);
  if (!r.status.ok()) return r;
  const std::string name = target.key.k8s_namespace + "/" + target.key.workload;
  const combine::Recommendation& rec = r.view->recommendation;
  switch (target.metric) {
    case ScalerMetric::kReplicas:
      if (!rec.replicas) {
        r.status = {ScalerCode::kUnavailable, name + " has no recommendation yet"};
      } else if (rec.replicas_stale) {
        r.status = {ScalerCode::kUnavailable, name + " is held stale: " + rec.reason};
      } else {
        r.value = *rec.replicas;
      }
      return r;
    case ScalerMetric::kQueueLength:
      r.value = r.view->signals.queue_length;
      break;
    case ScalerMetric::kInflight:
      r.value = r.view->signals.inflight;
      break;
  }
  if (!std::isfinite(r.value)) {
    r.status = {ScalerCode::kUnavailable, name + " has no value for " + target.metric_name};
    r.value = 0;
  }
  return r;
}

int64_t IntegerValue(double value) { return std::llround(value); }

void ActivityTracker::Observe(const Snapshot& snapshot, common::TimePoint now) {
  std::set<model::WorkloadKey> seen;
  for (const WorkloadView& v : snapshot.workloads) {
    seen.insert(v.config.key);
    const double rate = v.signals.request_rate;
    if (std::isnan(rate)) continue;  // no data says nothing about requests
    if (rate > 0) {
      idle_since_.erase(v.config.key);
    } else {
      idle_since_.emplace(v.config.key, now);  // keeps the first zero's time
    }
  }
  std::erase_if(idle_since_, [&](const auto& entry) { return !seen.contains(entry.first); });
}

bool ActivityTracker::IsActive(const WorkloadView& view, common::TimePoint now) const {
  if (!view.config.allow_zero) return true;
  auto it = idle_since_.find(view.config.key);
  return it == idle_since_.end() || now - it->second < idle_time_;
}

}  // namespace recommender::output
