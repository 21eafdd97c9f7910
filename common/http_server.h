#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
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

// One civetweb server for /metrics and the JSON and OTLP routes. Handlers run on civetweb's
// worker threads, so they must be thread-safe. A handler that throws produces a 500 with the
// exception's message; an unknown path gets a 404.
class HttpServer {
 public:
  struct Options {
    // ":8470" (all IPv4 interfaces), "127.0.0.1:0" (port 0 picks a free port), "[::1]:8470".
    std::string listen_address = ":8470";
    int threads = 4;
    Duration request_timeout = std::chrono::seconds{10};
  };

  // Starts serving. Throws std::runtime_error with the reason if it cannot listen.
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

  static int OnRequest(mg_connection* conn, void* self);
  int Serve(mg_connection* conn);
  std::shared_ptr<const Route> Match(std::string_view path) const;

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const Route>> routes_;  // guarded by mu_
  std::string wake_host_;  // a local address that reaches the listening socket
  mg_context* ctx_ = nullptr;
};

}  // namespace common
