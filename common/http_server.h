#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"

struct mg_connection;
struct mg_context;

namespace common {

struct HttpRequest {
  std::string method;
  std::string path;                                          // URL-decoded, without the query
  std::string query;                                         // raw, without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
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

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// One server for /metrics and the JSON and OTLP routes: civetweb for HTTP; for HTTPS, OpenSSL
// on worker threads of our own (Debian 12's civetweb 1.15 cannot start TLS with OpenSSL 3: it
// looks up SSL_get_peer_certificate, which OpenSSL 3 has only as a macro). Either way the same
// routes, body limits and gzip apply, one request per connection. Handlers run on worker
// threads, so they must be thread-safe. A handler that throws produces a 500 with the
// exception's message; an unknown path gets a 404.
class HttpServer {
 public:
  struct TlsOptions {
    std::string cert_file;  // PEM certificate chain, leaf first (a kubernetes.io/tls tls.crt)
    std::string key_file;   // PEM private key (tls.key)
    // PEM CAs that sign client certificates. Set, clients may present one (requests without
    // one still reach the handlers, which decide); empty, none is asked for.
    std::string client_ca_file;
  };

  struct Options {
    // ":8470" (all IPv4 interfaces), "127.0.0.1:0" (port 0 picks a free port), "[::1]:8470".
    std::string listen_address = ":8470";
    int threads = 4;
    Duration request_timeout = std::chrono::seconds{10};
    std::optional<TlsOptions> tls;  // HTTPS instead of HTTP
  };

  // Starts serving. Throws std::runtime_error with the reason if it cannot listen or, with TLS,
  // cannot load the certificate, key or client CA. Over TLS a request body needs a
  // Content-Length (chunked bodies get a 411).
  explicit HttpServer(Options options);
  ~HttpServer();  // stops accepting, waits for running handlers
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Routes `path` exactly (with prefix = true, also every path below it: "/api" serves
  // "/api/x"); the longest match wins. A body over max_body_bytes gets a 413 without the handler
  // running, judged by Content-Length up front or by counting a chunked body. Safe to call while
  // serving; a path registered twice keeps the newer handler.
  void Handle(std::string path, HttpHandler handler, size_t max_body_bytes = 1 << 20,
              bool prefix = false);

  // The ports actually bound, which tells a caller of port 0 where to connect.
  std::vector<int> Ports() const;

 private:
  struct Route {
    std::string path;
    HttpHandler handler;
    size_t max_body_bytes;
    bool prefix;
  };

  class TlsListener;  // the HTTPS transport, in http_server.cc

  // Reads up to `size` bytes of the request body: the count, 0 at its end, < 0 on an error.
  using BodyReader = std::function<int(char* buffer, size_t size)>;

  static int OnRequest(mg_connection* conn, void* self);
  int Serve(mg_connection* conn);
  // Routes a request whose head is parsed: reads the body within the route's limit, runs the
  // handler. Shared by both transports.
  HttpResponse Respond(HttpRequest& request, long long content_length,
                       const BodyReader& read) const;
  std::shared_ptr<const Route> Match(std::string_view path) const;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const Route>> routes_;  // guarded by mu_
  std::string wake_host_;             // a local address that reaches the listening socket
  mg_context* ctx_ = nullptr;         // HTTP
  std::unique_ptr<TlsListener> tls_;  // HTTPS
};

}  // namespace common
