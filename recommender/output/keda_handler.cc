#include "recommender/output/keda_handler.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string_view>

#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "recommender/output/json_response.h"

namespace recommender::output {
namespace {

using Writer = JsonWriter;

void WriteRecommendation(Writer& w, const WorkloadView& v) {
  const combine::Recommendation& r = v.recommendation;
  w.StartObject();
  w.Key("namespace");
  WriteString(w, v.config.key.k8s_namespace);
  w.Key("workload");
  WriteString(w, v.config.key.workload);
  w.Key("replicas");
  if (r.replicas) {
    w.Int(*r.replicas);
  } else {
    w.Null();
  }
  w.Key("cpuCores");
  if (r.cpu_cores) {
    w.Double(*r.cpu_cores);
  } else {
    w.Null();
  }
  w.Key("policy");
  WriteString(w, r.policy);
  w.Key("reason");
  WriteString(w, r.reason);
  w.Key("computedAt");
  WriteString(w, FormatRfc3339(r.computed_at));
  w.Key("stale");
  w.Bool(r.stale);
  // Which half acted last, for people reading the JSON; KEDA reads only the fields above.
  w.Key("lastChange");
  const bool cpu_later = v.trend.cpu.at > v.trend.replicas.at;
  const ChannelChange& c = cpu_later ? v.trend.cpu : v.trend.replicas;
  if (c.at == common::TimePoint{}) {
    w.Null();
  } else {
    w.StartObject();
    w.Key("channel");
    WriteString(w, cpu_later ? "cpuCores" : "replicas");
    w.Key("from");
    w.Double(c.from);
    w.Key("to");
    w.Double(c.to);
    w.Key("policy");
    WriteString(w, c.policy);
    w.Key("at");
    WriteString(w, FormatRfc3339(c.at));
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

std::string FormatRfc3339(common::TimePoint t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
  const int millis = static_cast<int>((ms % 1000 + 1000) % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // sized for any int fields, which silences the truncation check
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  return buf;
}

std::string RenderRecommendationJson(const WorkloadView& view) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  WriteRecommendation(w, view);
  return buf.GetString();
}

std::string RenderRecommendationsJson(const Snapshot& snapshot) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  w.StartObject();
  w.Key("computedAt");
  WriteString(w, FormatRfc3339(snapshot.computed_at));
  w.Key("recommendations");
  w.StartArray();
  for (const WorkloadView& v : snapshot.workloads) WriteRecommendation(w, v);
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

std::string RenderTargetsJson(const Snapshot& snapshot) {
  rapidjson::StringBuffer buf;
  Writer w(buf);
  const TowerView& t = snapshot.tower;
  w.StartObject();
  w.Key("computedAt");
  WriteString(w, FormatRfc3339(snapshot.computed_at));
  w.Key("chosen");
  w.Bool(t.has_choice);
  w.Key("action");
  w.Int(t.action);
  w.Key("groups");
  w.StartObject();
  w.Key("high_cpu");
  w.Double(t.high_cpu_target);
  w.Key("other");
  w.Double(t.other_target);
  w.EndObject();
  w.Key("targets");
  w.StartArray();
  for (const WorkloadView& v : snapshot.workloads) {
    w.StartObject();
    w.Key("namespace");
    WriteString(w, v.config.key.k8s_namespace);
    w.Key("workload");
    WriteString(w, v.config.key.workload);
    w.Key("container");
    WriteString(w, v.config.container);
    w.Key("throttleTarget");
    w.Double(v.config.tower_high_cpu_group ? t.high_cpu_target : t.other_target);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return buf.GetString();
}

common::HttpResponse HandleRecommendations(const Snapshot& snapshot,
                                           const common::HttpRequest& request) {
  if (!IsGet(request)) return JsonError(405, "only GET is supported");
  static constexpr std::string_view kPrefix = "/api/v1/recommendations";
  std::string_view rest = std::string_view(request.path).substr(kPrefix.size());
  if (rest.empty() || rest == "/") return JsonResponse(200, RenderRecommendationsJson(snapshot));
  rest.remove_prefix(1);
  const auto parts = SplitNamespaceName(rest);
  if (!parts) return JsonError(404, "expected /api/v1/recommendations/{namespace}/{workload}");
  const auto [ns, workload] = *parts;
  const WorkloadView* view = snapshot.Find(ns, workload);
  if (view == nullptr) {
    return JsonError(404, "unknown workload " + std::string(ns) + "/" + std::string(workload) +
                              "; GET /api/v1/recommendations lists the known ones");
  }
  return JsonResponse(view->recommendation.replicas ? 200 : 503, RenderRecommendationJson(*view));
}

common::HttpResponse HandleTargets(const Snapshot& snapshot, const common::HttpRequest& request) {
  if (!IsGet(request)) return JsonError(405, "only GET is supported");
  return JsonResponse(200, RenderTargetsJson(snapshot));
}

}  // namespace recommender::output
