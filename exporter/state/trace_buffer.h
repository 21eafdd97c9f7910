#pragma once

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
// Steady state allocates nothing: slots keep their span vectors, the index is open addressing.
// The index grows with the traces live at once (up to what max_traces needs) rather than
// starting at that size: a small index stays in cache, and each span's lookup is one access.
class TraceBuffer {
 public:
  explicit TraceBuffer(TraceBufferOptions options);

  // Returns false when the span was dropped because its trace is at max_spans_per_trace.
  template <typename Finish>
  bool Add(const spans::TraceId& trace_id, const SpanRecord& span, common::TimePoint now,
           Finish&& finish);

  // Finishes every trace whose wait is over, oldest first: finish(std::span<const SpanRecord>).
  template <typename Finish>
  void FinishReady(common::TimePoint now, Finish&& finish);

  // Finishes every buffered trace (end of a replay file, shutdown).
  template <typename Finish>
  void FinishAll(Finish&& finish);

  size_t traces() const { return live_; }
  size_t spans() const { return span_count_; }
  uint64_t evicted_traces() const { return evicted_; }
  uint64_t dropped_spans() const { return dropped_spans_; }

  // SpanRecords the slots' vectors have room for, live traces and idle slots together. Idle slots
  // keep room only while this stays within max_spans, so after a burst of large traces it falls
  // back to about what the live traces use.
  size_t capacity() const { return capacity_; }

 private:
  struct Slot {
    spans::TraceId id;
    common::TimePoint first_seen;
    std::vector<SpanRecord> spans;
  };
  static constexpr uint32_t kEmpty = 0xffffffffu;
  static constexpr size_t kKeepCapacity = 256;
  static constexpr size_t kInitialIndex = 1024;

  size_t Hash(const spans::TraceId& id) const;
  // Index position holding `id`, or the empty position where it would go.
  size_t Probe(const spans::TraceId& id) const;
  void EraseIndex(size_t pos);
  // Doubles the index and re-inserts the live traces.
  void GrowIndex();
  uint32_t TakeSlot(const spans::TraceId& id, common::TimePoint now);
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
  size_t live_ = 0;
  size_t span_count_ = 0;
  uint64_t evicted_ = 0;
  uint64_t dropped_spans_ = 0;
  size_t capacity_ = 0;
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
  Slot& slot = slots_[index_[pos]];
  if (slot.spans.size() >= options_.max_spans_per_trace) {
    ++dropped_spans_;
    return false;
  }
  const size_t before = slot.spans.capacity();
  slot.spans.push_back(span);
  capacity_ += slot.spans.capacity() - before;
  ++span_count_;
  // Never evict the trace just added to: with max_spans reached, older traces go first.
  while (span_count_ > options_.max_spans && live_ > 1 && fifo_[fifo_head_] != index_[pos]) {
    FinishOldest(finish);
    ++evicted_;
    pos = Probe(trace_id);
  }
  return true;
}

template <typename Finish>
void TraceBuffer::FinishOldest(Finish& finish) {
  const uint32_t slot_no = fifo_[fifo_head_];
  fifo_head_ = (fifo_head_ + 1) % fifo_.size();
  Slot& slot = slots_[slot_no];
  EraseIndex(Probe(slot.id));
  --live_;
  span_count_ -= slot.spans.size();
  finish(std::span<const SpanRecord>(slot.spans));
  slot.spans.clear();
  // Keep capacity for ordinary traces only, and no more in all than a full buffer needs, so
  // neither one huge trace nor a burst of large ones pins memory in idle slots.
  if (slot.spans.capacity() > kKeepCapacity || capacity_ > options_.max_spans) {
    capacity_ -= slot.spans.capacity();
    std::vector<SpanRecord>().swap(slot.spans);
  }
  free_slots_.push_back(slot_no);
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
