#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sim {

// The pending events of a simulation, earliest first; events at the same time leave in the order
// they were pushed, so a run does not depend on how the heap breaks ties.
//
// A 4-ary min-heap on (time, seq): half the levels of a binary heap, and the four children of a
// node share a cache line or two, so a pop touches fewer lines. (time, seq) orders events totally,
// so any correct heap pops the same sequence.
//
// Beside the heap, a FIFO lane takes the events pushed in time order (PushInOrder), such as those
// a fixed delay after now: most of a run's events are calls and replies one network delay ahead.
// They cost O(1) each way and leave the heap small; a pop takes the earlier of the two fronts by
// (time, seq), so the order is the same as with one heap.
class EventQueue {
 public:
  struct Event {
    double time = 0;
    uint64_t seq = 0;
    uint32_t kind = 0;
    uint32_t id = 0;
  };

  void Push(double time, uint32_t kind, uint32_t id) {
    const Event e{time, next_seq_++, kind, id};
    size_t hole = heap_.size();
    heap_.push_back(e);
    while (hole > 0) {
      const size_t parent = (hole - 1) / kArity;
      if (!Before(e, heap_[parent])) break;
      heap_[hole] = heap_[parent];
      hole = parent;
    }
    heap_[hole] = e;
  }

  // `time` must not be before the time of the previous PushInOrder.
  void PushInOrder(double time, uint32_t kind, uint32_t id) {
    assert(lane_size_ == 0 || LaneAt(lane_size_ - 1).time <= time);
    if (lane_size_ == lane_.size()) GrowLane();
    LaneAt(lane_size_++) = Event{time, next_seq_++, kind, id};
  }

  bool empty() const { return heap_.empty() && lane_size_ == 0; }
  size_t size() const { return heap_.size() + lane_size_; }
  const Event& top() const { return FromLane() ? lane_[lane_head_] : heap_.front(); }

  Event Pop() {
    if (FromLane()) {
      const Event e = lane_[lane_head_];
      lane_head_ = (lane_head_ + 1) & (lane_.size() - 1);
      --lane_size_;
      return e;
    }
    return PopHeap();
  }

 private:
  static constexpr size_t kArity = 4;

  static bool Before(const Event& a, const Event& b) {
    return a.time != b.time ? a.time < b.time : a.seq < b.seq;
  }

  bool FromLane() const {
    return lane_size_ > 0 && (heap_.empty() || Before(lane_[lane_head_], heap_.front()));
  }

  // The lane is a ring of a power-of-two size.
  Event& LaneAt(size_t i) { return lane_[(lane_head_ + i) & (lane_.size() - 1)]; }

  void GrowLane() {
    std::vector<Event> grown(lane_.empty() ? 64 : 2 * lane_.size());
    for (size_t i = 0; i < lane_size_; ++i) grown[i] = LaneAt(i);
    lane_ = std::move(grown);
    lane_head_ = 0;
  }

  Event PopHeap() {
    const Event top = heap_.front();
    const Event last = heap_.back();
    heap_.pop_back();
    const size_t n = heap_.size();
    if (n == 0) return top;
    // Sift the last event down from the root through the earliest child of each level.
    size_t hole = 0;
    for (;;) {
      const size_t first = hole * kArity + 1;
      if (first >= n) break;
      const size_t end = first + kArity < n ? first + kArity : n;
      size_t best = first;
      for (size_t c = first + 1; c < end; ++c) {
        if (Before(heap_[c], heap_[best])) best = c;
      }
      if (!Before(heap_[best], last)) break;
      heap_[hole] = heap_[best];
      hole = best;
    }
    heap_[hole] = last;
    return top;
  }

  std::vector<Event> heap_;
  std::vector<Event> lane_;
  size_t lane_head_ = 0;
  size_t lane_size_ = 0;
  uint64_t next_seq_ = 0;
};

}  // namespace sim
