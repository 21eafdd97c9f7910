#include "recommender/output/external_metrics.h"

#include <cmath>
#include <string>

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "recommender/output/json_response.h"
#include "recommender/output/keda_handler.h"
#include "recommender/output/label_selector.h"
#include "recommender/output/quantity.h"

namespace recommender::output {
namespace {

using Writer = JsonWriter;

constexpr std::string_view kGroup = "external.metrics.k8s.io";
constexpr std::string_view kVersion = "v1beta1";
constexpr std::string_view kGroupVersion = "external.metrics.k8s.io/v1beta1";
constexpr std::string_view kGroupPath = "/apis/external.metrics.k8s.io";
constexpr std::string_view kVersionPath = "/apis/external.metrics.k8s.io/v1beta1";

common::HttpResponse NotFound() {
  return KubernetesStatus(404, "NotFound", "the server could not find the requested resource");
}

struct ExternalMetric {
  std::string_view name;
  // The workload's value, nullopt while it has none, and when it was taken.
  std::optional<double> (*value)(const WorkloadView&);
  common::TimePoint (*time)(const WorkloadView&);
};

std::optional<double> Known(double v) {
  return std::isfinite(v) ? std::optional<double>(v) : std::nullopt;
}

common::TimePoint ObservedAt(const WorkloadView& v) { return v.signals.observed_at; }

constexpr ExternalMetric kMetrics[] = {
    {"queuelens-recommended-replicas",
     [](const WorkloadView& v) -> std::optional<double> {
       if (!v.recommendation.replicas) return std::nullopt;
       return *v.recommendation.replicas;
     },
     [](const WorkloadView& v) { return v.recommendation.computed_at; }},
    {"queuelens-queue-length", [](const WorkloadView& v) { return Known(v.signals.queue_length); },
     ObservedAt},
    {"queuelens-inflight-requests", [](const WorkloadView& v) { return Known(v.signals.inflight); },
     ObservedAt},
    {"queuelens-runqueue-wait-seconds",
     [](const WorkloadView& v) { return Known(v.signals.runqueue_wait_per_timeslice_seconds); },
     ObservedAt},
};

const ExternalMetric* FindMetric(std::string_view name) {
  for (const ExternalMetric& m : kMetrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

void WriteGroupVersion(Writer& w) {
  w.StartObject();
  w.Key("groupVersion");
  WriteString(w, kGroupVersion);
  w.Key("version");
  WriteString(w, kVersion);
  w.EndObject();
}

void WriteGroup(Writer& w, bool with_type) {
  w.StartObject();
  if (with_type) {
    w.Key("kind");
    WriteString(w, "APIGroup");
    w.Key("apiVersion");
    WriteString(w, "v1");
  }
  w.Key("name");
  WriteString(w, kGroup);
  w.Key("versions");
  w.StartArray();
  WriteGroupVersion(w);
  w.EndArray();
  w.Key("preferredVersion");
  WriteGroupVersion(w);
  w.EndObject();
}

std::string GroupList() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("kind");
  WriteString(w, "APIGroupList");
  w.Key("apiVersion");
  WriteString(w, "v1");
  w.Key("groups");
  w.StartArray();
  WriteGroup(w, false);
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string Group() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  WriteGroup(w, true);
  return buf.GetString();
}

// One namespaced resource per metric, as custom-metrics-apiserver lists them.
std::string ResourceList() {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("kind");
  WriteString(w, "APIResourceList");
  w.Key("apiVersion");
  WriteString(w, "v1");
  w.Key("groupVersion");
  WriteString(w, kGroupVersion);
  w.Key("resources");
  w.StartArray();
  for (const ExternalMetric& m : kMetrics) {
    w.StartObject();
    w.Key("name");
    WriteString(w, m.name);
    w.Key("singularName");
    WriteString(w, "");
    w.Key("namespaced");
    w.Bool(true);
    w.Key("kind");
    WriteString(w, "ExternalMetricValueList");
    w.Key("verbs");
    w.StartArray();
    WriteString(w, "get");
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding ('+' is a blank), as Go's url.Values encodes.
std::optional<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] != '%') {
      out += s[i];
    } else {
      const int hi = i + 2 < s.size() ? HexDigit(s[i + 1]) : -1;
      const int lo = hi >= 0 ? HexDigit(s[i + 2]) : -1;
      if (lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

// The decoded value of `name` in the query; "" when absent, nullopt when badly encoded.
std::optional<std::string> QueryParameter(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = pair.find('=');
    const std::optional<std::string> key = FormDecode(pair.substr(0, eq));
    if (!key) return std::nullopt;
    if (*key != name) continue;
    return eq == std::string_view::npos ? std::string() : FormDecode(pair.substr(eq + 1));
  }
  return std::string();
}

// The trace service with which the workload's labels match, "" for a workload without one;
// nullopt when none matches.
std::optional<std::string> MatchingService(const WorkloadView& view,
                                           const LabelSelector& selector) {
  Labels labels = {{"namespace", view.config.key.k8s_namespace},
                   {"workload", view.config.key.workload}};
  if (view.config.services.empty()) {
    return Matches(selector, labels) ? std::optional<std::string>("") : std::nullopt;
  }
  for (const std::string& service : view.config.services) {
    labels["service"] = service;
    if (Matches(selector, labels)) return service;
  }
  return std::nullopt;
}

common::HttpResponse MetricValues(const Snapshot& snapshot, std::string_view ns,
                                  std::string_view name, std::string_view query) {
  const ExternalMetric* metric = FindMetric(name);
  if (metric == nullptr) {
    return KubernetesStatus(404, "NotFound",
                            "unknown metric \"" + std::string(name) + "\"; GET " +
                                std::string(kVersionPath) + " lists the metrics");
  }
  const std::optional<std::string> selector_text = QueryParameter(query, "labelSelector");
  if (!selector_text) return KubernetesStatus(400, "BadRequest", "badly percent-encoded query");
  std::string error;
  const std::optional<LabelSelector> selector = ParseLabelSelector(*selector_text, &error);
  if (!selector) {
    return KubernetesStatus(400, "BadRequest",
                            "invalid labelSelector \"" + *selector_text + "\": " + error);
  }

  struct Item {
    const WorkloadView* view;
    std::string service;
    double value;
  };
  std::vector<Item> items;
  std::string without_value;
  for (const WorkloadView& view : snapshot.workloads) {
    if (view.config.key.k8s_namespace != ns) continue;
    std::optional<std::string> service = MatchingService(view, *selector);
    if (!service) continue;
    const std::optional<double> value = metric->value(view);
    if (!value) {
      without_value += (without_value.empty() ? "" : ", ") + view.config.key.workload;
      continue;
    }
    items.push_back({&view, std::move(*service), *value});
  }
  if (!without_value.empty()) {
    return KubernetesStatus(503, "ServiceUnavailable",
                            std::string(name) + " has no value yet for " + std::string(ns) + "/{" +
                                without_value + "}");
  }
  if (items.empty()) {
    return KubernetesStatus(404, "NotFound",
                            "no workload in namespace \"" + std::string(ns) +
                                "\" matches labelSelector \"" + *selector_text + "\" for " +
                                std::string(name));
  }

  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("kind");
  WriteString(w, "ExternalMetricValueList");
  w.Key("apiVersion");
  WriteString(w, kGroupVersion);
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  w.Key("items");
  w.StartArray();
  for (const Item& item : items) {
    w.StartObject();
    w.Key("metricName");
    WriteString(w, name);
    w.Key("metricLabels");
    w.StartObject();
    w.Key("namespace");
    WriteString(w, item.view->config.key.k8s_namespace);
    w.Key("workload");
    WriteString(w, item.view->config.key.workload);
    if (!item.service.empty()) {
      w.Key("service");
      WriteString(w, item.service);
    }
    w.EndObject();
    w.Key("timestamp");
    WriteString(w, FormatRfc3339(metric->time(*item.view)));
    w.Key("value");
    WriteString(w, FormatQuantity(item.value));
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return JsonResponse(200, buf.GetString());
}

}  // namespace

common::HttpResponse HandleExternalMetrics(const Snapshot& snapshot,
                                           const common::HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    return KubernetesStatus(405, "MethodNotAllowed",
                            "the server does not allow this method on the requested resource");
  }
  std::string_view path = request.path;
  if (path.size() > 1 && path.ends_with('/')) path.remove_suffix(1);
  if (path == "/apis") {
    // The aggregator asks for APIGroupDiscoveryList first; a 406 sends it to the legacy
    // documents, where a 200 with an APIGroupList would fail to decode and mark us stale.
    if (request.Header("accept").find("as=APIGroupDiscoveryList") != std::string_view::npos) {
      return KubernetesStatus(406, "NotAcceptable",
                              "aggregated discovery is not served; ask for application/json");
    }
    return JsonResponse(200, GroupList());
  }
  if (path == kGroupPath) return JsonResponse(200, Group());
  if (path == kVersionPath) return JsonResponse(200, ResourceList());
  static constexpr std::string_view kNamespaces = "/namespaces/";
  if (path.starts_with(kVersionPath) && path.substr(kVersionPath.size()).starts_with(kNamespaces)) {
    const std::string_view rest = path.substr(kVersionPath.size() + kNamespaces.size());
    const size_t slash = rest.find('/');
    if (slash != std::string_view::npos && slash > 0 && slash + 1 < rest.size() &&
        rest.find('/', slash + 1) == std::string_view::npos) {
      return MetricValues(snapshot, rest.substr(0, slash), rest.substr(slash + 1), request.query);
    }
  }
  return NotFound();
}

}  // namespace recommender::output
