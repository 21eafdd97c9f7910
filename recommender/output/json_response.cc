#include "recommender/output/json_response.h"

namespace recommender::output {

common::HttpResponse JsonError(int status, std::string_view message) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("error");
  WriteString(w, message);
  w.EndObject();
  return JsonResponse(status, buf.GetString());
}

std::optional<std::pair<std::string_view, std::string_view>> SplitNamespaceName(
    std::string_view path) {
  const size_t slash = path.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == path.size() ||
      path.find('/', slash + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  return std::pair{path.substr(0, slash), path.substr(slash + 1)};
}

common::HttpResponse KubernetesStatus(int code, std::string_view reason, std::string_view message) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartObject();
  w.Key("kind");
  WriteString(w, "Status");
  w.Key("apiVersion");
  WriteString(w, "v1");
  w.Key("metadata");
  w.StartObject();
  w.EndObject();
  w.Key("status");
  WriteString(w, "Failure");
  w.Key("message");
  WriteString(w, message);
  w.Key("reason");
  WriteString(w, reason);
  w.Key("code");
  w.Int(code);
  w.EndObject();
  return JsonResponse(code, buf.GetString());
}

}  // namespace recommender::output
