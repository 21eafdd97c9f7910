#include "recommender/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/log.h"
#include "recommender/actuate/kube_objects.h"
#include "recommender/checkpoint/checkpoint.h"
#include "recommender/policies/all_policies.h"
#include "recommender/predict/predictor.h"

namespace recommender {
namespace {

// Reads typed fields out of YAML nodes, recording a problem per bad field under its path.
class Reader {
 public:
  explicit Reader(std::vector<std::string>* problems) : problems_(problems) {}

  void Problem(const std::string& path, const std::string& what) {
    problems_->push_back(path + ": " + what);
  }

  bool Scalar(const YAML::Node& n, const std::string& path, std::string* out) {
    if (!n.IsScalar()) {
      Problem(path, "expected a single value");
      return false;
    }
    *out = n.Scalar();
    return true;
  }

  void String(const YAML::Node& n, const std::string& path, std::string* out) {
    std::string s;
    if (!Scalar(n, path, &s)) return;
    if (s.empty()) {
      Problem(path, "must not be empty");
      return;
    }
    *out = std::move(s);
  }

  void Int(const YAML::Node& n, const std::string& path, int* out) {
    std::string s;
    if (!Scalar(n, path, &s)) return;
    int v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) {
      Problem(path, "\"" + s + "\" is not an integer");
      return;
    }
    *out = v;
  }

  void Bool(const YAML::Node& n, const std::string& path, bool* out) {
    std::string s;
    if (!Scalar(n, path, &s)) return;
    if (s == "true" || s == "yes") {
      *out = true;
    } else if (s == "false" || s == "no") {
      *out = false;
    } else {
      Problem(path, "\"" + s + "\" is not true or false");
    }
  }

  // Seconds as a number, or a duration: "250ms", "1.5s".
  void Seconds(const YAML::Node& n, const std::string& path, double* out) {
    std::string s;
    if (!Scalar(n, path, &s)) return;
    if (auto v = Number(s)) {
      *out = *v;
    } else if (auto d = common::ParseDuration(s)) {
      *out = common::ToSeconds(*d);
    } else {
      Problem(path, "\"" + s + "\" is neither seconds nor a duration like 200ms");
    }
  }

  void Duration(const YAML::Node& n, const std::string& path,
                std::optional<common::Duration>* out) {
    const size_t before = problems_->size();
    double seconds = 0;
    Seconds(n, path, &seconds);
    if (problems_->size() != before) return;
    if (!(seconds >= 0)) {
      Problem(path, "must not be negative");
      return;
    }
    *out = std::chrono::duration_cast<common::Duration>(std::chrono::duration<double>(seconds));
  }

  void Step(const YAML::Node& n, const std::string& path, std::optional<double>* out) {
    std::string s;
    if (!Scalar(n, path, &s)) return;
    if (auto v = Number(s)) {
      *out = *v;
    } else {
      Problem(path, "\"" + s + "\" is not a number");
    }
  }

  // Cores as a number, or Kubernetes millicores: "250m".
  void Cores(const YAML::Node& n, const std::string& path, double* out) {
    std::string s;
    if (!Scalar(n, path, &s)) return;
    if (auto v = Number(s)) {
      *out = *v;
    } else if (s.size() > 1 && s.back() == 'm' && Number(s.substr(0, s.size() - 1))) {
      *out = *Number(s.substr(0, s.size() - 1)) / 1000;
    } else {
      Problem(path, "\"" + s + "\" is neither cores nor millicores like 250m");
    }
  }

  void Strings(const YAML::Node& n, const std::string& path, std::vector<std::string>* out) {
    out->clear();
    if (n.IsScalar()) {
      String(n, path, &out->emplace_back());
      return;
    }
    if (!n.IsSequence()) {
      Problem(path, "expected a list of names");
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      String(n[i], path + "[" + std::to_string(i) + "]", &out->emplace_back());
    }
  }

 private:
  static std::optional<double> Number(std::string_view s) {
    double v = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
  }

  std::vector<std::string>* problems_;
};

// Fields a defaults block may set.
bool ReadSetting(Reader& r, const std::string& key, const YAML::Node& v, const std::string& path,
                 WorkloadConfig& c) {
  if (key == "slo_p99") {
    r.Seconds(v, path, &c.slo_p99_seconds);
  } else if (key == "min_replicas") {
    r.Int(v, path, &c.min_replicas);
  } else if (key == "max_replicas") {
    r.Int(v, path, &c.max_replicas);
  } else if (key == "allow_zero") {
    r.Bool(v, path, &c.allow_zero);
  } else if (key == "min_cpu") {
    r.Cores(v, path, &c.min_cpu_cores);
  } else if (key == "max_cpu") {
    r.Cores(v, path, &c.max_cpu_cores);
  } else if (key == "replica_policy") {
    r.String(v, path, &c.replica_policy);
  } else if (key == "cpu_policy") {
    r.String(v, path, &c.cpu_policy);
  } else if (key == "replica_stabilization_window") {
    r.Duration(v, path, &c.replica_safety.stabilization_window);
  } else if (key == "replica_max_step") {
    r.Step(v, path, &c.replica_safety.max_step);
  } else if (key == "cpu_stabilization_window") {
    r.Duration(v, path, &c.cpu_safety.stabilization_window);
  } else if (key == "cpu_max_step_factor") {
    r.Step(v, path, &c.cpu_safety.max_step);
  } else if (key == "resize") {
    std::string text;
    r.String(v, path, &text);
    if (const std::optional<ResizeFields> fields = actuate::ParseResizeFields(text)) {
      c.resize = *fields;
    } else {
      r.Problem(path, "\"" + text + "\" is not one of none, requests, limits, both");
    }
  } else {
    return false;
  }
  return true;
}

// Fields only a workload may set.
bool ReadIdentity(Reader& r, const std::string& key, const YAML::Node& v, const std::string& path,
                  WorkloadConfig& c) {
  if (key == "namespace") {
    r.String(v, path, &c.key.k8s_namespace);
  } else if (key == "workload") {
    r.String(v, path, &c.key.workload);
  } else if (key == "services") {
    r.Strings(v, path, &c.services);
  } else if (key == "container") {
    r.String(v, path, &c.container);
  } else if (key == "budget_group") {
    r.String(v, path, &c.budget_group.emplace());
  } else if (key == "tower_high_cpu_group") {
    r.Bool(v, path, &c.tower_high_cpu_group);
  } else if (key == "pod_selector") {
    r.String(v, path, &c.pod_selector);
  } else {
    return false;
  }
  return true;
}

// Kubernetes object names: DNS subdomains (lower-case alphanumerics, '-' and '.').
bool IsK8sName(std::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

void CheckSettings(const WorkloadConfig& c, const std::string& path, Reader& r) {
  if (!(c.slo_p99_seconds > 0)) r.Problem(path + ".slo_p99", "must be positive");
  if (c.min_replicas < 1) r.Problem(path + ".min_replicas", "must be at least 1");
  if (c.max_replicas < c.min_replicas) {
    r.Problem(path + ".max_replicas", "must not be below min_replicas");
  }
  if (!(c.min_cpu_cores > 0)) r.Problem(path + ".min_cpu", "must be positive");
  if (!(c.max_cpu_cores >= c.min_cpu_cores)) {
    r.Problem(path + ".max_cpu", "must not be below min_cpu");
  }
  const auto list = [](bool (*ok)(std::string_view)) {
    std::string names;
    for (std::string_view p : policies::kPolicyNames) {
      if (ok(p)) names += (names.empty() ? "" : ", ") + std::string(p);
    }
    return names;
  };
  if (const auto& step = c.replica_safety.max_step;
      step && (!(*step >= 0) || *step != std::floor(*step))) {
    r.Problem(path + ".replica_max_step", "must be a whole number, 0 for no limit");
  }
  if (const auto& step = c.cpu_safety.max_step; step && !(*step == 0 || *step > 1)) {
    r.Problem(path + ".cpu_max_step_factor", "must be above 1, or 0 for no limit");
  }
  if (!policies::ProposesReplicas(c.replica_policy)) {
    r.Problem(path + ".replica_policy",
              "\"" + c.replica_policy + "\" is not one of " + list(&policies::ProposesReplicas));
  }
  if (!policies::ProposesCpu(c.cpu_policy)) {
    r.Problem(path + ".cpu_policy",
              "\"" + c.cpu_policy + "\" is not one of " + list(&policies::ProposesCpu));
  }
}

}  // namespace

WorkloadFile ParseWorkloadFile(std::string_view text, std::vector<std::string>* problems) {
  WorkloadFile file;
  Reader r(problems);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    r.Problem(
        "line " + std::to_string(e.mark.line + 1) + ", column " + std::to_string(e.mark.column + 1),
        e.msg);
    return file;
  }
  if (root.IsNull()) return file;
  if (!root.IsMap()) {
    r.Problem("config", "expected a mapping with workloads, budget_groups and defaults");
    return file;
  }
  YAML::Node workloads, groups;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key == "defaults") {
      if (!kv.second.IsMap()) {
        r.Problem("defaults", "expected a mapping");
        continue;
      }
      for (const auto& d : kv.second) {
        const std::string k = d.first.Scalar();
        if (!ReadSetting(r, k, d.second, "defaults." + k, file.defaults)) {
          r.Problem("defaults." + k, "unknown setting");
        }
      }
    } else if (key == "workloads") {
      workloads = kv.second;
    } else if (key == "budget_groups") {
      groups = kv.second;
    } else {
      r.Problem(key, "unknown top-level key (expected workloads, budget_groups, defaults)");
    }
  }
  CheckSettings(file.defaults, "defaults", r);

  std::set<std::string> group_names;
  if (groups && !groups.IsNull()) {
    if (!groups.IsSequence()) r.Problem("budget_groups", "expected a list");
    for (size_t i = 0; groups.IsSequence() && i < groups.size(); ++i) {
      const std::string path = "budget_groups[" + std::to_string(i) + "]";
      if (!groups[i].IsMap()) {
        r.Problem(path, "expected a mapping with name and extra_pods");
        continue;
      }
      BudgetGroup g;
      for (const auto& kv : groups[i]) {
        const std::string k = kv.first.Scalar();
        if (k == "name") {
          r.String(kv.second, path + ".name", &g.name);
        } else if (k == "extra_pods") {
          r.Int(kv.second, path + ".extra_pods", &g.extra_pods);
        } else if (k == "entry_workloads") {
          r.Strings(kv.second, path + ".entry_workloads", &g.entry_workloads);
        } else {
          r.Problem(std::string(path).append(".").append(k), "unknown setting");
        }
      }
      if (g.name.empty()) r.Problem(path + ".name", "is required");
      if (g.extra_pods < 0) r.Problem(path + ".extra_pods", "must not be negative");
      if (!g.name.empty() && !group_names.insert(g.name).second) {
        r.Problem(path + ".name", "\"" + g.name + "\" is defined twice");
      }
      file.budget_groups.push_back(std::move(g));
    }
  }

  if (workloads && !workloads.IsNull() && !workloads.IsSequence()) {
    r.Problem("workloads", "expected a list");
  }
  std::set<model::WorkloadKey> keys;
  std::map<std::pair<std::string, std::string>, std::string> service_owner;
  for (size_t i = 0; workloads && workloads.IsSequence() && i < workloads.size(); ++i) {
    const std::string path = "workloads[" + std::to_string(i) + "]";
    if (!workloads[i].IsMap()) {
      r.Problem(path, "expected a mapping");
      continue;
    }
    WorkloadConfig c = file.defaults;
    for (const auto& kv : workloads[i]) {
      const std::string k = kv.first.Scalar();
      const std::string p = std::string(path).append(".").append(k);
      if (!ReadSetting(r, k, kv.second, p, c) && !ReadIdentity(r, k, kv.second, p, c)) {
        r.Problem(p, "unknown setting");
      }
    }
    if (!IsK8sName(c.key.k8s_namespace)) {
      r.Problem(path + ".namespace",
                c.key.k8s_namespace.empty()
                    ? "is required"
                    : "\"" + c.key.k8s_namespace + "\" is not a Kubernetes name");
    }
    if (!IsK8sName(c.key.workload)) {
      r.Problem(path + ".workload", c.key.workload.empty()
                                        ? "is required"
                                        : "\"" + c.key.workload + "\" is not a Kubernetes name");
    }
    if (c.services.empty()) c.services = {c.key.workload};
    if (c.container.empty()) c.container = c.key.workload;
    CheckSettings(c, path, r);
    if (c.budget_group && !group_names.contains(*c.budget_group)) {
      r.Problem(path + ".budget_group", "\"" + *c.budget_group + "\" is not in budget_groups");
    }
    if (!c.key.workload.empty() && !keys.insert(c.key).second) {
      r.Problem(path, c.key.k8s_namespace + "/" + c.key.workload + " is listed twice");
    }
    for (const std::string& s : c.services) {
      const std::string owner = c.key.k8s_namespace + "/" + c.key.workload;
      auto [it, inserted] = service_owner.try_emplace({c.key.k8s_namespace, s}, owner);
      if (!inserted && it->second != owner) {
        r.Problem(path + ".services", "service \"" + s + "\" already belongs to " + it->second);
      }
    }
    file.workloads.push_back(std::move(c));
  }
  return file;
}

void RecommenderConfig::Register(common::FlagSet& f) {
  f.String("web.listen-address", &web_listen_address,
           "Address for /metrics, the KEDA metrics-api JSON, the status page and /healthz "
           "(host:port; port 0 picks one)");
  f.Int("web.threads", &web_threads, "HTTP worker threads");
  web_limits.Register(f);
  f.String("apiserver.listen-address", &apiserver_listen_address,
           "Address for the Kubernetes external metrics API (external.metrics.k8s.io/v1beta1, "
           "HTTPS, for the HPA through the kube-aggregator), e.g. :6443; empty disables it");
  f.String("tls.cert-file", &tls_cert_file,
           "PEM certificate chain the external metrics API serves (a kubernetes.io/tls "
           "Secret's tls.crt)");
  f.String("tls.key-file", &tls_key_file, "PEM private key of --tls.cert-file (tls.key)");
  f.String("requestheader.client-ca-file", &requestheader_client_ca_file,
           "PEM CA that signs the kube-aggregator's client certificate (the front-proxy CA, "
           "kube-system/extension-apiserver-authentication's requestheader-client-ca-file); "
           "requests to the external metrics API without a certificate it signed get 401");
  f.String("requestheader.allowed-names", &requestheader_allowed_names,
           "Comma-separated common names accepted on those client certificates (e.g. "
           "front-proxy-client); empty accepts any name the CA signed");
  f.String("grpc.listen-address", &grpc_listen_address,
           "Address for KEDA's external scaler gRPC service (trigger types external and "
           "external-push), e.g. :9098; empty disables it");
  f.Int("grpc.max-streams", &grpc_max_streams,
        "Most StreamIsActive calls open at once; more get RESOURCE_EXHAUSTED");
  f.Duration("grpc.idle-time", &grpc_idle_time,
             "IsActive turns false once a workload whose config sets allow_zero has had no "
             "requests for this long (KEDA then scales it to zero)");
  f.String("grpc.tls-cert-file", &grpc_tls_cert_file,
           "PEM certificate chain of the gRPC service; empty serves plaintext (the trigger's "
           "enableTLS and caCert go with it)");
  f.String("grpc.tls-key-file", &grpc_tls_key_file, "PEM private key of --grpc.tls-cert-file");
  f.String("grpc.tls-client-ca-file", &grpc_tls_client_ca_file,
           "PEM CA that signs KEDA's client certificate (tlsClientCert); a certificate shown "
           "must verify against it");
  f.Bool("grpc.tls-require-client-cert", &grpc_tls_require_client_cert,
         "Refuse gRPC connections without a client certificate --grpc.tls-client-ca-file signed");
  f.String(
      "prometheus.url", &prometheus_url,
      "Prometheus to read exporter metrics from via its HTTP API, e.g. http://prometheus:9090");
  f.Duration("prometheus.timeout", &prometheus_timeout, "Timeout of one Prometheus query");
  f.StringList("exporter.url", &exporter_urls,
               "An exporter's /metrics to scrape directly instead of asking Prometheus, e.g. "
               "http://node-1:8470/metrics; repeatable. kube-state-metrics' /metrics may be listed "
               "too");
  f.Duration("exporter.timeout", &exporter_timeout, "Timeout of one direct scrape");
  f.Bytes("exporter.max-bytes", &exporter_max_bytes,
          "Largest /metrics answer accepted; a larger one fails that scrape (its inputs read as "
          "missing)");
  f.Int("exporter.max-series", &exporter_max_series,
        "Most sample lines accepted in one /metrics answer; a target with more is refused "
        "unparsed (its inputs read as missing)");
  f.Double("input.max-counter-rate", &max_counter_rate,
           "Most a counter series may rise per second between two scrapes (and most a rate "
           "from --prometheus.url may be); a larger rise, like a NaN, infinite, negative or "
           "above-2^53 counter, is refused and holds the workload's recommendation as stale");
  f.String("config", &config_file, "Workloads to size (YAML or JSON); see README");
  f.Bool("discover", &discover,
         "Size every trace service seen as a workload of its own (workload = service, namespace "
         "= the spans' k8s.namespace.name, else default)");
  f.Int("discover.max-workloads", &discover_max_workloads,
        "Most workloads --discover adds; further services are ignored");
  f.Bool("check-config", &check_config,
         "Validate the flags and --config, print the workloads and exit (0 valid, 2 invalid)");
  f.Duration("interval", &interval,
             "Time between recommendation passes; 0 means 15s, or 1s with --exporter.url");
  f.Duration("model.window", &window,
             "Window of rates and latency quantiles (PromQL rate(x[window])); 0 means 1m, or 5 "
             "intervals with --exporter.url so a load step shows within seconds");
  f.Duration("model.history", &history, "How far the model's windows reach back (CPU usage σ)");
  f.Duration("staleness", &staleness,
             "Inputs older than this count as missing: the last good recommendation is held and "
             "marked stale");
  f.Duration("safety.stabilization-window", &stabilization_window,
             "Scale replicas down only to the highest recommendation of this window, for the "
             "replica policies whose source has no rule of its own (queue_balancing); the other "
             "policies keep their source's (README, Safety). Per workload: "
             "replica_stabilization_window and cpu_stabilization_window in --config");
  f.Int("safety.max-replica-step", &max_replica_step,
        "Most replicas added or removed per pass, for the same policies; per workload: "
        "replica_max_step and cpu_max_step_factor in --config");
  f.String("checkpoint.file", &checkpoint_file,
           "File the model windows and policy state are saved to every pass and restored from "
           "at start; empty disables");
  f.Duration("checkpoint.interval", &checkpoint_interval,
             "Least time between two checkpoint saves (a pass saves once this much has passed; "
             "0 saves every pass)");
  f.Bytes("checkpoint.max-bytes", &checkpoint_max_bytes, "Largest checkpoint read at start");
  f.String("deepscaler.model", &deepscaler_model,
           "DeepScaler's model file (queuelens-train --out) for the deepscaler replica policy; "
           "empty: the policy is unavailable");
  f.String("deepscaler.call-graph", &deepscaler_call_graph,
           "Call-graph CSV (caller,callee,calls, as queuelens-sim dataset writes) from which "
           "deepscaler derives the critical path rounded at 0.35; empty: every service rounds "
           "at 0.5");
  f.Bool("kubernetes.resize", &actuate.resize,
         "Resize the pods of workloads whose config sets resize: in place (PATCH pods/resize) to "
         "the recommended CPU");
  f.Double("kubernetes.resize-hysteresis", &actuate.resize_hysteresis,
           "Leave a pod alone while its CPU is within this fraction of the recommendation");
  f.Double("kubernetes.resize-rate", &actuate.resize_rate,
           "Most pod resizes per second over all workloads (a token bucket of that burst)");
  f.Duration("kubernetes.resize-infeasible-retry", &actuate.resize_infeasible_retry,
             "Ask a pod whose resize the kubelet called Infeasible for the same or a larger size "
             "again only after this long");
  f.Bool("kubernetes.pod-deletion-cost", &actuate.deletion_cost,
         "Annotate pods with load_shifting's controller.kubernetes.io/pod-deletion-cost (PATCH "
         "pods metadata.annotations) so a scale-in removes the most interfered replica first");
  f.String("kubernetes.api-url", &actuate.kube.api_url,
           "Kubernetes API server, e.g. https://10.0.0.1:6443; empty: in-cluster "
           "(KUBERNETES_SERVICE_HOST/_PORT)");
  f.String("kubernetes.token-file", &actuate.kube.token_file,
           "Bearer token file, re-read at every request (tokens rotate); empty: the service "
           "account's");
  f.String("kubernetes.ca-file", &actuate.kube.ca_file,
           "CA bundle of the API server; empty: the service account's ca.crt for https");
  f.Duration("kubernetes.timeout", &actuate.kube.timeout, "Timeout of one Kubernetes API call");
  f.Bool("vpa.write-status", &actuate.vpa,
         "Write the CPU recommendation into the status of every VerticalPodAutoscaler whose "
         "spec.recommenders names --vpa.recommender-name");
  f.String("vpa.recommender-name", &actuate.vpa_recommender_name,
           "The recommender name VPA objects select queuelens by");
  f.Duration("vpa.bounds-window", &actuate.vpa_bounds_window,
             "throttle_target's lowerBound/upperBound span the recommendation's range over "
             "this window");
  f.Double("vpa.default-band", &actuate.vpa_default_band,
           "lowerBound/upperBound = recommendation × (1 ± this) for a CPU policy without a "
           "spread of its own (showar: μ ± 3σ, vpa: its bounds, throttle_target: the window)");
  f.Bool("leader-elect", &actuate.leader_elect,
         "Elect one replica (coordination.k8s.io/v1 Lease) to patch pods and VPA status; every "
         "replica serves recommendations");
  f.String("leader-elect.lease-name", &actuate.lease_name, "Name of the Lease");
  f.String("leader-elect.identity", &actuate.identity,
           "This replica's holderIdentity in the Lease; empty: the host name (the pod's name)");
  f.String("leader-elect.lease-namespace", &actuate.lease_namespace,
           "Namespace of the Lease; empty: the service account's");
  f.Duration("leader-elect.lease-duration", &actuate.lease_duration,
             "How long a Lease lasts without renewal before another replica takes it");
  common::RegisterLogFlags(f, &log_level, &log_format);
}

std::vector<std::string> RecommenderConfig::Validate() const {
  std::vector<std::string> problems;
  const auto url = [&](const std::string& u, const char* flag) {
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) {
      problems.push_back(std::string("--") + flag + " must start with http:// or https://: " + u);
    }
  };
  const auto positive = [&](common::Duration d, const char* flag) {
    if (d <= common::Duration::zero()) {
      problems.push_back(std::string("--") + flag + " must be a positive duration");
    }
  };
  if (web_listen_address.empty()) problems.push_back("--web.listen-address must not be empty");
  if (!(actuate.resize_hysteresis >= 0 && actuate.resize_hysteresis < 1)) {
    problems.push_back("--kubernetes.resize-hysteresis must be in [0, 1)");
  }
  if (!(actuate.vpa_default_band >= 0 && actuate.vpa_default_band < 1)) {
    problems.push_back("--vpa.default-band must be in [0, 1)");
  }
  if (!(actuate.resize_rate > 0)) problems.push_back("--kubernetes.resize-rate must be positive");
  if (!actuate.kube.api_url.empty()) url(actuate.kube.api_url, "kubernetes.api-url");
  positive(actuate.kube.timeout, "kubernetes.timeout");
  positive(actuate.vpa_bounds_window, "vpa.bounds-window");
  if (actuate.vpa && actuate.vpa_recommender_name.empty()) {
    problems.push_back("--vpa.recommender-name must not be empty");
  }
  if (actuate.any() && actuate::InCluster(actuate.kube).api_url.empty()) {
    problems.push_back(
        "--kubernetes.resize, --kubernetes.pod-deletion-cost and --vpa.write-status need "
        "--kubernetes.api-url outside a cluster "
        "(KUBERNETES_SERVICE_HOST is not set)");
  }
  if (actuate.leader_elect && !actuate.any()) {
    problems.push_back(
        "--leader-elect needs --kubernetes.resize, --kubernetes.pod-deletion-cost or "
        "--vpa.write-status");
  }
  if (actuate.leader_elect && actuate.lease_duration < std::chrono::seconds{3}) {
    problems.push_back("--leader-elect.lease-duration must be at least 3s");
  }
  if (web_threads <= 0) problems.push_back("--web.threads must be positive");
  web_limits.Validate(problems);
  if (!apiserver_listen_address.empty() &&
      (tls_cert_file.empty() || tls_key_file.empty() || requestheader_client_ca_file.empty())) {
    problems.push_back(
        "--apiserver.listen-address needs --tls.cert-file, --tls.key-file and "
        "--requestheader.client-ca-file");
  }
  if (apiserver_listen_address.empty() &&
      !(tls_cert_file.empty() && tls_key_file.empty() && requestheader_client_ca_file.empty() &&
        requestheader_allowed_names.empty())) {
    problems.push_back("--tls.* and --requestheader.* only apply with --apiserver.listen-address");
  }
  if (grpc_listen_address.empty() &&
      !(grpc_tls_cert_file.empty() && grpc_tls_key_file.empty() &&
        grpc_tls_client_ca_file.empty() && !grpc_tls_require_client_cert)) {
    problems.push_back("--grpc.tls-* only apply with --grpc.listen-address");
  }
  if (grpc_tls_cert_file.empty() != grpc_tls_key_file.empty()) {
    problems.push_back("--grpc.tls-cert-file and --grpc.tls-key-file go together");
  }
  if (!grpc_tls_client_ca_file.empty() && grpc_tls_cert_file.empty()) {
    problems.push_back("--grpc.tls-client-ca-file needs --grpc.tls-cert-file");
  }
  if (grpc_tls_require_client_cert && grpc_tls_client_ca_file.empty()) {
    problems.push_back("--grpc.tls-require-client-cert needs --grpc.tls-client-ca-file");
  }
  if (grpc_max_streams <= 0 || grpc_max_streams > 10'000) {
    problems.push_back("--grpc.max-streams must be in [1, 10000]");
  }
  positive(grpc_idle_time, "grpc.idle-time");
  if (prometheus_url.empty() && exporter_urls.empty() && !check_config) {
    problems.push_back("no input: set --prometheus.url or --exporter.url");
  }
  if (!prometheus_url.empty() && !exporter_urls.empty()) {
    problems.push_back("--prometheus.url and --exporter.url exclude each other: pick one input");
  }
  if (!prometheus_url.empty()) url(prometheus_url, "prometheus.url");
  for (const std::string& u : exporter_urls) url(u, "exporter.url");
  if (config_file.empty() && !discover) {
    problems.push_back("no workloads: set --config, --discover, or both");
  }
  if (discover_max_workloads <= 0) problems.push_back("--discover.max-workloads must be positive");
  if (interval < common::Duration::zero()) problems.push_back("--interval must not be negative");
  if (window < common::Duration::zero()) problems.push_back("--model.window must not be negative");
  positive(history, "model.history");
  positive(staleness, "staleness");
  positive(prometheus_timeout, "prometheus.timeout");
  positive(exporter_timeout, "exporter.timeout");
  if (exporter_max_series <= 0) problems.push_back("--exporter.max-series must be positive");
  if (!(max_counter_rate > 0) || !std::isfinite(max_counter_rate)) {
    problems.push_back("--input.max-counter-rate must be a positive number");
  }
  if (stabilization_window < common::Duration::zero()) {
    problems.push_back("--safety.stabilization-window must not be negative");
  }
  if (checkpoint_interval < common::Duration::zero()) {
    problems.push_back("--checkpoint.interval must not be negative");
  }
  if (max_replica_step <= 0) problems.push_back("--safety.max-replica-step must be positive");
  common::CheckLogFlags(log_level, log_format, problems);
  return problems;
}

std::vector<std::string> RecommenderConfig::LoadWorkloads() {
  std::vector<std::string> problems;
  if (config_file.empty()) return problems;
  std::ifstream in(config_file, std::ios::binary);
  if (!in) {
    problems.push_back("--config: cannot read " + config_file);
    return problems;
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::vector<std::string> file_problems;
  workloads = ParseWorkloadFile(text.str(), &file_problems);
  for (std::string& p : file_problems) problems.push_back(config_file + ": " + p);
  return problems;
}

common::Duration RecommenderConfig::EffectiveInterval() const {
  if (interval > common::Duration::zero()) return interval;
  return exporter_urls.empty() ? common::Duration{std::chrono::seconds{15}}
                               : common::Duration{std::chrono::seconds{1}};
}

common::Duration RecommenderConfig::EffectiveWindow() const {
  if (window > common::Duration::zero()) return window;
  // Five samples per window when scraping: the fewest that give a steady rate (Prometheus
  // advises at least four scrape intervals per rate window).
  return exporter_urls.empty() ? common::Duration{std::chrono::minutes{1}}
                               : 5 * EffectiveInterval();
}

model::ModelOptions RecommenderConfig::ToModelOptions() const {
  model::ModelOptions o;
  o.interval = EffectiveInterval();
  o.history = history;
  o.staleness = staleness;
  o.discover = discover;
  o.max_discovered = static_cast<size_t>(discover_max_workloads);
  o.discovered_defaults = workloads.defaults;
  return o;
}

input::ScrapeOptions RecommenderConfig::ToScrapeOptions() const {
  input::ScrapeOptions o;
  o.window = EffectiveWindow();
  o.max_counter_rate = max_counter_rate;
  o.max_series = static_cast<size_t>(exporter_max_series);
  return o;
}

std::vector<std::string> RecommenderConfig::AllowedNames() const {
  std::vector<std::string> names;
  std::string_view rest = requestheader_allowed_names;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!name.empty() && name.front() == ' ') name.remove_prefix(1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    if (!name.empty()) names.emplace_back(name);
  }
  return names;
}

combine::SafetyOptions RecommenderConfig::ToSafetyOptions() const {
  combine::SafetyOptions o;
  o.stale_after = staleness;
  o.replicas = {.stabilization_window = stabilization_window,
                .max_step = static_cast<double>(max_replica_step)};
  return o;
}

policies::DeepScalerOptions RecommenderConfig::LoadDeepScaler(common::TimePoint now,
                                                              std::string* call_graph_error) const {
  policies::DeepScalerOptions d;
  d.model_source = deepscaler_model;
  d.loaded_at = now;
  std::string error;
  if (deepscaler_model.empty()) {
    d.unavailable = "--deepscaler.model not set";
  } else if (const auto bytes = ReadSmallFile(deepscaler_model, 256 << 20, &error); !bytes) {
    d.unavailable = deepscaler_model + ": " + (error.empty() ? "no such file" : error);
  } else if (auto model = predict::LoadPredictor(*bytes, &error)) {
    d.model = std::move(model);
  } else {
    d.unavailable = deepscaler_model + ": " + error;
  }
  call_graph_error->clear();
  if (!deepscaler_call_graph.empty()) {
    const auto text = ReadSmallFile(deepscaler_call_graph, 64 << 20, &error);
    if (!text || !predict::ParseEdgesCsv(*text, &d.call_graph, &error)) {
      *call_graph_error = deepscaler_call_graph + ": " + (error.empty() ? "no such file" : error);
      d.call_graph.clear();
    }
  }
  return d;
}

output::KedaGrpcOptions RecommenderConfig::ToKedaGrpcOptions() const {
  output::KedaGrpcOptions o;
  o.listen_address = grpc_listen_address;
  o.max_streams = static_cast<int>(grpc_max_streams);
  o.idle_time = grpc_idle_time;
  // Values outlive a few missed passes (as the recommendation's own staleness), not more.
  o.max_age = staleness + 2 * EffectiveInterval();
  o.cert_file = grpc_tls_cert_file;
  o.key_file = grpc_tls_key_file;
  o.client_ca_file = grpc_tls_client_ca_file;
  o.require_client_cert = grpc_tls_require_client_cert;
  return o;
}

}  // namespace recommender
