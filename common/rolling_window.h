#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/clock.h"

namespace common {

// A sliding window of `buckets` equal sub-windows covering `window`, rotated by injected time.
//
// Sub-windows are aligned to multiples of window/buckets since the epoch, so every window with
// the same geometry rotates at the same instants. Slot k holds the sub-window whose epoch number
// is congruent to k; only the newest `buckets` epochs are ever live. Time that goes backwards is
// treated as the newest epoch, so late callers write into the current sub-window.
//
// Bucket must be copy-constructible and have void Reset(). Nothing allocates after construction
// unless Bucket::Reset() or the caller's use of the bucket does.
template <typename Bucket>
class RollingWindow {
 public:
  RollingWindow(Duration window, int buckets, const Bucket& prototype = Bucket{})
      : width_(window / buckets), slots_(static_cast<size_t>(buckets), prototype) {
    assert(buckets > 0 && width_ > Duration::zero());
  }

  // The bucket for `now`; buckets that fell out of the window are Reset() first.
  Bucket& At(TimePoint now) {
    // Almost every call lands in the current sub-window (or before it): no division needed.
    if (now >= head_end_) [[unlikely]] {
      Advance(now);
    }
    return slots_[head_slot_];
  }

  // Calls fn(const Bucket&) for each sub-window inside the window that ends at `now`, oldest
  // first. Read-only: sub-windows that rotation would have reset are skipped instead.
  template <class Fn>
  void ForEach(TimePoint now, Fn&& fn) const {
    if (!started_) return;
    const int64_t oldest = std::max(EpochOf(now), head_) - Size() + 1;
    for (int64_t e = oldest; e <= head_; ++e) fn(slots_[SlotOf(e)]);
  }

  // How much time the live sub-windows span at `now`: the full older sub-windows plus the elapsed
  // part of the current one, and never more than has passed since the first At(). This is the
  // rate denominator: dividing by the nominal window would under-count by up to one sub-window.
  Duration Covered(TimePoint now) const {
    if (!started_) return Duration::zero();
    const int64_t newest = std::max(EpochOf(now), head_);
    const Duration into_current =
        std::max(Duration::zero(), now - TimePoint{Duration{newest * width_.count()}});
    const Duration live = width_ * (Size() - 1) + into_current;
    return std::clamp(now - first_, Duration::zero(), live);
  }

  Duration window() const { return width_ * Size(); }
  Duration bucket_width() const { return width_; }

  // Heap and inline bytes; needs Bucket::MemoryBytes() (including the bucket's own sizeof).
  size_t MemoryBytes() const {
    size_t bytes = sizeof(*this) + (slots_.capacity() - slots_.size()) * sizeof(Bucket);
    for (const Bucket& b : slots_) bytes += b.MemoryBytes();
    return bytes;
  }

 private:
  int64_t Size() const { return static_cast<int64_t>(slots_.size()); }

  void Advance(TimePoint now) {
    const int64_t epoch = EpochOf(now);
    if (!started_) {
      started_ = true;
      first_ = now;
    } else {
      // A jump of more than a whole window only needs each slot cleared once.
      const int64_t steps = std::min<int64_t>(epoch - head_, Size());
      for (int64_t e = epoch - steps + 1; e <= epoch; ++e) slots_[SlotOf(e)].Reset();
    }
    head_ = epoch;
    head_slot_ = SlotOf(epoch);
    head_end_ = TimePoint{Duration{(epoch + 1) * width_.count()}};
  }

  // Floor division, so instants before the epoch still map to increasing epoch numbers.
  int64_t EpochOf(TimePoint t) const {
    const int64_t ns = t.time_since_epoch().count();
    const int64_t w = width_.count();
    return ns / w - (ns % w < 0 ? 1 : 0);
  }

  size_t SlotOf(int64_t epoch) const {
    const int64_t m = epoch % Size();
    return static_cast<size_t>(m < 0 ? m + Size() : m);
  }

  Duration width_;
  std::vector<Bucket> slots_;
  bool started_ = false;
  TimePoint first_{};
  int64_t head_ = 0;  // newest epoch handed out by At()
  size_t head_slot_ = 0;
  TimePoint head_end_ = TimePoint::min();  // end of epoch head_; min() until the first At()
};

}  // namespace common
