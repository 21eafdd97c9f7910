#include "recommender/actuate/actuators.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

#include "common/html.h"
#include "common/http_client.h"
#include "recommender/actuate/metric_names.h"
#include "recommender/checkpoint/checkpoint.h"
#include "recommender/output/keda_handler.h"
#include "recommender/output/quantity.h"

namespace recommender::actuate {
namespace {

constexpr std::string_view kVpaPath = "/apis/autoscaling.k8s.io/v1";

template <typename T>
prometheus::Family<T>& Build(prometheus::Registry& registry, const MetricName& m) {
  if constexpr (std::is_same_v<T, prometheus::Counter>) {
    return prometheus::BuildCounter()
        .Name(std::string(m.name))
        .Help(std::string(m.help))
        .Register(registry);
  } else {
    return prometheus::BuildGauge()
        .Name(std::string(m.name))
        .Help(std::string(m.help))
        .Register(registry);
  }
}

std::string Identity(const std::string& configured) {
  if (!configured.empty()) return configured;
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "queuelens-recommender-" + std::to_string(getpid());
}

std::string LeasePath(const std::string& ns) {
  return "/apis/coordination.k8s.io/v1/namespaces/" + ns + "/leases";
}

bool Selected(const Vpa& v, const std::string& name) {
  return std::find(v.recommenders.begin(), v.recommenders.end(), name) != v.recommenders.end();
}

}  // namespace

Actuators::Actuators(ActuatorOptions options, prometheus::Registry& registry,
                     const common::Clock& clock)
    : options_(std::move(options)),
      clock_(clock),
      client_(
          InCluster(options_.kube), [this](common::Duration d) { SleepFor(d); }, clock_),
      failures_(Build<prometheus::Counter>(registry, kKubeFailures)),
      retries_(Build<prometheus::Counter>(registry, kKubeRetries)),
      patches_(Build<prometheus::Counter>(registry, kResizePatches)),
      skipped_(Build<prometheus::Counter>(registry, kResizeSkipped)),
      resize_pods_(Build<prometheus::Gauge>(registry, kResizePods)),
      vpa_objects_(Build<prometheus::Gauge>(registry, kVpaObjects).Add({})),
      vpa_writes_(Build<prometheus::Counter>(registry, kVpaWrites)),
      relists_(Build<prometheus::Counter>(registry, kVpaRelists)),
      cost_patches_(Build<prometheus::Counter>(registry, kDeletionCostPatches)),
      leader_(Build<prometheus::Gauge>(registry, kLeader).Add({})),
      limiter_(options_.resize_rate, std::max(1.0, options_.resize_rate)),
      infeasible_(options_.resize_infeasible_retry) {
  namespace_ = options_.lease_namespace;
  if (namespace_.empty()) {
    std::string error;
    const auto text = ReadSmallFile(client_.options().namespace_file, 4096, &error);
    namespace_ = text ? std::string(*text) : "default";
    namespace_.erase(namespace_.find_last_not_of(" \t\r\n") + 1);
  }
  if (options_.leader_elect) {
    elector_ = std::make_unique<LeaseElector>(Identity(options_.identity), options_.lease_duration);
  }
  leader_.Set(options_.leader_elect ? 0 : 1);
}

Actuators::~Actuators() { Stop(); }

void Actuators::Start(const output::SnapshotHolder& snapshots) {
  spdlog::info(
      "actuating CPU recommendations through {}{}{}{}", client_.options().api_url,
      options_.resize ? ": in-place resize" : ":", options_.vpa ? " VPA status" : "",
      elector_ ? " (leader election on Lease " + namespace_ + "/" + options_.lease_name + ")" : "");
  if (elector_) election_ = std::thread([this] { ElectLeader(); });
  if (options_.vpa) watch_ = std::thread([this] { WatchVpas(); });
  passes_ = std::thread([this, &snapshots] {
    while (!stopping_) {
      const std::shared_ptr<const output::Snapshot> snapshot = snapshots.Get();
      if (snapshot->pass != last_pass_) {
        last_pass_ = snapshot->pass;
        Pass(*snapshot, clock_.Now());
      }
      SleepFor(std::min<common::Duration>(options_.interval, std::chrono::seconds{1}));
    }
  });
}

void Actuators::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    wake_.notify_all();
  }
  stopping_ = true;
  bool joined = false;
  for (std::thread* t : {&passes_, &watch_, &election_}) {
    if (t->joinable()) {
      t->join();
      joined = true;
    }
  }
  if (joined && elector_ && Leading(clock_.Now())) ReleaseLease();
}

void Actuators::ReleaseLease() {
  // Nothing patches any more: hand the Lease back so that another replica takes over at once
  // instead of after its duration. A failure only delays that.
  const std::string path = LeasePath(namespace_) + "/" + options_.lease_name;
  const KubeResponse get = client_.Call("GET", path);
  std::string error;
  std::optional<Lease> lease = get.ok() ? ParseLease(get.body, &error) : std::nullopt;
  if (!lease || lease->holder != elector_->identity()) return;
  lease->holder.clear();
  const KubeResponse put = client_.Call(
      "PUT", path, LeaseBody(namespace_, options_.lease_name, *lease), "application/json");
  if (!put.ok()) {
    Failed("lease_write", put);
    return;
  }
  leader_.Set(0);
  spdlog::info("released Lease {}/{}", namespace_, options_.lease_name);
}

void Actuators::SleepFor(common::Duration d) {
  std::unique_lock lock(mu_);
  wake_.wait_for(lock, d, [&] { return stop_; });
}

bool Actuators::Leading(common::TimePoint now) const {
  if (!elector_) return true;
  std::lock_guard lock(mu_);
  return elector_->IsLeader(now);
}

void Actuators::Failed(std::string_view operation, const KubeResponse& r, std::string_view detail) {
  const std::string reason = detail.empty() ? r.Reason() : "decode";
  failures_.Add({{"operation", std::string(operation)}, {"reason", reason}}).Increment();
  const std::string message =
      !detail.empty()
          ? std::string(detail)
          : (!r.error.empty() ? r.error
                              : "HTTP " + std::to_string(r.status) + ": " + StatusMessage(r.body));
  std::lock_guard lock(mu_);
  Failure& f = failures_by_op_[std::string(operation)];
  const bool fresh = f.count == 0;
  ++f.count;
  f.last = output::FormatRfc3339(clock_.Now()) + " " + reason + ": " + message;
  // Logged at the first failure of an operation, then at debug: a 1 s loop would flood the log.
  if (fresh) {
    spdlog::warn("kubernetes {} failed ({}): {}", operation, reason, message);
  } else {
    spdlog::debug("kubernetes {} failed ({}): {}", operation, reason, message);
  }
}

void Actuators::Retried(std::string_view operation, const KubeResponse& r) {
  if (r.attempts > 1) {
    retries_.Add({{"operation", std::string(operation)}}).Increment(r.attempts - 1);
  }
}

void Actuators::Pass(const output::Snapshot& snapshot, common::TimePoint now) {
  // The recent range of every workload's CPU recommendation, for the VPA's bounds.
  for (const output::WorkloadView& w : snapshot.workloads) {
    if (!w.recommendation.cpu_cores) continue;
    recent_cpu_.try_emplace(w.config.key, options_.vpa_bounds_window)
        .first->second.Add(now, *w.recommendation.cpu_cores);
  }
  std::erase_if(recent_cpu_, [&](const auto& kv) {
    return !snapshot.Find(kv.first.k8s_namespace, kv.first.workload);
  });
  if (!Leading(now)) return;
  if (options_.resize) {
    for (const output::WorkloadView& w : snapshot.workloads) {
      if (w.config.resize != ResizeFields::kNone && w.recommendation.cpu_cores) Resize(w, now);
    }
  }
  if (options_.vpa) WriteVpas(snapshot, now);
  if (options_.deletion_cost) WriteDeletionCosts(snapshot);
}

void Actuators::WriteDeletionCosts(const output::Snapshot& snapshot) {
  std::map<std::string, int> wanted;
  for (const output::WorkloadView& w : snapshot.workloads) {
    const std::string& ns = w.config.key.k8s_namespace;
    for (const policies::InstanceWeight& i : w.weights) {
      const std::string key = ns + "/" + i.instance;
      wanted[key] = i.deletion_cost;
      const auto it = applied_costs_.find(key);
      if (it != applied_costs_.end() && it->second == i.deletion_cost) continue;
      const KubeResponse r =
          client_.Call("PATCH", "/api/v1/namespaces/" + ns + "/pods/" + i.instance,
                       DeletionCostPatch(i.deletion_cost), "application/merge-patch+json");
      Retried("pod_deletion_cost", r);
      const bool ok = r.ok();
      cost_patches_
          .Add({{"namespace", ns},
                {"workload", w.config.key.workload},
                {"result", ok ? "applied" : "failed"}})
          .Increment();
      if (!ok) {
        Failed("pod_deletion_cost", r);
        continue;  // tried again next pass
      }
      applied_costs_[key] = i.deletion_cost;
    }
  }
  // Pods that left every workload's weights are forgotten, so the map stays as large as those.
  std::erase_if(applied_costs_, [&](const auto& kv) { return !wanted.contains(kv.first); });
}

void Actuators::Resize(const output::WorkloadView& w, common::TimePoint now) {
  const std::string& ns = w.config.key.k8s_namespace;
  const std::string selector =
      w.config.pod_selector.empty() ? "app=" + w.config.key.workload : w.config.pod_selector;
  const KubeResponse list = client_.Call(
      "GET", "/api/v1/namespaces/" + ns + "/pods?labelSelector=" + common::UrlEncode(selector));
  Retried("pods_list", list);
  if (!list.ok()) {
    Failed("pods_list", list);
    return;
  }
  std::string error;
  const std::optional<std::vector<PodState>> pods = ParsePodList(list.body, &error);
  if (!pods) {
    Failed("pods_list", list, error);
    return;
  }
  std::map<std::string, double> states{{"infeasible", 0}, {"deferred", 0}, {"in_progress", 0}};
  std::vector<std::string> live;
  for (const PodState& pod : *pods) {
    if (pod.phase != "Running") continue;
    live.push_back(pod.uid);
    if (pod.resize_pending == "Infeasible") ++states["infeasible"];
    if (pod.resize_pending == "Deferred") ++states["deferred"];
    if (pod.resize_in_progress) ++states["in_progress"];
    ResizeOne(w, pod, now);
  }
  infeasible_.Keep(live);
  std::string summary;
  for (const auto& [state, n] : states) {
    resize_pods_.Add({{"namespace", ns}, {"workload", w.config.key.workload}, {"state", state}})
        .Set(n);
    if (n > 0)
      summary += (summary.empty() ? "" : ", ") + std::to_string(static_cast<int>(n)) + " " + state;
  }
  std::lock_guard lock(mu_);
  resize_states_[ns + "/" + w.config.key.workload] =
      std::to_string(live.size()) + " running" + (summary.empty() ? "" : ", " + summary);
}

std::optional<double> Actuators::ResizeOne(const output::WorkloadView& w, const PodState& first,
                                           common::TimePoint now) {
  const std::string& ns = w.config.key.k8s_namespace;
  const auto skip = [&](const char* reason) {
    skipped_.Add({{"reason", reason}}).Increment();
    return std::nullopt;
  };
  PodState pod = first;
  // Once more after a 409: the pod changed between the list and the patch.
  for (int attempt = 0; attempt < 2; ++attempt) {
    const PodContainer* c = pod.Container(w.config.container);
    if (c == nullptr) return skip("no_container");
    const std::optional<double> current =
        w.config.resize == ResizeFields::kRequests ? c->cpu_request : c->cpu_limit;
    // The spec holds the refused size while the kubelet reports it Infeasible.
    if (pod.resize_pending == "Infeasible" && current) {
      infeasible_.Refused(pod.uid, *current, now);
    } else if (pod.resize_pending.empty()) {
      infeasible_.Forget(pod.uid);
    }
    const std::optional<double> target =
        ResizeTarget(current, *w.recommendation.cpu_cores, w.config.min_cpu_cores,
                     w.config.max_cpu_cores, options_.resize_hysteresis);
    if (!target) return skip("hysteresis");
    if (infeasible_.Holds(pod.uid, *target, now)) return skip("infeasible");
    if (!limiter_.TryTake(now)) return skip("rate_limited");
    const std::string path = "/api/v1/namespaces/" + ns + "/pods/" + pod.name;
    const KubeResponse r = client_.Call("PATCH", path + "/resize",
                                        ResizePatch(w.config.container, *target, w.config.resize),
                                        "application/strategic-merge-patch+json");
    Retried("pod_resize", r);
    const prometheus::Labels labels{{"namespace", ns}, {"workload", w.config.key.workload}};
    if (r.ok()) {
      auto applied = labels;
      applied["result"] = "applied";
      patches_.Add(applied).Increment();
      spdlog::info("resized {}/{} container {} cpu to {}", ns, pod.name, w.config.container,
                   output::FormatQuantity(*target));
      return target;
    }
    auto failed = labels;
    failed["result"] = "failed";
    patches_.Add(failed).Increment();
    Failed("pod_resize", r);
    if (r.status != 409 || attempt > 0) return std::nullopt;
    const KubeResponse get = client_.Call("GET", path);
    Retried("pod_get", get);
    std::string error;
    std::optional<PodState> fresh = get.ok() ? ParsePod(get.body, &error) : std::nullopt;
    if (!fresh) {
      Failed("pod_get", get, error);
      return std::nullopt;
    }
    pod = std::move(*fresh);
  }
  return std::nullopt;
}

void Actuators::WriteVpas(const output::Snapshot& snapshot, common::TimePoint now) {
  std::vector<Vpa> vpas;
  {
    std::lock_guard lock(mu_);
    for (const auto& [key, v] : vpas_) vpas.push_back(v);
  }
  for (const Vpa& v : vpas) {
    std::vector<VpaRecommendation> recs;
    const output::WorkloadView* w = snapshot.Find(v.k8s_namespace, v.target_name);
    if (w != nullptr && w->recommendation.cpu_cores) {
      const VpaContainerPolicy* policy = v.PolicyFor(w->config.container);
      if (policy == nullptr || (!policy->off && policy->controls_cpu)) {
        const auto it = recent_cpu_.find(w->config.key);
        const RecentRange none(options_.vpa_bounds_window);
        const CpuSpread spread = PolicySpread(*w, it != recent_cpu_.end() ? it->second : none,
                                              options_.vpa_default_band);
        recs.push_back(
            VpaBounds(w->config.container, *w->recommendation.cpu_cores, spread, policy));
      }
    }
    const std::string provided = recs.empty() ? "False" : "True";
    if (recs == v.recommendation && provided == v.provided) continue;
    const KubeResponse r =
        client_.Call("PATCH",
                     std::string(kVpaPath) + "/namespaces/" + v.k8s_namespace +
                         "/verticalpodautoscalers/" + v.name + "/status",
                     VpaStatusPatch(v, recs, now), "application/merge-patch+json");
    Retried("vpa_status", r);
    if (!r.ok()) {
      vpa_writes_.Add({{"result", "failed"}}).Increment();
      Failed("vpa_status", r);
      continue;
    }
    vpa_writes_.Add({{"result", "written"}}).Increment();
    // The answer is the object as stored: no second write before the watch reports it.
    std::string error;
    if (std::optional<Vpa> stored = ParseVpa(r.body, &error)) {
      std::lock_guard lock(mu_);
      if (auto it = vpas_.find(v.k8s_namespace + "/" + v.name); it != vpas_.end()) {
        it->second = std::move(*stored);
      }
    }
  }
}

void Actuators::SetVpaCount() { vpa_objects_.Set(static_cast<double>(vpas_.size())); }

void Actuators::WatchVpas() {
  const std::string base = std::string(kVpaPath) + "/verticalpodautoscalers";
  std::string relist_reason = "start";
  std::string version;
  int failures = 0;
  while (!stopping_) {
    if (!relist_reason.empty()) {
      relists_.Add({{"reason", relist_reason}}).Increment();
      const KubeResponse list = client_.Call("GET", base);
      Retried("vpa_list", list);
      std::string error;
      std::optional<std::vector<Vpa>> items =
          list.ok() ? ParseVpaList(list.body, &version, &error) : std::nullopt;
      if (!items) {
        Failed("vpa_list", list, list.ok() ? error : "");
        relist_reason = "error";
        SleepFor(std::min<common::Duration>(std::chrono::seconds{1 << std::min(failures++, 5)},
                                            options_.kube.max_backoff));
        continue;
      }
      std::lock_guard lock(mu_);
      vpas_.clear();
      for (Vpa& v : *items) {
        if (Selected(v, options_.vpa_recommender_name)) {
          vpas_[v.k8s_namespace + "/" + v.name] = std::move(v);
        }
      }
      SetVpaCount();
      relist_reason.clear();
    }
    bool gone = false;
    const auto on_line = [&](std::string_view line) {
      std::string error;
      std::optional<VpaWatchEvent> e = ParseVpaWatchEvent(line, &error);
      if (!e) {
        Failed("vpa_watch", KubeResponse{.status = 200}, error);
        return;
      }
      if (e->type == "ERROR") {
        if (e->code == 410) {
          gone = true;  // the resourceVersion expired: list again
        } else {
          Failed("vpa_watch", KubeResponse{.status = e->code, .body = e->message});
        }
        return;
      }
      if (!e->object.resource_version.empty()) version = e->object.resource_version;
      if (e->type == "BOOKMARK") return;
      const std::string key = e->object.k8s_namespace + "/" + e->object.name;
      std::lock_guard lock(mu_);
      if (e->type == "DELETED" || !Selected(e->object, options_.vpa_recommender_name)) {
        vpas_.erase(key);
      } else {
        vpas_[key] = std::move(e->object);
      }
      SetVpaCount();
    };
    const int timeout = static_cast<int>(
        std::chrono::duration_cast<std::chrono::seconds>(options_.vpa_watch_timeout).count());
    const KubeResponse r = client_.Stream(
        base + "?watch=1&allowWatchBookmarks=true&resourceVersion=" + common::UrlEncode(version) +
            "&timeoutSeconds=" + std::to_string(std::max(timeout, 1)),
        on_line, stopping_);
    if (stopping_) break;
    if (gone || r.status == 410) {
      relist_reason = "gone";
      failures = 0;
    } else if (!r.ok()) {
      Failed("vpa_watch", r);
      relist_reason = "error";
      SleepFor(std::min<common::Duration>(
          r.retry_after.value_or(std::chrono::seconds{1 << std::min(failures++, 5)}),
          options_.kube.max_backoff));
    } else {
      failures = 0;  // the server ended the watch at timeoutSeconds: resume from `version`
    }
  }
}

void Actuators::ElectLeader() {
  const std::string path = LeasePath(namespace_);
  const common::Duration retry = options_.lease_duration / 5;
  while (!stopping_) {
    const common::TimePoint now = clock_.Now();
    const KubeResponse get = client_.Call("GET", path + "/" + options_.lease_name);
    Retried("lease_get", get);
    std::optional<Lease> current;
    std::string error;
    bool readable = get.status == 404;
    if (get.ok()) {
      current = ParseLease(get.body, &error);
      readable = current.has_value();
    }
    if (!readable) {
      Failed("lease_get", get, get.ok() ? error : "");
    } else {
      LeaseElector::Step step;
      {
        std::lock_guard lock(mu_);
        step = elector_->Observe(current, now);
      }
      if (step.action != LeaseElector::Action::kNone) {
        const bool create = step.action == LeaseElector::Action::kCreate;
        const KubeResponse w = client_.Call(
            create ? "POST" : "PUT", create ? path : path + "/" + options_.lease_name,
            LeaseBody(namespace_, options_.lease_name, step.lease), "application/json");
        Retried("lease_write", w);
        if (!w.ok()) Failed("lease_write", w);
        std::lock_guard lock(mu_);
        const bool was = elector_->IsLeader(now);
        elector_->Written(w.ok(), clock_.Now());
        if (elector_->IsLeader(clock_.Now()) != was) {
          spdlog::info("{} the leader (Lease {}/{})", was ? "no longer" : "now", namespace_,
                       options_.lease_name);
        }
      }
    }
    leader_.Set(Leading(clock_.Now()) ? 1 : 0);
    SleepFor(retry);
  }
}

std::string Actuators::StatusHtml() const {
  std::string out = "<h2>Actuators</h2>\n<table>\n";
  const common::TimePoint now = clock_.Now();
  std::lock_guard lock(mu_);
  common::AppendHtmlRow(out, {"API server", client_.options().api_url});
  common::AppendHtmlRow(out, {"in-place resize", options_.resize ? "on" : "off"});
  common::AppendHtmlRow(
      out, {"VPA status", options_.vpa ? "on, recommender " + options_.vpa_recommender_name + ", " +
                                             std::to_string(vpas_.size()) + " VPA(s)"
                                       : "off"});
  if (elector_) {
    common::AppendHtmlRow(out, {"leader", elector_->IsLeader(now)
                                              ? "this replica (" + elector_->identity() + ")"
                                              : "follower; holder " + (elector_->holder().empty()
                                                                           ? std::string("none")
                                                                           : elector_->holder())});
  }
  out += "</table>\n";
  if (!resize_states_.empty()) {
    out += "<h3>Resized workloads</h3>\n<table>\n";
    common::AppendHtmlRow(out, {"workload", "pods"}, true);
    for (const auto& [workload, state] : resize_states_)
      common::AppendHtmlRow(out, {workload, state});
    out += "</table>\n";
  }
  out += "<h3>Kubernetes API failures</h3>\n";
  if (failures_by_op_.empty()) {
    out += "<p>none</p>\n";
    return out;
  }
  out += "<table>\n";
  common::AppendHtmlRow(out, {"operation", "failures", "last"}, true);
  for (const auto& [op, f] : failures_by_op_) {
    common::AppendHtmlRow(out, {op, std::to_string(f.count), f.last});
  }
  out += "</table>\n";
  return out;
}

}  // namespace recommender::actuate
