// Latency sketch against the prometheus-cpp peers (performance.md G4): insert cost, window
// query cost and memory per 60 s window, on the same lognormal latencies.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <prometheus/histogram.h>
#include <prometheus/summary.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <new>
#include <random>
#include <vector>

#include "common/clock.h"
#include "common/sketch.h"
#include "tests/support/fake_clock.h"

// Live heap bytes, counted by replacing the global allocator, so that prometheus-cpp's memory
// can be measured from outside. malloc_usable_size is what each block really costs.
namespace {
std::atomic<size_t> g_heap_bytes{0};
}  // namespace

// Not inlined: GCC would otherwise pair the inlined malloc/free with `new`/`delete` at call
// sites and warn about a mismatch.
[[gnu::noinline]] void* operator new(size_t size) {
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  g_heap_bytes.fetch_add(malloc_usable_size(p), std::memory_order_relaxed);
  return p;
}
[[gnu::noinline]] void operator delete(void* p) noexcept {
  if (p == nullptr) return;
  g_heap_bytes.fetch_sub(malloc_usable_size(p), std::memory_order_relaxed);
  std::free(p);
}
void* operator new[](size_t size) { return operator new(size); }
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, size_t) noexcept { operator delete(p); }
void operator delete[](void* p, size_t) noexcept { operator delete(p); }

namespace {

using common::FakeClock;
using common::LatencySketch;
using common::WindowedSketch;
using std::chrono::seconds;

constexpr size_t kValues = 1 << 16;  // a power of two: the index wraps with a mask
constexpr int kRequestsPerSecond = 200;

// Service latencies: median 20 ms, p1..p99 spanning two decades, inside [50 us, 60 s].
const std::vector<double>& Latencies() {
  static const std::vector<double> values = [] {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> dist(std::log(0.020), std::log(100.0) / (2 * 2.326));
    std::vector<double> v(kValues);
    for (double& x : v) x = std::clamp(dist(rng), 50e-6, 60.0);
    return v;
  }();
  return values;
}

const prometheus::Summary::Quantiles kSummaryQuantiles = {{0.5, 0.05}, {0.95, 0.01}, {0.99, 0.001}};

// 16 buckets from 100 us to ~3.3 s, doubling.
prometheus::Histogram::BucketBoundaries SixteenBuckets() {
  prometheus::Histogram::BucketBoundaries bounds;
  for (int i = 0; i < 16; ++i) bounds.push_back(100e-6 * std::pow(2.0, i));
  return bounds;
}

void BM_Insert_LatencySketch(benchmark::State& state) {
  const std::vector<double>& v = Latencies();
  LatencySketch sketch;
  size_t i = 0;
  for (auto _ : state) sketch.Add(v[i++ & (kValues - 1)]);
  benchmark::DoNotOptimize(sketch.count());
}
BENCHMARK(BM_Insert_LatencySketch);

// The path the exporter takes: find the sub-window for `now`, then add.
void BM_Insert_WindowedSketch(benchmark::State& state) {
  const std::vector<double>& v = Latencies();
  WindowedSketch window(seconds{60}, 4);
  FakeClock clock;
  size_t i = 0;
  for (auto _ : state) {
    window.At(clock.Now()).Add(v[i++ & (kValues - 1)]);
    clock.Advance(std::chrono::microseconds{50});  // rotates every 300k inserts
  }
}
BENCHMARK(BM_Insert_WindowedSketch);

void BM_Insert_PromSummary(benchmark::State& state) {
  const std::vector<double>& v = Latencies();
  prometheus::Summary summary(kSummaryQuantiles, seconds{60}, 5);
  size_t i = 0;
  for (auto _ : state) summary.Observe(v[i++ & (kValues - 1)]);
}
BENCHMARK(BM_Insert_PromSummary);

void BM_Insert_PromHistogram16(benchmark::State& state) {
  const std::vector<double>& v = Latencies();
  prometheus::Histogram histogram(SixteenBuckets());
  size_t i = 0;
  for (auto _ : state) histogram.Observe(v[i++ & (kValues - 1)]);
}
BENCHMARK(BM_Insert_PromHistogram16);

// A warm 60 s window: 4 full 15 s sub-windows at 200 requests/s.
WindowedSketch FullWindow(FakeClock& clock) {
  const std::vector<double>& v = Latencies();
  WindowedSketch window(seconds{60}, 4);
  for (int i = 0; i < 60 * kRequestsPerSecond; ++i) {
    window.At(clock.Now()).Add(v[static_cast<size_t>(i) & (kValues - 1)]);
    clock.Advance(std::chrono::milliseconds{1000 / kRequestsPerSecond});
  }
  return window;
}

void BM_Query_WindowP99(benchmark::State& state) {
  FakeClock clock;
  const WindowedSketch window = FullWindow(clock);
  LatencySketch scratch;
  for (auto _ : state) {
    benchmark::DoNotOptimize(common::WindowQuantile(window, clock.Now(), 0.99, scratch));
  }
}
BENCHMARK(BM_Query_WindowP99);

// p50, p95 and p99 from one merge: what a scrape does per series.
void BM_Query_WindowThreeQuantiles(benchmark::State& state) {
  FakeClock clock;
  const WindowedSketch window = FullWindow(clock);
  LatencySketch scratch;
  for (auto _ : state) {
    common::MergeWindow(window, clock.Now(), scratch);
    for (double q : {0.5, 0.95, 0.99}) benchmark::DoNotOptimize(scratch.Quantile(q));
  }
}
BENCHMARK(BM_Query_WindowThreeQuantiles);

void BM_Query_PromSummaryCollect(benchmark::State& state) {
  const std::vector<double>& v = Latencies();
  prometheus::Summary summary(kSummaryQuantiles, seconds{60}, 5);
  for (int i = 0; i < 60 * kRequestsPerSecond; ++i) {
    summary.Observe(v[static_cast<size_t>(i) & (kValues - 1)]);
  }
  for (auto _ : state) benchmark::DoNotOptimize(summary.Collect());
}
BENCHMARK(BM_Query_PromSummaryCollect);

// One sub-window merged into a scratch sketch (the window roll-up step; goal <= 1 us).
void BM_Merge_SubWindow(benchmark::State& state) {
  const std::vector<double>& v = Latencies();
  LatencySketch sub;
  for (int i = 0; i < 15 * kRequestsPerSecond; ++i) sub.Add(v[static_cast<size_t>(i)]);
  LatencySketch scratch;
  scratch.Merge(sub);
  for (auto _ : state) {
    scratch.Reset();
    scratch.Merge(sub);
  }
  state.counters["sub_window_bytes"] = static_cast<double>(sub.MemoryBytes());
}
BENCHMARK(BM_Merge_SubWindow);

// Memory for one series' 60 s of latencies after the same traffic, as counters.
void BM_Memory60sWindow(benchmark::State& state) {
  const std::vector<double>& v = Latencies();
  const int observations = 60 * kRequestsPerSecond;
  for (auto _ : state) {
    const size_t base = g_heap_bytes.load();
    {
      FakeClock clock;
      const WindowedSketch window = FullWindow(clock);
      state.counters["sketch_window_bytes"] =
          static_cast<double>(g_heap_bytes.load() - base + sizeof(WindowedSketch));
      state.counters["sketch_window_MemoryBytes"] = static_cast<double>(window.MemoryBytes());
    }
    {
      auto summary = std::make_unique<prometheus::Summary>(kSummaryQuantiles, seconds{60}, 5);
      for (int i = 0; i < observations; ++i) summary->Observe(v[static_cast<size_t>(i)]);
      state.counters["prom_summary_bytes"] = static_cast<double>(g_heap_bytes.load() - base);
    }
    {
      auto histogram = std::make_unique<prometheus::Histogram>(SixteenBuckets());
      for (int i = 0; i < observations; ++i) histogram->Observe(v[static_cast<size_t>(i)]);
      state.counters["prom_histogram16_bytes"] = static_cast<double>(g_heap_bytes.load() - base);
    }
  }
}
BENCHMARK(BM_Memory60sWindow)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
