#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "common/clock.h"
#include "exporter/spans/span.h"

namespace exporter::state {

// A span reduced to what trace analysis needs, with its strings interned.
struct SpanRecord {
  uint64_t span_id = 0;
  uint64_t parent_span_id = 0;
  int64_t start_unix_nano = 0;
  int64_t end_unix_nano = 0;
  uint32_t service = 0;
  uint32_t operation = 0;
  uint32_t instance = 0;
  uint32_t k8s_namespace = 0;
  double adjusted_count = 0;  // as the span declared it (spans::Span)
  spans::SpanKind kind = spans::SpanKind::kUnspecified;
  bool error = false;
  spans::SamplingMethod sampling_method = spans::SamplingMethod::kNone;
};

struct TraceBufferOptions {
  common::Duration wait = std::chrono::seconds{5};  // how long a trace collects spans
  size_t max_traces = 200'000;                      // traces buffered at once
  size_t max_spans = 2'000'000;                     // spans buffered at once, all traces
  size_t max_spans_per_trace = 10'000;
};

// Collects the spans of each trace, which arrive in different batches from different services,
// until the trace has waited `wait` since its first span; then hands the trace out whole. Traces
// leave in arrival order. Caps are enforced by finishing the oldest traces early ("evicted").
//
// Spans are stored in one ring in arrival order; a trace is a fixed-size slot holding its id, the
// ring positions of its first kInline spans and of its last one, each span after the first
// kInline being linked to the previous one. Joining a span to its trace touches the index entry,
// the slot and the ring's write end (hot in cache), never storage of its own per trace. A
// finished trace's spans are gathered by their positions, which are known before any of them is
// read: the next trace's spans are fetched ahead while the current one is analysed. The ring
// holds every span from the oldest live trace's first on, finished traces' late spans in between
// included (at most twice max_spans, else the oldest traces are evicted), and shrinks again when
// that region does. Steady state allocates nothing. The index is open addressing and grows with
// the traces live at once (up to what max_traces needs) rather than starting at that size: a
// small index stays in cache, and each span's lookup is one access.
class TraceBuffer {
 public:
  explicit TraceBuffer(TraceBufferOptions options);

  // Returns false when the span was dropped because its trace is at max_spans_per_trace.
  template <typename Finish>
  bool Add(const spans::TraceId& trace_id, const SpanRecord& span, common::TimePoint now,
           Finish&& finish);

  // Finishes every trace whose wait is over, oldest first: finish(std::span<const SpanRecord>),
  // the trace's spans in arrival order.
  template <typename Finish>
  void FinishReady(common::TimePoint now, Finish&& finish);

  // Finishes every buffered trace (end of a replay file, shutdown).
  template <typename Finish>
  void FinishAll(Finish&& finish);

  size_t traces() const { return live_; }
  size_t spans() const { return span_count_; }
  uint64_t evicted_traces() const { return evicted_; }
  uint64_t dropped_spans() const { return dropped_spans_; }

  // Spans the ring and the gather buffer have room for. The ring grows by doubling while its
  // region (the oldest live trace's first span to the newest span) fills it and halves when the
  // region falls to a quarter, so after a burst it falls back to about what the live traces use.
  size_t capacity() const { return ring_.size() + gathered_.capacity(); }

 private:
  // Spans whose positions a slot holds; later ones are found through the links.
  static constexpr size_t kInline = 8;
  // One span per cache line.
  struct alignas(64) Entry {
    SpanRecord span;
  };
  struct Slot {
    spans::TraceId id;
    common::TimePoint first_seen;
    uint64_t first = 0;  // ring position of the first span
    uint64_t last = 0;   // ring position of the last span
    uint32_t count = 0;
    std::array<uint32_t, kInline> offset{};  // the first spans' positions after `first`
  };
  static constexpr uint32_t kEmpty = 0xffffffffu;
  static constexpr size_t kInitialIndex = 1024;
  static constexpr size_t kMinRing = 1024;
  static constexpr size_t kKeepGathered = 256;

  size_t Hash(const spans::TraceId& id) const;
  // Index position holding `id`, or the empty position where it would go.
  size_t Probe(const spans::TraceId& id) const;
  void EraseIndex(size_t pos);
  // Doubles the index and re-inserts the live traces.
  void GrowIndex();
  uint32_t TakeSlot(const spans::TraceId& id, common::TimePoint now);
  void Append(Slot& slot, const SpanRecord& span);
  // Moves the region [ring_begin_, ring_end_) into a ring of `size` entries (a power of two).
  void ResizeRing(size_t size);
  size_t RingIndex(uint64_t position) const { return position & (ring_.size() - 1); }
  // Copies the oldest trace's spans into gathered_, frees its slot and index entry, and starts
  // fetching the next oldest trace's spans.
  void TakeOldest();
  template <typename Finish>
  void FinishOldest(Finish& finish);

  TraceBufferOptions options_;
  uint64_t seed_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> index_;  // open addressing, linear probing; slot number or kEmpty
  size_t index_mask_;
  size_t max_index_;            // the size that holds max_traces at a load factor of 1/2
  std::vector<uint32_t> fifo_;  // ring of slot numbers in arrival order
  size_t fifo_head_ = 0;
  // Spans in arrival order; position p lives at ring_[RingIndex(p)], and the position of the
  // previous span of its trace at previous_[RingIndex(p)]. Positions from ring_begin_ (the oldest
  // live trace's first span) to ring_end_ are held.
  std::vector<Entry> ring_;
  std::vector<uint64_t> previous_;
  uint64_t ring_begin_ = 0;
  uint64_t ring_end_ = 0;
  std::vector<SpanRecord> gathered_;  // the trace being finished
  size_t live_ = 0;
  size_t span_count_ = 0;
  uint64_t evicted_ = 0;
  uint64_t dropped_spans_ = 0;
};

template <typename Finish>
bool TraceBuffer::Add(const spans::TraceId& trace_id, const SpanRecord& span, common::TimePoint now,
                      Finish&& finish) {
  size_t pos = Probe(trace_id);
  if (index_[pos] == kEmpty) {
    if (live_ >= options_.max_traces) {
      FinishOldest(finish);
      ++evicted_;
      pos = Probe(trace_id);
    } else if ((live_ + 1) * 2 > index_.size()) {
      GrowIndex();
      pos = Probe(trace_id);
    }
    index_[pos] = TakeSlot(trace_id, now);
  }
  const uint32_t slot_no = index_[pos];
  Slot& slot = slots_[slot_no];
  if (slot.count >= options_.max_spans_per_trace) {
    ++dropped_spans_;
    return false;
  }
  Append(slot, span);
  // Never evict the trace just added to: with max_spans reached, older traces go first. Late
  // spans of finished traces stay in the ring until the older live traces around them finish;
  // holding the ring's region to twice max_spans bounds them too.
  while ((span_count_ > options_.max_spans || ring_end_ - ring_begin_ > 2 * options_.max_spans) &&
         live_ > 1 && fifo_[fifo_head_] != slot_no) {
    FinishOldest(finish);
    ++evicted_;
  }
  return true;
}

template <typename Finish>
void TraceBuffer::FinishOldest(Finish& finish) {
  TakeOldest();
  finish(std::span<const SpanRecord>(gathered_));
  // Room for ordinary traces only: one huge trace pins nothing once finished.
  if (gathered_.capacity() > kKeepGathered) std::vector<SpanRecord>().swap(gathered_);
}

template <typename Finish>
void TraceBuffer::FinishReady(common::TimePoint now, Finish&& finish) {
  while (live_ > 0 && slots_[fifo_[fifo_head_]].first_seen + options_.wait <= now) {
    FinishOldest(finish);
  }
}

template <typename Finish>
void TraceBuffer::FinishAll(Finish&& finish) {
  while (live_ > 0) FinishOldest(finish);
}

}  // namespace exporter::state
