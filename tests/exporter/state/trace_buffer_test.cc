#include "exporter/state/trace_buffer.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <vector>

namespace exporter::state {
namespace {

using std::chrono::seconds;

struct Collected {
  std::vector<std::vector<uint64_t>> traces;  // span ids per finished trace, in finish order
  auto Fn() {
    return [this](std::span<const SpanRecord> s) {
      auto& t = traces.emplace_back();
      for (const SpanRecord& r : s) t.push_back(r.span_id);
    };
  }
};

spans::TraceId Id(uint64_t n) { return {.hi = n * 7, .lo = n}; }
SpanRecord Span(uint64_t id) { return SpanRecord{.span_id = id}; }

TEST(TraceBufferTest, HoldsATraceForItsWaitThenHandsItOutWhole) {
  TraceBuffer buffer({.wait = seconds{5}});
  Collected done;
  const common::TimePoint t0{seconds{1000}};
  buffer.Add(Id(1), Span(11), t0, done.Fn());
  buffer.Add(Id(2), Span(21), t0 + seconds{1}, done.Fn());
  buffer.Add(Id(1), Span(12), t0 + seconds{4}, done.Fn());  // late span, same trace
  buffer.FinishReady(t0 + seconds{4}, done.Fn());
  EXPECT_TRUE(done.traces.empty());
  buffer.FinishReady(t0 + seconds{5}, done.Fn());
  ASSERT_EQ(done.traces.size(), 1u);
  EXPECT_EQ(done.traces[0], (std::vector<uint64_t>{11, 12}));
  EXPECT_EQ(buffer.traces(), 1u);
  buffer.FinishReady(t0 + seconds{6}, done.Fn());
  ASSERT_EQ(done.traces.size(), 2u);
  EXPECT_EQ(buffer.spans(), 0u);
  EXPECT_EQ(buffer.evicted_traces(), 0u);
}

TEST(TraceBufferTest, EvictsOldestWhenTraceCapIsReached) {
  TraceBuffer buffer({.wait = seconds{5}, .max_traces = 2});
  Collected done;
  const common::TimePoint t0{seconds{1000}};
  buffer.Add(Id(1), Span(1), t0, done.Fn());
  buffer.Add(Id(2), Span(2), t0, done.Fn());
  buffer.Add(Id(3), Span(3), t0, done.Fn());
  ASSERT_EQ(done.traces.size(), 1u);
  EXPECT_EQ(done.traces[0], std::vector<uint64_t>{1});
  EXPECT_EQ(buffer.evicted_traces(), 1u);
  EXPECT_EQ(buffer.traces(), 2u);
}

TEST(TraceBufferTest, EvictsOldestWhenSpanCapIsReachedButNeverTheTraceBeingAddedTo) {
  TraceBuffer buffer({.wait = seconds{5}, .max_spans = 3});
  Collected done;
  const common::TimePoint t0{seconds{1000}};
  buffer.Add(Id(1), Span(1), t0, done.Fn());
  buffer.Add(Id(1), Span(2), t0, done.Fn());
  buffer.Add(Id(2), Span(3), t0, done.Fn());
  buffer.Add(Id(2), Span(4), t0, done.Fn());  // 4 spans > 3: trace 1 goes
  ASSERT_EQ(done.traces.size(), 1u);
  EXPECT_EQ(done.traces[0], (std::vector<uint64_t>{1, 2}));
  buffer.Add(Id(2), Span(5), t0, done.Fn());  // only trace 2 left: it keeps growing
  EXPECT_EQ(buffer.spans(), 3u);
}

TEST(TraceBufferTest, EvictsOldestWhenLateSpansOfFinishedTracesFillTheRing) {
  TraceBuffer buffer({.wait = seconds{5}, .max_spans = 2});
  Collected done;
  const common::TimePoint t0{seconds{1000}};
  buffer.Add(Id(1), Span(1), t0, done.Fn());
  buffer.Add(Id(2), Span(2), t0 + seconds{1}, done.Fn());
  // Trace 1 is the oldest and the one added to: it keeps growing past max_spans.
  for (uint64_t s = 3; s <= 6; ++s) buffer.Add(Id(1), Span(s), t0 + seconds{2}, done.Fn());
  buffer.FinishReady(t0 + seconds{5}, done.Fn());
  ASSERT_EQ(done.traces.size(), 1u);
  EXPECT_EQ(done.traces[0], (std::vector<uint64_t>{1, 3, 4, 5, 6}));
  EXPECT_EQ(buffer.evicted_traces(), 0u);
  // Two live spans, but trace 1's four late ones still sit behind trace 2's: more than twice
  // max_spans held, so trace 2 goes early.
  buffer.Add(Id(3), Span(7), t0 + seconds{5}, done.Fn());
  ASSERT_EQ(done.traces.size(), 2u);
  EXPECT_EQ(done.traces[1], std::vector<uint64_t>{2});
  EXPECT_EQ(buffer.evicted_traces(), 1u);
  EXPECT_EQ(buffer.traces(), 1u);
}

TEST(TraceBufferTest, DropsSpansBeyondThePerTraceCap) {
  TraceBuffer buffer({.max_spans_per_trace = 2});
  Collected done;
  const common::TimePoint t0{seconds{1000}};
  EXPECT_TRUE(buffer.Add(Id(1), Span(1), t0, done.Fn()));
  EXPECT_TRUE(buffer.Add(Id(1), Span(2), t0, done.Fn()));
  EXPECT_FALSE(buffer.Add(Id(1), Span(3), t0, done.Fn()));
  EXPECT_EQ(buffer.dropped_spans(), 1u);
  buffer.FinishAll(done.Fn());
  ASSERT_EQ(done.traces.size(), 1u);
  EXPECT_EQ(done.traces[0].size(), 2u);
}

TEST(TraceBufferTest, RoomFallsBackAfterABurst) {
  TraceBuffer buffer({.max_traces = 1'000, .max_spans = 100'000});
  Collected done;
  const common::TimePoint t0{seconds{1000}};
  for (uint64_t t = 1; t <= 1'000; ++t) {
    for (uint64_t s = 1; s <= 20; ++s) buffer.Add(Id(t), Span(s), t0, done.Fn());
  }
  EXPECT_EQ(buffer.spans(), 20'000u);
  EXPECT_GE(buffer.capacity(), 20'000u);
  buffer.FinishAll(done.Fn());
  EXPECT_EQ(done.traces.size(), 1'000u);
  EXPECT_LT(buffer.capacity(), 20'000u / 8);

  // One huge trace keeps nothing once finished.
  TraceBuffer single({.max_spans = 100'000});
  for (uint64_t s = 1; s <= 5'000; ++s) single.Add(Id(1), Span(s), t0, done.Fn());
  EXPECT_GE(single.capacity(), 5'000u);
  single.FinishAll(done.Fn());
  EXPECT_EQ(done.traces.back().size(), 5'000u);
  EXPECT_LT(single.capacity(), 5'000u / 4);
}

TEST(TraceBufferTest, MatchesAReferenceModelUnderRandomChurn) {
  // Random adds and finishes exercise the open-addressing index (backward-shift deletion).
  TraceBuffer buffer({.wait = seconds{3}, .max_traces = 64});
  std::map<uint64_t, size_t> expected_sizes;  // live trace → span count
  std::mt19937_64 rng(42);
  size_t finished_spans = 0, added = 0;
  auto finish = [&](std::span<const SpanRecord> s) {
    ASSERT_FALSE(s.empty());
    const uint64_t trace = s[0].parent_span_id;  // trace number carried in the record
    ASSERT_EQ(expected_sizes.at(trace), s.size());
    for (size_t k = 1; k < s.size(); ++k) ASSERT_LT(s[k - 1].span_id, s[k].span_id);  // arrival
    expected_sizes.erase(trace);
    finished_spans += s.size();
  };
  common::TimePoint now{seconds{1}};
  for (int step = 0; step < 20'000; ++step) {
    const uint64_t trace = rng() % 200;
    SpanRecord r{.span_id = static_cast<uint64_t>(step + 1), .parent_span_id = trace};
    buffer.Add(Id(trace), r, now, finish);
    ++expected_sizes[trace];
    ++added;
    if (step % 10 == 0) {
      now += std::chrono::milliseconds{300};
      buffer.FinishReady(now, finish);
    }
    ASSERT_EQ(buffer.traces(), expected_sizes.size());
  }
  buffer.FinishAll(finish);
  EXPECT_TRUE(expected_sizes.empty());
  EXPECT_EQ(finished_spans, added);
}

TEST(TraceBufferTest, IndexGrowsWithTheLiveTracesAndFindsEachOneAfterwards) {
  // Far more live traces than the initial index holds: every growth re-inserts them all.
  TraceBuffer buffer({.wait = seconds{5}, .max_traces = 100'000});
  Collected done;
  const common::TimePoint t0{seconds{1000}};
  constexpr uint64_t kTraces = 20'000;
  for (uint64_t t = 1; t <= kTraces; ++t) buffer.Add(Id(t), Span(t), t0, done.Fn());
  // A second span for each, found through the grown index.
  for (uint64_t t = kTraces; t >= 1; --t) buffer.Add(Id(t), Span(t + kTraces), t0, done.Fn());
  EXPECT_EQ(buffer.traces(), kTraces);
  EXPECT_EQ(buffer.spans(), 2 * kTraces);
  buffer.FinishReady(t0 + seconds{5}, done.Fn());
  ASSERT_EQ(done.traces.size(), kTraces);
  for (uint64_t t = 1; t <= kTraces; ++t) {
    EXPECT_EQ(done.traces[t - 1], (std::vector<uint64_t>{t, t + kTraces})) << t;
  }
  EXPECT_EQ(buffer.evicted_traces(), 0u);
}

}  // namespace
}  // namespace exporter::state
