#include "exporter/state/trace_buffer.h"

#include <algorithm>
#include <bit>
#include <random>

namespace exporter::state {

TraceBuffer::TraceBuffer(TraceBufferOptions options)
    : options_(options), seed_(std::random_device{}() | 1) {
  if (options_.max_traces == 0) options_.max_traces = 1;
  // Load factor at most 1/2 keeps linear probes short.
  max_index_ = std::bit_ceil(options_.max_traces * 2);
  const size_t index_size = std::min(max_index_, kInitialIndex);
  index_.assign(index_size, kEmpty);
  index_mask_ = index_size - 1;
  fifo_.assign(options_.max_traces, 0);
  slots_.reserve(options_.max_traces);
  ring_.resize(kMinRing);
  previous_.resize(kMinRing);
}

size_t TraceBuffer::Hash(const spans::TraceId& id) const {
  // Multiply-xorshift with a per-process seed: trace ids come from clients, so keep an adversary
  // from picking ids that collide.
  uint64_t h = (id.lo ^ seed_) * 0x9e3779b97f4a7c15ull;
  h ^= (id.hi + seed_) * 0xc2b2ae3d27d4eb4full;
  h ^= h >> 29;
  return static_cast<size_t>(h);
}

size_t TraceBuffer::Probe(const spans::TraceId& id) const {
  size_t pos = Hash(id) & index_mask_;
  while (index_[pos] != kEmpty && !(slots_[index_[pos]].id == id)) pos = (pos + 1) & index_mask_;
  return pos;
}

void TraceBuffer::EraseIndex(size_t pos) {
  // Backward-shift deletion: no tombstones, so probe lengths do not degrade over time.
  index_[pos] = kEmpty;
  size_t hole = pos;
  size_t next = (pos + 1) & index_mask_;
  while (index_[next] != kEmpty) {
    const size_t home = Hash(slots_[index_[next]].id) & index_mask_;
    // Move the entry into the hole unless its home lies cyclically in (hole, next].
    const bool stays = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next);
    if (!stays) {
      index_[hole] = index_[next];
      index_[next] = kEmpty;
      hole = next;
    }
    next = (next + 1) & index_mask_;
  }
}

void TraceBuffer::GrowIndex() {
  const size_t size = std::min(max_index_, index_.size() * 2);
  index_.assign(size, kEmpty);
  index_mask_ = size - 1;
  for (size_t k = 0; k < live_; ++k) {
    const uint32_t slot_no = fifo_[(fifo_head_ + k) % fifo_.size()];
    size_t pos = Hash(slots_[slot_no].id) & index_mask_;
    while (index_[pos] != kEmpty) pos = (pos + 1) & index_mask_;
    index_[pos] = slot_no;
  }
}

uint32_t TraceBuffer::TakeSlot(const spans::TraceId& id, common::TimePoint now) {
  uint32_t slot_no;
  if (!free_slots_.empty()) {
    slot_no = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot_no = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  // The trace's first span, if it gets one, takes the next position; a trace whose spans were
  // all dropped thus still marks where the region starts while it is the oldest.
  slots_[slot_no] = {.id = id, .first_seen = now, .first = ring_end_};
  fifo_[(fifo_head_ + live_) % fifo_.size()] = slot_no;
  ++live_;
  return slot_no;
}

void TraceBuffer::Append(Slot& slot, const SpanRecord& span) {
  if (ring_end_ - ring_begin_ == ring_.size()) ResizeRing(ring_.size() * 2);
  const uint64_t position = ring_end_++;
  ring_[RingIndex(position)].span = span;
  previous_[RingIndex(position)] = slot.last;
  if (slot.count == 0) slot.first = position;
  if (slot.count < kInline) slot.offset[slot.count] = static_cast<uint32_t>(position - slot.first);
  slot.last = position;
  ++slot.count;
  ++span_count_;
}

void TraceBuffer::ResizeRing(size_t size) {
  std::vector<Entry> ring(size);
  std::vector<uint64_t> previous(size);
  for (uint64_t p = ring_begin_; p < ring_end_; ++p) {
    ring[p & (size - 1)] = ring_[RingIndex(p)];
    previous[p & (size - 1)] = previous_[RingIndex(p)];
  }
  ring_.swap(ring);
  previous_.swap(previous);
}

void TraceBuffer::TakeOldest() {
  const uint32_t slot_no = fifo_[fifo_head_];
  fifo_head_ = (fifo_head_ + 1) % fifo_.size();
  const Slot& slot = slots_[slot_no];
  EraseIndex(Probe(slot.id));
  --live_;
  span_count_ -= slot.count;
  gathered_.resize(slot.count);
  const size_t inline_count = std::min<size_t>(slot.count, kInline);
  for (size_t k = 0; k < inline_count; ++k) {
    gathered_[k] = ring_[RingIndex(slot.first + slot.offset[k])].span;
  }
  uint64_t position = slot.last;
  for (size_t k = slot.count; k-- > inline_count;) {
    gathered_[k] = ring_[RingIndex(position)].span;
    position = previous_[RingIndex(position)];
  }
  free_slots_.push_back(slot_no);
  if (live_ == 0) {
    ring_begin_ = ring_end_;
  } else {
    // The next trace to finish was written seconds ago and has left the cache: fetch its spans
    // now, while this one is analysed.
    const Slot& next = slots_[fifo_[fifo_head_]];
    ring_begin_ = next.first;
    for (size_t k = 0; k < std::min<size_t>(next.count, kInline); ++k) {
      __builtin_prefetch(&ring_[RingIndex(next.first + next.offset[k])]);
    }
  }
  const size_t region = ring_end_ - ring_begin_;
  if (ring_.size() > kMinRing && region * 4 <= ring_.size()) {
    ResizeRing(std::max(kMinRing, std::bit_ceil(std::max<size_t>(region, 1) * 2)));
  }
}

}  // namespace exporter::state
