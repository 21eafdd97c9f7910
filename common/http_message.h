#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace common {

struct HttpRequest {
  std::string method;
  std::string path;                                          // percent-decoded, without the query
  std::string query;                                         // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                                          // de-chunked
  int minor_version = 1;                                     // HTTP/1.x
  // On a TLS server with a client CA: the client presented a certificate and it verified
  // against that CA (one that does not verify ends the handshake, so no handler sees it).
  bool client_cert_verified = false;
  std::string client_cert_cn;  // that certificate's subject common name

  // The first header named `lower_name`, or "" if absent.
  std::string_view Header(std::string_view lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Gzip the body when the client sends Accept-Encoding: gzip. Worth it for large text such as
  // /metrics; wasted CPU for small JSON answers.
  bool compressible = false;
};

}  // namespace common
