// /metrics, the status page and the services JSON rendered from a fixed set of spans in simulated
// time. The /metrics text is compared with tests/golden/exporter_metrics.txt; run with
// UPDATE_GOLDEN=1 to rewrite that file after an intended change, and review the diff.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/http_server.h"
#include "exporter/exposition/http_routes.h"
#include "exporter/exposition/state_collectable.h"
#include "exporter/exposition/status_page.h"
#include "exporter/loop.h"
#include "exporter/sources/source_metrics.h"
#include "exporter/state/state.h"
#include "rapidjson/document.h"
#include "tests/promtool.h"
#include "tests/support/fake_clock.h"

namespace exporter::exposition {
namespace {

using spans::SpanKind;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kGolden[] = QL_SOURCE_DIR "/tests/golden/exporter_metrics.txt";
// 2026-08-22T10:00:00Z, on a sub-window boundary.
const common::TimePoint kT0{seconds{1'787'392'800}};
constexpr int64_t kBaseMs = 1'787'392'700'000;  // span start times, in ms since the epoch

struct SpanSpec {
  uint64_t trace, id, parent;
  std::string_view k8s_namespace, service, operation;
  SpanKind kind;
  int64_t start_ms, end_ms;
  std::string_view instance = "";
  bool error = false;
};

void AddSpans(spans::SpanBatch& batch, const std::vector<SpanSpec>& specs) {
  for (const SpanSpec& s : specs) {
    spans::Span& span = batch.Add();
    span.trace_id = {.hi = 0xfeed, .lo = s.trace};
    span.span_id = s.id;
    span.parent_span_id = s.parent;
    span.k8s_namespace = batch.Store(s.k8s_namespace);
    span.service = batch.Store(s.service);
    span.operation = batch.Store(s.operation);
    span.instance = batch.Store(s.instance);
    span.kind = s.kind;
    span.start_unix_nano = (kBaseMs + s.start_ms) * 1'000'000;
    span.end_unix_nano = (kBaseMs + s.end_ms) * 1'000'000;
    span.error = s.error;
  }
}

// A shop whose gateway calls cart (twice, once failing), a search with a label value that needs
// escaping, 100 mailer jobs of 1..100 ms, and one 12 s report beyond the largest bucket.
spans::SpanBatch ShopSpans() {
  spans::SpanBatch batch;
  AddSpans(
      batch,
      {
          {0xa1, 1, 0, "shop", "gateway", "GET /cart", SpanKind::kServer, 0, 20, "gateway-0"},
          {0xa1, 2, 1, "shop", "gateway", "cart.Get", SpanKind::kClient, 2, 16, "gateway-0"},
          {0xa1, 3, 2, "shop", "cart", "Get", SpanKind::kServer, 3, 15, "cart-0"},
          {0xa1, 4, 3, "shop", "cart", "redis GET", SpanKind::kClient, 5, 8, "cart-0"},
          {0xa2, 1, 0, "shop", "gateway", "GET /cart", SpanKind::kServer, 0, 40, "gateway-1", true},
          {0xa2, 2, 1, "shop", "gateway", "cart.Get", SpanKind::kClient, 1, 35, "gateway-1"},
          {0xa2, 3, 2, "shop", "cart", "Get", SpanKind::kServer, 5, 30, "cart-1", true},
          {0xa3, 1, 0, "shop", "gateway", R"(GET /search?q="a\b")", SpanKind::kServer, 0, 3,
           "gateway-0"},
      });
  return batch;
}

spans::SpanBatch JobSpans() {
  spans::SpanBatch batch;
  std::vector<SpanSpec> jobs;
  for (int i = 1; i <= 100; ++i) {
    jobs.push_back({0xb00u + static_cast<uint64_t>(i), 1, 0, "jobs", "mailer", "send",
                    SpanKind::kConsumer, 1000 * i, 1000 * i + i, "mailer-0"});
  }
  jobs.push_back({0xc01, 1, 0, "", "reports", "nightly", SpanKind::kServer, 0, 12'000});
  AddSpans(batch, jobs);
  return batch;
}

// The fixed state: the shop's traces finish 5 s into the window, the jobs 20 s in; the snapshot is
// taken at 30 s.
std::shared_ptr<const state::StateSnapshot> FixedSnapshot(bool with_operation_quantiles) {
  state::State state({});
  state.Add(ShopSpans(), kT0 + seconds{5});
  state.Flush(kT0 + seconds{5});
  state.Add(JobSpans(), kT0 + seconds{20});
  state.Flush(kT0 + seconds{20});
  return state.Snapshot(kT0 + seconds{30}, with_operation_quantiles);
}

// Self-metrics as the sources would have left them.
void RecordSourceMetrics(prometheus::Registry& registry) {
  sources::SourceMetrics metrics(registry);
  metrics.Received("otlp", 110);
  metrics.Received("jaeger", 5);
  metrics.Dropped("otlp", "invalid_span", 2);
  metrics.Failed("jaeger", "fetch_error");
  metrics.SetUp("jaeger", true);
}

std::string RenderMetrics(const prometheus::Collectable& registry,
                          std::shared_ptr<const state::StateSnapshot> snapshot) {
  const StateCollectable state([snapshot] { return snapshot; });
  std::string text;
  AppendMetricsText(registry, state, text);
  return text;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void ExpectPromtoolAccepts(const std::string& text) {
  const auto r = tests::PromtoolCheckMetrics(text, "metrics_golden");
  ASSERT_TRUE(r) << "promtool is not on PATH (Debian package prometheus)";
  EXPECT_EQ(r->exit_code, 0) << "promtool check metrics:\n" << r->output << "\non:\n" << text;
}

struct Family {
  std::string help;
  std::string type;
  int samples = 0;
};

// Families by name, from HELP and TYPE lines, with the samples that belong to each.
std::map<std::string, Family> Families(const std::string& text) {
  std::map<std::string, Family> families;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      const size_t space = line.find(' ', 7);
      Family& f = families[line.substr(7, space - 7)];
      (line[2] == 'H' ? f.help : f.type) = space == std::string::npos ? "" : line.substr(space + 1);
      continue;
    }
    std::string name = line.substr(0, line.find_first_of("{ "));
    if (!families.contains(name)) {
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        if (name.ends_with(suffix)) name.resize(name.size() - std::string_view(suffix).size());
        if (families.contains(name)) break;
      }
    }
    ++families[name].samples;
  }
  return families;
}

double Near(double want) { return want * 0.011; }  // the sketches' 1 % plus rounding

TEST(MetricsGoldenTest, MatchesGoldenFile) {
  prometheus::Registry registry;
  RecordSourceMetrics(registry);
  const std::string text = RenderMetrics(registry, FixedSnapshot(false));

  const char* update = std::getenv("UPDATE_GOLDEN");
  if (update != nullptr && std::string_view(update) == "1") {
    std::filesystem::create_directories(std::filesystem::path(kGolden).parent_path());
    std::ofstream(kGolden, std::ios::binary) << text;
    std::cout << "rewrote " << kGolden << "\n";
  }
  ASSERT_TRUE(std::filesystem::exists(kGolden))
      << kGolden << " is missing; run with UPDATE_GOLDEN=1";
  EXPECT_EQ(text, ReadFile(kGolden)) << "rerun with UPDATE_GOLDEN=1 if the change is intended";
}

TEST(MetricsGoldenTest, PassesPromtool) {
  prometheus::Registry registry;
  RecordSourceMetrics(registry);
  ExpectPromtoolAccepts(RenderMetrics(registry, FixedSnapshot(false)));
}

TEST(MetricsGoldenTest, EmptyExporterPassesPromtool) {
  prometheus::Registry registry;
  sources::SourceMetrics metrics(registry);  // families registered, none incremented yet
  ExpectPromtoolAccepts(RenderMetrics(registry, state::State({}).Snapshot(kT0)));
}

TEST(MetricsGoldenTest, EveryFamilyHasHelpAndType) {
  prometheus::Registry registry;
  RecordSourceMetrics(registry);
  const auto families = Families(RenderMetrics(registry, FixedSnapshot(false)));
  EXPECT_GE(families.size(), 25u);
  for (const auto& [name, f] : families) {
    SCOPED_TRACE(name);
    EXPECT_THAT(name, ::testing::StartsWith("queuelens_"));
    EXPECT_GE(f.help.size(), 20u) << "HELP missing or says nothing";
    EXPECT_THAT((std::set<std::string>{"counter", "gauge", "histogram", "summary"}),
                ::testing::Contains(f.type));
    if (f.type == "counter") {
      EXPECT_THAT(name, ::testing::EndsWith("_total"));
    }
  }
}

TEST(MetricsGoldenTest, SeriesBeyondTheCapFoldIntoOverflow) {
  state::StateOptions options;
  options.max_series = 2;
  state::State state(options);
  spans::SpanBatch batch;
  AddSpans(batch, {{1, 1, 0, "shop", "a", "op", SpanKind::kServer, 0, 10},
                   {2, 1, 0, "shop", "b", "op", SpanKind::kServer, 0, 10},
                   {3, 1, 0, "shop", "c", "op", SpanKind::kServer, 0, 10},
                   {4, 1, 0, "shop", "d", "op", SpanKind::kServer, 0, 10}});
  state.Add(batch, kT0);
  state.Flush(kT0);
  prometheus::Registry registry;
  const std::string text = RenderMetrics(registry, state.Snapshot(kT0 + seconds{1}));

  EXPECT_THAT(text, HasSubstr("queuelens_requests_total{namespace=\"__overflow__\",service=\""
                              "__overflow__\",operation=\"__overflow__\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("queuelens_inflight_requests{namespace=\"__overflow__\","
                              "service=\"__overflow__\"} "));
  EXPECT_THAT(text, HasSubstr("queuelens_series_overflow_total{family=\"operation\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("queuelens_series_overflow_total{family=\"service\"} 2\n"));
  // Two series of their own plus the overflow series.
  EXPECT_THAT(text, HasSubstr("queuelens_series{family=\"operation\"} 3\n"));
  EXPECT_THAT(text, Not(HasSubstr("service=\"c\"")));
  ExpectPromtoolAccepts(text);
}

TEST(MetricsGoldenTest, IdleSeriesExpire) {
  state::State state({});  // --series.idle-timeout 5m
  spans::SpanBatch old_batch, new_batch;
  AddSpans(old_batch, {{1, 1, 0, "shop", "old", "op", SpanKind::kServer, 0, 10, "old-0"}});
  AddSpans(new_batch, {{2, 1, 0, "shop", "new", "op", SpanKind::kServer, 0, 10, "new-0"}});
  state.Add(old_batch, kT0);
  state.Flush(kT0);
  state.Add(new_batch, kT0 + minutes{3});
  state.Flush(kT0 + minutes{3});
  prometheus::Registry registry;

  state.GarbageCollect(kT0 + minutes{5});  // exactly the timeout: kept
  std::string text = RenderMetrics(registry, state.Snapshot(kT0 + minutes{5}));
  EXPECT_THAT(text, HasSubstr("service=\"old\""));
  EXPECT_THAT(text, HasSubstr("queuelens_series_expired_total 0\n"));

  state.GarbageCollect(kT0 + minutes{5} + seconds{1});
  text = RenderMetrics(registry, state.Snapshot(kT0 + minutes{5} + seconds{1}));
  EXPECT_THAT(text, Not(HasSubstr("service=\"old\"")));
  EXPECT_THAT(text, HasSubstr("queuelens_requests_total{namespace=\"shop\",service=\"new\","
                              "operation=\"op\"} 1\n"));
  // old's operation, service and instance series.
  EXPECT_THAT(text, HasSubstr("queuelens_series_expired_total 3\n"));
  EXPECT_THAT(text, HasSubstr("queuelens_series{family=\"service\"} 1\n"));

  state.GarbageCollect(kT0 + minutes{9});
  text = RenderMetrics(registry, state.Snapshot(kT0 + minutes{9}));
  EXPECT_THAT(text, Not(HasSubstr("queuelens_requests_total{")));
  EXPECT_THAT(text, HasSubstr("queuelens_series_expired_total 6\n"));
  ExpectPromtoolAccepts(text);
}

TEST(StatusPageTest, ServiceTablesShowWindowQuantiles) {
  const std::string html = RenderStatusPage(*FixedSnapshot(true));

  const size_t mailer = html.find("<h2>jobs/mailer</h2>");
  ASSERT_NE(mailer, std::string::npos) << html;
  EXPECT_THAT(html, HasSubstr("<h2>shop/gateway</h2>"));
  EXPECT_THAT(html, HasSubstr("<h2>reports</h2>"));
  const std::string section = html.substr(mailer, html.find("</table>", mailer) - mailer);
  EXPECT_THAT(section, HasSubstr("<tr><th>operation</th><th>requests</th><th>errors</th>"
                                 "<th>in window</th><th>p50</th><th>p95</th><th>p99</th></tr>"));
  // Durations of 1..100 ms: p50, p95 and p99 are 50, 95 and 99 ms, for the operation and the
  // service alike.
  for (const char* row : {"send</td><td>100</td><td>0</td>", "all</td><td>100</td><td></td>"}) {
    SCOPED_TRACE(row);
    std::smatch m;
    const std::regex re(std::string("<tr><td>") + row +
                        "<td>100</td><td>([0-9.]+) ms</td><td>([0-9.]+) ms</td>"
                        "<td>([0-9.]+) ms</td></tr>");
    ASSERT_TRUE(std::regex_search(section, m, re)) << section;
    EXPECT_NEAR(std::stod(m[1]), 50, Near(50));
    EXPECT_NEAR(std::stod(m[2]), 95, Near(95));
    EXPECT_NEAR(std::stod(m[3]), 99, Near(99));
  }
  EXPECT_THAT(html, HasSubstr("<td>GET /search?q=&quot;a\\b&quot;</td>"));
  EXPECT_THAT(html, HasSubstr("<tr><td>gateway</td><td>cart</td><td>2</td></tr>"));
}

TEST(StatusPageTest, SaysHowEachServiceWasSampled) {
  using exporter::spans::SamplingMethod;
  EXPECT_EQ(SamplingDescription(0.05, SamplingMethod::kOtelThreshold), "sampled at 5 % (ot.th)");
  EXPECT_EQ(SamplingDescription(0.125, SamplingMethod::kJaeger), "sampled at 12.5 % (jaeger)");
  EXPECT_EQ(SamplingDescription(1, SamplingMethod::kNone), "sampled at 100 % (default)");
  EXPECT_EQ(SamplingDescription(std::nan(""), SamplingMethod::kNone), "no requests in the window");
  // Every request of the fixture counts once: 100 % by the default.
  EXPECT_THAT(RenderStatusPage(*FixedSnapshot(true)),
              HasSubstr("sampled at 100 % (default), 100 spans"));
}

TEST(StatusPageTest, ServicesJsonShowsWindowQuantiles) {
  const std::string json = RenderServicesJson(*FixedSnapshot(false));
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  ASSERT_FALSE(doc.HasParseError()) << json;
  EXPECT_EQ(doc["windowSeconds"].GetDouble(), 60);
  const rapidjson::Value* mailer = nullptr;
  for (const auto& s : doc["services"].GetArray()) {
    if (std::string_view(s["service"].GetString()) == "mailer") mailer = &s;
  }
  ASSERT_NE(mailer, nullptr) << json;
  EXPECT_STREQ((*mailer)["namespace"].GetString(), "jobs");
  EXPECT_EQ((*mailer)["requests"].GetDouble(), 100.0);
  EXPECT_EQ((*mailer)["windowRequests"].GetDouble(), 100.0);
  EXPECT_EQ((*mailer)["windowSampled"].GetUint64(), 100u);
  EXPECT_EQ((*mailer)["samplingProbability"].GetDouble(), 1.0);
  EXPECT_STREQ((*mailer)["samplingMethod"].GetString(), "default");
  const auto& d = (*mailer)["durationSeconds"];
  EXPECT_NEAR(d["p50"].GetDouble(), 0.050, Near(0.050));
  EXPECT_NEAR(d["p95"].GetDouble(), 0.095, Near(0.095));
  EXPECT_NEAR(d["p99"].GetDouble(), 0.099, Near(0.099));
  // No other service calls the mailer: its exclusive time is its duration.
  EXPECT_NEAR((*mailer)["exclusiveSeconds"]["p99"].GetDouble(), 0.099, Near(0.099));
  ASSERT_EQ((*mailer)["instances"].Size(), 1u);
  EXPECT_STREQ((*mailer)["instances"][0]["instance"].GetString(), "mailer-0");
  ASSERT_EQ(doc["edges"].Size(), 1u);
  EXPECT_EQ(doc["edges"][0]["calls"].GetDouble(), 2.0);
}

// The routes serve what the renderers produce, over HTTP on a loopback port.
TEST(ExporterRoutesTest, ServeTheRenderedPages) {
  common::FakeClock clock(kT0);  // never advanced: the state thread reads it
  auto registry = std::make_shared<prometheus::Registry>();
  RecordSourceMetrics(*registry);
  ExporterLoop loop({}, {}, clock);
  common::HttpServer server({.listen_address = "127.0.0.1:0", .threads = 2});
  AddExporterRoutes(server, loop, registry);
  ASSERT_TRUE(loop.Submit(ShopSpans(), /*flush=*/true));
  const std::string base = "http://127.0.0.1:" + std::to_string(server.Ports().at(0));
  const common::HttpGet get = common::MakeCurlHttpGet({});

  const common::HttpResult metrics = get(base + "/metrics");
  ASSERT_TRUE(metrics.ok()) << metrics.error << metrics.status;
  // The scrape's own duration is the one value that varies.
  const std::regex scrape_duration("\nqueuelens_scrape_duration_seconds [^\n]*\n");
  const std::string masked = "\nqueuelens_scrape_duration_seconds <masked>\n";
  EXPECT_EQ(
      std::regex_replace(metrics.body, scrape_duration, masked),
      std::regex_replace(RenderMetrics(*registry, loop.Snapshot(false)), scrape_duration, masked));
  EXPECT_THAT(metrics.body, HasSubstr("queuelens_requests_total{namespace=\"shop\",service=\""
                                      "cart\",operation=\"Get\"} 2\n"));

  const common::HttpResult page = get(base + "/");
  ASSERT_TRUE(page.ok()) << page.error << page.status;
  // The service tables as rendered; the route may append sections of its own after them.
  const std::string rendered = RenderStatusPage(*loop.Snapshot(true));
  const size_t first = rendered.find("<h2>");
  EXPECT_THAT(page.body,
              HasSubstr(rendered.substr(first, rendered.find("<h2>Instances</h2>") - first)));
  EXPECT_THAT(page.body, HasSubstr("<h2>shop/cart</h2>"));
  const common::HttpResult json = get(base + "/api/v1/services");
  ASSERT_TRUE(json.ok()) << json.error << json.status;
  EXPECT_EQ(json.body, RenderServicesJson(*loop.Snapshot(false)));
  EXPECT_EQ(get(base + "/nothing-here").status, 404);
}

}  // namespace
}  // namespace exporter::exposition
