#include "sim/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>
#include <vector>

#include "sim/random.h"

namespace sim {
namespace {

// Times on a coarse grid, so many events share a time and the push order must break ties. With
// `in_order`, a share of the pushes go to the FIFO lane a fixed delay after now, as calls do.
void CheckAgainstSortedReference(bool in_order) {
  EventQueue queue;
  std::vector<EventQueue::Event> pending;  // the reference: sorted on every pop
  Rng rng(7);
  uint64_t seq = 0;
  double now = 0;
  for (int step = 0; step < 20'000; ++step) {
    if (pending.empty() || rng.Uniform() < 0.55) {
      const bool lane = in_order && rng.Uniform() < 0.6;
      const double time = now + (lane ? 0.5 : static_cast<double>(rng.Next() % 16) * 0.25);
      const auto id = static_cast<uint32_t>(step);
      if (lane) {
        queue.PushInOrder(time, /*kind=*/step % 3, id);
      } else {
        queue.Push(time, /*kind=*/step % 3, id);
      }
      pending.push_back({time, seq++, static_cast<uint32_t>(step % 3), id});
    } else {
      const auto first = std::min_element(pending.begin(), pending.end(), [](auto& a, auto& b) {
        return std::tie(a.time, a.seq) < std::tie(b.time, b.seq);
      });
      ASSERT_EQ(queue.size(), pending.size());
      ASSERT_EQ(queue.top().id, first->id);
      const EventQueue::Event e = queue.Pop();
      EXPECT_EQ(e.time, first->time);
      EXPECT_EQ(e.seq, first->seq);
      EXPECT_EQ(e.kind, first->kind);
      EXPECT_EQ(e.id, first->id);
      now = e.time;
      pending.erase(first);
    }
  }
  while (!pending.empty()) {
    const auto first = std::min_element(pending.begin(), pending.end(), [](auto& a, auto& b) {
      return std::tie(a.time, a.seq) < std::tie(b.time, b.seq);
    });
    EXPECT_EQ(queue.Pop().id, first->id);
    pending.erase(first);
  }
  EXPECT_TRUE(queue.empty());
}

TEST(EventQueueTest, PopsByTimeThenPushOrderUnderInterleavedPushesAndPops) {
  CheckAgainstSortedReference(/*in_order=*/false);
}

TEST(EventQueueTest, InOrderLaneKeepsTheOrderOfOneHeap) {
  CheckAgainstSortedReference(/*in_order=*/true);
}

}  // namespace
}  // namespace sim
