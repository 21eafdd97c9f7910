// `queuelens-sim run --live` against stand-ins for the exporter's OTLP receiver and the
// recommender's API, on port 0.
#include "sim/live.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <mutex>

#include "common/http_server.h"
#include "exporter/spans/otlp_proto.h"
#include "tests/sim/test_apps.h"

namespace sim {
namespace {

TEST(LiveTest, SendsSpansWritesCgroupsAndAppliesRecommendations) {
  std::atomic<uint64_t> received{0};
  common::HttpServer server({.listen_address = "127.0.0.1:0", .threads = 2});
  server.Handle(
      "/v1/traces",
      [&](const common::HttpRequest& r) {
        exporter::spans::SpanBatch batch;
        const auto parsed = exporter::spans::ParseOtlpProto(r.body, batch);
        received += parsed.accepted_spans;
        return common::HttpResponse{.status = parsed.ok() ? 200 : 400};
      },
      64 << 20);
  server.Handle("/api/v1/recommendations", [](const common::HttpRequest&) {
    return common::HttpResponse{
        .status = 200,
        .content_type = "application/json",
        .body = R"({"recommendations":[)"
                R"({"namespace":"test","workload":"svc","replicas":2,"cpuCores":1.5},)"
                R"({"namespace":"other","workload":"svc","replicas":9,"cpuCores":null}]})"};
  });
  const std::string base = "http://127.0.0.1:" + std::to_string(server.Ports().at(0));

  std::string tmpl = (std::filesystem::temp_directory_path() / "queuelens-live-XXXXXX").string();
  const std::string root = ::mkdtemp(tmpl.data());
  App app = testing::SingleServiceApp(
      64, 4, {.kind = Distribution::Kind::kConstant, .mean = 0.002, .cv = 0}, 1);
  app.pod_startup = 0;
  LiveOptions options;
  options.otlp_url = base + "/v1/traces";
  options.cgroup_root = root;
  options.recommender_url = base;
  options.speed = 200;  // 20 simulated seconds in 100 ms
  options.apply_interval = std::chrono::milliseconds{1};
  options.run.warmup = 0;
  LiveStats stats;
  const RunResult r = RunLive(app, testing::ConstantTrace(200, 20), options, stats);

  EXPECT_EQ(stats.span_posts_failed, 0u) << stats.last_error;
  EXPECT_GT(stats.spans_sent, 500u);
  EXPECT_EQ(received.load(), stats.spans_sent);
  EXPECT_GT(stats.fetches, 0u);
  EXPECT_EQ(stats.fetches_failed, 0u) << stats.last_error;
  EXPECT_EQ(stats.scaling_actions, 2u);  // replicas 1 → 2 and the limit 1 → 1.5, once each
  EXPECT_NEAR(r.series.replicas.back(), 2, 1e-9);
  EXPECT_NEAR(r.series.cores.back(), 3, 1e-9);
  EXPECT_TRUE(std::filesystem::exists(root + "/proc/1/mountinfo"));
  size_t scopes = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root + "/sys/fs/cgroup")) {
    scopes += e.path().filename().string().ends_with(".scope") ? 1 : 0;
  }
  EXPECT_EQ(scopes, 2u);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace sim
