#include "recommender/output/aggregator_auth.h"

#include <algorithm>

#include "recommender/output/json_response.h"

namespace recommender::output {

std::optional<common::HttpResponse> RefuseUnauthenticated(
    const common::HttpRequest& request, const std::vector<std::string>& allowed_names) {
  if (!request.client_cert_verified) {
    return KubernetesStatus(
        401, "Unauthorized",
        "Unauthorized: a client certificate signed by the requestheader client CA is "
        "required");
  }
  if (!allowed_names.empty() && std::find(allowed_names.begin(), allowed_names.end(),
                                          request.client_cert_cn) == allowed_names.end()) {
    return KubernetesStatus(403, "Forbidden",
                            "client certificate common name \"" + request.client_cert_cn +
                                "\" is not one of the requestheader allowed names");
  }
  return std::nullopt;
}

}  // namespace recommender::output
