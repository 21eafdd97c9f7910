#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/http_server.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

// The JSON bits shared by the recommender's HTTP answers (KEDA, external metrics).
namespace recommender::output {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

inline void WriteString(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

inline common::HttpResponse JsonResponse(int status, std::string body) {
  common::HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = std::move(body);
  return r;
}

// A metav1.Status failure, the error shape every Kubernetes client decodes (external metrics
// and the aggregator's authentication).
common::HttpResponse KubernetesStatus(int code, std::string_view reason, std::string_view message);

}  // namespace recommender::output
