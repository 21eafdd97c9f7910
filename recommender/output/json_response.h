#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "common/http_server.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

// The JSON bits shared by the recommender's HTTP answers (KEDA, weights, external metrics).
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

// {"error": message}, the error shape of the recommender's own JSON APIs.
common::HttpResponse JsonError(int status, std::string_view message);

inline bool IsGet(const common::HttpRequest& request) {
  return request.method == "GET" || request.method == "HEAD";
}

// "{namespace}/{name}" (both non-empty, no further '/') split in two; nullopt otherwise.
std::optional<std::pair<std::string_view, std::string_view>> SplitNamespaceName(
    std::string_view path);

// A metav1.Status failure, the error shape every Kubernetes client decodes (external metrics
// and the aggregator's authentication).
common::HttpResponse KubernetesStatus(int code, std::string_view reason, std::string_view message);

}  // namespace recommender::output
