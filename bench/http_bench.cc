// Every queuelens listener under load, with and without a crowd of 1000 idle connections held
// open against it, beside the servers it replaced in the same run: civetweb as queuelens ran it
// for plain HTTP (4 workers, no keep-alive, 10 s request timeout) and, for HTTPS with client
// certificates, cpp-httplib's SSLServer (a maintained thread-pool server on OpenSSL 3, the
// library alternative to a server of our own).
//
// Each iteration is one window of closed-loop load: kClients threads, each sending a GET and
// waiting for the whole answer, a new connection per request (as the replaced servers served
// them; for TLS a full handshake with a client certificate each time), and for queuelens also
// over keep-alive connections (how Prometheus scrapes). Counters: requests/s, p50 and p99
// latency of answered requests, and requests that failed or took over kRequestTimeout.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <civetweb.h>
#include <httplib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/http_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int kClients = 4;
constexpr auto kWindow = milliseconds{1000};
constexpr auto kRequestTimeout = milliseconds{2000};
const std::string kBody(4096, 'm');  // a small /metrics page

// Certificates made once with the openssl CLI, as the tests make theirs.
struct Certs {
  std::string dir;
  Certs() {
    char dir_template[] = "/tmp/ql_http_bench_XXXXXX";
    if (mkdtemp(dir_template) == nullptr) std::abort();
    dir = dir_template;
    std::ofstream(dir + "/make.sh")
        << "set -e\n"
           "gen() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
           "\"$@\" 2>/dev/null; }\n"
           "gen -x509 -keyout ca.key -out ca.crt -subj /CN=bench-ca\n"
           "gen -keyout server.key -out server.crt -subj /CN=127.0.0.1 -CA ca.crt -CAkey ca.key "
           "-addext subjectAltName=IP:127.0.0.1\n"
           "gen -keyout client.key -out client.crt -subj /CN=client -CA ca.crt -CAkey ca.key\n";
    if (std::system(("cd " + dir + " && bash make.sh").c_str()) != 0) std::abort();
  }
  ~Certs() { std::filesystem::remove_all(dir); }
  std::string File(const std::string& name) const { return dir + "/" + name; }
};

const Certs& TheCerts() {
  static const Certs certs;
  return certs;
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const timeval tv{.tv_sec = 0, .tv_usec = 200'000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  // Closed with a reset once the answer is read: tens of thousands of connections per run
  // would otherwise exhaust the ephemeral ports in TIME_WAIT and measure that instead.
  const linger abort{.l_onoff = 1, .l_linger = 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// One client connection, plain or TLS, that sends requests and reads whole responses.
class Client {
 public:
  Client(int port, SSL_CTX* tls) : fd_(Connect(port)) {
    if (fd_ < 0 || tls == nullptr) return;
    ssl_ = SSL_new(tls);
    SSL_set_fd(ssl_, fd_);
    while (true) {
      const int rc = SSL_connect(ssl_);
      if (rc == 1) break;
      const int error = SSL_get_error(ssl_, rc);
      if ((error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) || Expired()) {
        Fail();
        return;
      }
    }
  }
  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
  }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  bool ok() const { return fd_ >= 0; }

  // One GET; true when the whole answer (a 200 and its Content-Length) came in time.
  bool Get(bool keep_alive) {
    const std::string request = std::string("GET /metrics HTTP/1.1\r\nHost: bench\r\n") +
                                (keep_alive ? "" : "Connection: close\r\n") + "\r\n";
    if (!ok() || !Write(request)) return false;
    std::string in;
    size_t need = 0;
    while (need == 0 || in.size() < need) {
      char chunk[16384];
      const int n = Read(chunk, sizeof chunk);
      if (n <= 0) return false;
      in.append(chunk, static_cast<size_t>(n));
      if (need == 0) {
        const size_t head_end = in.find("\r\n\r\n");
        if (head_end == std::string::npos) continue;
        const size_t at = in.find("Content-Length: ");
        if (at == std::string::npos || !in.starts_with("HTTP/1.1 200")) return false;
        need = head_end + 4 + std::stoul(in.substr(at + 16));
      }
    }
    return true;
  }

  void StartDeadline() { deadline_ = Clock::now() + kRequestTimeout; }

 private:
  bool Expired() const { return Clock::now() > deadline_; }
  void Fail() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    ssl_ = nullptr;
    close(fd_);
    fd_ = -1;
  }
  bool Write(const std::string& bytes) {
    if (ssl_ != nullptr) {
      while (true) {
        const int rc = SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
        if (rc > 0) return true;
        if (SSL_get_error(ssl_, rc) != SSL_ERROR_WANT_WRITE || Expired()) return false;
      }
    }
    return send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }
  int Read(char* buffer, int size) {
    while (!Expired()) {
      const int n = ssl_ != nullptr ? SSL_read(ssl_, buffer, size)
                                    : static_cast<int>(recv(fd_, buffer, size, 0));
      if (n > 0) return n;
      const bool again = ssl_ != nullptr ? SSL_get_error(ssl_, n) == SSL_ERROR_WANT_READ
                                         : n < 0 && (errno == EAGAIN || errno == EINTR);
      if (!again) return -1;
    }
    return -1;
  }

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  Clock::time_point deadline_ = Clock::now() + kRequestTimeout;
};

SSL_CTX* ClientContext() {
  static SSL_CTX* ctx = [] {
    const Certs& certs = TheCerts();
    SSL_CTX* c = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(c, certs.File("ca.crt").c_str(), nullptr);
    SSL_CTX_use_certificate_file(c, certs.File("client.crt").c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(c, certs.File("client.key").c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, nullptr);
    return c;
  }();
  return ctx;
}

struct Window {
  int64_t answered = 0;
  int64_t failed = 0;
  std::vector<double> latencies_ms;
};

// kClients threads in closed loop against `port` for kWindow.
Window Load(int port, bool tls, bool keep_alive) {
  Window total;
  std::mutex mu;
  const auto end = Clock::now() + kWindow;
  std::vector<std::thread> threads;
  for (int t = 0; t < kClients; ++t) {
    threads.emplace_back([&] {
      Window mine;
      std::unique_ptr<Client> kept;
      while (Clock::now() < end) {
        const auto start = Clock::now();
        bool ok;
        if (keep_alive) {
          if (!kept || !kept->ok())
            kept = std::make_unique<Client>(port, tls ? ClientContext() : nullptr);
          kept->StartDeadline();
          ok = kept->Get(true);
          if (!ok) kept.reset();
        } else {
          Client client(port, tls ? ClientContext() : nullptr);
          client.StartDeadline();
          ok = client.Get(false);
        }
        const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
        if (ok) {
          ++mine.answered;
          mine.latencies_ms.push_back(ms);
        } else {
          ++mine.failed;
        }
      }
      std::lock_guard lock(mu);
      total.answered += mine.answered;
      total.failed += mine.failed;
      total.latencies_ms.insert(total.latencies_ms.end(), mine.latencies_ms.begin(),
                                mine.latencies_ms.end());
    });
  }
  for (std::thread& t : threads) t.join();
  return total;
}

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return kRequestTimeout.count();
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// 1000 connections that connect and then say nothing (for TLS: not even a ClientHello).
std::vector<int> IdleCrowd(int port, int64_t n) {
  std::vector<int> crowd;
  for (int64_t i = 0; i < n; ++i) {
    const int fd = Connect(port);
    if (fd >= 0) crowd.push_back(fd);
  }
  return crowd;
}

void Report(benchmark::State& state, const Window& w, int64_t idle) {
  const double seconds = std::chrono::duration<double>(kWindow).count();
  state.counters["requests_per_second"] = static_cast<double>(w.answered) / seconds;
  state.counters["p50_ms"] = Quantile(w.latencies_ms, 0.5);
  state.counters["p99_ms"] = Quantile(w.latencies_ms, 0.99);
  state.counters["failed"] = static_cast<double>(w.failed);
  state.counters["idle_connections"] = static_cast<double>(idle);
}

// Runs windows against a started server; `crowd` is closed before the server stops.
template <typename Server>
void Measure(benchmark::State& state, int64_t idle, Server& server, int port, bool tls,
             bool keep_alive) {
  std::vector<int> crowd = IdleCrowd(port, idle);
  Window w;
  for (auto _ : state) w = Load(port, tls, keep_alive);
  Report(state, w, static_cast<int64_t>(crowd.size()));
  for (int fd : crowd) close(fd);
  static_cast<void>(server);
}

common::HttpServer::Options OurOptions(bool tls) {
  common::HttpServer::Options options{.listen_address = "127.0.0.1:0"};
  if (tls) {
    const Certs& certs = TheCerts();
    options.tls = common::HttpServer::TlsOptions{.cert_file = certs.File("server.crt"),
                                                 .key_file = certs.File("server.key"),
                                                 .client_ca_file = certs.File("ca.crt")};
  }
  return options;
}

void Ours(benchmark::State& state, int64_t idle, bool tls, bool keep_alive) {
  common::HttpServer server(OurOptions(tls));
  server.Handle("/metrics", [](const common::HttpRequest&) {
    common::HttpResponse r;
    r.body = kBody;
    return r;
  });
  Measure(state, idle, server, server.Ports().at(0), tls, keep_alive);
}

int CivetHandler(mg_connection* conn, void*) {
  mg_printf(conn,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
            "Connection: close\r\n\r\n",
            kBody.size());
  mg_write(conn, kBody.data(), kBody.size());
  return 200;
}

// civetweb exactly as queuelens configured it before: 4 workers, no keep-alive, 10 s.
void Civetweb(benchmark::State& state, int64_t idle) {
  const char* config[] = {
      "listening_ports", "127.0.0.1:0",       "num_threads", "4",    "request_timeout_ms",
      "10000",           "enable_keep_alive", "no",          nullptr};
  mg_callbacks callbacks{};
  mg_context* ctx = mg_start(&callbacks, nullptr, config);
  if (ctx == nullptr) {
    state.SkipWithError("civetweb did not start");
    return;
  }
  mg_set_request_handler(ctx, "/metrics", CivetHandler, nullptr);
  mg_server_port ports[1];
  mg_get_server_ports(ctx, 1, ports);
  Measure(state, idle, ctx, ports[0].port, false, false);
  mg_stop(ctx);
}

void Httplib(benchmark::State& state, int64_t idle) {
  const Certs& certs = TheCerts();
  httplib::SSLServer server(certs.File("server.crt").c_str(), certs.File("server.key").c_str(),
                            certs.File("ca.crt").c_str());
  server.Get("/metrics", [](const httplib::Request&, httplib::Response& r) {
    r.set_content(kBody, "text/plain");
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serve([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::yield();
  Measure(state, idle, server, port, true, false);
  server.stop();
  serve.join();
}

// Names are "<protocol>/idle-<n>/<server>", so the summary pairs each queuelens row with the
// peer measured under the same load.
void Register(const std::string& measure, const std::string& server,
              void (*run)(benchmark::State&, int64_t)) {
  for (const int64_t idle : {0, 1000}) {
    benchmark::RegisterBenchmark((measure + "/idle-" + std::to_string(idle) + "/" + server).c_str(),
                                 [run, idle](benchmark::State& state) { run(state, idle); })
        ->Iterations(1)
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  Register("http", "queuelens",
           [](benchmark::State& s, int64_t idle) { Ours(s, idle, false, false); });
  Register("http", "civetweb", Civetweb);
  Register("http-keepalive", "queuelens",
           [](benchmark::State& s, int64_t idle) { Ours(s, idle, false, true); });
  Register("https", "queuelens",
           [](benchmark::State& s, int64_t idle) { Ours(s, idle, true, false); });
  Register("https", "cpp-httplib", Httplib);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
