#include "common/http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <exception>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "common/descriptors.h"
#include "common/gzip.h"
#include "common/http_parse.h"

namespace common {
namespace {

using SteadyClock = std::chrono::steady_clock;
using SteadyTime = SteadyClock::time_point;

// After a response that closes the connection, or a refused TLS handshake, the client's unread
// bytes are drained this long, so closing does not reset the connection before it has read
// what it was sent (RFC 9112 §9.6).
constexpr auto kLingerTime = std::chrono::seconds{2};
constexpr size_t kMaxLingerBytes = 1 << 20;
// Bytes one connection may read per readiness event, so a fast sender cannot starve the rest.
constexpr size_t kReadPerEvent = 256 * 1024;
// How often deadlines are checked: the granularity of every timeout.
constexpr auto kTick = std::chrono::milliseconds{50};
// Descriptors kept free of connections: listeners, log files, outgoing clients.
constexpr size_t kReservedFds = 64;

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
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
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

// A listening, non-blocking socket on ":PORT" (every IPv4 interface), "IPv4:PORT" or
// "[IPv6]:PORT".
int Listen(const std::string& address) {
  const size_t colon = address.rfind(':');
  const std::string port = colon == std::string::npos ? address : address.substr(colon + 1);
  std::string host = colon == std::string::npos ? "" : address.substr(0, colon);
  const bool numeric =
      !port.empty() && port.size() <= 5 &&
      std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!numeric || colon == std::string::npos || (host.starts_with('[') != host.ends_with(']'))) {
    throw std::runtime_error("bad listen address \"" + address +
                             "\": want :PORT, IPv4:PORT or [IPv6]:PORT");
  }
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

HttpResponse TextResponse(int status, std::string body) {
  HttpResponse response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

// The bytes of a response: status line, headers, body (none for HEAD). Gzips the body when
// the response allows it and the request accepts it.
std::string Serialize(const HttpRequest& request, HttpResponse response, bool keep_alive) {
  const bool gzip = response.compressible && http::AcceptsGzip(request.Header("accept-encoding"));
  if (gzip) response.body = Gzip(response.body);
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " " +
                    std::string(http::StatusText(response.status)) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  if (gzip) out += "Content-Encoding: gzip\r\n";
  if (response.compressible) out += "Vary: Accept-Encoding\r\n";
  for (const auto& [name, value] : response.headers) {
    out.append(name).append(": ").append(value).append("\r\n");
  }
  if (!keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  if (request.method != "HEAD") out += response.body;
  return out;
}

}  // namespace

class HttpServer::Loop {
 public:
  Loop(const HttpServer& server, const Options& options)
      : server_(server), options_(options), listen_fd_(Listen(options.listen_address)) {
    // A client that hangs up mid-response must not kill the process: OpenSSL writes with
    // write(2), which raises SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    try {
      if (options.tls) ctx_ = MakeServerContext(*options.tls);
      const size_t fds = RaiseOpenFileLimit();
      max_connections_ = options.max_connections;
      if (fds > kReservedFds && max_connections_ > fds - kReservedFds) {
        max_connections_ = static_cast<size_t>(fds - kReservedFds);
        spdlog::warn("http server {}: at most {} connections fit in the descriptor limit {}",
                     options.listen_address, max_connections_, fds);
      }
      epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
      wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      if (epoll_fd_ < 0 || wake_fd_ < 0) {
        throw std::runtime_error("cannot create an event loop: " +
                                 std::string(std::strerror(errno)));
      }
      if (!Watch(listen_fd_, kListenId, EPOLLIN, EPOLL_CTL_ADD) ||
          !Watch(wake_fd_, kWakeId, EPOLLIN, EPOLL_CTL_ADD)) {
        throw std::runtime_error("cannot watch the listening socket: " +
                                 std::string(std::strerror(errno)));
      }
    } catch (...) {
      CloseFds();
      throw;
    }
    for (int i = 0; i < std::max(1, options.threads); ++i) {
      workers_.emplace_back([this] { Work(); });
    }
    io_ = std::thread([this] { Run(); });
  }

  ~Loop() {
    stopping_ = true;
    Wake();
    io_.join();
    {
      std::lock_guard lock(jobs_mu_);
      jobs_.clear();  // not started: their connections are gone
    }
    jobs_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
    CloseFds();
  }

  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  int port() const { return BoundPort(listen_fd_); }

  Stats stats() const {
    Stats s;
    s.connections_accepted = accepted_.load();
    s.connections_open = open_.load();
    s.connections_refused = refused_.load();
    s.requests = requests_.load();
    s.bad_requests = bad_requests_.load();
    s.header_timeouts = header_timeouts_.load();
    s.body_timeouts = body_timeouts_.load();
    s.idle_closes = idle_closes_.load();
    s.write_timeouts = write_timeouts_.load();
    s.tls_handshake_failures = handshake_failures_.load();
    s.body_budget_rejections = budget_rejections_.load();
    s.body_bytes_buffered = buffered_gauge_.load();
    return s;
  }

 private:
  static constexpr uint64_t kListenId = 0;
  static constexpr uint64_t kWakeId = 1;

  enum class State { kHandshake, kHead, kBody, kDispatched, kWrite, kLinger };

  struct Conn {
    uint64_t id = 0;
    int fd = -1;
    std::unique_ptr<SSL, SslDeleter> ssl;
    State state = State::kHead;
    SteadyTime deadline;
    uint32_t events = 0;            // registered with epoll
    bool watched = true;            // registered at all
    bool ssl_wants_write = false;   // TLS: a handshake or read needs the socket writable
    bool ssl_wants_read = false;    // TLS: a write needs the socket readable
    bool peer_gone = false;         // error or hang-up while a handler ran
    bool deadline_is_idle = false;  // waiting for a further request, not inside one
    bool verified = false;
    std::string cn;

    std::string in;           // read, not yet consumed
    size_t head_scanned = 0;  // bytes of `in` already searched for the end of the head
    HttpRequest request;
    std::shared_ptr<const Route> route;
    http::BodyFraming framing;
    http::ChunkedDecoder chunked;
    uint64_t body_left = 0;  // Content-Length bytes still to come
    size_t charged = 0;      // body bytes counted against max_buffered_body_bytes
    bool keep_alive = true;

    std::string out;  // to write
    size_t out_done = 0;
    bool close_after_write = false;
    size_t lingered = 0;
  };

  struct Job {
    uint64_t id;
    HttpRequest request;
    std::shared_ptr<const Route> route;
    bool keep_alive;
  };
  struct Done {
    uint64_t id;
    std::string bytes;
  };

  enum class Io { kOk, kEof, kError };

  void CloseFds() {
    if (epoll_fd_ >= 0) close(epoll_fd_);
    if (wake_fd_ >= 0) close(wake_fd_);
    if (listen_fd_ >= 0) close(listen_fd_);
    epoll_fd_ = wake_fd_ = listen_fd_ = -1;
  }

  bool Watch(int fd, uint64_t id, uint32_t events, int op) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = id;
    return epoll_ctl(epoll_fd_, op, fd, &ev) == 0;
  }

  void Wake() {
    const uint64_t one = 1;
    static_cast<void>(write(wake_fd_, &one, sizeof one));
  }

  // --- workers --------------------------------------------------------------------------

  void Work() {
    while (true) {
      Job job;
      {
        std::unique_lock lock(jobs_mu_);
        jobs_cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      HttpResponse response;
      try {
        response = job.route->handler(job.request);
      } catch (const std::exception& e) {
        spdlog::error("http handler for {} {} failed: {}", job.request.method, job.request.path,
                      e.what());
        response = TextResponse(500, std::string("internal error: ") + e.what() + "\n");
      } catch (...) {
        spdlog::error("http handler for {} {} failed", job.request.method, job.request.path);
        response = TextResponse(500, "internal error\n");
      }
      Done done{job.id, Serialize(job.request, std::move(response), job.keep_alive)};
      {
        std::lock_guard lock(done_mu_);
        done_.push_back(std::move(done));
      }
      Wake();
    }
  }

  // --- the I/O thread -------------------------------------------------------------------

  void Run() {
    std::vector<epoll_event> events(256);
    SteadyTime next_tick = SteadyClock::now() + kTick;
    while (!stopping_) {
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_tick - SteadyClock::now());
      const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(std::clamp<int64_t>(wait.count(), 0, 1000)));
      if (n < 0 && errno != EINTR) {
        spdlog::error("http server: epoll_wait: {}", std::strerror(errno));
        std::this_thread::sleep_for(kTick);
      }
      for (int i = 0; i < n; ++i) {
        const uint64_t id = events[i].data.u64;
        if (id == kListenId) {
          Accept();
        } else if (id == kWakeId) {
          uint64_t count;
          static_cast<void>(read(wake_fd_, &count, sizeof count));
          TakeCompletions();
        } else if (auto it = conns_.find(id); it != conns_.end()) {
          OnEvent(*it->second, events[i].events);
        }
      }
      if (const SteadyTime now = SteadyClock::now(); now >= next_tick) {
        ExpireDeadlines(now);
        next_tick = now + kTick;
      }
    }
    while (!conns_.empty()) Close(*conns_.begin()->second);
  }

  void Accept() {
    for (int i = 0; i < 256; ++i) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
          // Out of descriptors: stop listening for a tick rather than spin on a ready socket.
          spdlog::warn("http server {}: cannot accept: {}", options_.listen_address,
                       std::strerror(errno));
          accept_paused_ = Watch(listen_fd_, kListenId, 0, EPOLL_CTL_MOD);
        }
        return;
      }
      accepted_.fetch_add(1, std::memory_order_relaxed);
      if (conns_.size() >= max_connections_) {
        refused_.fetch_add(1, std::memory_order_relaxed);
        if (!ctx_) {
          static constexpr std::string_view kBusy =
              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
              "Content-Length: 21\r\nRetry-After: 1\r\nConnection: close\r\n\r\n"
              "too many connections\n";
          static_cast<void>(send(fd, kBusy.data(), kBusy.size(), MSG_NOSIGNAL | MSG_DONTWAIT));
        }
        close(fd);
        continue;
      }
      const int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto conn = std::make_unique<Conn>();
      conn->id = next_id_++;
      conn->fd = fd;
      conn->deadline = SteadyClock::now() + options_.header_timeout;
      if (ctx_) {
        conn->ssl.reset(SSL_new(ctx_.get()));
        if (!conn->ssl || SSL_set_fd(conn->ssl.get(), fd) != 1) {
          spdlog::warn("http server: cannot set up TLS: {}", OpenSslErrors());
          close(fd);
          continue;
        }
        conn->state = State::kHandshake;
      }
      if (!Watch(fd, conn->id, EPOLLIN, EPOLL_CTL_ADD)) {
        spdlog::warn("http server {}: cannot watch a connection: {}", options_.listen_address,
                     std::strerror(errno));
        close(fd);
        continue;
      }
      conn->events = EPOLLIN;
      conns_.emplace(conn->id, std::move(conn));
      open_.store(conns_.size(), std::memory_order_relaxed);
    }
  }

  void OnEvent(Conn& c, uint32_t events) {
    if (c.state == State::kDispatched) {
      // The handler still runs; the answer goes nowhere. Stop watching, close when it ends.
      // Hang-ups are reported whatever the interest, so stop watching altogether.
      if ((events & (EPOLLERR | EPOLLHUP)) != 0 && c.watched) {
        c.peer_gone = true;
        c.watched = !Watch(c.fd, c.id, 0, EPOLL_CTL_DEL);
      }
      return;
    }
    if ((events & EPOLLERR) != 0) {
      Close(c);
      return;
    }
    Drive(c);
  }

  // Runs the connection's state machine as far as it goes without blocking, then registers
  // the readiness it waits for. May close (and free) the connection.
  void Drive(Conn& c) {
    for (int step = 0; step < 64; ++step) {
      const State before = c.state;
      const size_t in_before = c.in.size();
      switch (c.state) {
        case State::kHandshake:
          if (!Handshake(c)) return;
          break;
        case State::kHead:
        case State::kBody: {
          if (!Flush(c)) return;  // an interim 100 Continue may be pending
          const Io io = c.in.size() < kReadPerEvent ? Read(c, c.in) : Io::kOk;
          if (io == Io::kError) return Close(c);
          if (!Consume(c)) return;
          if (io == Io::kEof && c.state == before) {
            // The client stopped sending before a complete request.
            if (c.state == State::kBody) bad_requests_.fetch_add(1, std::memory_order_relaxed);
            return Close(c);
          }
          break;
        }
        case State::kDispatched:
          return SetEvents(c, 0);
        case State::kWrite:
          if (!Flush(c)) return;
          if (!c.out.empty()) return SetEvents(c, WantedEvents(c));
          if (!FinishResponse(c)) return;
          break;
        case State::kLinger: {
          std::string discard;
          const Io io = Read(c, discard);
          c.lingered += discard.size();
          if (io != Io::kOk || c.lingered > kMaxLingerBytes) return Close(c);
          if (discard.empty()) return SetEvents(c, EPOLLIN);
          break;
        }
      }
      if (c.state == before && c.in.size() == in_before && c.state != State::kLinger) {
        break;  // waiting for the socket
      }
    }
    SetEvents(c, WantedEvents(c));
  }

  uint32_t WantedEvents(const Conn& c) const {
    switch (c.state) {
      case State::kHandshake:
        return c.ssl_wants_write ? EPOLLOUT : EPOLLIN;
      case State::kHead:
      case State::kBody:
        return EPOLLIN | (c.out.empty() && !c.ssl_wants_write ? 0u : uint32_t{EPOLLOUT});
      case State::kDispatched:
        return 0;
      case State::kWrite:
        // Never EPOLLIN otherwise: a pipelining client's next request would keep it ready.
        return EPOLLOUT | (c.ssl_wants_read ? uint32_t{EPOLLIN} : 0u);
      case State::kLinger:
        return EPOLLIN;
    }
    return 0;
  }

  void SetEvents(Conn& c, uint32_t events) {
    if (events == c.events || !c.watched) return;
    if (!Watch(c.fd, c.id, events, EPOLL_CTL_MOD)) {
      spdlog::warn("http server: epoll_ctl: {}", std::strerror(errno));
    }
    c.events = events;
  }

  // TLS handshake; false when the connection is waiting or gone.
  bool Handshake(Conn& c) {
    ERR_clear_error();
    const int rc = SSL_accept(c.ssl.get());
    if (rc == 1) {
      if (X509* peer = SSL_get0_peer_certificate(c.ssl.get());
          !options_.tls->client_ca_file.empty() && peer != nullptr &&
          SSL_get_verify_result(c.ssl.get()) == X509_V_OK) {
        c.verified = true;
        c.cn = SubjectCommonName(peer);
      }
      c.state = State::kHead;
      c.ssl_wants_write = false;
      return true;
    }
    const int error = SSL_get_error(c.ssl.get(), rc);
    if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) {
      c.ssl_wants_write = error == SSL_ERROR_WANT_WRITE;
      SetEvents(c, c.ssl_wants_write ? EPOLLOUT : EPOLLIN);
      return false;
    }
    // A client without a trusted certificate, a port scan, a plain-HTTP client. OpenSSL has
    // written its alert; linger so the client reads it before the connection closes.
    handshake_failures_.fetch_add(1, std::memory_order_relaxed);
    spdlog::debug("https: handshake failed: {}", OpenSslErrors());
    c.ssl.reset();
    StartLinger(c);
    return false;
  }

  // Reads what the socket has (up to kReadPerEvent) onto `into`.
  Io Read(Conn& c, std::string& into) {
    char buffer[16 * 1024];
    size_t total = 0;
    while (total < kReadPerEvent) {
      ssize_t n;
      if (c.ssl) {
        ERR_clear_error();
        const int rc = SSL_read(c.ssl.get(), buffer, sizeof buffer);
        if (rc <= 0) {
          const int error = SSL_get_error(c.ssl.get(), rc);
          c.ssl_wants_write = error == SSL_ERROR_WANT_WRITE;
          if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE) return Io::kOk;
          return error == SSL_ERROR_ZERO_RETURN ? Io::kEof : Io::kError;
        }
        n = rc;
      } else {
        n = recv(c.fd, buffer, sizeof buffer, 0);
        if (n == 0) return Io::kEof;
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return Io::kOk;
          return Io::kError;
        }
      }
      into.append(buffer, static_cast<size_t>(n));
      total += static_cast<size_t>(n);
    }
    return Io::kOk;
  }

  // Writes what it can of c.out; false when the connection failed and was closed.
  bool Flush(Conn& c) {
    c.ssl_wants_read = false;
    while (c.out_done < c.out.size()) {
      const size_t left = c.out.size() - c.out_done;
      if (c.ssl) {
        ERR_clear_error();
        const int rc = SSL_write(c.ssl.get(), c.out.data() + c.out_done,
                                 static_cast<int>(std::min<size_t>(left, 1 << 20)));
        if (rc <= 0) {
          const int error = SSL_get_error(c.ssl.get(), rc);
          if (error == SSL_ERROR_WANT_WRITE || error == SSL_ERROR_WANT_READ) {
            c.ssl_wants_read = error == SSL_ERROR_WANT_READ;
            return true;
          }
          Close(c);
          return false;
        }
        c.out_done += static_cast<size_t>(rc);
      } else {
        const ssize_t n = send(c.fd, c.out.data() + c.out_done, left, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
          Close(c);
          return false;
        }
        c.out_done += static_cast<size_t>(n);
      }
    }
    c.out.clear();
    c.out_done = 0;
    return true;
  }

  // Moves buffered bytes through head and body parsing; false when the connection is gone.
  bool Consume(Conn& c) {
    if (c.state == State::kHead) {
      // RFC 9112 §2.2: empty lines before a request line are ignored.
      size_t skip = 0;
      while (c.in.compare(skip, 2, "\r\n") == 0) skip += 2;
      if (skip > 0) {
        c.in.erase(0, skip);
        c.head_scanned = 0;
      }
      if (c.in.empty()) return true;
      if (c.head_scanned == 0 && c.deadline_is_idle) {
        c.deadline_is_idle = false;
        c.deadline = SteadyClock::now() + options_.header_timeout;
      }
      const size_t from = c.head_scanned >= 3 ? c.head_scanned - 3 : 0;
      const size_t end = c.in.find("\r\n\r\n", from);
      if (end == std::string::npos) {
        c.head_scanned = c.in.size();
        if (c.in.size() > options_.max_header_bytes) {
          return Reject(
              c, 431,
              "request head larger than " + std::to_string(options_.max_header_bytes) + " bytes");
        }
        return true;
      }
      if (end > options_.max_header_bytes) {
        return Reject(
            c, 431,
            "request head larger than " + std::to_string(options_.max_header_bytes) + " bytes");
      }
      return StartRequest(c, end);
    }
    if (c.state == State::kBody) return ReadBody(c);
    return true;
  }

  bool StartRequest(Conn& c, size_t head_end) {
    c.request = HttpRequest{};
    std::string why;
    const int status =
        http::ParseRequestHead(std::string_view(c.in).substr(0, head_end), c.request, why);
    c.in.erase(0, head_end + 4);
    c.head_scanned = 0;
    if (status != 0) return Reject(c, status, why);
    c.request.client_cert_verified = c.verified;
    c.request.client_cert_cn = c.cn;
    c.keep_alive = http::WantsKeepAlive(c.request);
    if (const int framing = http::BodyFramingOf(c.request, c.framing, why); framing != 0) {
      return Reject(c, framing, why);
    }
    const int expectation = http::ExpectationOf(c.request);
    if (expectation == 417) return Reject(c, 417, "only Expect: 100-continue is understood");
    c.route = server_.Match(c.request.path);
    const bool has_body = c.framing.kind != http::BodyFraming::Kind::kNone;
    if (!c.route) {
      // Answered without reading a body: the connection cannot carry on after one.
      if (has_body) c.keep_alive = false;
      return Respond(c, TextResponse(404, "not found: " + c.request.path + "\n"));
    }
    if (c.framing.kind == http::BodyFraming::Kind::kLength &&
        c.framing.length > c.route->max_body_bytes) {
      return Reject(c, 413, TooLarge(c));
    }
    if (!has_body) return Dispatch(c);
    if (expectation == 100 && c.in.empty()) c.out = "HTTP/1.1 100 Continue\r\n\r\n";
    c.body_left = c.framing.length;
    c.chunked = http::ChunkedDecoder();
    c.state = State::kBody;
    c.deadline = SteadyClock::now() + options_.body_timeout;
    return ReadBody(c);
  }

  bool ReadBody(Conn& c) {
    const size_t before = c.request.body.size();
    if (c.framing.kind == http::BodyFraming::Kind::kLength) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(c.body_left, c.in.size()));
      c.request.body.append(c.in, 0, take);
      c.in.erase(0, take);
      c.body_left -= take;
    } else {
      size_t used = 0;
      const auto status = c.chunked.Feed(c.in, c.request.body, used);
      c.in.erase(0, used);
      if (status == http::ChunkedDecoder::Status::kError) {
        return Reject(c, 400, "malformed chunked body: " + c.chunked.error());
      }
      if (c.request.body.size() > c.route->max_body_bytes) return Reject(c, 413, TooLarge(c));
      c.body_left = status == http::ChunkedDecoder::Status::kDone ? 0 : 1;
    }
    const size_t grown = c.request.body.size() - before;
    if (buffered_bytes_ + grown > options_.max_buffered_body_bytes) {
      budget_rejections_.fetch_add(1, std::memory_order_relaxed);
      return Reject(c, 503, "too many request bodies in flight; retry", true);
    }
    buffered_bytes_ += grown;
    buffered_gauge_.store(buffered_bytes_, std::memory_order_relaxed);
    c.charged += grown;
    if (c.body_left > 0) return true;
    return Dispatch(c);
  }

  static std::string TooLarge(const Conn& c) {
    return "request body larger than " + std::to_string(c.route->max_body_bytes) + " bytes";
  }

  bool Dispatch(Conn& c) {
    c.state = State::kDispatched;
    if (stopping_) c.keep_alive = false;
    requests_.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(jobs_mu_);
      jobs_.push_back(Job{c.id, std::move(c.request), c.route, c.keep_alive});
    }
    jobs_cv_.notify_one();
    c.request = HttpRequest{};
    SetEvents(c, 0);
    return false;  // nothing more until the handler's answer
  }

  // The server's own answer to a request it will not hand on; the connection then closes,
  // since what follows on it cannot be trusted to start a request.
  bool Reject(Conn& c, int status, const std::string& why, bool retry = false) {
    bad_requests_.fetch_add(1, std::memory_order_relaxed);
    c.keep_alive = false;
    std::string().swap(c.request.body);  // nothing of it reaches a handler
    HttpResponse response = TextResponse(status, why + "\n");
    if (retry) response.headers.emplace_back("Retry-After", "1");
    return Respond(c, std::move(response));
  }

  bool Respond(Conn& c, HttpResponse response) {
    c.out += Serialize(c.request, std::move(response), c.keep_alive);
    c.close_after_write = !c.keep_alive;
    c.state = State::kWrite;
    c.deadline = SteadyClock::now() + options_.write_timeout;
    return true;
  }

  void TakeCompletions() {
    std::deque<Done> done;
    {
      std::lock_guard lock(done_mu_);
      done.swap(done_);
    }
    for (Done& d : done) {
      const auto it = conns_.find(d.id);
      if (it == conns_.end()) continue;
      Conn& c = *it->second;
      if (c.peer_gone) {
        Close(c);
        continue;
      }
      c.out += d.bytes;
      c.close_after_write = !c.keep_alive || stopping_;
      c.state = State::kWrite;
      c.deadline = SteadyClock::now() + options_.write_timeout;
      Drive(c);
    }
  }

  // After a response is written: the next request, or the end of the connection.
  bool FinishResponse(Conn& c) {
    Release(c);
    c.route.reset();
    if (c.close_after_write) {
      if (c.ssl) {
        SSL_shutdown(c.ssl.get());  // close_notify: the body is complete
        c.ssl.reset();
      }
      StartLinger(c);
      return c.state == State::kLinger;
    }
    c.state = State::kHead;
    c.deadline = SteadyClock::now() + options_.idle_timeout;
    c.deadline_is_idle = true;
    if (c.in.capacity() > 64 * 1024 && c.in.size() < 64 * 1024) c.in.shrink_to_fit();
    return true;
  }

  void StartLinger(Conn& c) {
    shutdown(c.fd, SHUT_WR);
    c.state = State::kLinger;
    c.in.clear();
    c.in.shrink_to_fit();
    c.out.clear();
    c.deadline = SteadyClock::now() + kLingerTime;
    SetEvents(c, EPOLLIN);
  }

  void Release(Conn& c) {
    buffered_bytes_ -= c.charged;
    buffered_gauge_.store(buffered_bytes_, std::memory_order_relaxed);
    c.charged = 0;
  }

  void ExpireDeadlines(SteadyTime now) {
    if (accept_paused_) {
      accept_paused_ = !Watch(listen_fd_, kListenId, EPOLLIN, EPOLL_CTL_MOD);
    }
    std::vector<Conn*> expired;
    for (auto& [id, conn] : conns_) {
      if (conn->state != State::kDispatched && now >= conn->deadline) expired.push_back(conn.get());
    }
    for (Conn* c : expired) {
      switch (c->state) {
        case State::kHandshake:
          header_timeouts_.fetch_add(1, std::memory_order_relaxed);
          Close(*c);
          break;
        case State::kHead:
          if (c->deadline_is_idle) {
            idle_closes_.fetch_add(1, std::memory_order_relaxed);
            Close(*c);
          } else if (c->in.empty()) {
            header_timeouts_.fetch_add(1, std::memory_order_relaxed);
            Close(*c);  // nothing was asked, so nothing to answer
          } else {
            header_timeouts_.fetch_add(1, std::memory_order_relaxed);
            c->in.clear();
            Reject(*c, 408, "request head not complete in time");
            Drive(*c);
          }
          break;
        case State::kBody:
          body_timeouts_.fetch_add(1, std::memory_order_relaxed);
          c->in.clear();
          Release(*c);
          Reject(*c, 400, "request body shorter than announced, or not complete in time");
          Drive(*c);
          break;
        case State::kWrite:
          write_timeouts_.fetch_add(1, std::memory_order_relaxed);
          Close(*c);
          break;
        case State::kLinger:
        case State::kDispatched:
          Close(*c);
          break;
      }
    }
  }

  void Close(Conn& c) {
    Release(c);
    if (c.watched) Watch(c.fd, c.id, 0, EPOLL_CTL_DEL);
    c.ssl.reset();
    close(c.fd);
    conns_.erase(c.id);  // frees c
    open_.store(conns_.size(), std::memory_order_relaxed);
  }

  const HttpServer& server_;
  const Options options_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx_;
  size_t max_connections_ = 0;
  std::atomic<bool> stopping_ = false;

  // I/O thread only.
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_id_ = 2;
  size_t buffered_bytes_ = 0;
  bool accept_paused_ = false;

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::deque<Job> jobs_;  // guarded by jobs_mu_
  std::mutex done_mu_;
  std::deque<Done> done_;  // guarded by done_mu_

  std::atomic<uint64_t> accepted_ = 0, open_ = 0, refused_ = 0, requests_ = 0, bad_requests_ = 0,
                        header_timeouts_ = 0, body_timeouts_ = 0, idle_closes_ = 0,
                        write_timeouts_ = 0, handshake_failures_ = 0, budget_rejections_ = 0,
                        buffered_gauge_ = 0;

  std::vector<std::thread> workers_;
  std::thread io_;
};

HttpServer::HttpServer(const Options& options) : loop_(std::make_unique<Loop>(*this, options)) {}

HttpServer::~HttpServer() = default;

void HttpServer::Handle(std::string path, HttpHandler handler, size_t max_body_bytes, bool prefix) {
  auto route = std::make_shared<const Route>(
      Route{std::move(path), std::move(handler), max_body_bytes, prefix});
  std::lock_guard lock(mu_);
  std::erase_if(routes_, [&](const auto& r) { return r->path == route->path; });
  routes_.push_back(std::move(route));
}

std::vector<int> HttpServer::Ports() const { return {loop_->port()}; }

HttpServer::Stats HttpServer::stats() const { return loop_->stats(); }

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

}  // namespace common
