// Span ingestion on one thread (performance.md G1, G2): parse-only against the full pipeline
// (parse + trace assembly + aggregation) over the same batches in the same run, heap allocations
// per span in steady state, and heap bytes per latency series against prometheus-cpp metrics that
// hold the same series.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/summary.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/corpus.h"
#include "common/clock.h"
#include "exporter/loop.h"
#include "exporter/spans/formats.h"
#include "exporter/spans/otlp_proto_writer.h"
#include "exporter/state/state.h"
#include "tests/support/fake_clock.h"

// Every allocation through operator new is counted, so steady-state allocations per span and the
// heap cost of a series can be read from outside. malloc_usable_size is what a block really costs.
namespace {
constinit std::atomic<uint64_t> g_allocations{0};
constinit std::atomic<uint64_t> g_allocated_bytes{0};
constinit std::atomic<int64_t> g_live_bytes{0};

[[gnu::noinline]] void* Counted(void* p) {
  if (p == nullptr) throw std::bad_alloc();
  const auto usable = malloc_usable_size(p);
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  g_allocated_bytes.fetch_add(usable, std::memory_order_relaxed);
  g_live_bytes.fetch_add(static_cast<int64_t>(usable), std::memory_order_relaxed);
  return p;
}

[[gnu::noinline]] void Uncounted(void* p) {
  if (p == nullptr) return;
  g_live_bytes.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  std::free(p);
}
}  // namespace

// Not inlined: GCC would otherwise pair the inlined malloc/free with `new`/`delete` at call
// sites and warn about a mismatch. libstdc++'s array and nothrow forms call these.
[[gnu::noinline]] void* operator new(size_t size) { return Counted(std::malloc(size ? size : 1)); }
[[gnu::noinline]] void* operator new(size_t size, std::align_val_t align) {
  const auto a = static_cast<size_t>(align);
  return Counted(std::aligned_alloc(a, (size + a - 1) / a * a));
}
[[gnu::noinline]] void operator delete(void* p) noexcept { Uncounted(p); }
[[gnu::noinline]] void operator delete(void* p, std::align_val_t) noexcept { Uncounted(p); }
void operator delete(void* p, size_t) noexcept { Uncounted(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { Uncounted(p); }

namespace {

using common::TimePoint;
using exporter::spans::SpanBatch;
using exporter::spans::SpanFormat;

// ~90 000 spans, 20 s of traffic at 400 requests/s: longer than the 5 s a trace waits, so traces
// finish and are aggregated while the batches stream in, as in production.
constexpr size_t kTraces = 8'000;
constexpr double kRequestsPerSecond = 400;
// A Jaeger query answer or an OTLP export request of a few hundred spans.
constexpr size_t kSpansPerBatch = 300;
// Traffic replayed before anything is counted. The trace buffer grows its span ring, index and
// slot table to what the traffic needs; with rare large traces that settles over minutes of
// traffic, not seconds.
constexpr common::Duration kWarmup = std::chrono::minutes{20};
constexpr int kMeasuredPasses = 3;

struct Batches {
  SpanFormat format;
  std::vector<std::string> payloads;
  std::vector<TimePoint> arrivals;  // when each batch is received: its last span's end
  size_t spans = 0;
  size_t bytes = 0;
  common::Duration covered{};  // first arrival to last
};

const bench::Corpus& SharedCorpus() {
  static const bench::Corpus corpus =
      bench::GenerateCorpus({.traces = kTraces, .requests_per_second = kRequestsPerSecond});
  return corpus;
}

// Head-sampled at 10 % by an OpenTelemetry SDK: every span carries the threshold (OTEP 235), so
// every request is weighed by its adjusted count.
constexpr std::string_view kSampledTraceState = "ot=th:e6666666666666";

std::string Serialize(const bench::Corpus& corpus, SpanFormat format,
                      std::string_view trace_state) {
  if (trace_state.empty()) return bench::Serialize(corpus, format);
  std::vector<exporter::spans::OtlpResourceSpans> resources = bench::ToOtlpResources(corpus);
  for (auto& r : resources) {
    for (auto& s : r.spans) s.trace_state = trace_state;
  }
  return format == SpanFormat::kOtlpProto ? exporter::spans::ToOtlpProto(resources)
                                          : exporter::spans::ToOtlpJson(resources);
}

// Whole traces, in arrival order, cut into batches of about kSpansPerBatch spans; OTLP spans carry
// `trace_state` when it is not empty.
Batches MakeBatches(SpanFormat format, std::string_view trace_state = {}) {
  const bench::Corpus& corpus = SharedCorpus();
  Batches out{.format = format};
  bench::Corpus chunk{.processes = corpus.processes};
  int64_t last_end = 0;
  size_t chunk_spans = 0;
  auto emit = [&] {
    out.payloads.push_back(Serialize(chunk, format, trace_state));
    out.bytes += out.payloads.back().size();
    out.arrivals.push_back(TimePoint{common::Duration{last_end}});
    out.spans += chunk_spans;
    chunk.traces.clear();
    chunk_spans = 0;
  };
  for (const bench::CorpusTrace& trace : corpus.traces) {
    chunk.traces.push_back(trace);
    chunk_spans += trace.spans.size();
    for (const bench::CorpusSpan& s : trace.spans) last_end = std::max(last_end, s.end_unix_nano);
    if (chunk_spans >= kSpansPerBatch) emit();
  }
  if (!chunk.traces.empty()) emit();
  out.covered = out.arrivals.back() - out.arrivals.front();
  return out;
}

// Replays the batches pass after pass on the calling thread, as ExporterLoop::Run does with a
// state: Add per batch at its arrival time, Advance every tick, GarbageCollect every gc_interval.
// Each pass starts a trace wait after the previous one, so its repeated trace ids start new traces.
class Replay {
 public:
  Replay(const Batches& batches, exporter::state::State* state)
      : batches_(batches),
        state_(state),
        period_(batches.covered + exporter::state::TraceBufferOptions{}.wait + loop_.tick),
        next_tick_(batches.arrivals.front()),
        last_gc_(batches.arrivals.front()) {}

  // Parses the next batch (and aggregates it when there is a state); returns the spans accepted,
  // or nullopt with the parser's error.
  std::optional<size_t> Next(std::string& error) {
    const size_t i = index_;
    const TimePoint now = batches_.arrivals[i] + offset_;
    if (++index_ == batches_.payloads.size()) {
      index_ = 0;
      offset_ += period_;
    }
    batch_.Clear();
    const auto result = exporter::spans::ParseSpans(batches_.format, batches_.payloads[i], batch_);
    if (!result.ok() || result.rejected_spans > 0) [[unlikely]] {
      error = result.ok() ? result.rejection : result.error;
      return std::nullopt;
    }
    if (state_ == nullptr) return batch_.size();
    // Before Add: at a pass boundary this finishes the previous pass's traces first.
    if (now >= next_tick_) {
      state_->Advance(now);
      next_tick_ = now + loop_.tick;
    }
    state_->Add(batch_, now);
    if (now - last_gc_ >= loop_.gc_interval) {
      state_->GarbageCollect(now);
      last_gc_ = now;
    }
    return batch_.size();
  }

  // Simulated time from one pass to the next.
  common::Duration period() const { return period_; }

 private:
  const Batches& batches_;
  exporter::state::State* state_;
  const exporter::LoopOptions loop_;
  const common::Duration period_;
  SpanBatch batch_;
  size_t index_ = 0;
  common::Duration offset_{};
  TimePoint next_tick_;
  TimePoint last_gc_;
};

// A parser, or a parser feeding a state, that lives across runs and repetitions as in the
// exporter process: warmed up once, then every run continues the same stream.
struct Ingestion {
  Ingestion(std::shared_ptr<const Batches> b, bool aggregate)
      : owned(std::move(b)),
        batches(*owned),
        state(aggregate ? std::make_unique<exporter::state::State>(exporter::state::StateOptions{})
                        : nullptr),
        replay(batches, state.get()) {}

  // Replays kWarmup of traffic (one pass without a state); returns an error or "".
  std::string WarmUp() {
    const size_t passes = state ? static_cast<size_t>(kWarmup / replay.period()) + 1 : 1;
    std::string error;
    size_t spans = 0;
    for (size_t i = 0; i < passes * batches.payloads.size(); ++i) {
      const auto n = replay.Next(error);
      if (!n) return error;
      spans += *n;
    }
    if (spans != passes * batches.spans) return "parsed span count differs from the corpus";
    warm = true;
    return "";
  }

  std::shared_ptr<const Batches> owned;  // shared by a format's parse and pipeline rows
  const Batches& batches;
  std::unique_ptr<exporter::state::State> state;
  Replay replay;
  bool warm = false;
};

// One iteration is one batch; allocations are counted over the measured batches.
void Ingest(benchmark::State& bs, Ingestion& ingestion) {
  if (!ingestion.warm) {
    if (const std::string error = ingestion.WarmUp(); !error.empty()) {
      bs.SkipWithError(error.c_str());
      return;
    }
  }
  const Batches& batches = ingestion.batches;
  Replay& replay = ingestion.replay;
  std::string error;
  const uint64_t allocations = g_allocations.load();
  const uint64_t allocated = g_allocated_bytes.load();
  size_t spans = 0;
  for (auto _ : bs) {
    const auto n = replay.Next(error);
    if (!n) [[unlikely]] {
      bs.SkipWithError(error.c_str());
      return;
    }
    spans += *n;
  }
  const auto new_allocations = static_cast<double>(g_allocations.load() - allocations);
  const auto new_bytes = static_cast<double>(g_allocated_bytes.load() - allocated);

  bs.SetItemsProcessed(static_cast<int64_t>(spans));  // items_per_second = spans/s (CPU time)
  bs.SetBytesProcessed(
      static_cast<int64_t>(static_cast<double>(spans) / static_cast<double>(batches.spans) *
                           static_cast<double>(batches.bytes)));
  bs.counters["allocs_per_span"] = new_allocations / static_cast<double>(spans);
  bs.counters["alloc_bytes_per_span"] = new_bytes / static_cast<double>(spans);
  bs.counters["bytes_per_span"] =
      static_cast<double>(batches.bytes) / static_cast<double>(batches.spans);
  bs.counters["spans_per_batch"] =
      static_cast<double>(batches.spans) / static_cast<double>(batches.payloads.size());
}

// --- Memory per series -------------------------------------------------------------------------

// Service latencies: median 20 ms, p1..p99 spanning two decades (as in sketch_bench).
class Latencies {
 public:
  double Next() { return std::clamp(dist_(rng_), 50e-6, 60.0); }

 private:
  std::mt19937_64 rng_{42};
  std::lognormal_distribution<double> dist_{std::log(0.020), std::log(100.0) / (2 * 2.326)};
};

std::string Numbered(std::string_view prefix, int i) {
  return std::string(prefix) + std::to_string(i);
}

// Who the requests of series number i belong to.
struct SeriesNames {
  bool new_services;  // false: new operations of one service
  std::string Service(int i) const { return new_services ? Numbered("service-", i) : "service"; }
  std::string Operation(int i) const { return Numbered("/pkg.Service/Operation", i); }
  std::string Instance(int i) const { return Service(i) + "-7d9f8c6b5-x2k4q"; }
};

// Feeds series [first, first + count) with `rate` requests/s each over `duration`, each request
// a trace of one server span finished at once. Returns the time after the last request.
TimePoint Feed(exporter::state::State& state, const SeriesNames& names, int first, int count,
               double rate, common::Duration duration, TimePoint now, Latencies& latencies) {
  const auto step =
      std::chrono::duration_cast<common::Duration>(std::chrono::duration<double>(1 / rate));
  SpanBatch batch;
  uint64_t trace = static_cast<uint64_t>(first) << 32;
  for (const TimePoint end = now + duration; now < end; now += step) {
    batch.Clear();
    for (int i = first; i < first + count; ++i) {
      const double seconds = latencies.Next();
      exporter::spans::Span& span = batch.Add();
      span.trace_id = {.hi = 1, .lo = ++trace};
      span.span_id = trace;
      span.end_unix_nano = now.time_since_epoch().count();
      span.start_unix_nano = span.end_unix_nano - static_cast<int64_t>(seconds * 1e9);
      span.service = batch.Store(names.Service(i));
      span.operation = batch.Store(names.Operation(i));
      span.instance = batch.Store(names.Instance(i));
      span.k8s_namespace = batch.Store("hotel");
      span.kind = exporter::spans::SpanKind::kServer;
    }
    state.Add(batch, now);
    state.Flush(now);
  }
  return now;
}

// Live heap bytes per series once `count` series have taken traffic for `duration`: measured on a
// second set of `count` series, after a first set brought every shared buffer (trace slots, hash
// tables, batch arena) to its working size.
double StateBytesPerSeries(const SeriesNames& names, int count, double rate,
                           common::Duration duration) {
  Latencies latencies;
  exporter::state::State state({});
  TimePoint now = common::FakeClock().Now();
  now = Feed(state, names, 0, count, rate, duration, now, latencies);
  const int64_t before = g_live_bytes.load();
  Feed(state, names, count, count, rate, duration, now, latencies);
  return static_cast<double>(g_live_bytes.load() - before) / count;
}

// The same operation series held as prometheus-cpp metrics: request and error counters, duration
// and exclusive-time histograms on the same bounds, and a 60 s summary (p50/p95/p99) for the
// sliding-window quantiles, fed the same number of values.
double PrometheusCppBytesPerSeries(int count, int observations) {
  const exporter::state::StateOptions options;
  const prometheus::Histogram::BucketBoundaries bounds(options.bucket_bounds.begin(),
                                                       options.bucket_bounds.end());
  const prometheus::Summary::Quantiles quantiles = {{0.5, 0.05}, {0.95, 0.01}, {0.99, 0.001}};
  const SeriesNames names{.new_services = false};
  Latencies latencies;
  auto registry = std::make_unique<prometheus::Registry>();
  auto& requests = prometheus::BuildCounter().Name("requests_total").Register(*registry);
  auto& errors = prometheus::BuildCounter().Name("request_errors_total").Register(*registry);
  auto& duration = prometheus::BuildHistogram().Name("duration_seconds").Register(*registry);
  auto& exclusive = prometheus::BuildHistogram().Name("exclusive_seconds").Register(*registry);
  auto& window = prometheus::BuildSummary().Name("latency_seconds").Register(*registry);
  auto add = [&](int first) {
    for (int i = first; i < first + count; ++i) {
      const prometheus::Labels labels = {
          {"namespace", "hotel"}, {"service", names.Service(i)}, {"operation", names.Operation(i)}};
      auto& r = requests.Add(labels);
      errors.Add(labels);
      auto& d = duration.Add(labels, bounds);
      auto& e = exclusive.Add(labels, bounds);
      auto& w = window.Add(labels, quantiles,
                           std::chrono::duration_cast<std::chrono::milliseconds>(options.window),
                           options.window_buckets);
      for (int k = 0; k < observations; ++k) {
        const double v = latencies.Next();
        r.Increment();
        d.Observe(v);
        e.Observe(v);
        w.Observe(v);
      }
    }
  };
  add(0);
  const int64_t before = g_live_bytes.load();
  add(count);
  return static_cast<double>(g_live_bytes.load() - before) / count;
}

constexpr int kSeries = 1'000;
constexpr double kOperationRate = 10;  // requests/s per operation, over one 60 s window
constexpr int kServices = 100;
constexpr double kServiceRate = 2;  // requests/s per service, over the whole 1 h horizon

void SeriesMemory(benchmark::State& bs) {
  const exporter::state::StateOptions options;
  for (auto _ : bs) {
    const double operation = StateBytesPerSeries(SeriesNames{.new_services = false}, kSeries,
                                                 kOperationRate, options.window);
    const double service = StateBytesPerSeries(SeriesNames{.new_services = true}, kServices,
                                               kServiceRate, options.horizon);
    const double peer = PrometheusCppBytesPerSeries(
        kSeries, static_cast<int>(kOperationRate * common::ToSeconds(options.window)));
    bs.counters["operation_series_bytes"] = operation;
    bs.counters["service_series_bytes"] = service;  // with its one operation and instance
    bs.counters["prometheus_cpp_operation_series_bytes"] = peer;
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // The OTLP formats again with ot=th on every span ("<format>_sampled"): the cost of reading the
  // tracestate and weighing each request by its adjusted count.
  const std::pair<SpanFormat, std::string_view> cases[] = {
      {SpanFormat::kJaegerJson, {}},
      {SpanFormat::kOtlpJson, {}},
      {SpanFormat::kOtlpProto, {}},
      {SpanFormat::kOtlpJson, kSampledTraceState},
      {SpanFormat::kOtlpProto, kSampledTraceState}};
  for (const auto& [format, trace_state] : cases) {
    const auto batches = std::make_shared<const Batches>(MakeBatches(format, trace_state));
    const std::string name = std::string(exporter::spans::SpanFormatName(format)) +
                             (trace_state.empty() ? "" : "_sampled");
    const auto iterations =
        static_cast<benchmark::IterationCount>(kMeasuredPasses * batches->payloads.size());
    // Fixed iterations: no trial runs to size them, so the stream is the same in every run.
    for (const bool aggregate : {false, true}) {
      auto ingestion = std::make_shared<Ingestion>(batches, aggregate);
      benchmark::RegisterBenchmark(
          ((aggregate ? "ingest/pipeline/" : "ingest/parse/") + name).c_str(),
          [ingestion](benchmark::State& s) { Ingest(s, *ingestion); })
          ->Iterations(iterations)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  benchmark::RegisterBenchmark("memory/series", SeriesMemory)
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
