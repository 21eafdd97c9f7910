#include "recommender/input/prometheus_client.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include "rapidjson/document.h"
#include "recommender/input/prometheus_text.h"

namespace recommender::input {
namespace {

std::string Excerpt(std::string_view body) {
  constexpr size_t kMax = 200;
  std::string out(body.substr(0, kMax));
  for (char& c : out) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (body.size() > kMax) out += "...";
  return out;
}

// [<unix seconds>, "<value>"]
bool ReadPoint(const rapidjson::Value& v, QuerySample& s) {
  if (!v.IsArray() || v.Size() != 2 || !v[0].IsNumber() || !v[1].IsString()) return false;
  const std::optional<double> value =
      ParseFloatValue(std::string_view(v[1].GetString(), v[1].GetStringLength()));
  if (!value) return false;
  // A time beyond the clock's range (or NaN) has no TimePoint; converting it would be undefined.
  const std::chrono::duration<double> at(v[0].GetDouble());
  if (!(std::chrono::abs(at) < std::chrono::duration<double>(common::Duration::max()))) {
    return false;
  }
  s.value = *value;
  s.at = common::TimePoint{std::chrono::duration_cast<common::Duration>(at)};
  return true;
}

}  // namespace

QueryResult ParseQueryResponse(std::string_view body, int http_status) {
  QueryResult r;
  r.http_status = http_status;
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("status") ||
      !doc["status"].IsString()) {
    r.error =
        "HTTP " + std::to_string(http_status) + ", not a Prometheus API answer: " + Excerpt(body);
    return r;
  }
  if (auto it = doc.FindMember("warnings"); it != doc.MemberEnd() && it->value.IsArray()) {
    for (const auto& w : it->value.GetArray()) {
      if (w.IsString()) r.warnings.emplace_back(w.GetString(), w.GetStringLength());
    }
  }
  if (std::string_view(doc["status"].GetString()) != "success") {
    auto text = [&](const char* key) -> std::string {
      auto it = doc.FindMember(key);
      return it != doc.MemberEnd() && it->value.IsString()
                 ? std::string(it->value.GetString(), it->value.GetStringLength())
                 : std::string();
    };
    r.error_type = text("errorType");
    r.error = "Prometheus " + (r.error_type.empty() ? "error" : r.error_type) + " (HTTP " +
              std::to_string(http_status) + "): " + text("error");
    return r;
  }
  auto data = doc.FindMember("data");
  if (data == doc.MemberEnd() || !data->value.IsObject() || !data->value.HasMember("resultType") ||
      !data->value["resultType"].IsString() || !data->value.HasMember("result")) {
    r.error = "Prometheus answer without data.resultType and data.result";
    return r;
  }
  r.result_type = data->value["resultType"].GetString();
  const rapidjson::Value& result = data->value["result"];
  if (r.result_type == "scalar") {
    QuerySample s;
    if (!ReadPoint(result, s)) {
      r.error = "malformed scalar result";
      return r;
    }
    r.samples.push_back(std::move(s));
  } else if (r.result_type == "vector") {
    if (!result.IsArray()) {
      r.error = "malformed vector result";
      return r;
    }
    r.samples.reserve(result.Size());
    for (const auto& e : result.GetArray()) {
      QuerySample s;
      // MemberEnd() of a non-object fails a RapidJSON assertion, so look only into objects.
      const rapidjson::Value* metric = nullptr;
      const rapidjson::Value* value = nullptr;
      if (e.IsObject()) {
        if (auto it = e.FindMember("metric"); it != e.MemberEnd()) metric = &it->value;
        if (auto it = e.FindMember("value"); it != e.MemberEnd()) value = &it->value;
      }
      if (metric == nullptr || !metric->IsObject() || value == nullptr || !ReadPoint(*value, s)) {
        r.error = "malformed element in vector result";
        r.samples.clear();
        return r;
      }
      for (const auto& l : metric->GetObject()) {
        if (!l.value.IsString()) continue;
        s.labels.emplace(std::string(l.name.GetString(), l.name.GetStringLength()),
                         std::string(l.value.GetString(), l.value.GetStringLength()));
      }
      r.samples.push_back(std::move(s));
    }
  } else {
    r.error =
        "unexpected result type " + r.result_type + " (instant queries give vector or scalar)";
    return r;
  }
  if (http_status != 200) {
    r.samples.clear();
    r.error = "HTTP " + std::to_string(http_status) + " with a success body";
    return r;
  }
  r.ok = true;
  return r;
}

PrometheusClient::PrometheusClient(std::string base_url, common::HttpGet get,
                                   common::Duration query_timeout)
    : base_url_(std::move(base_url)), get_(std::move(get)), query_timeout_(query_timeout) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

QueryResult PrometheusClient::InstantQuery(std::string_view promql,
                                           std::optional<common::TimePoint> at) const {
  std::string url = base_url_ + "/api/v1/query?query=" + common::UrlEncode(promql);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(query_timeout_).count();
  if (ms > 0) url += "&timeout=" + std::to_string(ms) + "ms";
  if (at) {
    const auto t = std::chrono::duration_cast<std::chrono::milliseconds>(at->time_since_epoch());
    const long long whole = t.count() / 1000;
    const long long frac = t.count() % 1000;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%03lld", whole, frac < 0 ? -frac : frac);
    url += "&time=";
    url += buf;
  }
  const common::HttpResult http = get_(url);
  if (!http.error.empty()) {
    QueryResult r;
    r.error = "query to " + base_url_ + " failed: " + http.error;
    return r;
  }
  QueryResult r = ParseQueryResponse(http.body, http.status);
  if (!r.ok) r.error = "query to " + base_url_ + ": " + r.error;
  return r;
}

}  // namespace recommender::input
