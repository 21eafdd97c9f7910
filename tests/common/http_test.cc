#include <arpa/inet.h>
#include <curl/curl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/gzip.h"
#include "common/http_client.h"
#include "common/http_server.h"

namespace common {
namespace {

using std::chrono::milliseconds;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// What a raw libcurl request saw, without the decoding our client does.
struct RawResponse {
  long status = 0;
  std::vector<std::string> headers;  // "name: value", name lower-cased
  std::string body;

  std::string Header(const std::string& lower_name) const {
    for (const std::string& h : headers) {
      if (h.starts_with(lower_name + ": ")) return h.substr(lower_name.size() + 2);
    }
    return "";
  }
};

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

size_t CollectHeader(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    static_cast<std::vector<std::string>*>(out)->push_back(Lower(line.substr(0, colon)) +
                                                           line.substr(colon));
  }
  return size * n;
}

RawResponse Raw(const std::string& method, const std::string& url,
                const std::vector<std::string>& headers = {}, const std::string* body = nullptr) {
  RawResponse response;
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (body) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  EXPECT_EQ(curl_easy_perform(curl), CURLE_OK) << method << " " << url;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  curl_slist_free_all(list);
  curl_easy_cleanup(curl);
  return response;
}

HttpResponse Text(std::string body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

class HttpTest : public testing::Test {
 protected:
  HttpTest() : server_(HttpServer::Options{.listen_address = "127.0.0.1:0", .threads = 4}) {
    const std::vector<int> ports = server_.Ports();
    EXPECT_EQ(ports.size(), 1u);
    base_ = "http://127.0.0.1:" + std::to_string(ports.at(0));
  }

  std::string Url(const std::string& path) const { return base_ + path; }

  HttpServer server_;
  std::string base_;
  HttpGet get_ = MakeCurlHttpGet(HttpClientOptions{});
};

TEST_F(HttpTest, GetReachesHandlerWithQueryAndHeaders) {
  server_.Handle("/hello", [](const HttpRequest& r) {
    HttpResponse response = Text(r.method + " " + r.path + " ? " + r.query +
                                 " ua=" + std::string(r.Header("user-agent")));
    response.headers.emplace_back("X-Queuelens", "yes");
    return response;
  });
  const HttpResult result = get_(Url("/hello?a=1&b=%20x"));
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.status, 200);
  EXPECT_TRUE(result.body.starts_with("GET /hello ? a=1&b=%20x ua=queuelens/")) << result.body;

  const RawResponse raw = Raw("GET", Url("/hello"));
  EXPECT_EQ(raw.Header("x-queuelens"), "yes");
  EXPECT_EQ(raw.Header("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(raw.Header("content-length"), std::to_string(raw.body.size()));
}

TEST_F(HttpTest, PostDeliversBodyAndHeaders) {
  server_.Handle("/echo", [](const HttpRequest& r) {
    HttpResponse response = Text(r.method + "|" + std::string(r.Header("content-type")) + "|" +
                                 std::string(r.Header("x-tenant")) + "|" + r.body);
    response.content_type = "application/json";
    return response;
  });
  const std::string body(300'000, 'x');
  const HttpResult result = HttpPost(Url("/echo"), body, "application/x-protobuf",
                                     HttpClientOptions{}, {{"X-Tenant", "blue"}});
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.body, "POST|application/x-protobuf|blue|" + body);
}

TEST_F(HttpTest, UnknownPathIs404) {
  server_.Handle("/metrics", [](const HttpRequest&) { return Text("m"); });
  const HttpResult result = get_(Url("/nope"));
  EXPECT_EQ(result.status, 404);
  EXPECT_FALSE(result.ok());
  EXPECT_TRUE(result.error.empty());
  EXPECT_EQ(get_(Url("/metrics/extra")).status, 404);  // not a prefix route
}

TEST_F(HttpTest, PrefixRoutesAndLongestMatch) {
  server_.Handle(
      "/api", [](const HttpRequest& r) { return Text("api " + r.path); }, 1024, true);
  server_.Handle("/api/v2", [](const HttpRequest& r) { return Text("v2 " + r.path); });
  EXPECT_EQ(get_(Url("/api")).body, "api /api");
  EXPECT_EQ(get_(Url("/api/recommendations/ns/web")).body, "api /api/recommendations/ns/web");
  EXPECT_EQ(get_(Url("/api/v2")).body, "v2 /api/v2");
  EXPECT_EQ(get_(Url("/api/v2/x")).body, "api /api/v2/x");  // /api/v2 is exact only
  EXPECT_EQ(get_(Url("/apix")).status, 404);
  // Registering a path again replaces its handler.
  server_.Handle("/api/v2", [](const HttpRequest&) { return Text("replaced"); });
  EXPECT_EQ(get_(Url("/api/v2")).body, "replaced");
}

TEST_F(HttpTest, OversizedBodyIs413WithoutRunningHandler) {
  std::atomic<int> calls = 0;
  server_.Handle(
      "/small",
      [&](const HttpRequest& r) {
        ++calls;
        return Text(std::to_string(r.body.size()));
      },
      1024);
  const std::string ok_body(1024, 'a');
  const std::string big_body(1025, 'a');
  EXPECT_EQ(Raw("POST", Url("/small"), {}, &ok_body).body, "1024");
  EXPECT_EQ(Raw("POST", Url("/small"), {}, &big_body).status, 413);
  EXPECT_EQ(calls, 1);

  // Chunked bodies carry no length up front; the server counts.
  const std::vector<std::string> chunked = {"Transfer-Encoding: chunked"};
  EXPECT_EQ(Raw("POST", Url("/small"), chunked, &ok_body).body, "1024");
  const std::string huge_body(200'000, 'b');
  EXPECT_EQ(Raw("POST", Url("/small"), chunked, &huge_body).status, 413);
  EXPECT_EQ(calls, 2);
  // The server is still healthy afterwards.
  EXPECT_EQ(Raw("POST", Url("/small"), chunked, &ok_body).body, "1024");
}

TEST_F(HttpTest, ThrowingHandlerIs500AndServerLivesOn) {
  server_.Handle("/boom", [](const HttpRequest&) -> HttpResponse {
    throw std::runtime_error("state snapshot failed");
  });
  server_.Handle("/ok", [](const HttpRequest&) { return Text("fine"); });
  const HttpResult result = get_(Url("/boom"));
  EXPECT_EQ(result.status, 500);
  EXPECT_NE(result.body.find("state snapshot failed"), std::string::npos) << result.body;
  EXPECT_EQ(get_(Url("/ok")).body, "fine");
}

TEST_F(HttpTest, GzipOnlyWhenAcceptedAndAllowed) {
  std::string text;
  for (int i = 0; i < 2000; ++i)
    text += "ql_requests_total{service=\"s" + std::to_string(i) + "\"} 1\n";
  server_.Handle("/metrics", [&](const HttpRequest&) {
    HttpResponse r = Text(text);
    r.compressible = true;
    return r;
  });
  server_.Handle("/plain", [&](const HttpRequest&) { return Text(text); });

  const RawResponse zipped = Raw("GET", Url("/metrics"), {"Accept-Encoding: gzip"});
  EXPECT_EQ(zipped.Header("content-encoding"), "gzip");
  EXPECT_EQ(zipped.Header("vary"), "Accept-Encoding");
  EXPECT_LT(zipped.body.size(), text.size() / 4);
  std::string unzipped;
  ASSERT_EQ(Gunzip(zipped.body, 1 << 20, unzipped), GunzipStatus::kOk);
  EXPECT_EQ(unzipped, text);

  const RawResponse refused = Raw("GET", Url("/metrics"), {"Accept-Encoding: br, gzip;q=0"});
  EXPECT_EQ(refused.Header("content-encoding"), "");
  EXPECT_EQ(refused.body, text);
  const RawResponse not_allowed = Raw("GET", Url("/plain"), {"Accept-Encoding: gzip"});
  EXPECT_EQ(not_allowed.Header("content-encoding"), "");
  EXPECT_EQ(not_allowed.body, text);
  // Our client asks for compression and decodes it.
  EXPECT_EQ(get_(Url("/metrics")).body, text);
}

TEST_F(HttpTest, HeadSendsNoBody) {
  server_.Handle("/metrics", [](const HttpRequest&) { return Text("twelve bytes"); });
  const RawResponse head = Raw("HEAD", Url("/metrics"));
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "12");
  EXPECT_EQ(head.body, "");
}

TEST_F(HttpTest, ConcurrentRequests) {
  std::atomic<int> calls = 0;
  server_.Handle("/count", [&](const HttpRequest& r) {
    ++calls;
    return Text(r.query);
  });
  std::vector<std::thread> threads;
  std::atomic<int> good = 0;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        const std::string q = std::to_string(t) + "-" + std::to_string(i);
        const HttpResult r = get_(Url("/count?" + q));
        if (r.ok() && r.body == q) ++good;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good, 200);
  EXPECT_EQ(calls, 200);
}

TEST_F(HttpTest, NonSuccessStatusIsNotOkButNotAnError) {
  server_.Handle("/busy", [](const HttpRequest&) { return Text("try later", 503); });
  const HttpResult result = get_(Url("/busy"));
  EXPECT_EQ(result.status, 503);
  EXPECT_EQ(result.body, "try later");
  EXPECT_TRUE(result.error.empty());
  EXPECT_FALSE(result.ok());
}

TEST_F(HttpTest, ClientTimesOut) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  server_.Handle("/slow", [released](const HttpRequest&) {
    released.wait_for(std::chrono::seconds{5});
    return Text("late");
  });
  const HttpGet get = MakeCurlHttpGet(HttpClientOptions{.timeout = milliseconds{200}});
  const auto start = std::chrono::steady_clock::now();
  const HttpResult result = get(Url("/slow"));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  release.set_value();
  EXPECT_FALSE(result.ok());
  EXPECT_NE(Lower(result.error).find("timed out"), std::string::npos) << result.error;
  EXPECT_LT(elapsed, std::chrono::seconds{3});
}

TEST_F(HttpTest, ClientRejectsOversizedResponse) {
  server_.Handle("/big", [](const HttpRequest&) { return Text(std::string(100'000, 'z')); });
  const HttpGet get = MakeCurlHttpGet(HttpClientOptions{.max_body_bytes = 10'240});
  const HttpResult result = get(Url("/big"));
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, "response larger than 10240 bytes");
  EXPECT_TRUE(result.body.empty());
}

TEST(HttpClientTest, ConnectionRefused) {
  // A bound socket that never listens: connecting to it is refused, and nobody can take the port.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";

  const HttpResult result = MakeCurlHttpGet(HttpClientOptions{})(url);
  close(fd);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(Lower(result.error).find("connection refused"), std::string::npos) << result.error;
}

TEST(HttpClientTest, UrlEncode) {
  EXPECT_EQ(UrlEncode("abc-XYZ_0.9~"), "abc-XYZ_0.9~");
  EXPECT_EQ(UrlEncode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(UrlEncode(""), "");
}

TEST(HttpServerTest, ReportsWhyItCannotListen) {
  HttpServer first(HttpServer::Options{.listen_address = "127.0.0.1:0", .threads = 1});
  const std::string taken = "127.0.0.1:" + std::to_string(first.Ports().at(0));
  try {
    HttpServer second(HttpServer::Options{.listen_address = taken, .threads = 1});
    ADD_FAILURE() << "a second server bound " << taken;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(taken), std::string::npos) << e.what();
  }
  EXPECT_THROW(HttpServer(HttpServer::Options{.listen_address = "localhost:http"}),
               std::runtime_error);
}

// Certificates made with the openssl CLI: a CA signing the server's certificate (for 127.0.0.1)
// and a client certificate, and another CA signing a client certificate of the same name.
class TlsTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    char dir_template[] = "/tmp/ql_http_tls_XXXXXX";
    ASSERT_NE(mkdtemp(dir_template), nullptr);
    dir_ = dir_template;
    std::ofstream(dir_ + "/make.sh")
        << "set -e\n"
           "gen() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
           "\"$@\" 2>/dev/null; }\n"
           "leaf() { gen -addext basicConstraints=critical,CA:FALSE \"$@\"; }\n"
           "gen -x509 -keyout ca.key -out ca.crt -subj /CN=test-ca\n"
           "gen -x509 -keyout other-ca.key -out other-ca.crt -subj /CN=other-ca\n"
           "leaf -keyout server.key -out server.crt -subj /CN=127.0.0.1 -CA ca.crt -CAkey ca.key "
           "-addext subjectAltName=IP:127.0.0.1 -addext extendedKeyUsage=serverAuth\n"
           "leaf -keyout client.key -out client.crt -subj /CN=front-proxy-client -CA ca.crt "
           "-CAkey ca.key -addext extendedKeyUsage=clientAuth\n"
           "leaf -keyout stranger.key -out stranger.crt -subj /CN=front-proxy-client "
           "-CA other-ca.crt -CAkey other-ca.key -addext extendedKeyUsage=clientAuth\n";
    ASSERT_EQ(std::system(("cd " + dir_ + " && bash make.sh").c_str()), 0);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }

  static std::string File(const std::string& name) { return dir_ + "/" + name; }

  static HttpServer::Options TlsOptions(bool client_ca) {
    return HttpServer::Options{
        .listen_address = "127.0.0.1:0",
        .threads = 2,
        .tls = HttpServer::TlsOptions{.cert_file = File("server.crt"),
                                      .key_file = File("server.key"),
                                      .client_ca_file = client_ca ? File("ca.crt") : ""}};
  }

  struct Answer {
    CURLcode rc = CURLE_OK;
    long status = 0;
    std::string body;
  };

  // A request trusting ca.crt, presenting `client` (.crt and .key) unless it is empty; a POST
  // when there is a body.
  static Answer Fetch(const HttpServer& server, const std::string& client,
                      const std::string& path = "/whoami", const std::string* body = nullptr,
                      const std::vector<std::string>& headers = {}) {
    const std::string url = "https://127.0.0.1:" + std::to_string(server.Ports().at(0)) + path;
    const std::string ca = File("ca.crt"), cert = File(client + ".crt"),
                      key = File(client + ".key");
    Answer answer;
    CURL* curl = curl_easy_init();
    curl_slist* list = nullptr;
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
    if (!client.empty()) {
      curl_easy_setopt(curl, CURLOPT_SSLCERT, cert.c_str());
      curl_easy_setopt(curl, CURLOPT_SSLKEY, key.c_str());
    }
    if (body) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer.body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    answer.rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &answer.status);
    curl_slist_free_all(list);
    curl_easy_cleanup(curl);
    return answer;
  }

  static void AddWhoami(HttpServer& server) {
    server.Handle("/whoami", [](const HttpRequest& r) {
      return Text(std::string(r.client_cert_verified ? "verified" : "anonymous") +
                  " cn=" + r.client_cert_cn);
    });
  }

  static inline std::string dir_;
};

TEST_F(TlsTest, HandlersSeeWhetherAVerifiedClientCertificateCame) {
  HttpServer server(TlsOptions(true));
  AddWhoami(server);
  Answer answer = Fetch(server, "client");
  ASSERT_EQ(answer.rc, CURLE_OK);
  EXPECT_EQ(answer.body, "verified cn=front-proxy-client");
  answer = Fetch(server, "");
  ASSERT_EQ(answer.rc, CURLE_OK);
  EXPECT_EQ(answer.body, "anonymous cn=");
  // Signed by a CA the server does not trust: the handshake fails, no handler runs.
  answer = Fetch(server, "stranger");
  EXPECT_NE(answer.rc, CURLE_OK);
  EXPECT_EQ(answer.body, "");
  // The server lives on.
  EXPECT_EQ(Fetch(server, "client").body, "verified cn=front-proxy-client");
}

TEST_F(TlsTest, ClientSendsTheBearerTokenAndVerifiesWithTheCaFile) {
  HttpServer server(TlsOptions(false));
  server.Handle("/pods", [](const HttpRequest& r) {
    return Text("auth=" + std::string(r.Header("authorization")));
  });
  const std::string url = "https://127.0.0.1:" + std::to_string(server.Ports().at(0)) + "/pods";
  const std::string token = File("token");
  std::ofstream(token) << "s3cr3t-token\n";
  HttpResult r = MakeCurlHttpGet({.bearer_token_file = token, .ca_file = File("ca.crt")})(url);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.body, "auth=Bearer s3cr3t-token");
  // Rotated: the next request reads the new token.
  std::ofstream(token) << "rotated";
  const HttpGet get = MakeCurlHttpGet({.bearer_token_file = token, .ca_file = File("ca.crt")});
  EXPECT_EQ(get(url).body, "auth=Bearer rotated");
  // A missing token file sends no header rather than failing.
  EXPECT_EQ(
      MakeCurlHttpGet({.bearer_token_file = File("absent"), .ca_file = File("ca.crt")})(url).body,
      "auth=");
  // Not signed by the given roots: refused, unless verification is off.
  r = MakeCurlHttpGet({.ca_file = File("other-ca.crt")})(url);
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.error.empty());
  r = MakeCurlHttpGet({.ca_file = File("other-ca.crt"), .insecure_skip_verify = true})(url);
  EXPECT_TRUE(r.ok()) << r.error;
}

TEST_F(TlsTest, WithoutClientCaNoCertificateCounts) {
  HttpServer server(TlsOptions(false));
  AddWhoami(server);
  const Answer answer = Fetch(server, "client");
  ASSERT_EQ(answer.rc, CURLE_OK);
  EXPECT_EQ(answer.body, "anonymous cn=");
}

TEST_F(TlsTest, SameRoutingLimitsAndHeadersAsHttp) {
  HttpServer server(TlsOptions(true));
  server.Handle(
      "/echo",
      [](const HttpRequest& r) {
        HttpResponse response = Text(r.method + " " + r.path + " ? " + r.query + " " +
                                     std::string(r.Header("x-tenant")) + " " + r.body);
        response.headers.emplace_back("X-Queuelens", "yes");
        return response;
      },
      1024, true);
  Answer answer = Fetch(server, "client", "/echo/a%20b?x=%20");
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "GET /echo/a b ? x=%20  ");
  const std::string body(1024, 'p');
  answer = Fetch(server, "client", "/echo", &body, {"X-Tenant: blue"});
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "POST /echo ?  blue " + body);
  const std::string big(1025, 'p');
  EXPECT_EQ(Fetch(server, "client", "/echo", &big).status, 413);
  answer = Fetch(server, "client", "/echo", &body, {"Transfer-Encoding: chunked"});
  EXPECT_EQ(answer.status, 200);
  EXPECT_EQ(answer.body, "POST /echo ?   " + body);
  answer = Fetch(server, "client", "/nope");
  EXPECT_EQ(answer.status, 404);
  EXPECT_EQ(answer.body, "not found: /nope\n");
}

TEST_F(TlsTest, ConcurrentClients) {
  HttpServer server(TlsOptions(true));
  server.Handle("/n", [](const HttpRequest& r) { return Text(r.query); });
  std::vector<std::thread> threads;
  std::atomic<int> good = 0;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string q = std::to_string(t) + "-" + std::to_string(i);
        if (Fetch(server, "client", "/n?" + q).body == q) ++good;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(good, 40);
}

TEST_F(TlsTest, ARefusedClientAlwaysReadsWhy) {
  HttpServer server(TlsOptions(true));
  AddWhoami(server);
  // The alert must reach the client before the connection closes, every time: a reset that
  // overtakes it leaves the client with "connection reset" instead of the reason.
  for (int i = 0; i < 20; ++i) {
    CURL* curl = curl_easy_init();
    char error[CURL_ERROR_SIZE] = "";
    const std::string url = "https://127.0.0.1:" + std::to_string(server.Ports().at(0)) + "/whoami";
    const std::string ca = File("ca.crt"), cert = File("stranger.crt"), key = File("stranger.key");
    std::string body;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLCERT, cert.c_str());
    curl_easy_setopt(curl, CURLOPT_SSLKEY, key.c_str());
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, CollectBody);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    EXPECT_NE(curl_easy_perform(curl), CURLE_OK);
    curl_easy_cleanup(curl);
    EXPECT_NE(Lower(error).find("unknown ca"), std::string::npos) << error;
    EXPECT_EQ(body, "");
  }
  // The alert leaves inside OpenSSL's accept; the server counts the failure after it returns,
  // so the last client can read the alert before the count moves.
  for (int i = 0; i < 500 && server.stats().tls_handshake_failures < 20; ++i) {
    std::this_thread::sleep_for(milliseconds{10});
  }
  EXPECT_EQ(server.stats().tls_handshake_failures, 20u);
}

TEST_F(TlsTest, SlowAndIdleHandshakesDoNotStopOthers) {
  HttpServer::Options options = TlsOptions(true);
  options.header_timeout = milliseconds{1500};
  HttpServer server(options);
  AddWhoami(server);
  std::vector<int> crowd;
  for (int i = 0; i < 300; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(server.Ports().at(0)));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    // Half of them start a ClientHello (a TLS handshake record header) and stall.
    if (i % 2 == 0) {
      ASSERT_EQ(send(fd, "\x16\x03\x01", 3, MSG_NOSIGNAL), 3);
    }
    crowd.push_back(fd);
  }
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Fetch(server, "client").body, "verified cn=front-proxy-client");
  }
  // The handshake deadline ends them all.
  for (int fd : crowd) {
    char byte;
    timeval tv{.tv_sec = 5, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    EXPECT_LE(recv(fd, &byte, 1, 0), 0);
    close(fd);
  }
  EXPECT_EQ(server.stats().header_timeouts, 300u);
}

TEST_F(TlsTest, PlainHttpClientGetsNoAnswer) {
  HttpServer server(TlsOptions(true));
  AddWhoami(server);
  const HttpResult result = MakeCurlHttpGet(HttpClientOptions{.timeout = milliseconds{2000}})(
      "http://127.0.0.1:" + std::to_string(server.Ports().at(0)) + "/whoami");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.body, "anonymous cn=");
}

TEST_F(TlsTest, UnusableFilesFailAtStartNamingTheFile) {
  const auto start_error = [](HttpServer::Options options) -> std::string {
    try {
      HttpServer server(std::move(options));
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "started";
  };
  HttpServer::Options missing = TlsOptions(true);
  missing.tls->cert_file = File("nope.crt");
  EXPECT_NE(start_error(missing).find("cannot load certificate " + File("nope.crt")),
            std::string::npos)
      << start_error(missing);
  HttpServer::Options mismatched = TlsOptions(true);
  mismatched.tls->key_file = File("client.key");
  EXPECT_NE(start_error(mismatched).find("private key " + File("client.key")), std::string::npos)
      << start_error(mismatched);
  HttpServer::Options bad_ca = TlsOptions(true);
  bad_ca.tls->client_ca_file = File("server.key");
  EXPECT_NE(start_error(bad_ca).find("client CA " + File("server.key")), std::string::npos)
      << start_error(bad_ca);
}

}  // namespace
}  // namespace common
