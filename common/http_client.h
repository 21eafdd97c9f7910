#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"

namespace common {

struct HttpResult {
  int status = 0;  // 0 when no response arrived
  std::string body;
  std::string error;  // transport failure, from curl ("... Connection refused"); empty otherwise
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // For logs and errors of a failed GET: "GET <url>: <error>" or "GET <url> answered HTTP <n>".
  std::string Describe(std::string_view url) const;
};

struct HttpClientOptions {
  Duration timeout = std::chrono::seconds{10};  // the whole request, connect included
  size_t max_body_bytes = 64 << 20;             // after decompression
  // Sent as "Authorization: Bearer <token>" by MakeCurlHttpGet; read at every request, as
  // Kubernetes rotates service-account tokens. Missing or empty file: no header.
  std::string bearer_token_file;
  std::string ca_file;                // TLS roots to trust instead of the system's
  bool insecure_skip_verify = false;  // TLS without verifying the server's certificate
};

// Pollers take one of these, so tests can pass a fake.
using HttpGet = std::function<HttpResult(const std::string& url)>;

// A GET backed by libcurl. Thread-safe; idle handles are pooled so connections are reused.
// Responses may be gzip-compressed on the wire; a body over max_body_bytes fails with
// "response larger than N bytes".
HttpGet MakeCurlHttpGet(HttpClientOptions options);

HttpResult HttpPost(const std::string& url, std::string_view body, std::string_view content_type,
                    const HttpClientOptions& options,
                    const std::vector<std::pair<std::string, std::string>>& extra_headers = {});

// Percent-encodes everything but unreserved characters (RFC 3986: A-Z a-z 0-9 - . _ ~).
std::string UrlEncode(std::string_view text);

}  // namespace common
