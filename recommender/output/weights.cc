#include "recommender/output/weights.h"

#include <cmath>
#include <string_view>

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "recommender/output/gauge_family.h"
#include "recommender/output/json_response.h"
#include "recommender/output/keda_handler.h"
#include "recommender/output/metric_names.h"
#include "recommender/policies/all_policies.h"

namespace recommender::output {

using prometheus::ClientMetric;
using prometheus::MetricFamily;

std::vector<MetricFamily> WeightFamilies(const Snapshot& snapshot) {
  size_t n = 0;
  for (const WorkloadView& v : snapshot.workloads) n += v.weights.size();
  MetricFamily weight = GaugeFamily(kInstanceWeight, n);
  MetricFamily cost = GaugeFamily(kInstanceDeletionCost, n);
  MetricFamily terms = GaugeFamily(kInstancePolicyTerm, n * 10);
  for (const WorkloadView& v : snapshot.workloads) {
    const std::string& ns = v.config.key.k8s_namespace;
    const std::string& service = v.config.key.workload;
    for (const policies::InstanceWeight& i : v.weights) {
      const std::vector<ClientMetric::Label> labels = {
          {"namespace", ns}, {"service", service}, {"instance", i.instance}};
      AddGauge(weight, labels, i.weight);
      AddGauge(cost, labels, i.deletion_cost);
      for (const auto& [term, value] : i.terms) {
        if (std::isnan(value)) continue;  // e.g. an instance without an interference ratio
        AddGauge(
            terms,
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
  if (!IsGet(request)) return JsonError(405, "only GET is supported");
  static constexpr std::string_view kPrefix = "/api/v1/weights/";
  std::string_view rest = request.path;
  if (!rest.starts_with(kPrefix))
    return JsonError(404, "expected /api/v1/weights/{namespace}/{service}");
  rest.remove_prefix(kPrefix.size());
  const auto parts = SplitNamespaceName(rest);
  if (!parts) return JsonError(404, "expected /api/v1/weights/{namespace}/{service}");
  const auto [ns, service] = *parts;
  const WorkloadView* view = snapshot.Find(ns, service);
  if (view == nullptr) {
    return JsonError(404, "unknown service " + std::string(ns) + "/" + std::string(service) +
                              "; GET /api/v1/recommendations lists the known workloads");
  }
  return JsonResponse(200, RenderWeightsJson(snapshot, *view));
}

}  // namespace recommender::output
