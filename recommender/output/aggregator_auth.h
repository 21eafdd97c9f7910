#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/http_server.h"

namespace recommender::output {

// The API server's check of its caller, the kube-aggregator: nullopt lets the request through;
// else 401 Unauthorized without a verified client certificate, 403 Forbidden when its common
// name is not in `allowed_names` (empty: any name).
std::optional<common::HttpResponse> RefuseUnauthenticated(
    const common::HttpRequest& request, const std::vector<std::string>& allowed_names);

}  // namespace recommender::output
