#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>

#include "common/clock.h"
#include "common/rolling_window.h"

namespace common {

// Maps a positive value to a bucket index so that every value in bucket i lies within a relative
// distance alpha of Value(i) (DDSketch-style logarithmic buckets).
//
// log2 is approximated without calling log(): for v = 2^e * (1 + s) with s in [0, 1),
//   L(v) = e + P(s),   P(s) = A s^3 + B s^2 + C s,   A = 6/35, B = -3/5, C = 10/7,
// and Index(v) = ceil(L(v) * m). P(0) = 0 and P(1) = 1, so L is continuous across octaves, and
// P'(s) = (18 s^2 - 42 s + 50) / 35 >= 26/35 > 0, so L is strictly increasing.
//
// Why the error stays within alpha: inside an octave, dL / d(ln v) = g(s) = (1 + s) P'(s).
// g'(s) = (54 s^2 - 48 s + 8) / 35 = 2 (3s - 2)(9s - 2) / 35, so on [0, 1] the minimum of g is
// min(g(0), g(2/3)) = 10/7. Bucket i holds the values with L in ((i-1)/m, i/m]; integrating
// d(ln v) = dL / g over it (also across an octave boundary, as L is continuous) bounds its ends
// lo < hi by ln(hi / lo) <= (1/m) / (10/7). Choosing m = 7 / (10 ln gamma) with
// gamma = (1 + alpha) / (1 - alpha) gives hi / lo <= gamma. Value(i) = 2 lo hi / (lo + hi) is
// then within (hi - lo) / (hi + lo) <= (gamma - 1) / (gamma + 1) = alpha of every v in [lo, hi].
// The price against an exact log is 1.4427 / 1.4286, i.e. about 1% more buckets.
class SketchMapping {
 public:
  // Throws std::invalid_argument outside [1e-4, 0.2]: below that the bucket count explodes.
  explicit SketchMapping(double relative_accuracy);

  static const SketchMapping& Default();  // alpha = 0.01

  // For value > 0, finite and normal (LatencySketch only passes [1e-9, 1e9]).
  int Index(double value) const {
    const uint64_t bits = std::bit_cast<uint64_t>(value);
    const int exponent = static_cast<int>(bits >> 52) - 1023;
    const double s = std::bit_cast<double>((bits & kMantissaMask) | kOneBits) - 1.0;
    const double scaled = (exponent + ((kA * s + kB) * s + kC) * s) * multiplier_;
    // ceil() without a libm call on targets lacking SSE4.1; exact for |scaled| < 2^31.
    const int truncated = static_cast<int>(scaled);
    return truncated + (scaled > truncated ? 1 : 0);
  }

  // The value that represents bucket `index`: within alpha of everything mapped to it.
  double Value(int index) const;
  double relative_accuracy() const { return relative_accuracy_; }

 private:
  static constexpr uint64_t kMantissaMask = (uint64_t{1} << 52) - 1;
  static constexpr uint64_t kOneBits = 0x3FF0000000000000;  // the bits of 1.0
  static constexpr double kA = 6.0 / 35.0;
  static constexpr double kB = -3.0 / 5.0;
  static constexpr double kC = 10.0 / 7.0;

  // Inverse of L: the value whose approximate log2 is `approx_log2`.
  static double InverseLog2(double approx_log2);

  double relative_accuracy_;
  double multiplier_;
};

// Streaming latency distribution with relative value error: Quantile(q) is within alpha of the
// element of rank floor(q * (count - 1)) of the sorted input. Counts live in one dense array over
// the bucket range actually seen, 16 bits per bucket until some bucket overflows, then 32 bits
// (at most 2^32 - 1 values per bucket). A moved-from sketch is empty. Not thread-safe.
class LatencySketch {
 public:
  static constexpr double kMinIndexable = 1e-9;  // 1 ns; at or below it (and <= 0): zero bucket
  static constexpr double kMaxIndexable = 1e9;   // ~32 years; larger values (and +Inf) clamp to it
  // Largest weight of one value: 2^24 keeps 256 such values per bucket within 32 bits.
  static constexpr uint32_t kMaxWeight = uint32_t{1} << 24;

  explicit LatencySketch(const SketchMapping* mapping = &SketchMapping::Default());
  LatencySketch(const LatencySketch& other);
  LatencySketch(LatencySketch&& other) noexcept;
  LatencySketch& operator=(LatencySketch other) noexcept;
  ~LatencySketch() = default;

  // `value` in seconds. NaN is ignored.
  void Add(double value) { AddToBucket(value, Bucket(value)); }

  // Add() in two steps, for a value that goes into several sketches sharing one mapping: Bucket()
  // maps it once, AddToBucket() counts it in each sketch.
  int Bucket(double value) const { return Indexable(value) ? mapping_->Index(value) : 0; }
  // `index` = Bucket(value) of a sketch with the same mapping. `weight` counts the value that many
  // times (a sampled request's adjusted count, rounded; at most kMaxWeight).
  void AddToBucket(double value, int index, uint32_t weight = 1) {
    if (!Indexable(value)) [[unlikely]] {
      AddOutOfRange(value, weight);
      return;
    }
    const auto offset = static_cast<uint32_t>(index - base_);
    if (offset >= static_cast<uint32_t>(capacity_)) [[unlikely]] {
      Cover(index, index);
    }
    Increment(static_cast<uint32_t>(index - base_), weight);
    count_ += weight;
    sum_ += value * weight;
    min_ = value < min_ ? value : min_;
    max_ = value > max_ ? value : max_;
  }

  // Adds everything `other` holds; both must use the same mapping.
  void Merge(const LatencySketch& other);

  // q in [0, 1]; NaN when empty. q = 0 and q = 1 give the exact min and max.
  double Quantile(double q) const;

  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double min() const { return count_ ? min_ : std::numeric_limits<double>::quiet_NaN(); }
  double max() const { return count_ ? max_ : std::numeric_limits<double>::quiet_NaN(); }

  // Empties the sketch but keeps its buckets allocated, so a rolling window does not reallocate.
  void Reset();

  // sizeof(*this) plus the bucket array.
  size_t MemoryBytes() const;

 private:
  static bool Indexable(double value) { return value > kMinIndexable && value <= kMaxIndexable; }
  void AddOutOfRange(double value, uint32_t weight);

  void Increment(uint32_t offset, uint32_t weight) {
    if (narrow_ && narrow_[offset] + weight <= std::numeric_limits<uint16_t>::max()) [[likely]] {
      narrow_[offset] = static_cast<uint16_t>(narrow_[offset] + weight);
      return;
    }
    if (narrow_) Widen();
    wide_[offset] += weight;
  }

  uint32_t CountAt(int offset) const { return narrow_ ? narrow_[offset] : wide_[offset]; }

  // Makes bucket indices [lo, hi] addressable, moving or reallocating the array if needed.
  void Cover(int lo, int hi);
  // Offsets of the first and last non-empty buckets; false when all are empty.
  bool UsedRange(int& first, int& last) const;
  void Widen();

  const SketchMapping* mapping_;
  std::unique_ptr<uint16_t[]> narrow_;  // exactly one of narrow_/wide_ is set once allocated
  std::unique_ptr<uint32_t[]> wide_;
  int base_ = 0;      // bucket index stored at offset 0
  int capacity_ = 0;  // buckets allocated
  uint64_t count_ = 0;
  uint64_t zero_count_ = 0;
  double sum_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

// Latencies over a sliding window, e.g. 60 s as 4 x 15 s sub-windows.
using WindowedSketch = RollingWindow<LatencySketch>;

// Replaces `out` with the merge of the sub-windows live at `now`. `out` must share the mapping;
// reusing one scratch sketch keeps queries allocation-free once it has grown.
void MergeWindow(const WindowedSketch& window, TimePoint now, LatencySketch& out);

// One quantile of the window at `now`, merged through `scratch`.
double WindowQuantile(const WindowedSketch& window, TimePoint now, double q,
                      LatencySketch& scratch);

}  // namespace common
