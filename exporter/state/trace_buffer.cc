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
  Slot& slot = slots_[slot_no];
  slot.id = id;
  slot.first_seen = now;
  fifo_[(fifo_head_ + live_) % fifo_.size()] = slot_no;
  ++live_;
  return slot_no;
}

}  // namespace exporter::state
