#include "common/http_server.h"

#include <arpa/inet.h>
#include <civetweb.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
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

// Gzips the body when allowed and accepted; returns every header to send, in order.
std::vector<std::pair<std::string, std::string>> FinishResponse(const HttpRequest& request,
                                                                HttpResponse& response) {
  const bool gzip = response.compressible && AcceptsGzip(request.Header("accept-encoding"));
  if (gzip) response.body = Gzip(response.body);
  std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", response.content_type},
      {"Content-Length", std::to_string(response.body.size())}};
  if (gzip) headers.emplace_back("Content-Encoding", "gzip");
  if (response.compressible) headers.emplace_back("Vary", "Accept-Encoding");
  headers.insert(headers.end(), response.headers.begin(), response.headers.end());
  return headers;
}

void Send(mg_connection* conn, const HttpRequest& request, HttpResponse response) {
  const auto headers = FinishResponse(request, response);
  mg_response_header_start(conn, response.status);
  for (const auto& [name, value] : headers) {
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

// Every error OpenSSL queued, oldest first, "; "-separated.
std::string OpenSslErrors() {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    out += (out.empty() ? "" : "; ") + std::string(text);
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// A server context with the certificate chain and key from their separate files (as a
// kubernetes.io/tls Secret holds them) and, with a client CA, client certificates asked for and
// verified. Throws std::runtime_error naming the file at fault.
std::unique_ptr<SSL_CTX, SslCtxDeleter> MakeServerContext(const HttpServer::TlsOptions& tls) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) throw std::runtime_error("cannot create a TLS context: " + OpenSslErrors());
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_options(ctx.get(), SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), tls.cert_file.c_str()) != 1) {
    throw std::runtime_error("cannot load certificate " + tls.cert_file + ": " + OpenSslErrors());
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), tls.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw std::runtime_error("cannot load private key " + tls.key_file + ": " + OpenSslErrors());
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    throw std::runtime_error("private key " + tls.key_file + " does not match certificate " +
                             tls.cert_file);
  }
  if (!tls.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), tls.client_ca_file.c_str(), nullptr) != 1) {
      throw std::runtime_error("cannot load client CA " + tls.client_ca_file + ": " +
                               OpenSslErrors());
    }
    // Tells clients which CAs count, so one holding several certificates picks the right one.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str());
    if (names == nullptr) {
      throw std::runtime_error("no certificate in client CA " + tls.client_ca_file);
    }
    SSL_CTX_set_client_CA_list(ctx.get(), names);
    // Without SSL_VERIFY_FAIL_IF_NO_PEER_CERT: a missing certificate is the handler's call
    // (probes come without one); a presented one that does not verify fails the handshake.
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  }
  // Resumed sessions of verified peers need a session id context, or OpenSSL refuses them.
  static constexpr unsigned char kSessionContext[] = "queuelens";
  SSL_CTX_set_session_id_context(ctx.get(), kSessionContext, sizeof kSessionContext - 1);
  return ctx;
}

// The first common name of the certificate's subject, "" without one.
std::string SubjectCommonName(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return "";
  unsigned char* utf8 = nullptr;
  const int length =
      ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
  if (length < 0) return "";
  std::string cn(reinterpret_cast<const char*>(utf8), static_cast<size_t>(length));
  OPENSSL_free(utf8);
  return cn;
}

// A listening, non-blocking socket on ":PORT", "IPv4:PORT" or "[IPv6]:PORT".
int Listen(const std::string& address) {
  ToCivetPorts(address);  // the same forms, and the same errors, as for HTTP
  const size_t colon = address.rfind(':');
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  const std::string port = colon == std::string::npos ? address : address.substr(colon + 1);
  if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_family = host.empty() ? AF_INET : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int rc =
          getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    throw std::runtime_error("cannot listen on " + address + ": " + gai_strerror(rc));
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, &freeaddrinfo);
  const int fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const int one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(fd, found->ai_addr, found->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
    const std::string reason = std::strerror(errno);
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot listen on " + address + ": " + reason);
  }
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
  return ntohs(addr.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
}

// Parses "METHOD /path?query HTTP/1.x\r\n" and the header lines of `head` (which ends before
// the blank line) into `request`; false when malformed.
bool ParseHead(std::string_view head, HttpRequest& request) {
  size_t eol = head.find("\r\n");
  const std::string_view line = head.substr(0, eol);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp1 == 0 || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    return false;
  }
  request.method = std::string(line.substr(0, sp1));
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!target.starts_with('/')) return false;
  const size_t question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  if (question != std::string_view::npos) request.query = std::string(target.substr(question + 1));
  request.path.resize(raw_path.size() + 1);
  const int decoded = mg_url_decode(raw_path.data(), static_cast<int>(raw_path.size()),
                                    request.path.data(), static_cast<int>(request.path.size()), 0);
  if (decoded < 0) return false;
  request.path.resize(static_cast<size_t>(decoded));
  while (eol != std::string_view::npos) {
    const size_t start = eol + 2;
    eol = head.find("\r\n", start);
    const std::string_view header = head.substr(start, eol - start);
    const size_t colon = header.find(':');
    // No name, a space in it, or an obsolete folded continuation line.
    if (colon == 0 || colon == std::string_view::npos ||
        header.substr(0, colon).find_first_of(" \t") != std::string_view::npos) {
      return false;
    }
    request.headers.emplace_back(Lower(header.substr(0, colon)),
                                 std::string(Trim(header.substr(colon + 1))));
  }
  return true;
}

// "HTTP/1.1 200 OK\r\n..." with every header and Connection: close, then the body.
std::string SerializeResponse(const HttpRequest& request, HttpResponse response) {
  const auto headers = FinishResponse(request, response);
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    mg_get_response_code_text(nullptr, response.status) + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (request.method != "HEAD") out += response.body;
  return out;
}

}  // namespace

// HTTPS: `threads` workers, each polling the listening socket and a stop pipe, each serving one
// connection at a time: handshake, one request, the response, close.
class HttpServer::TlsListener {
 public:
  TlsListener(const HttpServer& server, const Options& options)
      : server_(server),
        ctx_(MakeServerContext(*options.tls)),
        verify_clients_(!options.tls->client_ca_file.empty()),
        timeout_(options.request_timeout),
        listen_fd_(Listen(options.listen_address)) {
    // A client that hangs up mid-response must not kill the process (civetweb does the same).
    std::signal(SIGPIPE, SIG_IGN);
    if (pipe2(stop_pipe_, O_CLOEXEC) != 0) {
      close(listen_fd_);
      throw std::runtime_error("cannot create a pipe: " + std::string(std::strerror(errno)));
    }
    for (int i = 0; i < std::max(1, options.threads); ++i) {
      workers_.emplace_back([this] { Work(); });
    }
  }

  ~TlsListener() {
    // Never read, so every worker's poll sees it readable from now on.
    const char stop = 1;
    static_cast<void>(write(stop_pipe_[1], &stop, 1));
    for (std::thread& t : workers_) t.join();
    close(stop_pipe_[0]);
    close(stop_pipe_[1]);
    close(listen_fd_);
  }

  TlsListener(const TlsListener&) = delete;
  TlsListener& operator=(const TlsListener&) = delete;

  int port() const { return BoundPort(listen_fd_); }

 private:
  static constexpr size_t kMaxHeadBytes = 16 * 1024;

  void Work() {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    while (true) {
      if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents != 0) return;
      // Another worker may have taken the connection: then EAGAIN, and back to poll.
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd >= 0) {
        ServeConnection(fd);
        close(fd);
      }
    }
  }

  void ServeConnection(int fd) {
    const auto timeout_us = std::chrono::duration_cast<std::chrono::microseconds>(timeout_).count();
    const timeval tv{.tv_sec = static_cast<time_t>(timeout_us / 1'000'000),
                     .tv_usec = static_cast<suseconds_t>(timeout_us % 1'000'000)};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    const auto deadline = std::chrono::steady_clock::now() + timeout_;

    const std::unique_ptr<SSL, SslDeleter> ssl(SSL_new(ctx_.get()));
    if (!ssl || SSL_set_fd(ssl.get(), fd) != 1 || SSL_accept(ssl.get()) != 1) {
      // A client without a trusted certificate, a port scan, a plain-HTTP client.
      spdlog::debug("https: handshake failed: {}", OpenSslErrors());
      return;
    }
    HttpRequest request;
    if (X509* peer = SSL_get0_peer_certificate(ssl.get());
        verify_clients_ && peer != nullptr && SSL_get_verify_result(ssl.get()) == X509_V_OK) {
      request.client_cert_verified = true;
      request.client_cert_cn = SubjectCommonName(peer);
    }

    // The head, then whatever part of the body came with it.
    std::string buffer;
    size_t head_end;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > kMaxHeadBytes) {
        Write(ssl.get(), request, TextResponse(431, "request head too large\n"));
        return;
      }
      char chunk[4096];
      const int n = SSL_read(ssl.get(), chunk, sizeof chunk);
      if (n <= 0 || std::chrono::steady_clock::now() > deadline) return;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    if (!ParseHead(std::string_view(buffer).substr(0, head_end), request)) {
      Write(ssl.get(), request, TextResponse(400, "malformed request\n"));
      return;
    }
    if (!request.Header("transfer-encoding").empty()) {
      Write(ssl.get(), request, TextResponse(411, "send the body with a Content-Length\n"));
      return;
    }
    long long content_length = 0;
    if (const std::string_view length = request.Header("content-length"); !length.empty()) {
      if (length.size() > 18 ||
          !std::all_of(length.begin(), length.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        Write(ssl.get(), request, TextResponse(400, "bad Content-Length\n"));
        return;
      }
      content_length = std::stoll(std::string(length));
    }

    std::string_view early = std::string_view(buffer).substr(head_end + 4);
    long long left = content_length;
    const BodyReader read = [&](char* out, size_t size) -> int {
      const size_t want = static_cast<size_t>(std::min(left, static_cast<long long>(size)));
      if (want == 0) return 0;
      if (!early.empty()) {
        const size_t n = std::min(want, early.size());
        std::memcpy(out, early.data(), n);
        early.remove_prefix(n);
        left -= static_cast<long long>(n);
        return static_cast<int>(n);
      }
      if (std::chrono::steady_clock::now() > deadline) return -1;
      const int n = SSL_read(ssl.get(), out, static_cast<int>(want));
      if (n <= 0) return -1;
      left -= n;
      return n;
    };
    Write(ssl.get(), request, server_.Respond(request, content_length, read));
  }

  static void Write(SSL* ssl, const HttpRequest& request, HttpResponse response) {
    const std::string bytes = SerializeResponse(request, std::move(response));
    size_t written = 0;
    while (written < bytes.size()) {
      const int n = SSL_write(ssl, bytes.data() + written,
                              static_cast<int>(std::min<size_t>(bytes.size() - written, 1 << 20)));
      if (n <= 0) return;
      written += static_cast<size_t>(n);
    }
    SSL_shutdown(ssl);  // close_notify, so the client knows the body is complete
  }

  const HttpServer& server_;
  const std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx_;
  const bool verify_clients_;
  const Duration timeout_;
  const int listen_fd_;
  int stop_pipe_[2] = {-1, -1};
  std::vector<std::thread> workers_;
};

std::string_view HttpRequest::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return {};
}

HttpServer::HttpServer(Options options) {
  if (options.tls) {
    tls_ = std::make_unique<TlsListener>(*this, options);
    return;
  }
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
  if (tls_) return;  // ~TlsListener stops and joins its workers
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
  if (tls_) return {tls_->port()};
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
  HttpResponse response = Respond(request, info->content_length, [conn](char* buffer, size_t size) {
    return mg_read(conn, buffer, size);
  });
  const int status = response.status;
  Send(conn, request, std::move(response));
  return status;
}

HttpResponse HttpServer::Respond(HttpRequest& request, long long content_length,
                                 const BodyReader& read) const {
  const std::shared_ptr<const Route> route = Match(request.path);
  if (!route) return TextResponse(404, "not found: " + request.path + "\n");

  const auto too_large = [&] {
    return TextResponse(
        413, "request body larger than " + std::to_string(route->max_body_bytes) + " bytes\n");
  };
  if (content_length > 0 &&
      static_cast<unsigned long long>(content_length) > route->max_body_bytes) {
    return too_large();
  }
  if (content_length > 0) request.body.reserve(static_cast<size_t>(content_length));
  char chunk[16 * 1024];
  while (true) {
    const int n = read(chunk, sizeof(chunk));
    if (n == 0) break;
    if (n < 0) return TextResponse(400, "could not read the request body\n");
    if (request.body.size() + static_cast<size_t>(n) > route->max_body_bytes) return too_large();
    request.body.append(chunk, static_cast<size_t>(n));
  }

  try {
    return route->handler(request);
  } catch (const std::exception& e) {
    spdlog::error("http handler for {} {} failed: {}", request.method, request.path, e.what());
    return TextResponse(500, std::string("internal error: ") + e.what() + "\n");
  } catch (...) {
    spdlog::error("http handler for {} {} failed", request.method, request.path);
    return TextResponse(500, "internal error\n");
  }
}

}  // namespace common
