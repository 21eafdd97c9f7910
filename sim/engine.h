#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace sim {

// The pending events of a simulation, earliest first; events at the same time leave in the order
// they were pushed, so a run does not depend on how the heap breaks ties.
class EventQueue {
 public:
  struct Event {
    double time = 0;
    uint64_t seq = 0;
    uint32_t kind = 0;
    uint32_t id = 0;
  };

  void Push(double time, uint32_t kind, uint32_t id) {
    heap_.push_back({time, next_seq_++, kind, id});
    std::push_heap(heap_.begin(), heap_.end(), Later);
  }

  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Event& top() const { return heap_.front(); }

  Event Pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Later);
    const Event e = heap_.back();
    heap_.pop_back();
    return e;
  }

 private:
  static bool Later(const Event& a, const Event& b) {
    return a.time != b.time ? a.time > b.time : a.seq > b.seq;
  }

  std::vector<Event> heap_;
  uint64_t next_seq_ = 0;
};

}  // namespace sim
