#include "exporter/state/state.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "tests/exporter/state/span_specs.h"

namespace exporter::state {
namespace {

using spans::SpanKind;
using std::chrono::milliseconds;
using std::chrono::seconds;

const StateSnapshot::Service* FindService(const StateSnapshot& snap, std::string_view name) {
  for (const auto& s : snap.services) {
    if (s.service == name) return &s;
  }
  return nullptr;
}

class StateTest : public ::testing::Test {
 protected:
  common::TimePoint now_{seconds{1'700'000'000}};
};

TEST_F(StateTest, CountsRequestsErrorsEdgesAndHistogramsExactly) {
  State state({});
  spans::SpanBatch batch;
  AddSpans(batch, {{1, 1, 0, "frontend", "GET /hotels", SpanKind::kServer, 0, 100, "fe-0"},
                   {1, 2, 1, "frontend", "search", SpanKind::kClient, 10, 60, "fe-0"},
                   {1, 3, 2, "search", "Nearby", SpanKind::kServer, 12, 58, "search-0", true},
                   {2, 1, 0, "frontend", "GET /hotels", SpanKind::kServer, 0, 3, "fe-1"}});
  state.Add(batch, now_);
  state.Flush(now_);
  const auto snap = state.Snapshot(now_);

  ASSERT_EQ(snap->operations.size(), 2u);
  const auto& fe = snap->operations[0];  // sorted: frontend before search
  EXPECT_EQ(fe.k8s_namespace, "shop");
  EXPECT_EQ(fe.service, "frontend");
  EXPECT_EQ(fe.operation, "GET /hotels");
  EXPECT_EQ(fe.requests, 2u);
  EXPECT_EQ(fe.errors, 0u);
  EXPECT_DOUBLE_EQ(fe.duration_sum, 0.103);
  EXPECT_DOUBLE_EQ(fe.exclusive_sum, 0.054 + 0.003);
  // Default bounds: 0.0005 0.001 0.0025 0.005 0.01 0.025 0.05 0.1 ... → 3 ms in le=0.005,
  // 100 ms in le=0.1 (le is inclusive).
  EXPECT_EQ(fe.duration_buckets[2], 0u);
  EXPECT_EQ(fe.duration_buckets[3], 1u);
  EXPECT_EQ(fe.duration_buckets[6], 1u);
  EXPECT_EQ(fe.duration_buckets[7], 2u);
  EXPECT_EQ(fe.duration_buckets.back(), 2u);

  const auto& search = snap->operations[1];
  EXPECT_EQ(search.requests, 1u);
  EXPECT_EQ(search.errors, 1u);
  EXPECT_DOUBLE_EQ(search.exclusive_sum, 0.046);

  ASSERT_EQ(snap->edges.size(), 1u);
  EXPECT_EQ(snap->edges[0].client, "frontend");
  EXPECT_EQ(snap->edges[0].server, "search");
  EXPECT_EQ(snap->edges[0].calls, 1u);

  ASSERT_EQ(snap->instances.size(), 3u);
  EXPECT_EQ(snap->instances[0].instance, "fe-0");
  EXPECT_EQ(snap->instances[0].requests, 1u);
  EXPECT_DOUBLE_EQ(snap->instances[0].exclusive_sum, 0.054);
  EXPECT_EQ(snap->stats.traces_finished, 2u);
}

TEST_F(StateTest, WaitsForLateSpansBeforeFinishingATrace) {
  State state(StateOptions{.traces = {.wait = seconds{2}}});
  spans::SpanBatch a, b;
  AddSpans(a, {{1, 1, 0, "frontend", "GET /", SpanKind::kServer, 0, 100}});
  AddSpans(b, {{1, 2, 1, "search", "Nearby", SpanKind::kServer, 10, 90}});
  state.Add(a, now_);
  state.Add(b, now_ + seconds{1});  // the downstream service's batch comes later
  EXPECT_EQ(state.Snapshot(now_ + seconds{1})->operations.size(), 0u);
  state.Advance(now_ + seconds{2});
  const auto snap = state.Snapshot(now_ + seconds{2});
  ASSERT_EQ(snap->operations.size(), 2u);
  EXPECT_DOUBLE_EQ(snap->operations[0].exclusive_sum, 0.020);
}

TEST_F(StateTest, LittlesLawGaugesOverTheWindow) {
  // 10 requests/s for 60 s, each 500 ms long with 300 ms in a downstream service: λ = 10,
  // L = λ·W = 5 in flight. Exclusive 200 ms for all but a fast fifth at 100 ms, so the
  // uncongested time (q10) is ~100 ms and the queue is λ·(mean − 0.1) = 10·(0.18 − 0.1) = 0.8.
  State state({});
  uint64_t trace = 0;
  for (int i = 0; i < 600; ++i) {
    spans::SpanBatch batch;
    ++trace;
    const int64_t downstream = (i % 5 == 0) ? 400 : 300;
    AddSpans(batch, {{trace, 1, 0, "api", "GET", SpanKind::kServer, 0, 500},
                     {trace, 2, 1, "db", "q", SpanKind::kServer, 100, 100 + downstream}});
    const common::TimePoint t = now_ + milliseconds{100 * i};
    state.Add(batch, t);
    state.Flush(t);
  }
  const common::TimePoint end = now_ + milliseconds{100 * 600};
  const auto snap = state.Snapshot(end);
  const auto* api = FindService(*snap, "api");
  ASSERT_NE(api, nullptr);
  EXPECT_NEAR(api->arrival_rate, 10.0, 0.3);
  EXPECT_NEAR(api->inflight, 5.0, 0.15);
  EXPECT_NEAR(api->mean_exclusive, 0.18, 0.002);
  EXPECT_NEAR(api->uncongested, 0.1, 0.1 * 0.011);
  EXPECT_NEAR(api->queue_length, 0.8, 0.05);
  EXPECT_NEAR(api->window_duration.p99, 0.5, 0.5 * 0.011);
}

TEST_F(StateTest, WindowForgetsOldTraffic) {
  State state({});
  spans::SpanBatch batch;
  AddSpans(batch, {{1, 1, 0, "api", "GET", SpanKind::kServer, 0, 10}});
  state.Add(batch, now_);
  state.Flush(now_);
  const auto later = state.Snapshot(now_ + seconds{120});
  const auto* api = FindService(*later, "api");
  ASSERT_NE(api, nullptr);
  EXPECT_EQ(api->requests, 1u);  // counters are cumulative
  EXPECT_EQ(api->window_requests, 0u);
  EXPECT_EQ(api->inflight, 0);
  EXPECT_TRUE(std::isnan(api->mean_exclusive));
}

TEST_F(StateTest, CardinalityCapFoldsNewSeriesIntoOverflow) {
  State state(StateOptions{.max_series = 3});
  spans::SpanBatch batch;
  for (uint64_t i = 1; i <= 10; ++i) {
    const std::string op = "op-" + std::to_string(i);
    AddSpans(batch, {{i, 1, 0, "api", op, SpanKind::kServer, 0, 10}});
  }
  state.Add(batch, now_);
  state.Flush(now_);
  const auto snap = state.Snapshot(now_);
  ASSERT_EQ(snap->operations.size(), 4u);  // 3 + the overflow series
  uint64_t total = 0;
  bool saw_overflow = false;
  for (const auto& o : snap->operations) {
    total += o.requests;
    if (o.operation == "__overflow__") {
      saw_overflow = true;
      EXPECT_EQ(o.requests, 7u);
    }
  }
  EXPECT_TRUE(saw_overflow);
  EXPECT_EQ(total, 10u);  // nothing is lost, only folded
  EXPECT_EQ(snap->stats.operations.overflowed, 7u);
}

TEST_F(StateTest, IdleSeriesExpireAndTheirStringsAreReclaimed) {
  State state(StateOptions{.series_idle = std::chrono::minutes{5}});
  for (int round = 0; round < 3; ++round) {
    spans::SpanBatch batch;
    for (uint64_t i = 1; i <= 100; ++i) {
      const std::string op = "op-" + std::to_string(round) + "-" + std::to_string(i);
      AddSpans(batch, {{i + 1000 * round, 1, 0, "api", op, SpanKind::kServer, 0, 10}});
    }
    const common::TimePoint t = now_ + std::chrono::minutes{10 * round};
    state.Add(batch, t);
    state.Flush(t);
    state.GarbageCollect(t);
    const auto snap = state.Snapshot(t);
    EXPECT_EQ(snap->operations.size(), 100u) << "round " << round;
    // api, shop, __overflow__, empty and this round's 100 names; older rounds are gone.
    EXPECT_LE(snap->stats.interned_strings, 104u) << "round " << round;
  }
}

TEST_F(StateTest, ASeriesThatExpiredStartsAgainWhenItsKeyReturns) {
  State state(StateOptions{.series_idle = std::chrono::minutes{5}});
  const auto feed = [&](uint64_t trace, const std::string& op, common::TimePoint t) {
    spans::SpanBatch batch;
    AddSpans(batch, {{trace, 1, 0, "api", op, SpanKind::kServer, 0, 10}});
    state.Add(batch, t);
    state.Flush(t);
  };
  const auto requests = [&](common::TimePoint t, const std::string& op) -> uint64_t {
    // Held: a range-for over a temporary's member would outlive the temporary.
    const auto snapshot = state.Snapshot(t);
    for (const auto& o : snapshot->operations) {
      if (o.operation == op) return o.requests;
    }
    return 0;
  };
  feed(1, "kept", now_);
  feed(2, "kept", now_);
  feed(3, "expires", now_);
  const common::TimePoint later = now_ + std::chrono::minutes{10};
  feed(4, "kept", later);
  state.GarbageCollect(later);
  EXPECT_EQ(requests(later, "expires"), 0u);
  feed(5, "expires", later);
  feed(6, "kept", later);
  EXPECT_EQ(requests(later, "expires"), 1u);  // a new series, not the expired one
  EXPECT_EQ(requests(later, "kept"), 4u);
}

TEST_F(StateTest, NamesFoldedIntoOverflowAreFreedWhenTheirTraceIsFinished) {
  State state(StateOptions{.max_series = 10});
  for (int round = 0; round < 10; ++round) {
    spans::SpanBatch batch;
    for (uint64_t i = 0; i < 1'000; ++i) {
      const std::string op = "unique-" + std::to_string(round) + "-" + std::to_string(i);
      AddSpans(batch, {{round * 1'000 + i + 1, 1, 0, "api", op, SpanKind::kServer, 0, 10}});
    }
    state.Add(batch, now_);
    // Buffered spans hold their names until their trace is analysed.
    EXPECT_GE(state.Snapshot(now_)->stats.interned_strings, 1'000u);
    state.Flush(now_);
    const auto snap = state.Snapshot(now_);
    // No garbage collection ran: only the 10 series' names remain (plus the empty string, api,
    // shop and __overflow__).
    EXPECT_EQ(snap->stats.interned_strings, 14u) << "round " << round;
    EXPECT_EQ(snap->stats.operations.series, 11u);  // 10 and __overflow__
  }
  EXPECT_EQ(state.Snapshot(now_)->stats.operations.overflowed, 9'990u);
}

TEST_F(StateTest, SpansBeyondThePerTraceCapDoNotKeepTheirNames) {
  State state(StateOptions{.traces = {.max_spans_per_trace = 1}, .max_series = 10});
  spans::SpanBatch batch;
  AddSpans(batch, {{1, 1, 0, "api", "root", SpanKind::kServer, 0, 10},
                   {1, 2, 1, "db", "dropped-by-the-cap", SpanKind::kServer, 1, 2, "db-0"}});
  state.Add(batch, now_);
  // The empty string, api, shop, __overflow__ and root: the dropped span's names are gone.
  EXPECT_EQ(state.Snapshot(now_)->stats.interned_strings, 5u);
  EXPECT_EQ(state.Snapshot(now_)->stats.spans_dropped_trace_cap, 1u);
}

TEST_F(StateTest, AHostileNameCostsOnlyItsCutLengthOnceExpired) {
  State state(StateOptions{.series_idle = std::chrono::minutes{5}});
  const std::string long_name(256, 'x');
  spans::SpanBatch batch;
  AddSpans(batch, {{1, 1, 0, long_name, long_name, SpanKind::kServer, 0, 10, long_name}});
  state.Add(batch, now_);
  state.Flush(now_);
  EXPECT_EQ(state.Snapshot(now_)->stats.interned_bytes,
            long_name.size() + std::string_view("shop__overflow__").size());
  const common::TimePoint later = now_ + std::chrono::minutes{6};
  state.GarbageCollect(later);
  const auto snap = state.Snapshot(later);
  EXPECT_EQ(snap->services.size(), 0u);
  EXPECT_EQ(snap->stats.interned_strings, 2u);  // the empty string and __overflow__
  EXPECT_EQ(snap->stats.interned_bytes, std::string_view("__overflow__").size());
}

}  // namespace
}  // namespace exporter::state
