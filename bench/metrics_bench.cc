// /metrics end to end with ~100 000 series (performance.md G3): what the handler does (snapshot ->
// families -> text) with common::AppendText and with prometheus-cpp's TextSerializer on the same
// families, and a real HTTP GET of /metrics from the exporter's routes next to prometheus-cpp's
// Exposer serving the same state.
#include <benchmark/benchmark.h>
#include <curl/curl.h>
#include <prometheus/exposer.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/http_client.h"
#include "common/http_server.h"
#include "common/text_serializer.h"
#include "exporter/exposition/http_routes.h"
#include "exporter/exposition/state_collectable.h"
#include "exporter/loop.h"
#include "exporter/state/state.h"
#include "tests/support/fake_clock.h"

namespace {

using common::TimePoint;
using exporter::spans::SpanBatch;

// Each operation renders 36 lines (two counters; two histograms of 15 buckets, _sum and _count),
// each service 13, each instance 3: 50 x 53 operations, 50 services and 1 500 instances make
// ~100 000 series.
constexpr int kServices = 50;
constexpr int kOperationsPerService = 53;
constexpr int kInstancesPerService = 30;
constexpr int kRequestsPerOperation = 12;

// Requests spread over every operation and instance, each a trace of one server span, latencies
// cycling through two decades so histogram buckets and quantiles hold varied numbers.
SpanBatch Requests(TimePoint now) {
  SpanBatch batch;
  uint64_t trace = 0;
  for (int s = 0; s < kServices; ++s) {
    const std::string service = "service-" + std::to_string(s);
    for (int o = 0; o < kOperationsPerService; ++o) {
      const std::string operation = "/" + service + ".Api/Operation" + std::to_string(o);
      for (int r = 0; r < kRequestsPerOperation; ++r) {
        const int instance = (o * kRequestsPerOperation + r) % kInstancesPerService;
        const double seconds = 0.0005 * static_cast<double>(1 + (trace * 37) % 200);
        exporter::spans::Span& span = batch.Add();
        span.trace_id = {.hi = 1, .lo = ++trace};
        span.span_id = trace;
        span.end_unix_nano = now.time_since_epoch().count();
        span.start_unix_nano = span.end_unix_nano - static_cast<int64_t>(seconds * 1e9);
        span.service = batch.Store(service);
        span.operation = batch.Store(operation);
        span.instance = batch.Store(service + "-7d9f8c6b5-" + std::to_string(10000 + instance));
        span.k8s_namespace = batch.Store("hotel");
        span.kind = exporter::spans::SpanKind::kServer;
        span.error = trace % 97 == 0;
      }
    }
  }
  return batch;
}

struct Scrape {
  common::FakeClock clock;
  exporter::state::State state{{}};
  Scrape() {
    const SpanBatch batch = Requests(clock.Now());
    state.Add(batch, clock.Now());
    state.Flush(clock.Now());
  }
};

Scrape& Shared() {
  static Scrape scrape;
  return scrape;
}

void Report(benchmark::State& bs, const std::string& text) {
  size_t series = 0;
  size_t line_start = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n') continue;
    series += text[line_start] != '#' ? 1 : 0;
    line_start = i + 1;
  }
  bs.counters["series"] = static_cast<double>(series);
  bs.counters["bytes"] = static_cast<double>(text.size());
}

// The parts of the handler, so the serializer's share is visible.
void SnapshotOnly(benchmark::State& bs) {
  Scrape& s = Shared();
  for (auto _ : bs) benchmark::DoNotOptimize(s.state.Snapshot(s.clock.Now()));
}

void FamiliesOnly(benchmark::State& bs) {
  Scrape& s = Shared();
  const auto snapshot = s.state.Snapshot(s.clock.Now());
  for (auto _ : bs) benchmark::DoNotOptimize(exporter::exposition::StateFamilies(*snapshot));
}

template <typename Serialize>
void SerializeOnly(benchmark::State& bs, Serialize serialize) {
  Scrape& s = Shared();
  const auto families = exporter::exposition::StateFamilies(*s.state.Snapshot(s.clock.Now()));
  std::string text;
  for (auto _ : bs) {
    text = serialize(families);
    benchmark::DoNotOptimize(text.data());
  }
  Report(bs, text);
}

// Snapshot -> families -> text, as the /metrics handler runs it for each scrape.
template <typename Serialize>
void Handler(benchmark::State& bs, Serialize serialize) {
  Scrape& s = Shared();
  std::string text;
  for (auto _ : bs) {
    text = serialize(exporter::exposition::StateFamilies(*s.state.Snapshot(s.clock.Now())));
    benchmark::DoNotOptimize(text.data());
  }
  Report(bs, text);
}

std::string Ours(const std::vector<prometheus::MetricFamily>& families) {
  std::string text;  // a fresh body per scrape, as the handler's HttpResponse has
  common::AppendText(families, text);
  return text;
}

std::string PrometheusCpp(const std::vector<prometheus::MetricFamily>& families) {
  return prometheus::TextSerializer().Serialize(families);
}

// The exporter's routes on one server and prometheus-cpp's Exposer on another, both on
// 127.0.0.1:0, serving snapshots of the same state from an ExporterLoop.
struct Servers {
  common::FakeClock clock;
  exporter::ExporterLoop loop{{}, {}, clock};
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  common::HttpServer ours{{.listen_address = "127.0.0.1:0"}};
  prometheus::Exposer peer{"127.0.0.1:0"};
  std::shared_ptr<exporter::exposition::StateCollectable> collectable =
      std::make_shared<exporter::exposition::StateCollectable>(
          [this] { return loop.Snapshot(false); });

  Servers() {
    loop.Submit(Requests(clock.Now()), /*flush=*/true);
    exporter::exposition::AddExporterRoutes(ours, loop, registry);
    peer.RegisterCollectable(collectable);
  }
  std::string OursUrl() const {
    return "http://127.0.0.1:" + std::to_string(ours.Ports().at(0)) + "/metrics";
  }
  std::string PeerUrl() const {
    return "http://127.0.0.1:" + std::to_string(peer.GetListeningPorts().at(0)) + "/metrics";
  }
};

Servers& SharedServers() {
  static Servers servers;
  return servers;
}

size_t Append(char* data, size_t size, size_t count, void* body) {
  static_cast<std::string*>(body)->append(data, size * count);
  return size * count;
}

// An uncompressed GET on one kept-alive connection. common::MakeCurlHttpGet always offers gzip,
// so the plain scrape goes through libcurl directly.
void PlainGet(benchmark::State& bs, const std::string& url) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  for (auto _ : bs) {
    body.clear();
    const CURLcode code = curl_easy_perform(curl.get());
    long status = 0;
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
    if (code != CURLE_OK || status != 200) {
      bs.SkipWithError(code != CURLE_OK ? curl_easy_strerror(code) : "status is not 200");
      return;
    }
  }
  Report(bs, body);
}

// What a Prometheus server does by default: ask for gzip.
void GzipGet(benchmark::State& bs, const std::string& url) {
  const common::HttpGet get = common::MakeCurlHttpGet({});
  common::HttpResult result;
  for (auto _ : bs) {
    result = get(url);
    if (!result.ok()) {
      bs.SkipWithError(result.error.empty() ? "status is not 200" : result.error.c_str());
      return;
    }
  }
  Report(bs, result.body);
}

// In-process rows run on this thread and are timed in CPU time, which other load on the machine
// disturbs least. Over HTTP the work runs on other threads (civetweb, the state loop), so those
// rows are timed on the wall clock, with the CPU time of the whole process beside it.
template <typename Fn>
void Register(const std::string& name, Fn fn, bool wall_clock = false) {
  auto* b = benchmark::RegisterBenchmark(name.c_str(), fn)->Unit(benchmark::kMillisecond);
  if (wall_clock) b->UseRealTime()->MeasureProcessCPUTime();
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  curl_global_init(CURL_GLOBAL_DEFAULT);
  Register("metrics/snapshot", SnapshotOnly);
  Register("metrics/families", FamiliesOnly);
  // Pairs: each of our rows sits next to prometheus-cpp's on the same input.
  Register("metrics/serialize/queuelens", [](benchmark::State& s) { SerializeOnly(s, Ours); });
  Register("metrics/serialize/prometheus-cpp",
           [](benchmark::State& s) { SerializeOnly(s, PrometheusCpp); });
  Register("metrics/handler/queuelens", [](benchmark::State& s) { Handler(s, Ours); });
  Register("metrics/handler/prometheus-cpp",
           [](benchmark::State& s) { Handler(s, PrometheusCpp); });
  Register(
      "metrics/http/queuelens", [](benchmark::State& s) { PlainGet(s, SharedServers().OursUrl()); },
      true);
  Register(
      "metrics/http/prometheus-cpp",
      [](benchmark::State& s) { PlainGet(s, SharedServers().PeerUrl()); }, true);
  Register(
      "metrics/http_gzip/queuelens",
      [](benchmark::State& s) { GzipGet(s, SharedServers().OursUrl()); }, true);
  Register(
      "metrics/http_gzip/prometheus-cpp",
      [](benchmark::State& s) { GzipGet(s, SharedServers().PeerUrl()); }, true);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  curl_global_cleanup();
  return 0;
}
