#include "recommender/output/weights.h"

#include <cmath>
#include <string_view>

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "recommender/output/json_response.h"
#include "recommender/output/keda_handler.h"
#include "recommender/output/metric_names.h"
#include "recommender/policies/all_policies.h"

namespace recommender::output {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;

MetricFamily Gauges(const MetricName& name, size_t reserve) {
  MetricFamily f;
  f.name = name.name;
  f.help = name.help;
  f.type = prometheus::MetricType::Gauge;
  f.metric.reserve(reserve);
  return f;
}

void Add(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric& m = f.metric.emplace_back();
  m.label = std::move(labels);
  m.gauge.value = value;
}

common::HttpResponse Error(int status, std::string_view message) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("error");
  WriteString(w, message);
  w.EndObject();
  return JsonResponse(status, buf.GetString());
}

}  // namespace

std::vector<MetricFamily> WeightFamilies(const Snapshot& snapshot) {
  size_t n = 0;
  for (const WorkloadView& v : snapshot.workloads) n += v.weights.size();
  MetricFamily weight = Gauges(kInstanceWeight, n);
  MetricFamily cost = Gauges(kInstanceDeletionCost, n);
  MetricFamily terms = Gauges(kInstancePolicyTerm, n * 10);
  for (const WorkloadView& v : snapshot.workloads) {
    const std::string& ns = v.config.key.k8s_namespace;
    const std::string& service = v.config.key.workload;
    for (const policies::InstanceWeight& i : v.weights) {
      const std::vector<ClientMetric::Label> labels = {
          {"namespace", ns}, {"service", service}, {"instance", i.instance}};
      Add(weight, labels, i.weight);
      Add(cost, labels, i.deletion_cost);
      for (const auto& [term, value] : i.terms) {
        if (std::isnan(value)) continue;  // e.g. an instance without an interference ratio
        Add(terms,
            {{"namespace", ns}, {"service", service}, {"instance", i.instance}, {"term", term}},
            value);
      }
    }
  }
  std::vector<MetricFamily> out;
  out.push_back(std::move(weight));
  out.push_back(std::move(cost));
  out.push_back(std::move(terms));
  return out;
}

std::string RenderWeightsJson(const Snapshot& snapshot, const WorkloadView& view) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("namespace");
  WriteString(w, view.config.key.k8s_namespace);
  w.Key("service");
  WriteString(w, view.config.key.workload);
  w.Key("computedAt");
  WriteString(w, FormatRfc3339(snapshot.computed_at));
  w.Key("policy");
  WriteString(w, policies::kLoadShifting);
  w.Key("mostInterfered");
  if (view.most_interfered.empty()) {
    w.Null();
  } else {
    WriteString(w, view.most_interfered);
  }
  w.Key("weights");
  w.StartArray();
  for (const policies::InstanceWeight& i : view.weights) {
    w.StartObject();
    w.Key("instance");
    WriteString(w, i.instance);
    w.Key("weight");
    w.Double(i.weight);
    w.Key("deletionCost");
    w.Int(i.deletion_cost);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

common::HttpResponse HandleWeights(const Snapshot& snapshot, const common::HttpRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    return Error(405, "only GET is supported");
  }
  static constexpr std::string_view kPrefix = "/api/v1/weights/";
  std::string_view rest = request.path;
  if (!rest.starts_with(kPrefix))
    return Error(404, "expected /api/v1/weights/{namespace}/{service}");
  rest.remove_prefix(kPrefix.size());
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size() ||
      rest.find('/', slash + 1) != std::string_view::npos) {
    return Error(404, "expected /api/v1/weights/{namespace}/{service}");
  }
  const std::string_view ns = rest.substr(0, slash);
  const std::string_view service = rest.substr(slash + 1);
  const WorkloadView* view = snapshot.Find(ns, service);
  if (view == nullptr) {
    return Error(404, "unknown service " + std::string(ns) + "/" + std::string(service) +
                          "; GET /api/v1/recommendations lists the known workloads");
  }
  return JsonResponse(200, RenderWeightsJson(snapshot, *view));
}

}  // namespace recommender::output
