#include "common/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <thread>

#include "common/gzip.h"

namespace common {
namespace {

// civetweb's feature bit for IPv6 support (MG_FEATURES_IPV6).
constexpr unsigned kFeatureIpv6 = 8;

// ":8470" -> "8470", the civetweb spelling of "every IPv4 interface"; other forms pass as is.
std::string ToCivetPorts(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string_view port = colon == std::string::npos
                                    ? std::string_view(address)
                                    : std::string_view(address).substr(colon + 1);
  const bool numeric = !port.empty() && std::all_of(port.begin(), port.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
  if (!numeric) {
    throw std::runtime_error("bad listen address \"" + address +
                             "\": want :PORT, IPv4:PORT or [IPv6]:PORT");
  }
  if (address.starts_with('[') && (mg_check_feature(kFeatureIpv6) & kFeatureIpv6) == 0) {
    throw std::runtime_error("cannot listen on " + address +
                             ": this civetweb was built without IPv6 support");
  }
  return colon == 0 ? std::string(port) : address;
}

// Where to connect to reach a server listening on `address`.
std::string LoopbackFor(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  if (host.empty() || host == "0.0.0.0") return "127.0.0.1";
  if (host == "[::]") return "::1";
  if (host.starts_with('[')) return host.substr(1, host.size() - 2);
  return host;
}

// Opens and at once closes a TCP connection; failures do not matter.
void Poke(const std::string& host, int port) {
  sockaddr_storage addr{};
  socklen_t len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof(sockaddr_in6);
  } else {
    return;
  }
  const int fd = socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  connect(fd, reinterpret_cast<const sockaddr*>(&addr), len);
  close(fd);
}

int LogCivetMessage(const mg_connection*, const char* message) {
  spdlog::warn("http server: {}", message);
  return 1;  // handled; civetweb prints nothing itself
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Accept-Encoding lists codings with optional weights: "gzip, deflate;q=0.5, br;q=0".
bool AcceptsGzip(std::string_view header) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    const size_t semicolon = item.find(';');
    const std::string coding = Lower(Trim(item.substr(0, semicolon)));
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    if (semicolon == std::string_view::npos) return true;
    const std::string_view params = Trim(item.substr(semicolon + 1));
    if (!params.starts_with("q=")) return true;
    return std::strtod(std::string(params.substr(2)).c_str(), nullptr) > 0;
  }
  return false;
}

void Send(mg_connection* conn, const HttpRequest& request, HttpResponse response) {
  const bool gzip = response.compressible && AcceptsGzip(request.Header("accept-encoding"));
  if (gzip) response.body = Gzip(response.body);
  mg_response_header_start(conn, response.status);
  mg_response_header_add(conn, "Content-Type", response.content_type.c_str(), -1);
  mg_response_header_add(conn, "Content-Length", std::to_string(response.body.size()).c_str(), -1);
  if (gzip) mg_response_header_add(conn, "Content-Encoding", "gzip", -1);
  if (response.compressible) mg_response_header_add(conn, "Vary", "Accept-Encoding", -1);
  for (const auto& [name, value] : response.headers) {
    mg_response_header_add(conn, name.c_str(), value.c_str(), static_cast<int>(value.size()));
  }
  mg_response_header_send(conn);
  if (request.method != "HEAD") mg_write(conn, response.body.data(), response.body.size());
}

HttpResponse TextResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

HttpServer::HttpServer(Options options) {
  static std::once_flag init;
  std::call_once(init, [] { mg_init_library(0); });

  const std::string ports = ToCivetPorts(options.listen_address);
  const std::string threads = std::to_string(std::max(1, options.threads));
  const std::string timeout_ms = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(options.request_timeout).count());
  // No keep-alive: civetweb parks a worker thread on each open connection, so a few idle
  // keep-alive clients would stall everyone else. A new loopback or pod-network connection per
  // scrape or push costs far less than that.
  // clang-format off
  const char* config[] = {
      "listening_ports", ports.c_str(),
      "num_threads", threads.c_str(),
      "request_timeout_ms", timeout_ms.c_str(),
      "enable_keep_alive", "no",
      nullptr};
  // clang-format on
  mg_callbacks callbacks{};
  callbacks.log_message = LogCivetMessage;
  mg_init_data init_data{};
  init_data.callbacks = &callbacks;
  init_data.user_data = this;
  init_data.configuration_options = config;
  char error_text[256] = "";
  mg_error_data error{};
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  wake_host_ = LoopbackFor(options.listen_address);
  ctx_ = mg_start2(&init_data, &error);
  if (ctx_ == nullptr) {
    throw std::runtime_error("cannot listen on " + options.listen_address + ": " +
                             (error_text[0] ? error_text : "civetweb failed to start"));
  }
  // "**" matches every path; routing happens in Match() so that 404s are ours.
  mg_set_request_handler(ctx_, "**", &HttpServer::OnRequest, this);
}

HttpServer::~HttpServer() {
  // civetweb's accept loop looks at its stop flag only between polls of up to 2 s. Connecting
  // wakes it, so shutdown takes milliseconds instead.
  const std::vector<int> ports = Ports();
  std::atomic<bool> stopped = false;
  std::thread waker([&] {
    while (!stopped) {
      for (int port : ports) Poke(wake_host_, port);
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
  });
  mg_stop(ctx_);
  stopped = true;
  waker.join();
}

void HttpServer::Handle(std::string path, HttpHandler handler, size_t max_body_bytes, bool prefix) {
  auto route = std::make_shared<const Route>(
      Route{std::move(path), std::move(handler), max_body_bytes, prefix});
  std::lock_guard lock(mu_);
  std::erase_if(routes_, [&](const auto& r) { return r->path == route->path; });
  routes_.push_back(std::move(route));
}

std::vector<int> HttpServer::Ports() const {
  mg_server_port ports[8];
  const int n = mg_get_server_ports(ctx_, 8, ports);
  std::vector<int> out;
  for (int i = 0; i < n; ++i) out.push_back(ports[i].port);
  return out;
}

std::shared_ptr<const HttpServer::Route> HttpServer::Match(std::string_view path) const {
  std::lock_guard lock(mu_);
  std::shared_ptr<const Route> best;
  for (const auto& r : routes_) {
    const bool exact = path == r->path;
    const bool below = r->prefix && path.size() > r->path.size() && path.starts_with(r->path) &&
                       (r->path.ends_with('/') || path[r->path.size()] == '/');
    if ((exact || below) && (!best || r->path.size() > best->path.size())) best = r;
  }
  return best;
}

int HttpServer::OnRequest(mg_connection* conn, void* self) {
  return static_cast<HttpServer*>(self)->Serve(conn);
}

int HttpServer::Serve(mg_connection* conn) {
  const mg_request_info* info = mg_get_request_info(conn);
  HttpRequest request;
  request.method = info->request_method;
  request.path = info->local_uri ? info->local_uri : "";
  request.query = info->query_string ? info->query_string : "";
  for (int i = 0; i < info->num_headers; ++i) {
    request.headers.emplace_back(Lower(info->http_headers[i].name), info->http_headers[i].value);
  }

  const std::shared_ptr<const Route> route = Match(request.path);
  if (!route) {
    Send(conn, request, TextResponse(404, "not found: " + request.path + "\n"));
    return 404;
  }

  const auto too_large = [&] {
    Send(conn, request,
         TextResponse(413, "request body larger than " + std::to_string(route->max_body_bytes) +
                               " bytes\n"));
    return 413;
  };
  if (info->content_length > 0 &&
      static_cast<unsigned long long>(info->content_length) > route->max_body_bytes) {
    return too_large();
  }
  if (info->content_length > 0) request.body.reserve(static_cast<size_t>(info->content_length));
  char chunk[16 * 1024];
  while (true) {
    const int n = mg_read(conn, chunk, sizeof(chunk));
    if (n == 0) break;
    if (n < 0) {
      Send(conn, request, TextResponse(400, "could not read the request body\n"));
      return 400;
    }
    if (request.body.size() + static_cast<size_t>(n) > route->max_body_bytes) return too_large();
    request.body.append(chunk, static_cast<size_t>(n));
  }

  HttpResponse response;
  try {
    response = route->handler(request);
  } catch (const std::exception& e) {
    spdlog::error("http handler for {} {} failed: {}", request.method, request.path, e.what());
    response = TextResponse(500, std::string("internal error: ") + e.what() + "\n");
  } catch (...) {
    spdlog::error("http handler for {} {} failed", request.method, request.path);
    response = TextResponse(500, "internal error\n");
  }
  const int status = response.status;
  Send(conn, request, std::move(response));
  return status;
}

}  // namespace common
