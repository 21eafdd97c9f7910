#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/http_message.h"

namespace common {

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// The HTTP/1.1 server of every queuelens listener (/metrics, the JSON APIs, OTLP and the
// external metrics API over TLS).
//
// One I/O thread multiplexes every connection with epoll, non-blocking, so an idle, slow or
// hostile client costs a file descriptor and a few kilobytes, never a thread: its head, body
// and writes each run against a deadline, and the number of connections has a cap (the excess
// is closed at once, never queued). Complete requests go to `threads` workers that run the
// handlers, so a slow handler delays only its own client. Keep-alive and pipelining as in RFC
// 9112; chunked and Content-Length bodies; "Expect: 100-continue" answered; TLS through
// OpenSSL, with optional client certificates. Failed TLS handshakes send their alert and
// drain the client before closing, so a refused client reads why instead of a reset.
//
// Handlers run on worker threads, so they must be thread-safe. A handler that throws produces
// a 500 with the exception's message; an unknown path gets a 404.
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
    int threads = 4;  // handler workers
    // Open connections at most; a connection beyond is closed as soon as it is accepted.
    size_t max_connections = 4096;
    // From a connection's start (or the first byte of a further request on it) to the end of
    // the request head, TLS handshake included. Over it: 408 and close.
    Duration header_timeout = std::chrono::seconds{10};
    // From the end of the head to the end of the body. Over it: 400 and close; nothing of
    // the partial body reaches a handler.
    Duration body_timeout = std::chrono::seconds{30};
    // How long a keep-alive connection may wait for its next request.
    Duration idle_timeout = std::chrono::seconds{120};
    // To write one response, for clients that stop reading.
    Duration write_timeout = std::chrono::seconds{30};
    size_t max_header_bytes = 16 * 1024;  // request line and headers; over it: 431
    // Request bodies buffered across all connections until their handlers finish; a request
    // that would exceed it gets 503 with Retry-After. Bounds memory whatever clients declare.
    size_t max_buffered_body_bytes = 256u << 20;
    std::optional<TlsOptions> tls;  // HTTPS instead of HTTP
  };

  // Counters since start, for the binaries' self-metrics and the tests.
  struct Stats {
    uint64_t connections_accepted = 0;
    uint64_t connections_open = 0;
    uint64_t connections_refused = 0;  // over max_connections
    uint64_t requests = 0;             // handed to a handler
    uint64_t bad_requests = 0;         // answered 4xx/5xx by the server itself
    uint64_t header_timeouts = 0;
    uint64_t body_timeouts = 0;
    uint64_t idle_closes = 0;
    uint64_t write_timeouts = 0;
    uint64_t tls_handshake_failures = 0;
    uint64_t body_budget_rejections = 0;  // 503 over max_buffered_body_bytes
    uint64_t body_bytes_buffered = 0;     // now, against max_buffered_body_bytes
  };

  // Starts serving. Throws std::runtime_error with the reason if it cannot listen or, with TLS,
  // cannot load the certificate, key or client CA.
  explicit HttpServer(const Options& options);
  ~HttpServer();  // stops accepting, waits for running handlers, closes every connection
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

  Stats stats() const;

  // The route for `path`, shared with the I/O loop.
  struct Route {
    std::string path;
    HttpHandler handler;
    size_t max_body_bytes;
    bool prefix;
  };
  std::shared_ptr<const Route> Match(std::string_view path) const;

 private:
  class Loop;  // the I/O thread and the workers, in http_server.cc

  mutable std::mutex mu_;
  std::vector<std::shared_ptr<const Route>> routes_;  // guarded by mu_
  std::unique_ptr<Loop> loop_;
};

}  // namespace common
