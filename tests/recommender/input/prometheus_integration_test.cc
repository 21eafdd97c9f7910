// The Prometheus client and source against a real Prometheus (Debian's /usr/bin/prometheus) that
// scrapes a real queuelens-exporter replaying a fixture. Both run on 127.0.0.1 with ports picked
// at run time and are stopped at the end; every wait is bounded.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "recommender/input/prometheus_client.h"
#include "recommender/input/prometheus_source.h"
#include "recommender/input/queries.h"

extern char** environ;

namespace recommender::input {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

constexpr char kPrometheus[] = "/usr/bin/prometheus";
constexpr auto kDeadline = std::chrono::seconds{60};

// A child process with stdout and stderr going to `log`; SIGTERM (then SIGKILL) on destruction.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& log) {
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool started() const { return pid_ > 0; }
  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A port nothing listens on right now, for a program that cannot be told to use port 0.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

template <class Pred>
bool WaitFor(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  return false;
}

class PrometheusIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kPrometheus)) GTEST_SKIP() << kPrometheus << " is not installed";
    dir_ = fs::path(::testing::TempDir()) / ("prom_it_" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");

    exporter_ = std::make_unique<Child>(
        std::vector<std::string>{QL_EXPORTER_BINARY, "--web.listen-address=127.0.0.1:0",
                                 "--otlp.listen-address=", "--trace.wait=100ms",
                                 "--replay.file=" QL_SOURCE_DIR
                                 "/tests/fixtures/replay/jaeger_v1_three_traces.json"},
        dir_ / "exporter.log");
    ASSERT_TRUE(exporter_->started());
    int exporter_port = 0;
    ASSERT_TRUE(WaitFor([&] {
      std::smatch m;
      const std::string log = ReadAll(dir_ / "exporter.log");
      if (!std::regex_search(log, m, std::regex(R"(serving /metrics .*\(port (\d+)\))"))) {
        return false;
      }
      exporter_port = std::stoi(m[1]);
      return true;
    })) << ReadAll(dir_ / "exporter.log");

    const int port = FreePort();
    std::ofstream(dir_ / "prometheus.yml")
        << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "scrape_configs:\n  - job_name: queuelens\n    honor_labels: true\n"
        << "    static_configs:\n      - targets: ['127.0.0.1:" << exporter_port << "']\n";
    prometheus_ = std::make_unique<Child>(
        std::vector<std::string>{kPrometheus, "--config.file=" + (dir_ / "prometheus.yml").string(),
                                 "--storage.tsdb.path=" + (dir_ / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port)},
        dir_ / "prometheus.log");
    ASSERT_TRUE(prometheus_->started());
    url_ = "http://127.0.0.1:" + std::to_string(port);
  }

  void TearDown() override {
    prometheus_.reset();
    exporter_.reset();
    if (!dir_.empty()) fs::remove_all(dir_);
  }

  PrometheusClient Client() const {
    return PrometheusClient(url_, common::MakeCurlHttpGet({.timeout = std::chrono::seconds{5}}),
                            std::chrono::seconds{5});
  }

  fs::path dir_;
  std::unique_ptr<Child> exporter_, prometheus_;
  std::string url_;
};

TEST_F(PrometheusIntegrationTest, QueriesTheExporterSeriesThroughPrometheus) {
  const PrometheusClient client = Client();
  // Two scrapes are needed before rate() has an answer.
  ASSERT_TRUE(WaitFor([&] {
    const QueryResult r = client.InstantQuery(
        queries::Expand(queries::kServiceRequestRate.promql, std::chrono::seconds{10}));
    return r.ok && r.samples.size() == 2;
  })) << ReadAll(dir_ / "prometheus.log");

  const QueryResult raw = client.InstantQuery("queuelens_requests_total");
  ASSERT_TRUE(raw.ok) << raw.error;
  ASSERT_EQ(raw.samples.size(), 2u);
  for (const QuerySample& s : raw.samples) {
    EXPECT_EQ(s.labels.at("namespace"), "shop");
    EXPECT_EQ(s.value, 3);
  }

  PrometheusSource source(Client(), std::chrono::seconds{10});
  const FetchResult f = source.Fetch(common::SystemClock().Now());
  for (const InputError& e : f.errors) ADD_FAILURE() << e.input << ": " << e.message;
  ASSERT_EQ(f.observations.services.size(), 2u);
  const ServiceObservation& cart = f.observations.services[0];
  EXPECT_EQ(cart.k8s_namespace, "shop");
  EXPECT_EQ(cart.service, "cart");
  // The replay happened before the window: nothing new arrives, and the quantiles of an empty
  // window are NaN, which the client must read as such.
  EXPECT_EQ(cart.request_rate, 0);
  EXPECT_EQ(cart.inflight, 0);
  EXPECT_DOUBLE_EQ(cart.uncongested_seconds, 0.012);
  EXPECT_TRUE(std::isnan(cart.p99_seconds));
  EXPECT_TRUE(cart.instances.empty());
  EXPECT_DOUBLE_EQ(f.observations.services[1].uncongested_seconds, 0.008);
  // No kernel collector and no kube-state-metrics here: empty, not errors.
  EXPECT_TRUE(f.observations.containers.empty());
  EXPECT_TRUE(f.observations.deployments.empty());
}

TEST_F(PrometheusIntegrationTest, ScalarsAndErrorAnswers) {
  const PrometheusClient client = Client();
  ASSERT_TRUE(WaitFor([&] { return client.InstantQuery("1").ok; }))
      << ReadAll(dir_ / "prometheus.log");
  const QueryResult scalar = client.InstantQuery("scalar(vector(2)) * 3");
  ASSERT_TRUE(scalar.ok) << scalar.error;
  EXPECT_EQ(scalar.result_type, "scalar");
  EXPECT_EQ(scalar.samples.at(0).value, 6);

  const QueryResult bad = client.InstantQuery("sum by (");
  EXPECT_FALSE(bad.ok);
  EXPECT_EQ(bad.error_type, "bad_data");
  EXPECT_EQ(bad.http_status, 400);

  const QueryResult matrix = client.InstantQuery("up[1m]");
  EXPECT_FALSE(matrix.ok);
  EXPECT_THAT(matrix.error, HasSubstr("matrix"));
}

TEST_F(PrometheusIntegrationTest, AStoppedPrometheusIsAnErrorNotACrash) {
  const PrometheusClient client = Client();
  ASSERT_TRUE(WaitFor([&] { return client.InstantQuery("1").ok; }));
  prometheus_.reset();
  PrometheusSource source(Client(), std::chrono::seconds{10});
  const FetchResult f = source.Fetch(common::SystemClock().Now());
  // The round stops at the first refused query instead of trying every one.
  ASSERT_EQ(f.errors.size(), 1u);
  EXPECT_EQ(f.errors[0].input, "service_request_rate");
  EXPECT_THAT(f.errors[0].message, HasSubstr("failed"));
  EXPECT_TRUE(f.observations.services.empty());
}

}  // namespace
}  // namespace recommender::input
