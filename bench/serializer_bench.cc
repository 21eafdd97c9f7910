// /metrics serialization: common::AppendText against prometheus::TextSerializer on the same
// collected families (performance.md G3: 100 000 series in <= 8 ms).
#include <benchmark/benchmark.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/text_serializer.h"

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

constexpr int kNamespaces = 8;
constexpr int kServices = 40;

ClientMetric::Label Label(std::string name, std::string value) {
  return ClientMetric::Label{std::move(name), std::move(value)};
}

std::vector<ClientMetric::Label> SeriesLabels(int i) {
  const int service = i % kServices;
  return {Label("namespace", "team-" + std::to_string(i % kNamespaces)),
          Label("service", "service-" + std::to_string(service)),
          Label("pod",
                "service-" + std::to_string(service) + "-7d9f8c6b5-" + std::to_string(10000 + i)),
          Label("container", "app")};
}

// `series` counters with four labels over ten families; half count requests (whole numbers),
// half accumulate seconds (fractions), as a real exporter mixes them.
std::vector<MetricFamily> Counters(int series) {
  std::vector<MetricFamily> families;
  constexpr int kFamilies = 10;
  for (int f = 0; f < kFamilies; ++f) {
    const bool seconds = f % 2 == 1;
    MetricFamily family;
    family.name = "queuelens_metric_" + std::to_string(f) + (seconds ? "_seconds_total" : "_total");
    family.help = "Synthetic counter family " + std::to_string(f) + ".";
    family.type = MetricType::Counter;
    for (int i = f; i < series; i += kFamilies) {
      ClientMetric m;
      m.label = SeriesLabels(i);
      m.counter.value = seconds ? i * 0.0137 + 0.5 : static_cast<double>(i) * 7;
      family.metric.push_back(std::move(m));
    }
    families.push_back(std::move(family));
  }
  return families;
}

// `count` histograms with 16 buckets (19 lines each) and three labels.
std::vector<MetricFamily> Histograms(int count) {
  MetricFamily family;
  family.name = "queuelens_request_duration_seconds";
  family.help = "Request latency.";
  family.type = MetricType::Histogram;
  for (int i = 0; i < count; ++i) {
    ClientMetric m;
    m.label = SeriesLabels(i);
    m.label.pop_back();
    uint64_t cumulative = 0;
    double bound = 0.0001;
    for (int b = 0; b < 16; ++b, bound *= 2) {
      cumulative += static_cast<uint64_t>((i + b) % 13);
      m.histogram.bucket.push_back({cumulative, bound});
    }
    m.histogram.sample_count = cumulative + 3;
    m.histogram.sample_sum = cumulative * 0.0421;
    family.metric.push_back(std::move(m));
  }
  return {std::move(family)};
}

size_t Lines(const std::string& text) {
  size_t lines = 0;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  return lines;
}

void Report(benchmark::State& state, const std::string& text) {
  const auto lines = static_cast<double>(Lines(text));
  state.counters["lines"] = lines;
  state.counters["bytes"] = static_cast<double>(text.size());
  // Seconds per line: shown as e.g. "52n", i.e. 52 ns.
  state.counters["per_line"] = benchmark::Counter(
      lines, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

void Ours(benchmark::State& state, const std::vector<MetricFamily>& families) {
  std::string out;
  for (auto _ : state) {
    out.clear();  // keeps the capacity, as the /metrics handler does
    common::AppendText(families, out);
    benchmark::DoNotOptimize(out.data());
  }
  Report(state, out);
}

void PrometheusCpp(benchmark::State& state, const std::vector<MetricFamily>& families) {
  const prometheus::TextSerializer serializer;
  std::string out;
  for (auto _ : state) {
    out = serializer.Serialize(families);
    benchmark::DoNotOptimize(out.data());
  }
  Report(state, out);
}

// Registered in pairs so each of our rows sits next to its prometheus-cpp row.
void RegisterPair(const std::string& name, std::vector<MetricFamily> families) {
  auto shared = std::make_shared<const std::vector<MetricFamily>>(std::move(families));
  benchmark::RegisterBenchmark((name + "/queuelens").c_str(), [shared](benchmark::State& s) {
    Ours(s, *shared);
  })->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark((name + "/prometheus-cpp").c_str(), [shared](benchmark::State& s) {
    PrometheusCpp(s, *shared);
  })->Unit(benchmark::kMillisecond);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RegisterPair("counters/10000", Counters(10'000));
  RegisterPair("counters/100000", Counters(100'000));
  RegisterPair("histograms16/1000", Histograms(1'000));
  RegisterPair("histograms16/5000", Histograms(5'000));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
