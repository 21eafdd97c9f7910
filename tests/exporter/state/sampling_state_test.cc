#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "exporter/state/state.h"
#include "tests/exporter/state/span_specs.h"

namespace exporter::state {
namespace {

using spans::SamplingMethod;
using spans::SpanKind;
using std::chrono::seconds;

const common::TimePoint kNow{seconds{1'700'000'000}};

struct Sampled {
  uint64_t trace, id, parent;
  std::string_view service;
  SpanKind kind;
  int64_t start_ms, end_ms;
  spans::Sampling sampling = {};
  bool error = false;
};

spans::Sampling Th(std::string_view hex) { return spans::ParseThreshold(hex); }

void Add(State& state, const std::vector<Sampled>& specs) {
  spans::SpanBatch batch;
  for (const Sampled& s : specs) {
    const std::string instance = std::string(s.service) + "-0";
    AddSpans(batch, {{s.trace, s.id, s.parent, s.service, "op", s.kind, s.start_ms, s.end_ms,
                      instance, s.error, s.sampling}});
  }
  state.Add(batch, kNow);
  state.Flush(kNow);
}

template <typename T>
const T& Find(const std::vector<T>& v, std::string_view service) {
  for (const T& x : v) {
    if (x.service == service) return x;
  }
  ADD_FAILURE() << "no " << service;
  static const T kNone{};
  return kNone;
}

TEST(SamplingStateTest, EveryQuantityWeighsTheAdjustedCount) {
  State state({});
  // 25 % (th:c): each request stands for 4. One trace: front (40 ms) calls back (10 ms).
  Add(state, {{1, 1, 0, "front", SpanKind::kServer, 0, 40, Th("c"), true},
              {1, 2, 1, "front", SpanKind::kClient, 10, 20, Th("c")},
              {1, 3, 2, "back", SpanKind::kServer, 10, 20, Th("c")}});
  const auto snap = state.Snapshot(kNow);
  const auto& op = Find(snap->operations, "front");
  EXPECT_EQ(op.requests, 4.0);
  EXPECT_EQ(op.errors, 4.0);
  EXPECT_EQ(op.duration_buckets.back(), 4.0);
  EXPECT_DOUBLE_EQ(op.duration_sum, 4 * 0.040);
  EXPECT_DOUBLE_EQ(op.exclusive_sum, 4 * 0.030);
  EXPECT_EQ(op.window_requests, 4u);  // the sketch's weight

  const auto& front = Find(snap->services, "front");
  EXPECT_EQ(front.requests, 4.0);
  EXPECT_EQ(front.requests_sampled, 1u);
  EXPECT_EQ(front.window_requests, 4.0);
  EXPECT_EQ(front.window_sampled, 1u);
  EXPECT_EQ(front.sampling_probability, 0.25);
  EXPECT_EQ(front.sampling_method, SamplingMethod::kOtelThreshold);
  // The window's gauges equal those of four unsampled copies of the trace.
  State copies({});
  for (uint64_t t = 1; t <= 4; ++t) {
    Add(copies, {{t, 1, 0, "front", SpanKind::kServer, 0, 40, {}, true},
                 {t, 2, 1, "front", SpanKind::kClient, 10, 20},
                 {t, 3, 2, "back", SpanKind::kServer, 10, 20}});
  }
  const common::TimePoint later = kNow + seconds{10};
  const auto sampled_later = state.Snapshot(later);
  const auto copies_later = copies.Snapshot(later);
  for (const std::string_view name : {"front", "back"}) {
    const auto& a = Find(sampled_later->services, name);
    const auto& b = Find(copies_later->services, name);
    EXPECT_GT(a.arrival_rate, 0) << name;
    EXPECT_DOUBLE_EQ(a.arrival_rate, b.arrival_rate) << name;
    EXPECT_DOUBLE_EQ(a.inflight, b.inflight) << name;
    EXPECT_DOUBLE_EQ(a.queue_length, b.queue_length) << name;
    EXPECT_EQ(a.window_duration.p99, b.window_duration.p99) << name;
  }
  EXPECT_DOUBLE_EQ(front.mean_exclusive, 0.030);  // a mean: the weights cancel

  const auto& inst = Find(snap->instances, "back");
  EXPECT_EQ(inst.requests, 4.0);
  EXPECT_DOUBLE_EQ(inst.exclusive_sum, 4 * 0.010);
  ASSERT_EQ(snap->edges.size(), 1u);
  EXPECT_EQ(snap->edges[0].calls, 4.0);
}

TEST(SamplingStateTest, SpansThatSayNothingTakeTheRootsCount) {
  State state({});
  // Jaeger: only the root carries sampler tags; the child service's request takes them.
  Add(state, {{1, 1, 0, "front", SpanKind::kServer, 0, 40,
               spans::ParseJaegerSampler("probabilistic", 0.1)},
              {1, 2, 1, "back", SpanKind::kServer, 10, 20}});
  const auto snap = state.Snapshot(kNow);
  EXPECT_DOUBLE_EQ(Find(snap->services, "back").requests, 10.0);
  EXPECT_EQ(Find(snap->services, "back").sampling_method, SamplingMethod::kJaeger);
  EXPECT_DOUBLE_EQ(snap->edges[0].calls, 10.0);
}

TEST(SamplingStateTest, ASpansOwnCountWinsOverTheRoots) {
  State state({});
  Add(state, {{1, 1, 0, "front", SpanKind::kServer, 0, 40, Th("8")},
              {1, 2, 1, "back", SpanKind::kServer, 10, 20, Th("c")}});
  const auto snap = state.Snapshot(kNow);
  EXPECT_EQ(Find(snap->services, "front").requests, 2.0);
  EXPECT_EQ(Find(snap->services, "back").requests, 4.0);
}

TEST(SamplingStateTest, DefaultProbabilityPerServiceAndFlag) {
  StateOptions o;
  o.sampling.default_probability = 0.5;
  o.sampling.service_probability = {{"back", 0.01}};
  State state(o);
  Add(state, {{1, 1, 0, "front", SpanKind::kServer, 0, 40},
              {2, 1, 0, "back", SpanKind::kServer, 0, 40},
              {3, 1, 0, "back", SpanKind::kServer, 0, 40, Th("0")}});  // declared 100 % wins
  const auto snap = state.Snapshot(kNow);
  EXPECT_EQ(Find(snap->services, "front").requests, 2.0);
  EXPECT_EQ(Find(snap->services, "front").sampling_method, SamplingMethod::kNone);
  EXPECT_DOUBLE_EQ(Find(snap->services, "back").requests, 100.0 + 1.0);
  EXPECT_EQ(Find(snap->services, "back").requests_sampled, 2u);
  EXPECT_DOUBLE_EQ(Find(snap->services, "back").sampling_probability, 2 / 101.0);
}

TEST(SamplingStateTest, UnknownCountsOnceOrAsTheDefaultAndIsCounted) {
  const std::vector<Sampled> spans = {
      {1, 1, 0, "front", SpanKind::kServer, 0, 40, spans::ParseJaegerSampler("ratelimiting", 2)},
      {2, 1, 0, "front", SpanKind::kServer, 0, 40, Th("xyz")},
      {3, 1, 0, "front", SpanKind::kServer, 0, 40, Th("8")}};
  for (const bool use_default : {false, true}) {
    StateOptions o;
    o.sampling.default_probability = 0.2;
    o.sampling.unknown_use_default = use_default;
    State state(o);
    Add(state, spans);
    const auto snap = state.Snapshot(kNow);
    const auto& front = Find(snap->services, "front");
    EXPECT_EQ(front.sampling_unknown, 2u);
    EXPECT_DOUBLE_EQ(front.requests, (use_default ? 2 * 5.0 : 2 * 1.0) + 2.0) << use_default;
  }
}

TEST(SamplingStateTest, QuantilesWeighMixedRates) {
  State state({});
  // Nine fast requests at 100 % and one slow one at 10 % (weight 10): the slow one is half of
  // the traffic, so the median is slow.
  std::vector<Sampled> spans;
  for (uint64_t t = 1; t <= 9; ++t) spans.push_back({t, 1, 0, "svc", SpanKind::kServer, 0, 1});
  spans.push_back({10, 1, 0, "svc", SpanKind::kServer, 0, 1000,
                   spans::ParseJaegerSampler("probabilistic", 0.1)});
  Add(state, spans);
  const auto snap = state.Snapshot(kNow);
  const auto& svc = Find(snap->services, "svc");
  EXPECT_NEAR(svc.window_duration.p95, 1.0, 0.02);
  EXPECT_NEAR(svc.window_duration.p50, 1.0, 0.02);
  EXPECT_EQ(svc.requests, 19.0);
}

}  // namespace
}  // namespace exporter::state
