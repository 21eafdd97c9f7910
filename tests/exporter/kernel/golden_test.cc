// The kernel part of /metrics for each fixture tree, compared with tests/golden/kernel_*.txt
// (UPDATE_GOLDEN=1 rewrites them; review the diff), linted by promtool, and served over HTTP
// next to the span families with the joined per-pod view on the status page.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "common/http_client.h"
#include "common/http_server.h"
#include "common/text_serializer.h"
#include "exporter/exposition/http_routes.h"
#include "exporter/exposition/kernel_collectable.h"
#include "exporter/loop.h"
#include "exporter/sources/kernel_poller.h"
#include "tests/exporter/kernel/fixture_tree.h"
#include "tests/promtool.h"
#include "tests/support/fake_clock.h"

namespace exporter::kernel {
namespace {

using fixtures::FakeKubelet;
using fixtures::FixturePath;
using fixtures::FixtureTree;
using fixtures::kT0;
using fixtures::MakeCollector;
using sources::CaptainsRun;
using sources::KernelPoller;
using std::chrono::seconds;
using ::testing::HasSubstr;

// The exposition of a snapshot without the durations, which differ from run to run.
std::string Exposition(const state::KernelSnapshot& snapshot) {
  std::string text;
  common::AppendText(exposition::KernelFamilies(snapshot), text);
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("queuelens_kernel_source_duration_seconds{", 0) == 0) continue;
    out += line + "\n";
  }
  return out;
}

void ExpectPromtoolAccepts(const std::string& text) {
  const auto r = tests::PromtoolCheckMetrics(text, "kernel_golden");
  ASSERT_TRUE(r) << "promtool is not on PATH (Debian package prometheus)";
  EXPECT_EQ(r->exit_code, 0) << r->output << "\non:\n" << text;
}

void ExpectGolden(const std::string& name, const std::string& text) {
  const std::string golden = std::string(QL_SOURCE_DIR "/tests/golden/kernel_") + name + ".txt";
  if (const char* update = std::getenv("UPDATE_GOLDEN"); update != nullptr && *update == '1') {
    std::ofstream(golden, std::ios::binary) << text;
  }
  ASSERT_TRUE(std::filesystem::exists(golden)) << golden << " is missing; run with UPDATE_GOLDEN=1";
  EXPECT_EQ(text, fixtures::ReadText(golden)) << "rerun with UPDATE_GOLDEN=1 if intended";
  ExpectPromtoolAccepts(text);
}

state::KernelStateOptions StateOptions() {
  return {.window = seconds{60}, .window_buckets = 4, .series_idle = std::chrono::minutes{5}};
}

// One collection over tests/fixtures/kernel/<fixture>, against tests/golden/kernel_<fixture>.txt.
void ExpectOneCollectionGolden(const std::string& fixture) {
  KernelPoller poller(MakeCollector(FixturePath(fixture + "/proc"), FixturePath(fixture + "/sys")),
                      StateOptions());
  poller.CollectOnce(kT0);
  ExpectGolden(fixture, Exposition(*poller.Snapshot()));
}

TEST(KernelGoldenTest, V2SystemdWithKubeletNamesOverTwoCollections) {
  FixtureTree tree("v2_systemd");
  FakeKubelet kubelet;
  // With Captains: frontend's Deployment has a Tower target, the others the default.
  auto targets = std::make_shared<const state::ThrottleTargets>(
      state::ThrottleTargets{.entries = {{.k8s_namespace = "shop",
                                          .workload = "frontend",
                                          .container = "frontend",
                                          .target = 0.1}}});
  KernelPoller poller(MakeCollector(tree.proc(), tree.sys(), {}, kubelet.Get()), StateOptions(),
                      CaptainsRun{.options = {.captain = {}, .default_target = 0.02},
                                  .tick = std::chrono::milliseconds{100},
                                  .targets = [targets] { return targets; }});
  poller.CollectOnce(kT0);
  poller.TickCaptains(kT0 + std::chrono::milliseconds{500});
  // A second later: CPU ran, threads came and went, a TID was reused (v2_systemd_t1).
  tree.Overlay("v2_systemd_t1");
  poller.CollectOnce(kT0 + seconds{1});
  ExpectGolden("v2_systemd", Exposition(*poller.Snapshot()));
}

TEST(KernelGoldenTest, V2SystemdNamedFromTheEnvironmentWithAnIncludedService) {
  CollectorOptions o;
  o.cgroup_include = R"(/system\.slice/.*\.service)";
  KernelPoller poller(
      MakeCollector(FixturePath("v2_systemd/proc"), FixturePath("v2_systemd/sys"), o),
      StateOptions());
  poller.CollectOnce(kT0);
  ExpectGolden("v2_systemd_environ", Exposition(*poller.Snapshot()));
}

TEST(KernelGoldenTest, V1Cgroupfs) { ExpectOneCollectionGolden("v1_cgroupfs"); }

TEST(KernelGoldenTest, V2Cgroupfs) { ExpectOneCollectionGolden("v2_cgroupfs"); }

TEST(KernelGoldenTest, HybridSystemd) { ExpectOneCollectionGolden("hybrid_systemd"); }

TEST(KernelGoldenTest, Broken) { ExpectOneCollectionGolden("broken"); }

// Spans whose instances are pods of the v2_systemd fixture, so the status page can join them.
void AddSpans(ExporterLoop& loop) {
  spans::SpanBatch batch = loop.TakeBatch();
  const int64_t start =
      std::chrono::duration_cast<std::chrono::nanoseconds>((kT0 - seconds{10}).time_since_epoch())
          .count();
  uint64_t id = 1;
  for (const auto& [instance, exclusive_ms] :
       {std::pair{"frontend-7d9f8b6c5-x2k4p", 10}, std::pair{"frontend-other", 30},
        std::pair{"frontend-third", 10}}) {
    spans::Span& s = batch.Add();
    s.trace_id = {.hi = 1, .lo = id};
    s.span_id = id++;
    s.service = batch.Store("frontend");
    s.operation = batch.Store("GET /");
    s.instance = batch.Store(instance);
    s.k8s_namespace = batch.Store("shop");
    s.kind = spans::SpanKind::kServer;
    s.start_unix_nano = start;
    s.end_unix_nano = start + exclusive_ms * 1'000'000;
  }
  ASSERT_TRUE(loop.Submit(std::move(batch), /*flush=*/true));
}

TEST(KernelRoutesTest, MetricsAndStatusPageCarryTheKernelViewAndTheJoin) {
  FixtureTree tree("v2_systemd");
  FakeKubelet kubelet;
  KernelPoller poller(MakeCollector(tree.proc(), tree.sys(), {}, kubelet.Get()), StateOptions());
  poller.CollectOnce(kT0);
  tree.Overlay("v2_systemd_t1");
  poller.CollectOnce(kT0 + seconds{1});

  common::FakeClock clock(kT0 + seconds{1});
  ExporterLoop loop({}, {}, clock);
  AddSpans(loop);
  common::HttpServer server({.listen_address = "127.0.0.1:0", .threads = 2});
  exposition::AddExporterRoutes(server, loop, std::make_shared<prometheus::Registry>(),
                                [&poller] { return poller.Snapshot(); });
  const std::string base = "http://127.0.0.1:" + std::to_string(server.Ports().at(0));
  const common::HttpGet get = common::MakeCurlHttpGet({});

  const common::HttpResult metrics = get(base + "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.error;
  EXPECT_THAT(metrics.body, HasSubstr("queuelens_requests_total{"));
  EXPECT_THAT(metrics.body,
              HasSubstr("queuelens_container_runqueue_wait_seconds_total{namespace=\"shop\","
                        "pod=\"frontend-7d9f8b6c5-x2k4p\",container=\"frontend\"} 0.55\n"));
  // 30 ms against a median of 10 ms.
  EXPECT_THAT(metrics.body, HasSubstr("queuelens_service_instance_imbalance_ratio{namespace="
                                      "\"shop\",service=\"frontend\"} 3\n"));
  ExpectPromtoolAccepts(metrics.body);

  const common::HttpResult page = get(base + "/");
  ASSERT_TRUE(page.ok()) << page.error;
  EXPECT_THAT(page.body, HasSubstr("<h2>Pods: spans and kernel</h2>"));
  EXPECT_THAT(page.body, HasSubstr("<td>shop/frontend-7d9f8b6c5-x2k4p</td><td>frontend</td>"));
  EXPECT_THAT(page.body, HasSubstr("<h2>Containers on this node</h2>"));
  EXPECT_THAT(page.body, HasSubstr(" threads (schedstat)"));
  EXPECT_THAT(page.body, HasSubstr("<td>jobs</td><td>nightly-report-28731</td><td>report</td>"
                                   "<td>besteffort</td><td>cri-o</td>"));
  EXPECT_THAT(page.body, HasSubstr("<h2>Instance imbalance</h2>"));
}

}  // namespace
}  // namespace exporter::kernel
