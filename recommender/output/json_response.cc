#include "recommender/output/json_response.h"

namespace recommender::output {

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
