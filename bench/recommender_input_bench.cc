// The recommender's input side for 500 workloads (performance.md G6, with recommender_bench for
// the policies): parsing one exporter's /metrics text, one direct-scrape round (parse, counter
// deltas, rates and quantiles), and mapping a round onto the model and reading the signals.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "common/clock.h"
#include "recommender/input/feeder.h"
#include "recommender/input/prometheus_text.h"
#include "recommender/input/scrape_source.h"
#include "recommender/model/model.h"
#include "tests/support/fake_clock.h"

namespace {

namespace input = recommender::input;
namespace model = recommender::model;

constexpr int kServices = 500;
constexpr int kOperations = 2;
constexpr int kPodsPerService = 2;
const char* const kBounds[] = {"0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1",
                               "0.25",   "0.5",   "1",      "2.5",   "5",    "10",    "+Inf"};

std::string Ns(int s) { return "team-" + std::to_string(s % 8); }
std::string Svc(int s) { return "service-" + std::to_string(s); }

// What an exporter serving span and kernel metrics for 500 services and 1000 pods looks like
// after `round` seconds of 50 requests/s per operation.
std::string ExporterText(int round) {
  std::string out;
  out.reserve(8 << 20);
  const auto line = [&](const std::string& name, const std::string& labels, double v) {
    out += name + "{" + labels + "} " + std::to_string(v) + "\n";
  };
  const double n = 50.0 * round;
  out += "# TYPE queuelens_requests_total counter\n";
  for (int s = 0; s < kServices; ++s) {
    for (int o = 0; o < kOperations; ++o) {
      const std::string l = "namespace=\"" + Ns(s) + "\",service=\"" + Svc(s) +
                            "\",operation=\"op-" + std::to_string(o) + "\"";
      line("queuelens_requests_total", l, n);
      for (const char* family :
           {"queuelens_request_duration_seconds", "queuelens_exclusive_duration_seconds"}) {
        double cumulative = 0;
        for (size_t b = 0; b < std::size(kBounds); ++b) {
          cumulative += n / static_cast<double>(std::size(kBounds));
          line(std::string(family) + "_bucket", l + ",le=\"" + kBounds[b] + "\"", cumulative);
        }
        line(std::string(family) + "_sum", l, n * 0.02);
        line(std::string(family) + "_count", l, n);
      }
    }
    const std::string sl = "namespace=\"" + Ns(s) + "\",service=\"" + Svc(s) + "\"";
    line("queuelens_queue_length", sl, 1.5);
    line("queuelens_uncongested_service_time_seconds", sl, 0.01);
    for (int p = 0; p < kPodsPerService; ++p) {
      const std::string pod = Svc(s) + "-7d9f8c6b5-pod" + std::to_string(p);
      line("queuelens_instance_requests_total", sl + ",instance=\"" + pod + "\"", n);
      const std::string cl =
          "namespace=\"" + Ns(s) + "\",pod=\"" + pod + "\",container=\"" + Svc(s) + "\"";
      line("queuelens_container_cpu_usage_seconds_total", cl, 0.4 * round);
      line("queuelens_container_runqueue_wait_seconds_total", cl, 0.001 * round);
      line("queuelens_container_timeslices_total", cl, 100.0 * round);
      line("queuelens_container_cpu_periods_total", cl, 10.0 * round);
      line("queuelens_container_cpu_throttled_periods_total", cl, 0.2 * round);
      line("queuelens_container_cpu_limit_cores", cl, 1);
    }
  }
  return out;
}

void BM_ParseExporterText(benchmark::State& state) {
  const std::string text = ExporterText(10);
  size_t samples = 0;
  for (auto _ : state) {
    const input::ParsedText p = input::ParsePrometheusText(text);
    samples = p.samples.size();
    benchmark::DoNotOptimize(samples);
  }
  state.counters["samples"] = static_cast<double>(samples);
  state.counters["bytes"] = static_cast<double>(text.size());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseExporterText)->Unit(benchmark::kMillisecond);

// One 1 s round: the texts are prepared up front (eight rounds, cycled; the wrap-around reads as
// a counter reset, which costs the same), so the round is all parsing, counter tracking, rates
// and the per-service quantiles.
void BM_ScrapeRound(benchmark::State& state) {
  std::vector<std::string> texts;
  for (int r = 0; r < 8; ++r) texts.push_back(ExporterText(r + 1));
  size_t next = 0;
  int round = 0;
  input::ScrapeSource source({"http://exporter/metrics"},
                             [&](const std::string&) {
                               return common::HttpResult{.status = 200,
                                                         .body = texts[next++ % texts.size()]};
                             },
                             {.window = std::chrono::seconds{5}});
  const common::TimePoint t0{std::chrono::seconds{1'700'000'000}};
  for (int r = 0; r < 6; ++r) source.Fetch(t0 + std::chrono::seconds{round++});
  for (auto _ : state) {
    const input::FetchResult f = source.Fetch(t0 + std::chrono::seconds{round++});
    benchmark::DoNotOptimize(f.observations.services.size());
  }
}
BENCHMARK(BM_ScrapeRound)->Unit(benchmark::kMillisecond);

// Mapping one round of observations onto 500 workloads (1000 pods) and reading their signals,
// with 5 min of 1 s history in the windows.
void BM_FeedAndSignals(benchmark::State& state) {
  std::vector<recommender::WorkloadConfig> configs;
  input::Observations obs;
  for (int s = 0; s < kServices; ++s) {
    recommender::WorkloadConfig c;
    c.key = {Ns(s), Svc(s)};
    c.services = {Svc(s)};
    c.container = Svc(s);
    configs.push_back(c);
    input::ServiceObservation o;
    o.k8s_namespace = Ns(s);
    o.service = Svc(s);
    o.request_rate = 100;
    o.inflight = 2;
    o.busy = 1;
    o.queue_length = 1.5;
    o.p95_seconds = 0.05;
    o.p99_seconds = 0.08;
    o.tail_exclusive_seconds = 0.03;
    o.uncongested_seconds = 0.01;
    for (int p = 0; p < kPodsPerService; ++p) {
      const std::string pod = Svc(s) + "-7d9f8c6b5-pod" + std::to_string(p);
      o.instances.push_back(pod);
      input::ContainerObservation c;
      c.k8s_namespace = Ns(s);
      c.pod = pod;
      c.container = Svc(s);
      c.cpu_usage_cores = c.cpu_usage_now_cores = 0.4;
      c.runqueue_wait_rate = 0.001;
      c.timeslice_rate = 100;
      c.periods_rate = 10;
      c.throttled_periods_rate = 0.2;
      c.cpu_limit_cores = 1;
      obs.containers.push_back(c);
    }
    obs.services.push_back(o);
  }
  model::ModelOptions options;
  options.interval = std::chrono::seconds{1};
  options.history = std::chrono::minutes{5};
  model::Model m(configs, options);
  common::FakeClock clock;
  for (int i = 0; i < 300; ++i) {
    clock.Advance(std::chrono::seconds{1});
    input::Feeder::Apply(obs, m, clock.Now());
  }
  for (auto _ : state) {
    clock.Advance(std::chrono::seconds{1});
    input::Feeder::Apply(obs, m, clock.Now());
    const std::vector<model::WorkloadSignals> signals = m.Signals(clock.Now());
    benchmark::DoNotOptimize(signals.data());
  }
}
BENCHMARK(BM_FeedAndSignals)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
