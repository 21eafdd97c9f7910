#include "common/sketch.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

namespace common {
namespace {

// Spare buckets added when the array grows, so a slowly widening range does not reallocate on
// every new extreme. 32 buckets are about 0.9 octaves at alpha = 1%.
constexpr int kMinSlack = 32;

// Moves the non-empty offsets [first, last] of `data` by `shift` into an array of
// `new_capacity` buckets (in place when the capacity does not change) and zeroes the rest.
template <class T>
void Relocate(std::unique_ptr<T[]>& data, int capacity, int first, int last, int shift,
              int new_capacity) {
  T* const old = data.get();
  if (new_capacity == capacity) {
    if (first <= last) {
      std::memmove(old + first + shift, old + first, sizeof(T) * (last - first + 1));
      std::fill(old, old + first + shift, T{0});
      std::fill(old + last + shift + 1, old + capacity, T{0});
    }
    return;
  }
  auto grown = std::make_unique<T[]>(new_capacity);  // value-initialised: all zero
  if (first <= last) std::copy(old + first, old + last + 1, grown.get() + first + shift);
  data = std::move(grown);
}

}  // namespace

SketchMapping::SketchMapping(double relative_accuracy) : relative_accuracy_(relative_accuracy) {
  if (!(relative_accuracy >= 1e-4 && relative_accuracy <= 0.2)) {
    throw std::invalid_argument("sketch relative accuracy must be in [0.0001, 0.2], got " +
                                std::to_string(relative_accuracy));
  }
  const double gamma = (1 + relative_accuracy) / (1 - relative_accuracy);
  multiplier_ = 7.0 / (10.0 * std::log(gamma));
}

const SketchMapping& SketchMapping::Default() {
  static const SketchMapping mapping(0.01);
  return mapping;
}

double SketchMapping::Value(int index) const {
  const double lo = InverseLog2((index - 1) / multiplier_);
  const double hi = InverseLog2(index / multiplier_);
  return 2 * lo * hi / (lo + hi);
}

double SketchMapping::InverseLog2(double approx_log2) {
  const double exponent = std::floor(approx_log2);
  const double fraction = approx_log2 - exponent;
  // Newton on P(s) = fraction. P is smooth and P' >= 26/35 on [0, 1], and 2^f - 1 is already
  // within 1% of the root, so a few steps reach full precision.
  double s = std::exp2(fraction) - 1;
  for (int i = 0; i < 6; ++i) {
    const double p = ((kA * s + kB) * s + kC) * s;
    const double dp = (3 * kA * s + 2 * kB) * s + kC;
    const double step = (p - fraction) / dp;
    s -= step;
    if (std::abs(step) < 1e-17) break;
  }
  return std::ldexp(1 + s, static_cast<int>(exponent));
}

LatencySketch::LatencySketch(const SketchMapping* mapping) : mapping_(mapping) {}

LatencySketch::LatencySketch(const LatencySketch& other)
    : mapping_(other.mapping_),
      base_(other.base_),
      capacity_(other.capacity_),
      count_(other.count_),
      zero_count_(other.zero_count_),
      sum_(other.sum_),
      min_(other.min_),
      max_(other.max_) {
  if (other.narrow_) {
    narrow_ = std::make_unique<uint16_t[]>(capacity_);
    std::copy(other.narrow_.get(), other.narrow_.get() + capacity_, narrow_.get());
  } else if (other.wide_) {
    wide_ = std::make_unique<uint32_t[]>(capacity_);
    std::copy(other.wide_.get(), other.wide_.get() + capacity_, wide_.get());
  }
}

LatencySketch::LatencySketch(LatencySketch&& other) noexcept
    : mapping_(other.mapping_),
      narrow_(std::move(other.narrow_)),
      wide_(std::move(other.wide_)),
      base_(other.base_),
      capacity_(std::exchange(other.capacity_, 0)),
      count_(other.count_),
      zero_count_(other.zero_count_),
      sum_(other.sum_),
      min_(other.min_),
      max_(other.max_) {
  other.Reset();
}

LatencySketch& LatencySketch::operator=(LatencySketch other) noexcept {
  std::swap(mapping_, other.mapping_);
  std::swap(narrow_, other.narrow_);
  std::swap(wide_, other.wide_);
  std::swap(base_, other.base_);
  std::swap(capacity_, other.capacity_);
  std::swap(count_, other.count_);
  std::swap(zero_count_, other.zero_count_);
  std::swap(sum_, other.sum_);
  std::swap(min_, other.min_);
  std::swap(max_, other.max_);
  return *this;
}

void LatencySketch::AddOutOfRange(double value, uint32_t weight) {
  if (std::isnan(value)) return;
  if (value > kMaxIndexable) {
    AddToBucket(kMaxIndexable, Bucket(kMaxIndexable), weight);
    return;
  }
  value = std::max(value, -kMaxIndexable);
  zero_count_ += weight;
  count_ += weight;
  sum_ += value * weight;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
}

bool LatencySketch::UsedRange(int& first, int& last) const {
  first = 0;
  while (first < capacity_ && CountAt(first) == 0) ++first;
  if (first == capacity_) return false;
  last = capacity_ - 1;
  while (CountAt(last) == 0) --last;
  return true;
}

void LatencySketch::Cover(int lo, int hi) {
  int first = 0;
  int last = -1;
  const bool used = UsedRange(first, last);
  // Spare room goes to the side that grew; an empty array is centred on the new range.
  bool grows_down = true;
  bool grows_up = true;
  if (used) {
    grows_down = lo < base_ + first;
    grows_up = hi > base_ + last;
    lo = std::min(lo, base_ + first);
    hi = std::max(hi, base_ + last);
  }
  const int span = hi - lo + 1;
  const int new_capacity = span <= capacity_ ? capacity_ : span + std::max(kMinSlack, span / 8);
  const int slack = new_capacity - span;
  const int below = grows_down ? (grows_up ? slack / 2 : slack) : 0;
  const int new_base = lo - below;
  const int shift = base_ - new_base;
  if (wide_) {
    Relocate(wide_, capacity_, first, last, shift, new_capacity);
  } else if (narrow_) {
    Relocate(narrow_, capacity_, first, last, shift, new_capacity);
  } else {
    narrow_ = std::make_unique<uint16_t[]>(new_capacity);
  }
  base_ = new_base;
  capacity_ = new_capacity;
}

void LatencySketch::Widen() {
  auto wide = std::make_unique<uint32_t[]>(capacity_);
  std::copy(narrow_.get(), narrow_.get() + capacity_, wide.get());
  wide_ = std::move(wide);
  narrow_.reset();
}

void LatencySketch::Merge(const LatencySketch& other) {
  assert(mapping_->relative_accuracy() == other.mapping_->relative_accuracy());
  int first = 0;
  int last = -1;
  if (other.UsedRange(first, last)) {
    const int lo = other.base_ + first;
    const int hi = other.base_ + last;
    if (lo < base_ || hi >= base_ + capacity_) Cover(lo, hi);
    // No bucket can exceed the total, so 16 bits stay safe while the total fits.
    const uint64_t indexed = count_ - zero_count_ + other.count_ - other.zero_count_;
    if (narrow_ && indexed > std::numeric_limits<uint16_t>::max()) Widen();
    const int shift = other.base_ - base_;
    const auto add = [&](auto* dst, const auto* src) {
      using T = std::remove_reference_t<decltype(*dst)>;
      for (int i = first; i <= last; ++i) dst[i + shift] = static_cast<T>(dst[i + shift] + src[i]);
    };
    if (narrow_) {
      other.narrow_ ? add(narrow_.get(), other.narrow_.get())
                    : add(narrow_.get(), other.wide_.get());
    } else {
      other.narrow_ ? add(wide_.get(), other.narrow_.get()) : add(wide_.get(), other.wide_.get());
    }
  }
  count_ += other.count_;
  zero_count_ += other.zero_count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double LatencySketch::Quantile(double q) const {
  if (count_ == 0 || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  const auto rank =
      static_cast<uint64_t>(std::clamp(q, 0.0, 1.0) * static_cast<double>(count_ - 1));
  if (rank == 0) return min_;
  if (rank + 1 >= count_) return max_;
  // Clamping to [min, max] never moves the estimate away from the true value, which lies inside.
  if (rank < zero_count_) return std::clamp(0.0, min_, max_);
  uint64_t seen = zero_count_;
  for (int i = 0; i < capacity_; ++i) {
    seen += CountAt(i);
    if (seen > rank) return std::clamp(mapping_->Value(base_ + i), min_, max_);
  }
  return max_;
}

void LatencySketch::Reset() {
  if (narrow_) std::fill(narrow_.get(), narrow_.get() + capacity_, uint16_t{0});
  if (wide_) std::fill(wide_.get(), wide_.get() + capacity_, uint32_t{0});
  count_ = 0;
  zero_count_ = 0;
  sum_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
}

size_t LatencySketch::MemoryBytes() const {
  const size_t bucket_bytes = wide_ ? sizeof(uint32_t) : narrow_ ? sizeof(uint16_t) : 0;
  return sizeof(*this) + static_cast<size_t>(capacity_) * bucket_bytes;
}

void MergeWindow(const WindowedSketch& window, TimePoint now, LatencySketch& out) {
  out.Reset();
  window.ForEach(now, [&out](const LatencySketch& sub) { out.Merge(sub); });
}

double WindowQuantile(const WindowedSketch& window, TimePoint now, double q,
                      LatencySketch& scratch) {
  MergeWindow(window, now, scratch);
  return scratch.Quantile(q);
}

}  // namespace common
