// The server against clients that misbehave: idle crowds, slow heads and bodies, short bodies,
// pipelining, 100-continue, connection and memory caps. Raw sockets, so every byte is ours.
#include "common/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "common/flags.h"
#include "common/http_client.h"
#include "common/http_flags.h"
#include "common/http_server_metrics.h"

namespace common {
namespace {

using std::chrono::milliseconds;

// A client connection with a receive deadline, so no test can hang on a silent server.
class Socket {
 public:
  explicit Socket(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  Socket(Socket&& other) noexcept : fd_(other.fd_), connected_(other.connected_) { other.fd_ = -1; }

  bool connected() const { return connected_; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads until `until` appears in what was read, the peer closes, or the deadline passes;
  // returns what was read up to and including `until` (all of it if `until` never came).
  std::string ReadUntil(std::string_view until, milliseconds deadline = milliseconds{5000}) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (buffer_.find(until) == std::string::npos && ReadMore(end)) {
    }
    const size_t at = buffer_.find(until);
    return Take(at == std::string::npos ? buffer_.size() : at + until.size());
  }

  // One whole response: the head, then Content-Length bytes of body.
  std::string ReadResponse(milliseconds deadline = milliseconds{5000}) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (buffer_.find("\r\n\r\n") == std::string::npos && ReadMore(end)) {
    }
    const size_t head_end = buffer_.find("\r\n\r\n");
    if (head_end == std::string::npos) return Take(buffer_.size());
    const size_t at = buffer_.find("Content-Length: ");
    const size_t length =
        at == std::string::npos || at > head_end ? 0 : std::stoul(buffer_.substr(at + 16));
    while (buffer_.size() < head_end + 4 + length && ReadMore(end)) {
    }
    return Take(std::min(buffer_.size(), head_end + 4 + length));
  }

  // Whether the server closed the connection within the deadline (what it sent is dropped).
  bool ClosedWithin(milliseconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (ReadMore(end)) {
    }
    return closed_;
  }

 private:
  // Appends what arrives next; false at the deadline or when the peer has closed.
  bool ReadMore(std::chrono::steady_clock::time_point end) {
    if (closed_) return false;
    const auto left =
        std::chrono::duration_cast<milliseconds>(end - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char chunk[16384];
    const ssize_t n = recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<size_t>(n));
    return true;
  }

  std::string Take(size_t n) {
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    return out;
  }

  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string buffer_;
};

// Polls `done` every 5 ms for up to 5 s: for what the server does on its own thread.
template <typename Predicate>
bool WaitFor(Predicate done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds{5});
  }
  return done();
}

HttpResponse Text(std::string body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class HostileClientTest : public testing::Test {
 protected:
  void Start(HttpServer::Options options) {
    options.listen_address = "127.0.0.1:0";
    server_ = std::make_unique<HttpServer>(std::move(options));
    server_->Handle(
        "/echo",
        [this](const HttpRequest& r) {
          ++calls_;
          return Text(r.method + " " + r.path + " " + r.body);
        },
        4096);
    port_ = server_->Ports().at(0);
  }

  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::unique_ptr<HttpServer> server_;
  int port_ = 0;
  std::atomic<int> calls_ = 0;
  HttpGet get_ = MakeCurlHttpGet(HttpClientOptions{.timeout = milliseconds{5000}});
};

TEST_F(HostileClientTest, KeepAliveAndPipelinedRequestsAnswerInOrder) {
  Start({});
  Socket s(port_);
  ASSERT_TRUE(s.connected());
  ASSERT_TRUE(s.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_NE(s.ReadResponse().find("\r\n\r\nGET /echo "), std::string::npos);
  // Two requests in one write, the second with a body, then one that closes.
  ASSERT_TRUE(
      s.Send("POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
             "\r\nPOST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2\r\nde\r\n0\r\n\r\n"
             "GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n"));
  EXPECT_NE(s.ReadResponse().find("POST /echo abc"), std::string::npos);
  EXPECT_NE(s.ReadResponse().find("POST /echo de"), std::string::npos);
  const std::string last = s.ReadResponse();
  EXPECT_NE(last.find("Connection: close"), std::string::npos) << last;
  EXPECT_TRUE(s.ClosedWithin(milliseconds{3000}));
  EXPECT_EQ(calls_, 4);
}

TEST_F(HostileClientTest, ExpectContinueGetsAnInterimAnswer) {
  Start({});
  Socket s(port_);
  ASSERT_TRUE(s.Send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(s.ReadUntil("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(s.Send("hello"));
  EXPECT_NE(s.ReadResponse().find("200 OK"), std::string::npos);
  // Too large: the final answer comes at once, without the interim one, and nothing is read.
  Socket big(port_);
  ASSERT_TRUE(
      big.Send("POST /echo HTTP/1.1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(big.ReadResponse().substr(0, 12), "HTTP/1.1 413");
  // What curl does with large bodies: it waits for the 100 and must not wait for its timeout.
  std::string body(2 << 20, 'x');
  server_->Handle(
      "/big", [](const HttpRequest& r) { return Text(std::to_string(r.body.size())); }, 4 << 20);
  const auto start = std::chrono::steady_clock::now();
  Socket curlish(port_);
  ASSERT_TRUE(curlish.Send("POST /big HTTP/1.1\r\nContent-Length: " + std::to_string(body.size()) +
                           "\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(curlish.ReadUntil("\r\n\r\n", milliseconds{900}), "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(curlish.Send(body));
  EXPECT_NE(curlish.ReadResponse().find("\r\n\r\n2097152"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{5});
}

TEST_F(HostileClientTest, ShortBodyGets400AtTheBodyTimeoutAndNothingRuns) {
  Start({.body_timeout = milliseconds{300}});
  Socket s(port_);
  ASSERT_TRUE(s.Send("POST /echo HTTP/1.1\r\nContent-Length: 1010\r\n\r\n0123456789"));
  const std::string answer = s.ReadResponse();
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 400") << answer;
  EXPECT_TRUE(s.ClosedWithin(milliseconds{3000}));
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(server_->stats().body_timeouts, 1u);
}

TEST_F(HostileClientTest, SlowHeadGets408AndIdleConnectionsClose) {
  Start({.header_timeout = milliseconds{300}, .idle_timeout = milliseconds{300}});
  Socket slow(port_);
  ASSERT_TRUE(slow.Send("GET /echo HTTP/1.1\r\nX-Slow: "));
  EXPECT_EQ(slow.ReadResponse().substr(0, 12), "HTTP/1.1 408");
  EXPECT_TRUE(slow.ClosedWithin(milliseconds{3000}));
  // A keep-alive connection waits idle_timeout for its next request, then closes quietly.
  Socket idle(port_);
  ASSERT_TRUE(idle.Send("GET /echo HTTP/1.1\r\n\r\n"));
  EXPECT_NE(idle.ReadResponse().find("200 OK"), std::string::npos);
  EXPECT_TRUE(idle.ClosedWithin(milliseconds{3000}));
  // A connection that never sends anything is held for header_timeout only.
  Socket silent(port_);
  EXPECT_EQ(silent.ReadUntil("never", milliseconds{3000}), "");
  const HttpServer::Stats stats = server_->stats();
  EXPECT_EQ(stats.header_timeouts, 2u);
  EXPECT_EQ(stats.idle_closes, 1u);
}

TEST_F(HostileClientTest, MalformedRequestsGetTheirStatusAndTheConnectionCloses) {
  Start({});
  const auto answer = [&](const std::string& request) {
    Socket s(port_);
    s.Send(request);
    const std::string response = s.ReadResponse();
    EXPECT_TRUE(s.ClosedWithin(milliseconds{3000})) << request;
    return response.substr(0, 12);
  };
  EXPECT_EQ(answer("GARBAGE\r\n\r\n"), "HTTP/1.1 400");
  EXPECT_EQ(answer("GET / HTTP/2.0\r\n\r\n"), "HTTP/1.1 505");
  EXPECT_EQ(answer("GET /echo HTTP/1.1\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"),
            "HTTP/1.1 431");
  EXPECT_EQ(answer("POST /echo HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
                   "\r\n\r\n"),
            "HTTP/1.1 400");
  EXPECT_EQ(answer("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            "HTTP/1.1 400");
  EXPECT_EQ(answer("POST /echo HTTP/1.1\r\nExpect: nothing\r\nContent-Length: 1\r\n\r\n"),
            "HTTP/1.1 417");
  EXPECT_EQ(calls_, 0);
}

TEST_F(HostileClientTest, ConnectionsOverTheCapAreClosedNotQueued) {
  Start({.max_connections = 8});
  std::vector<Socket> held;
  for (int i = 0; i < 8; ++i) held.emplace_back(port_);
  ASSERT_TRUE(WaitFor([&] { return server_->stats().connections_open == 8; }));
  Socket extra(port_);
  EXPECT_EQ(extra.ReadResponse().substr(0, 12), "HTTP/1.1 503");
  EXPECT_TRUE(extra.ClosedWithin(milliseconds{3000}));
  EXPECT_EQ(server_->stats().connections_refused, 1u);
  held.clear();  // room again
  ASSERT_TRUE(WaitFor([&] { return server_->stats().connections_open == 0; }));
  EXPECT_TRUE(get_(Url("/echo")).ok());
}

TEST_F(HostileClientTest, IdleAndSlowCrowdsDoNotStopNormalRequests) {
  Start({.threads = 2});
  std::vector<Socket> crowd;
  for (int i = 0; i < 1000; ++i) crowd.emplace_back(port_);
  for (int i = 0; i < 50; ++i) {
    crowd.emplace_back(port_);
    crowd.back().Send("POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nslow");
  }
  for (int i = 0; i < 50; ++i) {
    crowd.emplace_back(port_);
    crowd.back().Send("GET /echo HTTP/1.1\r\nX-Slow");
  }
  for (const Socket& s : crowd) ASSERT_TRUE(s.connected());
  for (int i = 0; i < 20; ++i) {
    const HttpResult r = get_(Url("/echo"));
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.body, "GET /echo ");
  }
  EXPECT_GE(server_->stats().connections_open, 1100u);
}

TEST_F(HostileClientTest, ASlowHandlerDelaysOnlyItsOwnClient) {
  Start({.threads = 2});
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  server_->Handle("/slow", [released](const HttpRequest&) {
    released.wait_for(std::chrono::seconds{10});
    return Text("late");
  });
  Socket slow(port_);
  ASSERT_TRUE(slow.Send("GET /slow HTTP/1.1\r\n\r\n"));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(get_(Url("/echo")).ok());
  release.set_value();
  EXPECT_NE(slow.ReadResponse().find("late"), std::string::npos);
}

TEST_F(HostileClientTest, BufferedBodiesShareOneBudget) {
  Start({.max_buffered_body_bytes = 1000});
  Socket first(port_);
  ASSERT_TRUE(
      first.Send("POST /echo HTTP/1.1\r\nContent-Length: 2000\r\n\r\n" + std::string(900, 'a')));
  ASSERT_TRUE(WaitFor([&] { return server_->stats().body_bytes_buffered == 900; }));
  Socket second(port_);
  ASSERT_TRUE(
      second.Send("POST /echo HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + std::string(500, 'b')));
  const std::string answer = second.ReadResponse();
  EXPECT_EQ(answer.substr(0, 12), "HTTP/1.1 503") << answer;
  EXPECT_NE(answer.find("Retry-After: 1"), std::string::npos);
  EXPECT_EQ(server_->stats().body_budget_rejections, 1u);
  EXPECT_EQ(calls_, 0);
}

TEST_F(HostileClientTest, StopsPromptlyWithConnectionsOpen) {
  Start({});
  std::vector<Socket> open;
  for (int i = 0; i < 50; ++i) open.emplace_back(port_);
  const auto start = std::chrono::steady_clock::now();
  server_.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{2});
  EXPECT_TRUE(open[0].ClosedWithin(milliseconds{1000}));
}

}  // namespace
}  // namespace common

namespace common {
namespace {

TEST(HttpServerFlagsTest, FlagsReachTheOptionsAndBadValuesAreProblems) {
  HttpServerFlags web;
  std::vector<std::string> problems;
  web.Validate(problems);
  EXPECT_TRUE(problems.empty());  // the defaults hold without any flag
  FlagSet flags("test", "");
  web.Register(flags);
  const char* argv[] = {"test", "--web.max-connections=10", "--web.body-timeout=2s",
                        "--web.max-buffered-body-bytes=1MiB"};
  std::string error;
  ASSERT_EQ(flags.Parse(4, argv, &error), FlagSet::Outcome::kOk) << error;
  const HttpServer::Options options = web.For("127.0.0.1:0", 3);
  EXPECT_EQ(options.listen_address, "127.0.0.1:0");
  EXPECT_EQ(options.threads, 3);
  EXPECT_EQ(options.max_connections, 10u);
  EXPECT_EQ(options.body_timeout, std::chrono::seconds{2});
  EXPECT_EQ(options.max_buffered_body_bytes, size_t{1} << 20);
  EXPECT_EQ(options.header_timeout, HttpServer::Options{}.header_timeout);

  const char* bad[] = {"test", "--web.max-connections=0", "--web.idle-timeout=0s"};
  ASSERT_EQ(flags.Parse(3, bad, &error), FlagSet::Outcome::kOk) << error;
  web.Validate(problems);
  EXPECT_EQ(problems, (std::vector<std::string>{"--web.max-connections must be positive",
                                                "--web.idle-timeout must be positive"}));
}

}  // namespace
}  // namespace common

namespace common {
namespace {

double Sample(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
              const std::string& phase = "") {
  for (const prometheus::MetricFamily& f : families) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      if (!phase.empty() && (m.label.size() < 2 || m.label[1].value != phase)) continue;
      return f.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  return -1;
}

TEST(HttpServerCollectableTest, ListenersCountersBecomeSeries) {
  HttpServer server(
      {.listen_address = "127.0.0.1:0", .max_connections = 2, .header_timeout = milliseconds{200}});
  server.Handle("/ok", [](const HttpRequest&) { return HttpResponse{}; });
  HttpServerCollectable collectable;
  collectable.Add("web", &server);
  const int port = server.Ports().at(0);
  {
    Socket good(port);
    ASSERT_TRUE(good.Send("GET /ok HTTP/1.1\r\n\r\nGET /nope HTTP/1.1\r\n\r\n"));
    EXPECT_NE(good.ReadResponse().find("200 OK"), std::string::npos);
    EXPECT_NE(good.ReadResponse().find("404"), std::string::npos);
    Socket slow(port);
    ASSERT_TRUE(slow.Send("GET /ok HTTP/1.1\r\n"));
    ASSERT_TRUE(WaitFor([&] { return server.stats().connections_open == 2; }));
    Socket refused(port);
    EXPECT_TRUE(refused.ClosedWithin(milliseconds{3000}));
    EXPECT_EQ(slow.ReadResponse().substr(0, 12), "HTTP/1.1 408");
  }
  ASSERT_TRUE(WaitFor([&] { return server.stats().connections_open == 0; }));
  const std::vector<prometheus::MetricFamily> families = collectable.Collect();
  EXPECT_EQ(Sample(families, "queuelens_http_connections"), 0);
  EXPECT_EQ(Sample(families, "queuelens_http_connections_accepted_total"), 3);
  EXPECT_EQ(Sample(families, "queuelens_http_connections_refused_total"), 1);
  EXPECT_EQ(Sample(families, "queuelens_http_requests_total"), 1);
  EXPECT_EQ(Sample(families, "queuelens_http_rejected_requests_total"), 1);  // the 408
  EXPECT_EQ(Sample(families, "queuelens_http_timeouts_total", "header"), 1);
  EXPECT_EQ(Sample(families, "queuelens_http_timeouts_total", "body"), 0);
  EXPECT_EQ(Sample(families, "queuelens_http_request_body_bytes"), 0);
  for (const prometheus::MetricFamily& f : families) EXPECT_FALSE(f.help.empty()) << f.name;
}

}  // namespace
}  // namespace common
